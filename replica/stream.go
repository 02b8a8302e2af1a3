package replica

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/benbjohnson/litestream"
	"github.com/benbjohnson/litestream/file"
	"github.com/pocketbase/pocketbase/core"
)

// metaDir is where Litestream keeps its local transaction files, beside
// data.db in the data dir.
const metaDir = "." + dataDB + litestream.MetaDirSuffix

// lagSampleInterval is how often the replica's position is compared with
// the local one; the lag is exact to this.
const lagSampleInterval = 100 * time.Millisecond

// stream is one data.db being replicated: Litestream's database, replica
// and store (compactions, snapshots, retention), plus the lag bookkeeping.
type stream struct {
	cfg  Config
	path string

	mu    sync.Mutex
	db    *litestream.DB // nil until open and after close
	store *litestream.Store
	// unshipped are local transactions not yet in the replica, each with
	// when it was first seen, oldest first (one per lag sample at most).
	unshipped []seen
	stop      chan struct{} // closed to end sampleLag
	done      chan struct{} // closed by sampleLag when it ends
	// logs is where Litestream logs.
	logs logTarget
}

// seen is a local transaction and when the lag sampler first saw it.
type seen struct {
	txid uint64
	at   time.Time
}

// maxUnshipped bounds the lag bookkeeping while the replica is unreachable
// (ten samples a second): past it the newest are not noted, which leaves
// the oldest, and so the lag, right.
const maxUnshipped = 100_000

func newStream(cfg Config, path string) *stream {
	return &stream{cfg: cfg, path: path}
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
	// LagSeconds is the age of the oldest local transaction the replica
	// does not hold yet (zero when it holds every one taken in).
	LagSeconds float64 `json:"lagSeconds"`
	// LastSync is when the replica last stored a transaction successfully.
	LastSync time.Time `json:"lastSync,omitzero"`
}

// open starts replicating: Litestream takes data.db in within
// monitorInterval of each commit and ships it within the sync interval.
func (s *stream) open(app core.App) error {
	client, err := s.cfg.client()
	if err != nil {
		return err
	}
	db := litestream.NewDB(s.path)
	db.MonitorInterval = monitorInterval
	r := litestream.NewReplicaWithClient(db, client)
	r.SyncInterval = s.cfg.SyncInterval
	db.Replica = r
	if fc, ok := client.(*file.ReplicaClient); ok {
		// Lets the file backend give its files data.db's owner and mode.
		fc.Replica = r
	}
	store := litestream.NewStore([]*litestream.DB{db}, litestream.DefaultCompactionLevels)
	s.logs.set(app.Logger().Handler())
	logger := s.logs.logger().With("component", "replica")
	store.Logger = logger
	// NewStore has copied its defaults into db; these come after it.
	db.SetLogger(logger)
	db.ShutdownSyncTimeout = shutdownTimeout
	if err := store.Open(context.Background()); err != nil {
		return fmt.Errorf("open: %w", err)
	}

	stop, done := make(chan struct{}), make(chan struct{})
	s.mu.Lock()
	s.db, s.store, s.stop, s.done = db, store, stop, done
	s.mu.Unlock()
	go s.sampleLag(stop, done)
	logger.Info("replicating data.db", "url", s.cfg.URL, "syncInterval", s.cfg.SyncInterval.String())
	return nil
}

// close ships what is left and stops replicating; Litestream logs to
// logs meanwhile.
func (s *stream) close(ctx context.Context, logs slog.Handler) error {
	s.mu.Lock()
	db, store, stop, done := s.db, s.store, s.stop, s.done
	s.db, s.store, s.unshipped = nil, nil, nil
	s.mu.Unlock()
	if store == nil {
		return nil
	}
	close(stop)
	<-done
	s.logs.set(logs)
	// Litestream opens data.db at its first sync, a monitor interval after
	// open, and its Close ships nothing if that has not happened yet: a
	// server stopped right after it started would keep its first writes.
	// This sync opens it if need be and takes in every commit.
	err := db.Sync(ctx)
	return errors.Join(err, store.Close(ctx))
}

// checkpoint runs a checkpoint of data.db through Litestream, which first
// copies the WAL frames it has not yet taken in. It reports false when
// nothing is replicating (before serve opens the stream, after close).
//
// It is always PASSIVE, whatever the caller asked for: a PASSIVE checkpoint
// never waits for readers, and Litestream restarts the WAL itself once it
// has been copied; RESTART or TRUNCATE would wait for Litestream's own read
// transaction and block writers meanwhile.
func (s *stream) checkpoint(ctx context.Context) (bool, error) {
	s.mu.Lock()
	db := s.db
	s.mu.Unlock()
	if db == nil {
		return false, nil
	}
	return true, db.Checkpoint(ctx, litestream.CheckpointModePassive)
}

// status reports the replication state; false when nothing replicates.
func (s *stream) status() (Status, bool) {
	s.mu.Lock()
	db := s.db
	var oldest time.Time
	if len(s.unshipped) > 0 {
		oldest = s.unshipped[0].at
	}
	s.mu.Unlock()
	if db == nil {
		return Status{}, false
	}
	st := Status{URL: s.cfg.URL, LastSync: db.LastSuccessfulSyncAt()}
	if pos, err := db.Pos(); err == nil {
		st.TXID = uint64(pos.TXID)
	}
	st.ReplicaTXID = uint64(db.Replica.Pos().TXID)
	if !oldest.IsZero() {
		st.LagSeconds = time.Since(oldest).Seconds()
	}
	return st, true
}

// sampleLag notes when each local transaction is first seen and drops it
// once the replica holds it, so that the lag is the age of the oldest
// transaction not yet shipped (to within lagSampleInterval, after
// Litestream has taken it in), not the time since the replica was last
// level with the database, which a steady write load never lets happen.
func (s *stream) sampleLag(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	ticker := time.NewTicker(lagSampleInterval)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-ticker.C:
			s.mu.Lock()
			if db := s.db; db != nil {
				if pos, err := db.Pos(); err == nil {
					s.note(uint64(pos.TXID), uint64(db.Replica.Pos().TXID), now)
				}
			}
			s.mu.Unlock()
		}
	}
}

// note records a lag sample: local is the last transaction taken in,
// replicated the last one in the replica. s.mu is held.
func (s *stream) note(local, replicated uint64, now time.Time) {
	n := len(s.unshipped)
	if local > replicated && (n == 0 || local > s.unshipped[n-1].txid) && n < maxUnshipped {
		s.unshipped = append(s.unshipped, seen{local, now})
	}
	drop := 0
	for drop < len(s.unshipped) && s.unshipped[drop].txid <= replicated {
		drop++
	}
	s.unshipped = s.unshipped[drop:]
}
