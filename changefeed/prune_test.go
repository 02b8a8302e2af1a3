package changefeed_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
)

func TestPruneKeepsLiveRecordsAndMovesTheHorizon(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := serve(t, app)
	alice := newClient(hearthtest.Token(t, app, hearthtest.Alice))
	alice.mustSync(t, srv, 1000)
	stale := alice.cursor

	hearthtest.Save(t, app, collections.Messages, hearthtest.ClimbMessage, map[string]any{"body": "edited once"})
	hearthtest.Save(t, app, collections.Messages, hearthtest.ClimbMessage, map[string]any{"body": "edited twice"})
	remove(t, app, collections.Events, hearthtest.ClimbEvent)
	last := head(t, app)

	// Everything so far is older than the window.
	n, err := changefeed.Prune(app, time.Hour, time.Now().Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("nothing pruned")
	}
	assertOneRowPerLiveRecord(t, app)
	if again, err := changefeed.Prune(app, time.Hour, time.Now().Add(2*time.Hour)); err != nil || again != 0 {
		t.Fatalf("second prune: %d, %v; want nothing left to prune", again, err)
	}
	if rows := logRows(t, app, 0); len(rows) == 0 || rows[0] == "" {
		t.Fatal("log empty after prune")
	}

	// A client that synced before the window: 410, told to resync.
	status, body, _ := get(srv, alice.token, "/api/sync?cursor="+stale, nil)
	if status != http.StatusGone {
		t.Fatalf("stale cursor: %d %s, want 410", status, body)
	}
	// A client that synced after the last write lost nothing: it is served,
	// and gets every live record again once, carried over the horizon.
	status, body, _ = get(srv, alice.token, "/api/sync?cursor="+changefeed.SealCursor(app, changefeed.Cursor{Seq: last}), nil)
	if status != http.StatusOK {
		t.Fatalf("cursor at the horizon: %d %s", status, body)
	}
	current := newClient(alice.token)
	current.cursor = changefeed.SealCursor(app, changefeed.Cursor{Seq: last})
	current.mustSync(t, srv, 3)
	current.matchesListAPI(t, srv)
	// A full resync still finds every record.
	fresh := newClient(alice.token)
	fresh.mustSync(t, srv, 2)
	fresh.matchesListAPI(t, srv)

	// The next window: a record changed since is carried over once.
	hearthtest.Save(t, app, collections.Groups, hearthtest.Climbers, map[string]any{"name": "Climbers!"})
	if _, err := changefeed.Prune(app, time.Hour, time.Now().Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	assertOneRowPerLiveRecord(t, app)
	fresh = newClient(alice.token)
	fresh.mustSync(t, srv, 2)
	fresh.matchesListAPI(t, srv)
}

func TestPruneKeepsTheWindow(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	before := head(t, app)
	remove(t, app, collections.Messages, hearthtest.ClimbMessage)
	n, err := changefeed.Prune(app, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("pruned %d entries inside the window", n)
	}
	if rows := logRows(t, app, before); len(rows) != 1 {
		t.Fatalf("tombstone gone from the window: %q", rows)
	}
}

func assertOneRowPerLiveRecord(t *testing.T, app core.App) {
	t.Helper()
	want := 0
	for _, name := range changefeed.Synced {
		n, err := app.CountRecords(name)
		if err != nil {
			t.Fatal(err)
		}
		want += int(n)
	}
	var rows, deletes int
	if err := app.DB().NewQuery("SELECT COUNT(*) FROM _hearth_changes").Row(&rows); err != nil {
		t.Fatal(err)
	}
	if err := app.DB().NewQuery("SELECT COUNT(*) FROM _hearth_changes WHERE op = 'delete'").Row(&deletes); err != nil {
		t.Fatal(err)
	}
	if rows != want || deletes != 0 {
		t.Fatalf("log holds %d rows (%d tombstones), want one per live record: %d", rows, deletes, want)
	}
}

func TestPruneIsScheduled(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	for _, job := range app.Cron().Jobs() {
		if job.Id() == "hearthSyncPrune" {
			if job.Expression() != "0 * * * *" {
				t.Fatalf("prune runs at %q, want hourly", job.Expression())
			}
			return
		}
	}
	t.Fatal("no hearthSyncPrune cron job")
}

// TestPruneRunsAtStart: starting to serve prunes the log once, before
// the first request, so a server stopped for longer than the window
// never serves from entries older than it.
func TestPruneRunsAtStart(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	old := head(t, app)
	_, err := app.DB().NewQuery("UPDATE _hearth_changes SET at = {:at} WHERE seq <= {:seq}").
		Bind(map[string]any{"at": time.Now().Add(-changefeed.DefaultRetention - time.Hour).UnixMilli(), "seq": old}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(t, app)
	var horizon int64
	if err := app.DB().NewQuery("SELECT horizon FROM _hearth_sync").Row(&horizon); err != nil || horizon != old {
		t.Fatalf("horizon %d (%v) after start, want %d", horizon, err, old)
	}
	token := hearthtest.Token(t, app, hearthtest.Alice)
	if status, body, _ := get(srv, token, "/api/sync?cursor="+changefeed.SealCursor(app, changefeed.Cursor{Seq: old - 1}), nil); status != http.StatusGone {
		t.Fatalf("a cursor from before the start's pruning: %d %s, want 410", status, body)
	}
	alice := newClient(token)
	alice.mustSync(t, srv, 5)
	alice.matchesListAPI(t, srv)
}

// TestLogUsesTheAppClock: entries are stamped with the domain's clock
// (crews.Config.Now), the one pruning is given, so a write the clock puts
// inside the window stays whatever the machine's time.
func TestLogUsesTheAppClock(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	later := time.Now().Add(48 * time.Hour)
	hearthtest.SetNow(t, app, func() time.Time { return later })
	before := head(t, app)
	hearthtest.Save(t, app, collections.Messages, hearthtest.ClimbMessage, map[string]any{"body": "written later"})
	if _, err := changefeed.Prune(app, time.Hour, later); err != nil {
		t.Fatal(err)
	}
	var kept int
	if err := app.DB().NewQuery("SELECT COUNT(*) FROM _hearth_changes WHERE seq = {:seq}").Bind(map[string]any{"seq": before + 1}).Row(&kept); err != nil {
		t.Fatal(err)
	}
	if kept != 1 {
		t.Fatal("the write made at the clock's now was pruned by a window ending then")
	}
}

// TestPruneNeverHandsANumberOutAgain: the log numbers entries max(seq)+1
// (no AUTOINCREMENT), so a prune that drops every entry, as one after
// everything was deleted would, keeps the newest. A client whose cursor
// is the last number before the prune is then told of the next write.
func TestPruneNeverHandsANumberOutAgain(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	// Groups first: a user who owns one cannot be deleted.
	for _, name := range append([]string{collections.Groups}, changefeed.Synced...) {
		all, err := app.FindAllRecords(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range all {
			// A cascade may have taken it already.
			if fresh, err := app.FindRecordById(r.Collection(), r.Id); err == nil {
				if err := app.Delete(fresh); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	last := head(t, app)
	if _, err := changefeed.Prune(app, time.Hour, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if rows := logRows(t, app, 0); len(rows) != 1 || !strings.HasPrefix(rows[0], "delete ") || head(t, app) != last {
		t.Fatalf("after pruning a log of deletions: %v, head %d; want the newest deletion alone, at %d", rows, head(t, app), last)
	}

	users, err := app.FindCachedCollectionByNameOrId(collections.Users)
	if err != nil {
		t.Fatal(err)
	}
	late := core.NewRecord(users)
	late.Set("name", "Late")
	late.SetEmail("late@crews.test")
	late.SetPassword("late-password-1")
	if err := app.Save(late); err != nil {
		t.Fatal(err)
	}
	token, err := late.NewAuthToken()
	if err != nil {
		t.Fatal(err)
	}
	if got := head(t, app); got != last+1 {
		t.Fatalf("the write after the prune is entry %d, want %d", got, last+1)
	}
	srv := serve(t, app)
	var page struct {
		Changes []struct {
			Op, Collection, ID string
		} `json:"changes"`
	}
	cursor := changefeed.SealCursor(app, changefeed.Cursor{Seq: last})
	status, body, err := get(srv, token, "/api/sync?cursor="+cursor, &page)
	if err != nil || status != http.StatusOK {
		t.Fatalf("sync from the last number before the prune: %d %s %v", status, body, err)
	}
	if len(page.Changes) != 1 || page.Changes[0].ID != late.Id {
		t.Fatalf("sync from the last number before the prune: %s, want the new user's creation", body)
	}
	fresh := newClient(token)
	fresh.mustSync(t, srv, 10)
	fresh.matchesListAPI(t, srv)
	for _, c := range fresh.seen {
		if c.op == "delete" {
			t.Fatalf("a full sync after the prune reports %v", c)
		}
	}
}
