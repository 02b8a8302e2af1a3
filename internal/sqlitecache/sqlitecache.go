// Package sqlitecache is a database/sql driver, registered as
// "sqlite-stmtcache", that is modernc.org/sqlite (the driver PocketBase
// registers as "sqlite") with a bounded cache of prepared statements on each
// connection.
//
// modernc.org/sqlite compiles the SQL of every Exec and Query anew
// (sqlite3_prepare_v2) and finalizes it after; PocketBase's dbx sends all its
// statements that way, and under a write load compiling is a sixth of the
// server's CPU. This driver keeps, per connection, the last Size distinct
// single-statement SQL strings compiled (modernc's Stmt keeps the compiled
// sqlite3_stmt and resets it between uses) and runs a repeated string on its
// compiled statement.
//
// Rules that keep it invisible to callers:
//
//   - a cached statement still read by an open Rows is busy: the same SQL on
//     the same connection meanwhile (a nested query in a loop, in a
//     transaction) runs one-off, as without the cache; closing the Rows
//     resets the statement and clears its bindings for the next use;
//   - multi-statement scripts, comment-only strings, and SQL that fails to
//     compile are never cached; a statement whose execution fails is dropped;
//   - schema changes need nothing: statements from sqlite3_prepare_v2
//     recompile themselves on SQLITE_SCHEMA;
//   - the connection offers every method modernc's does (TestConnMethods), so
//     database/sql behaves as with modernc's own (ResetSession, IsValid after
//     an interrupt, BeginTx, Ping);
//   - closing the connection finalizes its statements.
//
// Usage:
//
//	db, err := sql.Open(sqlitecache.DriverName, "data.db?_pragma=journal_mode(WAL)")
//	pb := dbx.NewFromDB(db, "sqlite") // dbx's builder is chosen by "sqlite"
package sqlitecache

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"reflect"
	"sync"

	"modernc.org/sqlite"
)

// DriverName is the name this package registers its driver under.
const DriverName = "sqlite-stmtcache"

// Size is the most statements a connection keeps compiled. PocketBase and
// Hearth together send a few dozen distinct statements on the write paths;
// 128 holds them with room for the read paths, at a few KiB of SQLite memory
// each (docs/architecture.md, "Prepared statements", has the measurement).
const Size = 128

func init() {
	sql.Register(DriverName, Driver{})
}

// Driver opens modernc.org/sqlite connections (the driver registered as
// "sqlite", so with the functions and hooks registered on it) wrapped with a
// statement cache.
type Driver struct{}

// Open implements driver.Driver.
func (Driver) Open(name string) (driver.Conn, error) {
	base, err := registered()
	if err != nil {
		return nil, err
	}
	raw, err := base.Open(name)
	if err != nil {
		return nil, err
	}
	return Wrap(raw, Size)
}

// registered returns the driver modernc.org/sqlite registers as "sqlite":
// functions, collations and hooks registered with the package-level
// functions live on it, not on a new sqlite.Driver.
var registered = sync.OnceValues(func() (driver.Driver, error) {
	db, err := sql.Open("sqlite", "")
	if err != nil {
		return nil, fmt.Errorf("sqlitecache: %w", err)
	}
	defer db.Close()
	return db.Driver(), nil
})

// sqliteConn is the method set of a modernc.org/sqlite connection; embedding
// it forwards every method conn does not override. TestConnMethods fails
// when modernc's connection gains a method this lacks.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.Execer //nolint:staticcheck // modernc offers it; forwarded so nothing changes
	driver.QueryerContext
	driver.Queryer //nolint:staticcheck // as Execer
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	Serialize() ([]byte, error)
	Deserialize([]byte) error
	NewBackup(string) (*sqlite.Backup, error)
	NewRestore(string) (*sqlite.Backup, error)
	IsReadOnly(string) (bool, error)
	ColumnInfo(string) ([]sqlite.ColumnInfo, error)
	Status(sqlite.DBStatusOp, bool) (int, int, error)
	FileControlPersistWAL(string, int) (int, error)
	FileControlDataVersion(string) (uint32, error)
	RegisterPreUpdateHook(sqlite.PreUpdateHookFn)
	RegisterCommitHook(sqlite.CommitHookFn)
	RegisterRollbackHook(sqlite.RollbackHookFn)
}

// stmt is what the cache uses of modernc's statements.
type stmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// Wrap returns raw, a modernc.org/sqlite connection, with a cache of up to
// size statements.
func Wrap(raw driver.Conn, size int) (driver.Conn, error) {
	sc, ok := raw.(sqliteConn)
	if !ok {
		raw.Close()
		return nil, fmt.Errorf("sqlitecache: %T lacks the methods of a modernc.org/sqlite connection", raw)
	}
	return &conn{sqliteConn: sc, size: size, entries: map[string]*list.Element{}, lru: list.New()}, nil
}

// conn is a connection with its cache. database/sql uses a connection from
// one goroutine at a time (it holds the connection's lock around every call,
// Rows.Close included), so the cache needs no lock of its own.
type conn struct {
	sqliteConn
	size    int
	entries map[string]*list.Element // of *entry, by SQL
	lru     *list.List               // most recently used first
}

type entry struct {
	query string
	stmt  stmt
	busy  bool // an open Rows reads it
	gone  bool // evicted or dropped while busy: its Rows closes it
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e := c.get(ctx, query)
	if e == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	r, err := e.stmt.ExecContext(ctx, args)
	if err != nil {
		c.drop(e)
	}
	return r, err
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	e := c.get(ctx, query)
	if e == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	r, err := e.stmt.QueryContext(ctx, args)
	if err != nil {
		c.drop(e)
		return nil, err
	}
	e.busy = true
	return &rows{sqliteRows: r.(sqliteRows), conn: c, entry: e}, nil
}

// get returns the cached statement for query, compiling and caching it if
// it is not there, or nil when the query is to run one-off: its statement
// is busy, or it is not a single statement, or it does not compile (the
// one-off run then reports the error as modernc does).
func (c *conn) get(ctx context.Context, query string) *entry {
	if el, ok := c.entries[query]; ok {
		e := el.Value.(*entry)
		if e.busy {
			return nil
		}
		c.lru.MoveToFront(el)
		return e
	}
	ds, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	s := ds.(stmt)
	if !compiled(s) {
		s.Close()
		return nil
	}
	e := &entry{query: query, stmt: s}
	c.entries[query] = c.lru.PushFront(e)
	for c.lru.Len() > c.size {
		c.drop(c.lru.Back().Value.(*entry))
	}
	return e
}

// compiled reports whether modernc keeps s compiled: it does for a single
// statement (its pstmt field holds the sqlite3_stmt) and recompiles scripts
// and comment-only strings on each run, which caching would not spare.
// TestScriptsAreNotCached fails if the field goes away or changes meaning.
func compiled(s stmt) bool {
	f := reflect.ValueOf(s).Elem().FieldByName("pstmt")
	return f.IsValid() && f.Uint() != 0
}

// drop removes e from the cache and finalizes it, or, while a Rows reads
// it, leaves that to the Rows' Close.
func (c *conn) drop(e *entry) {
	if el, ok := c.entries[e.query]; ok && el.Value == e {
		delete(c.entries, e.query)
		c.lru.Remove(el)
	}
	if e.busy {
		e.gone = true
		return
	}
	e.stmt.Close()
}

// Close finalizes the cached statements and closes the connection.
// database/sql closes a connection only when no Rows of it is open.
func (c *conn) Close() error {
	for el := c.lru.Front(); el != nil; el = el.Next() {
		el.Value.(*entry).stmt.Close()
	}
	c.entries, c.lru = nil, list.New()
	return c.sqliteConn.Close()
}

// sqliteRows is the method set of modernc's rows; TestRowsMethods fails
// when it gains a method this lacks.
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// rows reads a cached statement and gives it back on Close.
type rows struct {
	sqliteRows
	conn  *conn
	entry *entry
}

// Close resets the statement (modernc's rows of a prepared statement reset
// it and clear its bindings instead of finalizing) and makes it available
// again, or finalizes it if it left the cache meanwhile.
func (r *rows) Close() error {
	if r.entry == nil {
		return nil
	}
	err := r.sqliteRows.Close()
	e := r.entry
	r.entry = nil
	e.busy = false
	if e.gone {
		e.stmt.Close()
	} else if err != nil {
		r.conn.drop(e)
	}
	return err
}
