package replica_test

import (
	"archive/zip"
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/metrics"
	"github.com/crews/hearth/replica"
	"github.com/pocketbase/pocketbase/core"
	dto "github.com/prometheus/client_model/go"
)

// replicatedApp is a bootstrapped app whose data.db replicates to a file
// replica, opened as `hearth serve` opens it.
func replicatedApp(t *testing.T) *core.BaseApp {
	t.Helper()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: t.TempDir(), DBConnect: replica.DBConnect(nil, 0)})
	replica.Register(app, replica.Config{URL: "file://" + t.TempDir(), RestoreOnStart: true})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	hearthtest.Handler(t, app) // runs the OnServe hooks: replication starts
	t.Cleanup(func() {
		_ = app.OnTerminate().Trigger(&core.TerminateEvent{App: app}, func(e *core.TerminateEvent) error {
			return e.App.ResetBootstrapState()
		})
	})
	return app
}

func checkpoints(t *testing.T, app core.App, mode string) float64 {
	t.Helper()
	v, _ := metric(t, app, "hearth_sqlite_checkpoints_total", func(m *dto.Metric) bool { return labelValue(m, "mode") == mode })
	return v
}

// waitAttached waits until Litestream has taken data.db in, which the
// stream's loop does on its first tick once the replica answers. Until
// then a checkpoint statement is run by Hearth's own guard of the WAL
// (hearth_replica_detached_checkpoints_total), not by Litestream.
func waitAttached(t *testing.T, app core.App) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if v, ok := metric(t, app, "hearth_replica_detached", func(*dto.Metric) bool { return true }); ok && v == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("replication did not take data.db in within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metric returns the value of the first sample of the family name that
// match selects, and whether there was one.
func metric(t *testing.T, app core.App, name string, match func(*dto.Metric) bool) (float64, bool) {
	t.Helper()
	families, err := metrics.Gatherer(app).Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if match(m) {
				if c := m.GetCounter(); c != nil {
					return c.GetValue(), true
				}
				return m.GetGauge().GetValue(), true
			}
		}
	}
	return 0, false
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// PocketBase's TRUNCATE checkpoints (before a backup's zip, in the daily
// optimisation) become Litestream's PASSIVE ones: with a reader holding an
// old snapshot, as Litestream always does, a TRUNCATE would wait out the
// busy timeout with every writer blocked, then report busy.
func TestCheckpointStatementsGoThroughTheReplica(t *testing.T) {
	app := replicatedApp(t)

	for _, pool := range []string{"concurrent", "nonconcurrent"} {
		db := app.ConcurrentDB()
		if pool == "nonconcurrent" {
			db = app.NonconcurrentDB()
		}
		var n int
		if err := db.NewQuery("PRAGMA wal_autocheckpoint").Row(&n); err != nil || n != 0 {
			t.Errorf("%s data.db connection: wal_autocheckpoint = %d, %v; want 0 (Hearth checkpoints)", pool, n, err)
		}
	}
	var n int
	if err := app.AuxNonconcurrentDB().NewQuery("PRAGMA wal_autocheckpoint").Row(&n); err != nil || n == 0 {
		t.Errorf("auxiliary.db: wal_autocheckpoint = %d, %v; want SQLite's default (it is not replicated)", n, err)
	}

	waitAttached(t, app)

	// Another reader holds a snapshot while writes follow it.
	reader, err := sql.Open("sqlite", filepath.Join(app.DataDir(), "data.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	tx, err := reader.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var count int
	if err := tx.QueryRow("SELECT COUNT(*) FROM _params").Scan(&count); err != nil {
		t.Fatal(err)
	}
	if _, err := app.NonconcurrentDB().NewQuery("CREATE TABLE written_after (x INTEGER)").Execute(); err != nil {
		t.Fatal(err)
	}

	before := checkpoints(t, app, "PASSIVE")
	var busy, logFrames, checkpointed int
	if err := app.NonconcurrentDB().NewQuery("PRAGMA wal_checkpoint(TRUNCATE)").Row(&busy, &logFrames, &checkpointed); err != nil {
		t.Fatal(err)
	}
	if busy != 0 {
		t.Errorf("PRAGMA wal_checkpoint(TRUNCATE) with a reader open reported busy: it ran as a TRUNCATE")
	}
	if _, err := app.NonconcurrentDB().NewQuery("PRAGMA main.wal_checkpoint(RESTART)").Execute(); err != nil {
		t.Fatal(err)
	}
	if got := checkpoints(t, app, "PASSIVE"); got < before+2 {
		t.Errorf("PASSIVE checkpoints went from %v to %v; want both statements run by the replica", before, got)
	}
	for _, mode := range []string{"TRUNCATE", "RESTART"} {
		if got := checkpoints(t, app, mode); got != 0 {
			t.Errorf("%v %s checkpoints ran", got, mode)
		}
	}
}

// A backup made while replicating works, and leaves Litestream's local
// files out of the zip.
func TestBackupWhileReplicating(t *testing.T) {
	app := replicatedApp(t)
	if err := app.CreateBackup(context.Background(), "while_replicating.zip"); err != nil {
		t.Fatal(err)
	}
	z, err := zip.OpenReader(filepath.Join(app.DataDir(), core.LocalBackupsDirName, "while_replicating.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
		if strings.Contains(f.Name, "litestream") {
			t.Errorf("backup holds Litestream's file %s", f.Name)
		}
	}
	if !strings.Contains(strings.Join(names, " "), "data.db") {
		t.Errorf("backup lacks data.db: %v", names)
	}
}

func TestParseURL(t *testing.T) {
	for _, ok := range []string{"s3://bucket", "s3://bucket/hearth", "s3://bucket/a/b/", "file:///var/replica"} {
		if _, err := replica.ParseURL(ok); err != nil {
			t.Errorf("ParseURL(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "bucket/path", "s3:///path", "gs://bucket", "file://host/dir", "file:relative",
		"s3://key:secret@bucket/path", "s3://bucket/path?endpoint=x", "http://minio:9000/bucket"} {
		if _, err := replica.ParseURL(bad); err == nil {
			t.Errorf("ParseURL(%q) accepted", bad)
		}
	}
}

// Litestream writes to data.db between PocketBase's writes. A PocketBase
// transaction that has read must still be able to write: it holds the
// write lock from its BEGIN, so Litestream's write waits for it instead of
// leaving it a stale snapshot that can never become a writer.
func TestTransactionsHoldTheWriteLockFromTheStart(t *testing.T) {
	app := replicatedApp(t)
	if _, err := app.NonconcurrentDB().NewQuery("CREATE TABLE counted (n INTEGER)").Execute(); err != nil {
		t.Fatal(err)
	}
	// Another writer, as Litestream is, that does not wait for locks.
	other, err := sql.Open("sqlite", filepath.Join(app.DataDir(), "data.db")+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()

	var otherErr error
	err = app.RunInTransaction(func(tx core.App) error {
		var n int
		if err := tx.DB().NewQuery("SELECT COUNT(*) FROM counted").Row(&n); err != nil {
			return err
		}
		_, otherErr = other.Exec("INSERT INTO counted (n) VALUES (1)")
		_, err := tx.DB().NewQuery("INSERT INTO counted (n) VALUES (2)").Execute()
		return err
	})
	if err != nil {
		t.Fatalf("a transaction that read before another connection wrote could not write: %v", err)
	}
	if otherErr == nil {
		t.Fatal("the other connection wrote inside the transaction: it did not hold the write lock")
	}
}
