package checkpoint_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	_ "modernc.org/sqlite"

	"github.com/crews/hearth/checkpoint"
	"github.com/crews/hearth/config"
)

const every = 10 * time.Millisecond

// serving returns an app on a fresh data dir whose databases open with
// open, checkpointed by package checkpoint as hearth serve does, with a
// table t written on data.db's write connection. The loop is stopped by
// the app's termination at the end of the test, before its databases
// close.
func serving(t *testing.T, open func(string) (*dbx.DB, error)) (*core.BaseApp, string) {
	t.Helper()
	dir := t.TempDir()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dir, DBConnect: open})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	checkpoint.Register(app, checkpoint.Config{Every: every})
	t.Cleanup(func() {
		if err := app.OnTerminate().Trigger(&core.TerminateEvent{App: app}, func(*core.TerminateEvent) error { return nil }); err != nil {
			t.Error(err)
		}
		if err := app.ResetBootstrapState(); err != nil {
			t.Error(err)
		}
	})
	serve := &core.ServeEvent{Server: &http.Server{}}
	serve.App = app
	if err := app.OnServe().Trigger(serve, func(*core.ServeEvent) error { return nil }); err != nil {
		t.Fatal(err)
	}
	// 50 rows of 3 KB: some 60 pages, far below the threshold at which a
	// commit checkpoints by itself.
	for _, q := range []string{"CREATE TABLE t (x BLOB)", "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) INSERT INTO t SELECT randomblob(3000) FROM n"} {
		if _, err := app.NonconcurrentDB().NewQuery(q).Execute(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return app, filepath.Join(dir, "data.db")
}

// inFile counts t's rows in the database file alone, as SQLite reads it
// without the log (immutable: the -wal file is not looked at): rows that a
// checkpoint has copied back.
func inFile(t *testing.T, path string) (int, error) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	err = db.QueryRow("SELECT count(*) FROM t").Scan(&n)
	return n, err
}

// What a write commits reaches data.db itself without any commit
// checkpointing: the loop copied the log back.
func TestCopiesTheLogBack(t *testing.T) {
	_, path := serving(t, config.DBConnect)
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := inFile(t, path)
		if err == nil && n == 50 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("data.db alone holds %d rows of t (%v) 10 s after the write; want 50", n, err)
		}
		time.Sleep(every)
	}
}

// A database whose connections do not checkpoint (a data.db that package
// replica streams, where Litestream alone checkpoints) is not touched.
func TestLeavesAloneADatabaseThatDoesNotCheckpoint(t *testing.T) {
	_, path := serving(t, func(path string) (*dbx.DB, error) {
		db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=wal_autocheckpoint(0)")
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		return dbx.NewFromDB(db, "sqlite"), nil
	})
	// 50 rounds of the loop: the write is still only in the log.
	time.Sleep(50 * every)
	if n, err := inFile(t, path); err == nil || !strings.Contains(err.Error(), "no such table: t") {
		t.Fatalf("data.db alone: %d rows of t (%v), want no table t: it was checkpointed", n, err)
	}
}
