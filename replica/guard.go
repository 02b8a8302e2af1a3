package replica

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// DefaultWALMax is the size past which Hearth checkpoints data.db's WAL
// itself while replication is not taking it in (HEARTH_REPLICA_WAL_MAX).
const DefaultWALMax = 32 << 20

// walGuard keeps data.db's WAL under its bound while Litestream has not
// taken data.db in: after a start with S3 unreachable (Litestream reads the
// replica's position before it reads the WAL, and would not start), and
// after the local transaction files were dropped past their budget. Hearth
// turned SQLite's own checkpoints off for data.db (dbconnect.go), so
// without it the WAL would grow with every write until S3 answered.
//
// Its checkpoints are TRUNCATE, from a connection of its own: Litestream
// holds no read transaction then, only PocketBase's short reads can make it
// wait. Litestream notices the checkpoint when it takes the WAL in again
// ("wal truncated by another process") and ships a full snapshot: the
// replica then skips from its last transaction to that snapshot, so no
// point in time between the two can be restored, and nothing is lost.
type walGuard struct {
	path string // data.db
	max  int64

	db      *sql.DB
	conn    *sql.Conn
	version int64 // PRAGMA data_version at the last look

	checkpoints atomic.Int64
}

func newWALGuard(path string, max int64) *walGuard {
	return &walGuard{path: path, max: max}
}

// open connects the guard (lazily, at its first use).
func (g *walGuard) open(ctx context.Context) error {
	if g.conn != nil {
		return nil
	}
	db, err := sql.Open("sqlite", "file:"+g.path+"?_pragma=busy_timeout(5000)&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		return err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return err
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&g.version); err != nil {
		conn.Close()
		db.Close()
		return err
	}
	g.db, g.conn = db, conn
	return nil
}

// changed reports whether another connection has committed to data.db
// since the last look.
func (g *walGuard) changed(ctx context.Context) (bool, error) {
	if g.conn == nil {
		// The first look: whatever came before it counts as a change.
		if err := g.open(ctx); err != nil {
			return false, err
		}
		return true, nil
	}
	var v int64
	if err := g.conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		return false, err
	}
	changed := v != g.version
	g.version = v
	return changed, nil
}

// bound checkpoints the WAL when it has grown past max.
func (g *walGuard) bound(ctx context.Context) error {
	fi, err := os.Stat(g.path + "-wal")
	if errors.Is(err, os.ErrNotExist) || (err == nil && fi.Size() <= g.max) {
		return nil
	} else if err != nil {
		return err
	}
	return g.checkpoint(ctx)
}

// checkpoint runs a TRUNCATE checkpoint of data.db.
func (g *walGuard) checkpoint(ctx context.Context) error {
	if err := g.open(ctx); err != nil {
		return err
	}
	var busy, log, done int
	if err := g.conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &log, &done); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if busy != 0 {
		return errors.New("checkpoint: a reader kept the WAL busy; trying again")
	}
	g.checkpoints.Add(1)
	return nil
}

func (g *walGuard) close() {
	if g.conn != nil {
		g.conn.Close()
		g.db.Close()
		g.conn, g.db = nil, nil
	}
}
