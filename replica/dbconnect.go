package replica

import (
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/crews/hearth/internal/sqlitecache"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// streams maps the path of each replicated data.db to its stream. Register
// fills it at bootstrap, before PocketBase connects; DBConnect, which
// PocketBase calls with nothing but the path, reads it.
var streams sync.Map

func register(path string, s *stream) {
	streams.Store(filepath.Clean(path), s)
}

// pragmas are PocketBase's (core.DefaultDBConnect; keep them in step; the
// cache size is the caller's, see DBConnect) plus two, because Litestream writes to data.db too (a sequence row after each
// of its checkpoints, a lock row it rolls back around them):
//
//   - wal_autocheckpoint(0): no commit checkpoints, so no request pays for
//     one and Litestream alone decides when the WAL is copied back;
//   - _txlock=immediate: PocketBase's transactions (all on its one write
//     connection) take the write lock when they begin. A deferred one that
//     has read before Litestream commits cannot upgrade to a writer
//     (SQLITE_BUSY_SNAPSHOT, "database is locked (517)"), and PocketBase
//     retries the failing statement for 7 s inside the same doomed
//     transaction while every other write queues behind it. Measured
//     without it at 50 writes/s: 7.4 s stalls and failed writes.
const pragmas = "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=journal_size_limit(200000000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-%d)&_defensive=1" +
	"&_pragma=wal_autocheckpoint(0)&_txlock=immediate"

// DBConnect returns PocketBase's DBConnect for Hearth (pocketbase.Config):
// a database that is not a replicated data.db opens with open (nil means
// core.DefaultDBConnect); a replicated data.db opens with cacheKiB of page
// cache per connection (0 means PocketBase's 32,000), without automatic
// checkpoints, and its connections hand every wal_checkpoint statement to
// the replica.
func DBConnect(open func(string) (*dbx.DB, error), cacheKiB int) func(string) (*dbx.DB, error) {
	if open == nil {
		open = core.DefaultDBConnect
	}
	if cacheKiB <= 0 {
		cacheKiB = 32000
	}
	return func(dbPath string) (*dbx.DB, error) {
		v, ok := streams.Load(filepath.Clean(dbPath))
		if !ok {
			return open(dbPath)
		}
		base, err := sqliteDriver()
		if err != nil {
			return nil, err
		}
		db := sql.OpenDB(&connector{dsn: dbPath + fmt.Sprintf(pragmas, cacheKiB), driver: base, stream: v.(*stream)})
		return dbx.NewFromDB(db, "sqlite"), nil
	}
}

// sqliteDriver returns the driver Hearth's other databases open with:
// modernc.org/sqlite (PocketBase's "sqlite", with whatever functions it has
// been given) keeping its statements compiled (internal/sqlitecache).
func sqliteDriver() (driver.Driver, error) {
	db, err := sql.Open(sqlitecache.DriverName, "")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.Driver(), nil
}
