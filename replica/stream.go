package replica

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/benbjohnson/litestream/file"
	"github.com/pocketbase/pocketbase/core"
)

// metaDir is where Litestream keeps its local transaction files, beside
// data.db in the data dir.
const metaDir = "." + dataDB + litestream.MetaDirSuffix

// maxRetryWait caps the wait between two attempts to reach the replica
// while it fails: replication resumes within this (plus the sync interval)
// of S3's return. Litestream's own loops double their wait up to 5
// minutes; Hearth runs these loops itself (stream.run*) for this cap.
const maxRetryWait = 4 * time.Second

// startAttempt bounds the first probe of the replica, before serving.
const startAttempt = time.Second

// stuckLogInterval is how often the WARN line "replication stuck" repeats
// while the replica fails.
const stuckLogInterval = 10 * time.Second

// localCheckInterval is how often the local transaction files are measured
// against their budget.
const localCheckInterval = time.Second

// l0Retention is how long Litestream keeps local (and remote level-0)
// transaction files once they are compacted into level 1: a minute, not
// Litestream's 5, so that the local files of a healthy server stay a small
// part of HEARTH_REPLICA_LOCAL_MAX. Hearth does not serve reads from the
// replica, which is what Litestream keeps them for.
const l0Retention = time.Minute

// stream is one data.db being replicated: Litestream's database, replica
// and store (compactions, snapshots, retention), driven by Hearth's loops:
// runLocal takes the WAL into local transaction files (or, when Litestream
// cannot, keeps the WAL bounded itself: walGuard), runShip ships them.
type stream struct {
	cfg    Config
	path   string
	client litestream.ReplicaClient
	guard  *walGuard

	// attachMu serialises Litestream's taking data.db in with the guard's
	// checkpoints: the guard checkpoints only while Litestream holds no
	// read transaction.
	attachMu sync.Mutex

	mu    sync.Mutex
	db    *litestream.DB // nil before open, after close, and after the local files were dropped
	store *litestream.Store
	// attached: Litestream has taken data.db in (its start-up, which reads
	// the replica's position, succeeded) and checkpoints the WAL itself.
	attached  bool
	running   bool
	reachable time.Time // the replica last answered a probe or an upload
	book      lagBook
	fail      failure
	local     localState
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	persistMu sync.Mutex
	kept      *position // last written by persist (under persistMu)
	// logs is where Litestream logs.
	logs logTarget
}

// failure is the replica's failing streak.
type failure struct {
	since    time.Time // when the first failed attempt of the streak began; zero when not failing
	err      error
	lastWarn time.Time
	count    int64 // failed attempts since the start
	lastSync time.Time
}

// localState is the measure of the local transaction files.
type localState struct {
	bytes    int64
	over     bool // past the budget at the last measure
	dropped  int64
	measured time.Time
}

func newStream(cfg Config, path string) *stream {
	return &stream{cfg: cfg, path: path, guard: newWALGuard(path, cfg.WALMax)}
}

// Status is the replication state shown in the health answer.
type Status struct {
	// URL is the replica's location (it holds no credentials).
	URL string `json:"url"`
	// TXID is the last local transaction Litestream has taken in; each is
	// one or more SQLite commits.
	TXID uint64 `json:"txid"`
	// ReplicaTXID is the last transaction stored in the replica.
	ReplicaTXID uint64 `json:"replicaTxid"`
	// LagSeconds is the age of the oldest change the replica does not
	// hold yet (zero when it holds every one), read from the position kept
	// beside data.db: a restart does not reset it.
	LagSeconds float64 `json:"lagSeconds"`
	// LastSync is when the replica last stored a transaction successfully.
	LastSync time.Time `json:"lastSync,omitzero"`
	// FailingSince is when the current run of failed attempts to reach the
	// replica began; LastError the last failure.
	FailingSince time.Time `json:"failingSince,omitzero"`
	LastError    string    `json:"lastError,omitempty"`
	// Detached: replication is not taking the WAL in (the replica was
	// unreachable at start, or the local files outgrew their budget);
	// Hearth bounds the WAL itself and the replica gets a snapshot when it
	// answers again.
	Detached bool `json:"detached,omitempty"`
	// LocalBytes is the size of the local transaction files.
	LocalBytes int64 `json:"localBytes"`
}

// open starts replicating: Litestream takes data.db in within
// monitorInterval of each commit and ships it within the sync interval.
// It needs no answer from the replica: Litestream's start-up, which reads
// the replica's position, is retried by runLocal.
func (s *stream) open(app core.App) error {
	client, err := s.cfg.watchedClient()
	if err != nil {
		return err
	}
	p, err := readPosition(filepath.Join(filepath.Dir(s.path), positionFile))
	if err != nil {
		return err
	}
	s.logs.set(app.Logger().Handler())
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.client = client
	s.book = newLagBook(p)
	s.kept = &p
	s.fail = failure{}
	s.running, s.cancel = true, cancel
	s.mu.Unlock()
	if err := s.openLitestream(ctx); err != nil {
		cancel()
		return err
	}
	// A first attempt before serving, so that a healthy replica takes
	// data.db in before the first request, as before; bounded, so that a
	// replica that is down or hung delays the start by startAttempt at most
	// (the AWS SDK retries a refused connection for seconds).
	first, stop := context.WithTimeout(ctx, min(startAttempt, s.cfg.Timeout))
	now := time.Now()
	err = s.probe(first)
	stop()
	if err == nil {
		// The replica answers: Litestream's start-up (which asks it again)
		// is given the time it needs, however loaded the machine.
		s.attach(ctx, s.db, now)
	} else {
		s.failed(now, time.Now(), err)
	}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.runLocal(ctx) }()
	go func() { defer s.wg.Done(); s.runShip(ctx) }()
	s.logger().Info("replicating data.db", "url", s.cfg.URL, "syncInterval", s.cfg.SyncInterval.String())
	return nil
}

func (s *stream) logger() *slog.Logger { return s.logs.logger().With("component", "replica") }

// openLitestream creates Litestream's database, replica and store. Its
// own monitors are off (MonitorInterval 0, MonitorEnabled false): their
// retry waits double up to 5 minutes, and its start-up would retry at
// that pace too; runLocal and runShip do their work instead.
func (s *stream) openLitestream(ctx context.Context) error {
	db := litestream.NewDB(s.path)
	db.MonitorInterval = 0
	r := litestream.NewReplicaWithClient(db, s.client)
	r.SyncInterval = s.cfg.SyncInterval
	r.MonitorEnabled = false
	db.Replica = r
	if fc, ok := s.client.(*file.ReplicaClient); ok {
		// Lets the file backend give its files data.db's owner and mode.
		fc.Replica = r
	}
	store := litestream.NewStore([]*litestream.DB{db}, litestream.DefaultCompactionLevels)
	store.SetL0Retention(l0Retention)
	logger := s.logger()
	store.Logger = logger
	// NewStore has copied its defaults into db; these come after it.
	db.SetLogger(logger)
	if err := store.Open(ctx); err != nil {
		return fmt.Errorf("open: %w", err)
	}
	s.mu.Lock()
	s.db, s.store, s.attached = db, store, false
	s.mu.Unlock()
	return nil
}

// close ships what is left and stops replicating; Litestream logs to
// logs meanwhile.
func (s *stream) close(ctx context.Context, logs slog.Handler) error {
	s.mu.Lock()
	running, cancel := s.running, s.cancel
	s.running = false
	s.mu.Unlock()
	if !running {
		return nil
	}
	cancel()
	s.wg.Wait()
	s.logs.set(logs)

	s.mu.Lock()
	db, store, attached := s.db, s.store, s.attached
	s.db, s.store, s.attached = nil, nil, false
	failing := !s.fail.since.IsZero()
	s.mu.Unlock()
	defer s.guard.close()
	// A cancelled context: Litestream's close then ships nothing and takes
	// no time.
	noShip, cancelShip := context.WithCancel(ctx)
	cancelShip()
	if failing && !attached {
		// Litestream has not taken data.db in and cannot without the
		// replica: nothing to flush (the guard kept the WAL bounded).
		if store != nil {
			_ = store.Close(noShip)
		}
		return nil
	}
	if db == nil {
		// The local files were dropped and the replica answers again, but
		// replication has not taken data.db in since: a new Litestream
		// ships a snapshot now.
		if err := s.openLitestream(ctx); err != nil {
			return err
		}
		s.mu.Lock()
		db, store = s.db, s.store
		s.db, s.store = nil, nil
		s.mu.Unlock()
	}
	// One attempt to ship, not Litestream's retries for shutdownTimeout:
	// with the replica down a restart would wait for them, and what the
	// attempt cannot ship stays in the local files, shipped after the
	// next start.
	db.ShutdownSyncTimeout = 0
	// Litestream takes data.db in at its first sync, and its Close ships
	// nothing if that has not happened yet: a server stopped right after it
	// started would keep its first writes. This sync does it if need be
	// and takes in every commit.
	err := db.Sync(ctx)
	shipCtx := ctx
	if failing {
		// The replica is failing: a restart does not wait for it. What is
		// not shipped stays in the local files, shipped after the next
		// start.
		shipCtx = noShip
	}
	err = errors.Join(err, store.Close(shipCtx))
	if tx := uint64(db.Replica.Pos().TXID); err == nil && tx > 0 {
		s.mu.Lock()
		s.book.shipped(tx)
		s.mu.Unlock()
		s.persist()
	}
	return err
}

// checkpoint runs a checkpoint of data.db for PocketBase: through
// Litestream, which first copies the WAL frames it has not yet taken in,
// or, while Litestream has not taken data.db in, the guard's. It reports
// false when nothing is replicating (before serve opens the stream, after
// close).
//
// Through Litestream it is always PASSIVE, whatever the caller asked for:
// a PASSIVE checkpoint never waits for readers, and Litestream restarts
// the WAL itself once it has been copied; RESTART or TRUNCATE would wait
// for Litestream's own read transaction and block writers meanwhile.
func (s *stream) checkpoint(ctx context.Context) (bool, error) {
	s.attachMu.Lock()
	defer s.attachMu.Unlock()
	s.mu.Lock()
	db, attached, running := s.db, s.attached, s.running
	s.mu.Unlock()
	switch {
	case !running:
		return false, nil
	case attached:
		return true, db.Checkpoint(ctx, litestream.CheckpointModePassive)
	default:
		return true, s.guard.checkpoint(ctx)
	}
}

// runLocal takes the WAL into Litestream's local transaction files every
// monitorInterval. While Litestream has not taken data.db in, it has it do
// so as soon as the replica answers, and keeps the WAL bounded meanwhile.
func (s *stream) runLocal(ctx context.Context) {
	ticker := time.NewTicker(monitorInterval)
	defer ticker.Stop()
	var retry backoff
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		now := time.Now()
		s.measureLocal(ctx, now)

		s.mu.Lock()
		db, attached, reachable := s.db, s.attached, !s.reachable.IsZero()
		s.mu.Unlock()
		switch {
		case attached:
			if !retry.due(now) {
				continue
			}
			err := db.Sync(ctx)
			if err != nil && ctx.Err() == nil {
				// Local: the data dir's disk, most likely full.
				retry.failed(now, monitorInterval)
				if retry.shouldLog(now) {
					s.logger().Error("replica: taking the WAL in failed", "error", err.Error(), "retryIn", retry.wait.String())
				}
				continue
			}
			retry.reset()
			if pos, perr := db.Pos(); perr == nil {
				s.mu.Lock()
				s.book.taken(uint64(pos.TXID), now)
				s.mu.Unlock()
			}
		case reachable && db == nil:
			if err := s.openLitestream(ctx); err != nil && ctx.Err() == nil {
				s.logger().Error("replica: reopening failed", "error", err.Error())
			}
		case reachable:
			s.attach(ctx, db, now)
		default:
			s.guardWAL(ctx, now)
		}
		s.persist()
	}
}

// attach has Litestream take data.db in; its start-up asks the replica
// for its position first.
func (s *stream) attach(ctx context.Context, db *litestream.DB, now time.Time) {
	s.attachMu.Lock()
	err := db.Sync(ctx)
	attached := db.SQLDB() != nil
	s.attachMu.Unlock()
	s.mu.Lock()
	s.attached = attached
	if !attached {
		s.reachable = time.Time{}
	}
	s.mu.Unlock()
	if !attached {
		if err == nil {
			err = errors.New("litestream did not open data.db")
		}
		if ctx.Err() == nil {
			s.failed(now, now, err)
		}
		s.guardWAL(ctx, now)
		return
	}
	if pos, perr := db.Pos(); perr == nil {
		s.mu.Lock()
		s.book.taken(uint64(pos.TXID), now)
		s.mu.Unlock()
	}
	s.logger().Info("replica: taking data.db in", "url", s.cfg.URL)
}

// guardWAL notes the changes committed while Litestream does not take the
// WAL in (for the lag) and keeps the WAL under its bound.
func (s *stream) guardWAL(ctx context.Context, now time.Time) {
	s.attachMu.Lock()
	defer s.attachMu.Unlock()
	changed, err := s.guard.changed(ctx)
	if err == nil {
		if changed {
			s.mu.Lock()
			s.book.changedDetached(now)
			s.mu.Unlock()
		}
		err = s.guard.bound(ctx)
	}
	if err != nil && ctx.Err() == nil {
		s.logger().Warn("replica: bounding the WAL failed", "error", err.Error())
	}
}

// runShip ships the local transaction files to the replica every sync
// interval; while the replica fails, it retries after a wait that doubles
// up to maxRetryWait. While Litestream has not taken data.db in, it asks
// the replica whether it answers (a listing), for runLocal.
func (s *stream) runShip(ctx context.Context) {
	ticker := time.NewTicker(s.cfg.SyncInterval)
	defer ticker.Stop()
	var retry backoff
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
		}
		started := time.Now()
		if !retry.due(started) {
			continue
		}
		s.mu.Lock()
		db, attached := s.db, s.attached
		s.mu.Unlock()
		var err error
		if db == nil || !attached {
			if err = s.probe(ctx); err == nil {
				s.mu.Lock()
				s.reachable = time.Now()
				s.mu.Unlock()
				retry.reset()
				continue
			}
		} else if pos, perr := db.Pos(); perr != nil || pos.TXID == 0 {
			continue // nothing taken in yet
		} else if err = db.Replica.Sync(ctx); err == nil {
			s.shipped(uint64(db.Replica.Pos().TXID), started)
			retry.reset()
			continue
		}
		if ctx.Err() != nil {
			return
		}
		retry.failed(time.Now(), s.cfg.SyncInterval)
		s.failed(started, time.Now(), err)
	}
}

// probe asks the replica for its first page of level-0 files.
func (s *stream) probe(ctx context.Context) error {
	itr, err := s.client.LTXFiles(ctx, 0, 0, false)
	if err != nil {
		return err
	}
	itr.Next()
	return errors.Join(itr.Err(), itr.Close())
}

// shipped notes a successful upload (or a replica with nothing to take).
func (s *stream) shipped(replicated uint64, now time.Time) {
	s.mu.Lock()
	if replicated > 0 {
		s.book.shipped(replicated)
	}
	s.reachable = now
	since := s.fail.since
	s.fail.since, s.fail.err = time.Time{}, nil
	s.fail.lastSync = time.Now()
	s.mu.Unlock()
	if !since.IsZero() {
		s.logger().Info("replica: replication resumed", "failingSince", since.UTC().Format(time.RFC3339), "seconds", time.Since(since).Seconds())
	}
	s.persist()
}

// failed notes a failed attempt that began at started, and says so in a
// WARN line at most every stuckLogInterval.
func (s *stream) failed(started, now time.Time, err error) {
	s.mu.Lock()
	if s.fail.since.IsZero() {
		s.fail.since = started
	}
	s.fail.err = err
	s.fail.count++
	since, lastSync := s.fail.since, s.fail.lastSync
	warn := now.Sub(s.fail.lastWarn) >= stuckLogInterval
	if warn {
		s.fail.lastWarn = now
	}
	s.mu.Unlock()
	if warn {
		attrs := []any{"url", s.cfg.URL, "since", since.UTC().Format(time.RFC3339), "seconds", now.Sub(since).Seconds(), "error", err.Error()}
		if !lastSync.IsZero() {
			attrs = append(attrs, "lastSync", lastSync.UTC().Format(time.RFC3339))
		}
		s.logger().Warn("replica: replication stuck since "+since.UTC().Format(time.RFC3339), attrs...)
	}
}

// persist writes the position beside data.db when it has changed.
func (s *stream) persist() {
	s.persistMu.Lock()
	defer s.persistMu.Unlock()
	s.mu.Lock()
	p := s.book.position()
	s.mu.Unlock()
	if s.kept != nil && *s.kept == p {
		return
	}
	if err := p.write(filepath.Join(filepath.Dir(s.path), positionFile)); err != nil {
		s.logger().Warn("replica: keeping the position failed", "error", err.Error())
		return
	}
	s.kept = &p
}

// measureLocal measures the local transaction files every
// localCheckInterval. Past the budget it says so in an ERROR line, and,
// while the replica fails, drops them: the replica takes a snapshot when it
// answers again, and the guard bounds the WAL meanwhile.
func (s *stream) measureLocal(ctx context.Context, now time.Time) {
	s.mu.Lock()
	if now.Sub(s.local.measured) < localCheckInterval {
		s.mu.Unlock()
		return
	}
	s.local.measured = now
	s.mu.Unlock()
	size := dirSize(filepath.Join(filepath.Dir(s.path), metaDir))
	s.mu.Lock()
	s.local.bytes = size
	over := size > s.cfg.LocalMax
	wasOver := s.local.over
	s.local.over = over
	failing := !s.fail.since.IsZero()
	db, store := s.db, s.store
	s.mu.Unlock()
	if !over {
		return
	}
	if !failing || db == nil {
		if !wasOver {
			s.logger().Error("replica: local transaction files past HEARTH_REPLICA_LOCAL_MAX; they are in the replica and go as Litestream's retention allows",
				"bytes", size, "max", s.cfg.LocalMax)
		}
		return
	}
	// Litestream's read transaction goes with it; with a cancelled context
	// its close ships nothing (the replica fails) and takes no time.
	noShip, cancel := context.WithCancel(ctx)
	cancel()
	s.attachMu.Lock()
	_ = store.Close(noShip)
	err := os.RemoveAll(filepath.Join(filepath.Dir(s.path), metaDir))
	s.mu.Lock()
	s.db, s.store, s.attached, s.reachable = nil, nil, false, time.Time{}
	s.book.forget()
	s.local.dropped++
	s.local.bytes = dirSize(filepath.Join(filepath.Dir(s.path), metaDir))
	s.mu.Unlock()
	s.attachMu.Unlock()
	s.logger().Error("replica: local transaction files past HEARTH_REPLICA_LOCAL_MAX while the replica fails: dropped; the replica takes a fresh snapshot when it answers",
		"bytes", size, "max", s.cfg.LocalMax, "error", errString(err))
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// dirSize is the size of the files under dir (0 when it does not exist).
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// status reports the replication state; false when nothing replicates.
func (s *stream) status() (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return Status{}, false
	}
	st := Status{URL: s.cfg.URL, ReplicaTXID: s.book.replicated, LastSync: s.fail.lastSync,
		FailingSince: s.fail.since, Detached: !s.attached, LocalBytes: s.local.bytes}
	if s.fail.err != nil {
		st.LastError = s.fail.err.Error()
	}
	if s.db != nil {
		if pos, err := s.db.Pos(); err == nil {
			st.TXID = uint64(pos.TXID)
		}
	}
	if since := s.book.behindSince(); !since.IsZero() {
		st.LagSeconds = time.Since(since).Seconds()
	}
	return st, true
}

// counts are the failed attempts and the drops of local files since the start.
func (s *stream) counts() (errs, dropped int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fail.count, s.local.dropped
}

// backoff is a retry wait that doubles from the first wait up to
// maxRetryWait.
type backoff struct {
	wait    time.Duration
	next    time.Time
	lastLog time.Time
}

func (b *backoff) due(now time.Time) bool { return !now.Before(b.next) }

func (b *backoff) failed(now time.Time, first time.Duration) {
	b.wait = min(max(2*b.wait, first), maxRetryWait)
	b.next = now.Add(b.wait)
}

func (b *backoff) reset() { b.wait, b.next = 0, time.Time{} }

// shouldLog rate-limits the lines of a failing streak to one per
// stuckLogInterval.
func (b *backoff) shouldLog(now time.Time) bool {
	if now.Sub(b.lastLog) < stuckLogInterval {
		return false
	}
	b.lastLog = now
	return true
}
