package typegen_test

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	_ "github.com/crews/hearth/pb_migrations"
	"github.com/crews/hearth/typegen"
	"github.com/pocketbase/pocketbase"
)

// committed is the generated module the client package builds from.
const committed = "../clients/js/src/types.gen.ts"

func generate(t *testing.T) string {
	t.Helper()
	src, err := typegen.FromMigrations()
	if err != nil {
		t.Fatal(err)
	}
	return string(src)
}

// TestCommittedTypesAreFresh fails when a migration or a spec changed and
// clients/js/src/types.gen.ts was not regenerated.
func TestCommittedTypesAreFresh(t *testing.T) {
	want := generate(t)
	got, err := os.ReadFile(committed)
	if err != nil {
		t.Fatalf("read the committed types: %v (run `make typegen`)", err)
	}
	if string(got) == want {
		return
	}
	gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(want, "\n")
	for i := 0; i < max(len(gotLines), len(wantLines)); i++ {
		var g, w string
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if g != w {
			t.Fatalf("%s is stale: run `make typegen` and commit it.\nfirst difference, line %d:\n  committed: %q\n  generated: %q", committed, i+1, g, w)
		}
	}
}

// runCommand runs `hearth typegen args...` on a fresh app (cobra keeps
// flag values between runs of one command).
func runCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := pocketbase.NewWithConfig(pocketbase.Config{DefaultDataDir: t.TempDir()})
	typegen.Register(app)
	var stdout bytes.Buffer
	app.RootCmd.SetOut(&stdout)
	app.RootCmd.SetErr(&bytes.Buffer{})
	app.RootCmd.SetArgs(append([]string{"typegen"}, args...))
	err := app.RootCmd.Execute()
	return stdout.String(), err
}

func TestCommandWritesTheTypes(t *testing.T) {
	want := generate(t)

	out := filepath.Join(t.TempDir(), "types.gen.ts")
	if _, err := runCommand(t, "--out", out); err != nil {
		t.Fatalf("typegen --out: %v", err)
	}
	if got, err := os.ReadFile(out); err != nil || string(got) != want {
		t.Fatalf("typegen --out wrote %d bytes (err %v), want the %d generated", len(got), err, len(want))
	}

	stdout, err := runCommand(t)
	if err != nil {
		t.Fatalf("typegen: %v", err)
	}
	if stdout != want {
		t.Fatalf("typegen printed %d bytes, want the %d generated", len(stdout), len(want))
	}

	if _, err := runCommand(t, "--out", filepath.Join(t.TempDir(), "missing", "x.ts")); err == nil {
		t.Fatal("typegen --out into a missing directory succeeded")
	}
	if _, err := runCommand(t, "extra"); err == nil {
		t.Fatal("typegen with an argument succeeded")
	}
}

// fields returns the "name: type" members of interface name in src, with
// "?" kept on optional names.
func fields(t *testing.T, src, name string) map[string]string {
	t.Helper()
	block := regexp.MustCompile(`(?s)export interface ` + name + ` (?:extends [^{]+)?\{\n(.*?)\n\}`).FindStringSubmatch(src)
	if block == nil {
		t.Fatalf("no interface %s in the output", name)
	}
	out := map[string]string{}
	for _, line := range strings.Split(block[1], "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "/**") {
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("%s: unexpected line %q", name, line)
		}
		out[k] = strings.TrimSuffix(v, ";")
	}
	return out
}

func TestFieldTypes(t *testing.T) {
	src := generate(t)
	cases := []struct {
		iface, field, typ string
	}{
		// Records: exact types, '' for an optional field left empty.
		{"RsvpsRecord", "status", "'going' | 'maybe' | 'declined' | 'waitlisted'"},
		{"RsvpsRecord", "event", "RecordId"},
		{"RsvpsRecord", "waitlisted_at", "IsoDateString | ''"},
		{"RsvpsRecord", "collectionName", "'rsvps'"},
		{"EventsRecord", "starts_at", "IsoDateString"},
		{"EventsRecord", "ends_at", "IsoDateString | ''"},
		{"EventsRecord", "capacity", "number"},
		{"EventsRecord", "location", "GeoPoint"},
		{"EventsRecord", "created_by", "RecordId | ''"},
		{"EventsRecord", "created", "IsoDateString"},
		{"MessagesRecord", "attachments", "FileName[]"},
		{"GroupsRecord", "cover", "FileName | ''"},
		{"UsersRecord", "email?", "string"},
		{"UsersRecord", "verified", "boolean"},
		{"MembershipsRecord", "role", "'owner' | 'admin' | 'member'"},
		// Expand shapes follow relations to their records.
		{"EventsExpand", "group?", "GroupsRecord"},
		{"RsvpsExpand", "event?", "EventsRecord"},
		{"MessagesExpand", "author?", "UsersRecord"},
		// Create bodies: required fields required, the owner field optional.
		{"EventsCreate", "group", "RecordId"},
		{"EventsCreate", "title", "string"},
		{"EventsCreate", "starts_at", "IsoDateString"},
		{"EventsCreate", "ends_at?", "IsoDateString | ''"},
		{"RsvpsCreate", "user?", "RecordId"},
		// Spec.ServerValues: only the server puts an RSVP on the waitlist.
		{"RsvpsCreate", "status", "'going' | 'maybe' | 'declined'"},
		{"MessagesCreate", "attachments?", "FileInput[]"},
		{"UsersCreate", "password", "string"},
		{"UsersCreate", "passwordConfirm", "string"},
		{"InvitesCreate", "max_uses?", "number"},
		// Update bodies: everything optional.
		{"EventsUpdate", "title?", "string"},
		{"RsvpsUpdate", "status?", "'going' | 'maybe' | 'declined'"},
		// A body with nothing to send takes nothing (an empty interface would take anything).
		{"DevicesUpdate", "[field", "string]: never"},
		{"MutesUpdate", "[field", "string]: never"},
		{"UsersUpdate", "oldPassword?", "string"},
	}
	for _, c := range cases {
		if got, ok := fields(t, src, c.iface)[c.field]; !ok || got != c.typ {
			t.Errorf("%s.%s = %q (present %v), want %q", c.iface, c.field, got, ok, c.typ)
		}
	}
}

func TestInputsLeaveOutWhatTheServerSets(t *testing.T) {
	src := generate(t)
	absent := map[string][]string{
		// Hidden auth fields never appear.
		"UsersRecord": {"password", "tokenKey"},
		"UsersCreate": {"tokenKey", "verified", "created", "updated"},
		// Email changes go through requestEmailChange.
		"UsersUpdate": {"email", "verified", "id"},
		// Spec.ServerManaged and autodates.
		"GroupsCreate":   {"created_by", "created_by?", "created?", "updated?"},
		"EventsCreate":   {"going_count?", "created_by?", "created?"},
		"InvitesCreate":  {"code?", "uses?", "created_by?"},
		"RsvpsCreate":    {"waitlisted_at?"},
		"MessagesCreate": {"author?"},
		// Spec.Fixed as well, in updates.
		"EventsUpdate":      {"group?", "going_count?", "created_by?", "id?"},
		"InvitesUpdate":     {"group?", "code?", "uses?"},
		"MembershipsUpdate": {"group?", "user?"},
		"RsvpsUpdate":       {"event?", "user?", "waitlisted_at?"},
		"MessagesUpdate":    {"group?", "author?"},
	}
	for iface, names := range absent {
		got := fields(t, src, iface)
		for _, n := range names {
			if _, ok := got[n]; ok {
				t.Errorf("%s has %s, which the server sets or keeps", iface, n)
			}
		}
	}
	// And what remains is what a client may send.
	if got := fields(t, src, "MembershipsUpdate"); !slices.Equal(keys(got), []string{"role?"}) {
		t.Errorf("MembershipsUpdate = %v, want only role?", got)
	}
}

func TestTypedPocketBaseMapsEveryCollection(t *testing.T) {
	src := generate(t)
	for _, want := range []string{
		"authStore: AuthStore;",
		"readonly record: UsersRecord | null;",
		"collection(idOrName: 'groups'): CollectionService<'groups'>;",
		"collection(idOrName: 'users'): CollectionService<'users'>;",
		"collection(idOrName: 'memberships'): CollectionService<'memberships'>;",
		"collection(idOrName: 'invites'): CollectionService<'invites'>;",
		"collection(idOrName: 'events'): CollectionService<'events'>;",
		"collection(idOrName: 'rsvps'): CollectionService<'rsvps'>;",
		"collection(idOrName: 'messages'): CollectionService<'messages'>;",
		"collection(idOrName: 'devices'): CollectionService<'devices'>;",
		"collection(idOrName: 'mutes'): CollectionService<'mutes'>;",
		"collection(idOrName: string): RecordService;",
	} {
		if !strings.Contains(src, want) {
			t.Errorf("TypedPocketBase lacks %q", want)
		}
	}
}

// TestSuperuserOnlyCollectionsAreLeftOut: an app's requests to a
// collection without API rules are refused, so its types would mislead.
func TestSuperuserOnlyCollectionsAreLeftOut(t *testing.T) {
	src := generate(t)
	app := hearthtest.NewApp(t)
	var left []string
	for _, name := range collections.Names() {
		c, err := app.FindCollectionByNameOrId(name)
		if err != nil {
			t.Fatal(err)
		}
		quoted := "'" + name + "'"
		switch {
		case typegen.SuperuserOnly(c):
			left = append(left, name)
			if strings.Contains(src, quoted) {
				t.Errorf("superuser-only %s is in the output", name)
			}
		case !strings.Contains(src, "collectionName: "+quoted):
			t.Errorf("%s, which apps may use, is not in the output", name)
		}
	}
	if !slices.Contains(left, "push_outbox") || !slices.Contains(left, "pushes") {
		t.Errorf("superuser-only: %v, want push_outbox and pushes among them", left)
	}
}

// TestExpandPathsAreWhatTheServerAllows: the expand paths are the
// relation paths of Spec.Query, which edge/queries.go lets apps expand;
// never a back-relation, which it refuses.
func TestExpandPathsAreWhatTheServerAllows(t *testing.T) {
	src := generate(t)
	for name, want := range map[string]string{
		"Rsvps":    "'event' | 'user' | 'event.group'",
		"Messages": "'group' | 'author'",
		"Users":    "never",
	} {
		if !strings.Contains(src, "export type "+name+"ExpandPath = "+want+";") {
			t.Errorf("%sExpandPath is not %s", name, want)
		}
	}
	for _, line := range regexp.MustCompile(`(?m)^export type \w+ExpandPath = .*$`).FindAllString(src, -1) {
		if strings.Contains(line, "_via_") {
			t.Errorf("a back-relation among the expand paths: %s", line)
		}
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
