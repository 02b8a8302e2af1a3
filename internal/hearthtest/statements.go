package hearthtest

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
)

// StatementLog records every statement run on db (app.NonconcurrentDB()
// for the writer connection, app.ConcurrentDB() for the read pool) from
// now on, queries and executions in the order they ran, as PocketBase's
// dev mode logs them. The returned function hands over what was recorded
// since its last call. The log is removed when t ends.
func StatementLog(t testing.TB, db dbx.Builder) func() []string {
	t.Helper()
	d, ok := db.(*dbx.DB)
	if !ok {
		t.Fatalf("the database is a %T, not a *dbx.DB", db)
	}
	var mu sync.Mutex
	var log []string
	d.QueryLogFunc = func(_ context.Context, _ time.Duration, s string, _ *sql.Rows, _ error) {
		mu.Lock()
		defer mu.Unlock()
		log = append(log, s)
	}
	d.ExecLogFunc = func(_ context.Context, _ time.Duration, s string, _ sql.Result, _ error) {
		mu.Lock()
		defer mu.Unlock()
		log = append(log, s)
	}
	t.Cleanup(func() { d.QueryLogFunc, d.ExecLogFunc = nil, nil })
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		out := log
		log = nil
		return out
	}
}
