package changefeed_test

import (
	"context"
	"database/sql"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// pruneDuringPage makes the next sync page that reads the log's head
// prune the whole log right after that read, in the middle of the page:
// the interleaving issue 17 saw once in 178 runs, made certain. It
// returns a function that reports whether the prune ran.
func pruneDuringPage(t *testing.T, app core.App) func() bool {
	t.Helper()
	db, ok := app.ConcurrentDB().(*dbx.DB)
	if !ok {
		t.Fatal("the app's read pool is not a *dbx.DB")
	}
	var once sync.Once
	ran := false
	db.QueryLogFunc = func(_ context.Context, _ time.Duration, sql string, _ *sql.Rows, _ error) {
		if !strings.Contains(sql, "AS head FROM") {
			return
		}
		once.Do(func() {
			// Everything so far is older than the window: the prune
			// drops every entry and re-appends the live records.
			if _, err := changefeed.Prune(app, time.Hour, time.Now().Add(2*time.Hour)); err != nil {
				t.Errorf("prune: %v", err)
			}
			ran = true
		})
	}
	t.Cleanup(func() { db.QueryLogFunc = nil })
	return func() bool { return ran }
}

// TestPageIsNotBuiltFromAHalfPrunedLog: a prune that commits while a page
// is read (after the page read the log's head) must not make the page
// skip entries: the page is either served as of before the prune, or
// answered 410; never a short page that says it is complete.
func TestPageIsNotBuiltFromAHalfPrunedLog(t *testing.T) {
	t.Parallel()
	t.Run("full sync", func(t *testing.T) {
		t.Parallel()
		app := hearthtest.NewApp(t)
		srv := serve(t, app)
		alice := newClient(hearthtest.Token(t, app, hearthtest.Alice))
		pruned := pruneDuringPage(t, app)
		syncOrResync(t, srv, alice, 1000)
		if !pruned() {
			t.Fatal("the prune did not run during the page")
		}
		alice.matchesListAPI(t, srv)
	})
	t.Run("cursor the prune passes", func(t *testing.T) {
		t.Parallel()
		app := hearthtest.NewApp(t)
		srv := serve(t, app)
		alice := newClient(hearthtest.Token(t, app, hearthtest.Alice))
		alice.mustSync(t, srv, 1000)
		// A tombstone after Alice's cursor, below the coming horizon.
		remove(t, app, collections.Messages, hearthtest.ClimbMessage)
		pruned := pruneDuringPage(t, app)
		syncOrResync(t, srv, alice, 1000)
		if !pruned() {
			t.Fatal("the prune did not run during the page")
		}
		alice.matchesListAPI(t, srv)
	})
}

// syncOrResync syncs c to the end as docs/sync.md tells clients to: on
// 410, clear the store and sync from 0 (once).
func syncOrResync(t testing.TB, srv *httptest.Server, c *client, limit int) {
	t.Helper()
	if _, err := c.syncAll(srv, limit); err != nil {
		if !strings.Contains(err.Error(), ": 410 ") {
			t.Fatal(err)
		}
		c.store, c.cursor = map[string]map[string]map[string]any{}, "0"
		c.mustSync(t, srv, limit)
	}
}
