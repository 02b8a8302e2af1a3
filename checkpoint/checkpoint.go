// Package checkpoint copies SQLite's write-ahead logs back into data.db
// and auxiliary.db from a read connection, a few times a second, so that
// requests seldom do.
//
// SQLite copies the log back (a checkpoint) inside the commit that brings
// it to wal_autocheckpoint pages. That commit belongs to a request, runs on
// PocketBase's one write connection, and syncs the log and the database
// while every other write waits for the connection. A checkpoint started
// from another connection in PASSIVE mode copies the same pages while
// writes go on (it takes no lock a writer needs, and copies only what no
// reader still needs), so the commit that reaches the threshold finds most
// of the log copied already. That commit's own checkpoint is still needed:
// a log is reused from its start only after a checkpoint that copied all
// of it, and under a steady write load a checkpoint from outside never
// does, since writes keep adding pages while it copies. config.DBConnect's
// threshold (config.WALAutocheckpoint) thus bounds the log; this package
// shortens the wait of the commit that reaches it.
//
// A database whose connections do not checkpoint themselves
// (wal_autocheckpoint 0: a data.db that package replica streams, whose
// checkpoints Litestream alone makes) is left alone.
//
// Checkpoints run where the app serves HTTP (hearth serve), and stop before
// the databases close. A failing checkpoint is logged when it starts to
// fail and when it succeeds again: the log then grows until a commit's own
// checkpoint copies it.
//
// Usage (main.go):
//
//	checkpoint.Register(app, checkpoint.Config{})
package checkpoint

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// DefaultEvery is how often each database is checkpointed when
// Config.Every is 0. At Hearth's write rates (about 1,000 commits a second
// of 7 to 10 pages on 2 cores) the log grows by some 2,000 pages in
// 200 ms: each checkpoint copies a few MB, and the commit that reaches the
// 8,000-page threshold finds at most one interval's pages left.
const DefaultEvery = 200 * time.Millisecond

// Config configures the checkpoints.
type Config struct {
	// Every is the time between two checkpoints of a database; 0 means
	// DefaultEvery.
	Every time.Duration
}

// Register checkpoints the app's databases every cfg.Every while it serves.
func Register(app core.App, cfg Config) {
	if cfg.Every <= 0 {
		cfg.Every = DefaultEvery
	}
	l := &loop{every: cfg.Every}
	// Like push's worker, the loop runs where the app really serves: a
	// serve event without a server (the one tests build the router with)
	// starts none, since a test app's databases close without OnTerminate.
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		if e.Server == nil {
			return e.Next()
		}
		dbs, err := served(e.App)
		if err != nil {
			return err
		}
		l.start(e.App, dbs)
		return e.Next()
	})
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		l.stop()
		return e.Next()
	})
}

// database is one database the loop checkpoints, read through a pool of
// read connections.
type database struct {
	name    string
	db      dbx.Builder
	failing bool // the last checkpoint failed (it was logged)
}

// served returns the app's databases whose connections checkpoint
// themselves (wal_autocheckpoint above 0).
func served(app core.App) ([]*database, error) {
	var out []*database
	for _, d := range []*database{{name: "data.db", db: app.ConcurrentDB()}, {name: "auxiliary.db", db: app.AuxConcurrentDB()}} {
		var pages int
		if err := d.db.NewQuery("PRAGMA wal_autocheckpoint").Row(&pages); err != nil {
			return nil, fmt.Errorf("checkpoint: wal_autocheckpoint of %s: %w", d.name, err)
		}
		if pages > 0 {
			out = append(out, d)
		}
	}
	return out, nil
}

// loop is the goroutine that checkpoints, started once the app serves.
type loop struct {
	every time.Duration

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

func (l *loop) start(app core.App, dbs []*database) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cancel != nil || len(dbs) == 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel, l.done = cancel, make(chan struct{})
	go func() {
		defer close(l.done)
		t := time.NewTicker(l.every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			for _, d := range dbs {
				d.checkpoint(ctx, app.Logger())
			}
		}
	}()
}

// stop ends the loop and waits for a checkpoint under way, so that it
// never runs on a database being closed.
func (l *loop) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cancel == nil {
		return
	}
	l.cancel()
	<-l.done
	l.cancel = nil
}

// checkpoint copies what it can of d's log into d. The PASSIVE mode never
// waits: for the checkpoint lock (a commit's own checkpoint holding it)
// nor for readers, whose pages it leaves for the next round.
func (d *database) checkpoint(ctx context.Context, logger *slog.Logger) {
	var busy, frames, copied int
	err := d.db.NewQuery("PRAGMA wal_checkpoint(PASSIVE)").WithContext(ctx).Row(&busy, &frames, &copied)
	switch {
	case err != nil && ctx.Err() != nil:
		// Stopping: the statement was interrupted.
	case err != nil && !d.failing:
		d.failing = true
		logger.Warn("checkpoint: copying the write-ahead log back failed; commits still do", "db", d.name, "error", err)
	case err == nil && d.failing:
		d.failing = false
		logger.Info("checkpoint: copying the write-ahead log back works again", "db", d.name)
	}
}
