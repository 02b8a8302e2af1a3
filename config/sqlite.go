package config

import (
	"database/sql"
	"fmt"

	"github.com/crews/hearth/internal/sqlitecache"
	"github.com/pocketbase/dbx"
)

// SQLiteCacheKiB is the page cache of each SQLite connection, in KiB.
// PocketBase's default is 32,000 KiB; the pure-Go driver it uses holds a
// full cache as about twice that in RSS, so one connection reading a big
// table (a full sync of a group of 100,000 messages reads all of it)
// grows the process by some 60 MB, and each further busy connection by as
// much. 8,000 KiB bounds that at about 16 MB per connection; the file's
// pages stay in the OS page cache, one system call away.
// changefeed.BenchmarkFullSyncMemory and docs/benchmarks.md have the
// figures.
const SQLiteCacheKiB = 8000

// WALAutocheckpoint is the write-ahead log's size, in pages, at which the
// commit that reaches it copies the log back into the database (SQLite's
// wal_autocheckpoint; its default and PocketBase's is 1,000). That copy
// runs inside the request's commit, on PocketBase's one write connection,
// and syncs both files while every other write waits. Hearth's commits
// write more pages than plain PocketBase's (a change log row and its index
// beside each synced write), so at 1,000 they paid for a checkpoint every
// 100 to 140 commits, and each checkpoint copied the log's hot pages (the
// log's tail, the indexes' inner pages) once more. At 8,000 (a log of up
// to about 32 MB) each page is copied once per 8,000 pages written, and
// package checkpoint copies most of them from a read connection before
// a commit reaches the threshold. Measured: docs/benchmarks.md, "Checkpoints
// off the write path".
const WALAutocheckpoint = 8000

// sqlitePragmas are PocketBase's (core.DefaultDBConnect), with the cache
// size and checkpoint threshold above; TestSQLitePragmas checks them
// against PocketBase's.
var sqlitePragmas = "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=journal_size_limit(200000000)" +
	"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)" +
	fmt.Sprintf("&_pragma=cache_size(-%d)&_pragma=wal_autocheckpoint(%d)", SQLiteCacheKiB, WALAutocheckpoint) + "&_defensive=1"

// DBConnect opens an SQLite database of the data dir as PocketBase does,
// with Hearth's cache size and checkpoint threshold, on connections that
// keep their statements compiled (internal/sqlitecache). dbx chooses its
// SQL builder by the name "sqlite".
func DBConnect(path string) (*dbx.DB, error) {
	db, err := sql.Open(sqlitecache.DriverName, path+sqlitePragmas)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return dbx.NewFromDB(db, "sqlite"), nil
}
