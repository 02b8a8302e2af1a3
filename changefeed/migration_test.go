package changefeed_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
)

// TestLogMigrationKeepsEntriesAndTheNextNumber: the migration that takes
// AUTOINCREMENT and the index on at off the log keeps every entry and
// every other index, and a log that had lost its newest entries (numbers
// assigned past max(seq)) goes on numbering after the last one assigned,
// with the horizon moved there, so no cursor a client holds names a
// number given out again. Its reverse puts both back.
func TestLogMigrationKeepsEntriesAndTheNextNumber(t *testing.T) {
	app := hearthtest.NewApp(t)
	mig := hearthtest.Migration(t, "_changelog_without_sequence.go")
	after := schema(t, app)
	if strings.Contains(after, "AUTOINCREMENT") || strings.Contains(after, "idx_hearth_changes_at") {
		t.Fatalf("the log after the migrations:\n%s", after)
	}
	if err := mig.Down(app); err != nil {
		t.Fatal(err)
	}
	before := schema(t, app)
	if !strings.Contains(before, "AUTOINCREMENT") || !strings.Contains(before, "idx_hearth_changes_at") {
		t.Fatalf("the log after the reverse:\n%s", before)
	}
	if strings.ReplaceAll(strings.ReplaceAll(before, " AUTOINCREMENT", ""), "CREATE INDEX idx_hearth_changes_at ON `_hearth_changes` (`at`)\n", "") != after {
		t.Fatalf("the reverse changed more than AUTOINCREMENT and the index on at:\n%s\nwas\n%s", before, after)
	}

	// Numbers assigned past the newest entry: its last two are gone.
	last := head(t, app)
	kept := logRows(t, app, 0)[:len(logRows(t, app, 0))-2]
	if _, err := app.DB().NewQuery("DELETE FROM _hearth_changes WHERE seq > {:s}").Bind(map[string]any{"s": last - 2}).Execute(); err != nil {
		t.Fatal(err)
	}
	if err := mig.Up(app); err != nil {
		t.Fatal(err)
	}
	if got := schema(t, app); got != after {
		t.Fatalf("the log after the migration again:\n%s\nwant\n%s", got, after)
	}
	rows := logRows(t, app, 0)
	if strings.Join(rows[:len(rows)-1], "\n") != strings.Join(kept, "\n") || rows[len(rows)-1] != "delete /" || head(t, app) != last {
		t.Fatalf("entries after the migration: %v (head %d), want %v and the keeper at %d", rows, head(t, app), kept, last)
	}
	var horizon int64
	if err := app.DB().NewQuery("SELECT horizon FROM _hearth_sync").Row(&horizon); err != nil || horizon != last {
		t.Fatalf("horizon %d (%v), want %d", horizon, err, last)
	}

	hearthtest.Save(t, app, collections.Messages, hearthtest.ClimbMessage, map[string]any{"body": "after the migration"})
	if got := head(t, app); got != last+1 {
		t.Fatalf("the next write is entry %d, want %d", got, last+1)
	}
	srv := serve(t, app)
	alice := newClient(hearthtest.Token(t, app, hearthtest.Alice))
	alice.mustSync(t, srv, 100)
	alice.matchesListAPI(t, srv)
	status, body, err := get(srv, alice.token, "/api/sync?cursor="+changefeed.SealCursor(app, changefeed.Cursor{Seq: last}), nil)
	if err != nil || status != http.StatusOK || !strings.Contains(body, hearthtest.ClimbMessage) {
		t.Fatalf("sync from the last number before the migration: %d %s %v", status, body, err)
	}
}

// schema is the log table's and its indexes' SQL, one per line, by name.
func schema(t *testing.T, app core.App) string {
	t.Helper()
	var sqls []string
	err := app.DB().NewQuery("SELECT sql FROM sqlite_master WHERE tbl_name = '_hearth_changes' AND sql IS NOT NULL ORDER BY type DESC, name").Column(&sqls)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(sqls, "\n") + "\n"
}
