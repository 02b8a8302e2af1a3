package hearthtest

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Collections returns the Crews collections of app's schema (every one
// that is not PocketBase's own), views included, failing t for one without
// a spec: a collection added by a migration is under test, and under the
// spec's policies, as soon as it exists.
func Collections(t testing.TB, app core.App) []*core.Collection {
	t.Helper()
	all, err := app.FindAllCollections()
	if err != nil {
		t.Fatal(err)
	}
	var out []*core.Collection
	for _, c := range all {
		if c.System {
			continue
		}
		if collections.SpecOf(c.Name) == nil {
			t.Errorf("collection %s has no spec (declare one in collections/%s.go)", c.Name, c.Name)
			continue
		}
		out = append(out, c)
	}
	return out
}

// Tables returns the names of the Crews collections that store rows (not
// views), sorted.
func Tables(t testing.TB, app core.App) []string {
	t.Helper()
	var names []string
	for _, c := range Collections(t, app) {
		if !c.IsView() {
			names = append(names, c.Name)
		}
	}
	slices.Sort(names)
	return names
}

// Fingerprint is the content of every Crews table, to prove that a refused
// write changed nothing anywhere.
func Fingerprint(t testing.TB, app core.App) string {
	t.Helper()
	var b strings.Builder
	for _, name := range Tables(t, app) {
		var rows []dbx.NullStringMap
		if err := app.DB().NewQuery("SELECT * FROM {{" + name + "}} ORDER BY id").All(&rows); err != nil {
			t.Fatalf("fingerprint %s: %v", name, err)
		}
		for _, r := range rows {
			fmt.Fprintf(&b, "%s:", name)
			for _, k := range slices.Sorted(maps.Keys(r)) {
				fmt.Fprintf(&b, " %s=%q/%v", k, r[k].String, r[k].Valid)
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Migration returns the registered migration whose file name ends in
// suffix ("_changelog_without_sequence.go"), failing t when there is none:
// a test of a migration's up and down runs the one the server runs.
func Migration(t testing.TB, suffix string) *core.Migration {
	t.Helper()
	for _, m := range core.AppMigrations.Items() {
		if strings.HasSuffix(m.File, suffix) {
			return m
		}
	}
	t.Fatalf("no migration registered whose file ends in %s", suffix)
	return nil
}
