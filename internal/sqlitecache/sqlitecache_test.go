package sqlitecache

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"math/rand"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
)

// connector opens cached connections of a given size, for the tests that
// need a small bound.
type connector struct {
	dsn  string
	size int
}

func (c connector) Connect(context.Context) (driver.Conn, error) {
	base, err := registered()
	if err != nil {
		return nil, err
	}
	raw, err := base.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return Wrap(raw, c.size)
}

func (connector) Driver() driver.Driver { return Driver{} }

func open(t *testing.T, size int) *sql.DB {
	t.Helper()
	db := sql.OpenDB(connector{dsn: filepath.Join(t.TempDir(), "data.db") + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)", size: size})
	t.Cleanup(func() { db.Close() })
	return db
}

// cacheOf runs f with the cache of one connection of db.
func cacheOf(t *testing.T, sc *sql.Conn, f func(c *conn)) {
	t.Helper()
	if err := sc.Raw(func(dc any) error { f(dc.(*conn)); return nil }); err != nil {
		t.Fatal(err)
	}
}

func exec(t *testing.T, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, query string, args ...any) {
	t.Helper()
	if _, err := q.ExecContext(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// methods lists the exported method names of v's type.
func methods(v any) map[string]bool {
	out := map[string]bool{}
	typ := reflect.TypeOf(v)
	for i := range typ.NumMethod() {
		out[typ.Method(i).Name] = true
	}
	return out
}

// TestConnMethods: database/sql changes behaviour by the interfaces a
// connection implements, and PocketBase's callers may reach modernc's own
// methods through sql.Conn.Raw; a modernc upgrade adding one fails here.
func TestConnMethods(t *testing.T) {
	base, err := registered()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base.Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	ours, err := Wrap(raw, Size)
	if err != nil {
		t.Fatal(err)
	}
	defer ours.Close()
	have := methods(ours)
	// modernc's connection embeds a sync.Mutex for its own use; its
	// methods are not the driver's.
	mutex := methods(&sync.Mutex{})
	for m := range methods(raw) {
		if !have[m] && !mutex[m] {
			t.Errorf("%T has %s, the cached connection does not", raw, m)
		}
	}
}

// TestRowsMethods: the same for the rows of a cached statement.
func TestRowsMethods(t *testing.T) {
	db := open(t, Size)
	sc, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	err = sc.Raw(func(dc any) error {
		c := dc.(*conn)
		plain, err := c.sqliteConn.QueryContext(context.Background(), "SELECT 1", nil)
		if err != nil {
			return err
		}
		defer plain.Close()
		cached, err := c.QueryContext(context.Background(), "SELECT 1", nil)
		if err != nil {
			return err
		}
		defer cached.Close()
		if _, ok := cached.(*rows); !ok {
			return fmt.Errorf("SELECT 1 was not run from the cache: %T", cached)
		}
		have := methods(cached)
		for m := range methods(plain) {
			if !have[m] {
				t.Errorf("%T has %s, the cached rows do not", plain, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestNestedSameSQLInTransaction: a query run again, with other
// arguments, while its rows are being read on the same connection must not
// reset the statement under them.
func TestNestedSameSQLInTransaction(t *testing.T) {
	db := open(t, Size)
	exec(t, db, "CREATE TABLE t (id INTEGER PRIMARY KEY, parent INTEGER)")
	for i := 1; i <= 20; i++ {
		exec(t, db, "INSERT INTO t (id, parent) VALUES (?, ?)", i, i/4)
	}
	const q = "SELECT id FROM t WHERE parent = ? ORDER BY id"
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var got []string
	var walk func(parent, depth int)
	walk = func(parent, depth int) {
		rs, err := tx.Query(q, parent)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		for rs.Next() {
			var id int
			if err := rs.Scan(&id); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%d/%d", depth, id))
			if id != parent {
				walk(id, depth+1)
			}
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
	}
	walk(0, 0)
	want := "[0/1 1/4 2/16 2/17 2/18 2/19 1/5 2/20 1/6 1/7 0/2 1/8 1/9 1/10 1/11 0/3 1/12 1/13 1/14 1/15]"
	if fmt.Sprint(got) != want {
		t.Errorf("walk\n got %v\nwant %s", got, want)
	}
}

// TestReuse: a repeated query runs on the statement compiled the first
// time; scripts, comment-only strings and SQL that does not compile are
// not kept, and the last still reports its error.
func TestReuse(t *testing.T) {
	db := open(t, Size)
	db.SetMaxOpenConns(1)
	sc, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	exec(t, sc, "CREATE TABLE a (x); CREATE TABLE b (x)")
	exec(t, sc, "-- nothing")
	if _, err := sc.ExecContext(context.Background(), "INSERT INTO nowhere VALUES (1)"); err == nil {
		t.Error("INSERT INTO nowhere: no error")
	}
	cacheOf(t, sc, func(c *conn) {
		if len(c.entries) != 0 {
			t.Errorf("cached after a script, a comment and a bad statement: %d entries", len(c.entries))
		}
	})
	var first *entry
	for i := range 3 {
		exec(t, sc, "INSERT INTO a (x) VALUES (?)", i)
		cacheOf(t, sc, func(c *conn) {
			e := c.entries["INSERT INTO a (x) VALUES (?)"].Value.(*entry)
			if first == nil {
				first = e
			} else if e != first {
				t.Errorf("run %d compiled the statement again", i)
			}
		})
	}
	var n int
	if err := sc.QueryRowContext(context.Background(), "SELECT sum(x) FROM a").Scan(&n); err != nil || n != 3 {
		t.Errorf("sum %d, %v; want 3", n, err)
	}
}

// TestBound: a connection keeps at most its size; a statement evicted
// while its rows are open is finalized when they close, and closing the
// connection finalizes the rest.
func TestBound(t *testing.T) {
	db := open(t, 4)
	sc, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rs, err := sc.QueryContext(context.Background(), "SELECT 0 UNION ALL SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	var busy *entry
	cacheOf(t, sc, func(c *conn) { busy = c.entries["SELECT 0 UNION ALL SELECT 1"].Value.(*entry) })
	for i := range 10 {
		var n int
		if err := sc.QueryRowContext(context.Background(), fmt.Sprintf("SELECT %d", i)).Scan(&n); err != nil || n != i {
			t.Fatalf("SELECT %d: %d, %v", i, n, err)
		}
	}
	var kept []*entry
	cacheOf(t, sc, func(c *conn) {
		if len(c.entries) != 4 || c.lru.Len() != 4 {
			t.Errorf("%d entries, %d in the list; want 4", len(c.entries), c.lru.Len())
		}
		for _, el := range c.entries {
			kept = append(kept, el.Value.(*entry))
		}
	})
	if !compiled(busy.stmt) {
		t.Error("an evicted statement was finalized under its open rows")
	}
	var n, rowsRead int
	for rs.Next() {
		if err := rs.Scan(&n); err != nil || n != rowsRead {
			t.Fatalf("row %d: %d, %v", rowsRead, n, err)
		}
		rowsRead++
	}
	rs.Close()
	if rowsRead != 2 {
		t.Errorf("read %d rows of the evicted statement, want 2", rowsRead)
	}
	if compiled(busy.stmt) {
		t.Error("the evicted statement was not finalized when its rows closed")
	}
	// Raw hands out the connection; closing the pool closes it.
	sc.Close()
	db.Close()
	for _, e := range kept {
		if compiled(e.stmt) {
			t.Errorf("%q not finalized when its connection closed", e.query)
		}
	}
}

// TestSchemaChange: a cached SELECT * sees a column added after it was
// compiled, and a table dropped and created again.
func TestSchemaChange(t *testing.T) {
	db := open(t, Size)
	db.SetMaxOpenConns(1)
	exec(t, db, "CREATE TABLE t (a)")
	exec(t, db, "INSERT INTO t VALUES (1)")
	columns := func() []string {
		rs, err := db.Query("SELECT * FROM t")
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		cols, err := rs.Columns()
		if err != nil {
			t.Fatal(err)
		}
		return cols
	}
	if got := fmt.Sprint(columns()); got != "[a]" {
		t.Fatalf("columns %s", got)
	}
	exec(t, db, "ALTER TABLE t ADD COLUMN b DEFAULT 2")
	if got := fmt.Sprint(columns()); got != "[a b]" {
		t.Errorf("after ADD COLUMN: columns %s, want [a b]", got)
	}
	exec(t, db, "DROP TABLE t")
	if _, err := db.Query("SELECT * FROM t"); err == nil {
		t.Error("SELECT from a dropped table: no error")
	}
	exec(t, db, "CREATE TABLE t (c, d, e)")
	if got := fmt.Sprint(columns()); got != "[c d e]" {
		t.Errorf("after CREATE again: columns %s, want [c d e]", got)
	}
}

// TestCancel: a cancelled context stops a cached query (SQLite is
// interrupted) and an Exec, and the statement serves the next call.
func TestCancel(t *testing.T) {
	db := open(t, Size)
	db.SetMaxOpenConns(1)
	const endless = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	rs, err := db.QueryContext(ctx, endless)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rs.Next() {
		if n++; n == 10 {
			cancel()
		}
	}
	if !errors.Is(rs.Err(), context.Canceled) {
		t.Errorf("rows.Err() = %v, want context.Canceled", rs.Err())
	}
	rs.Close()
	if _, err := db.ExecContext(ctx, "SELECT 1"); !errors.Is(err, context.Canceled) {
		t.Errorf("Exec with a cancelled context: %v", err)
	}
	var x int
	if err := db.QueryRow(endless + " LIMIT 1 OFFSET 4").Scan(&x); err != nil || x != 5 {
		t.Errorf("after the cancel: %d, %v; want 5", x, err)
	}
	rs, err = db.Query(endless)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if !rs.Next() || rs.Scan(&x) != nil || x != 1 {
		t.Errorf("the cancelled statement again: first row %d, err %v", x, rs.Err())
	}
}

// TestConcurrentPool: many goroutines on the pool's connections, each
// writing and reading back its own rows (run with -race).
func TestConcurrentPool(t *testing.T) {
	db := open(t, 8)
	exec(t, db, "CREATE TABLE t (g INTEGER, i INTEGER)")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if _, err := db.Exec("INSERT INTO t (g, i) VALUES (?, ?)", g, i); err != nil {
					errs <- err
					return
				}
				var n, sum int
				if err := db.QueryRow("SELECT count(*), sum(i) FROM t WHERE g = ?", g).Scan(&n, &sum); err != nil {
					errs <- err
					return
				}
				if n != i+1 || sum != i*(i+1)/2 {
					errs <- fmt.Errorf("goroutine %d after %d inserts: count %d sum %d", g, i+1, n, sum)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestParity: a random mix of writes, reads, nested reads, failing
// statements and rows left half read gives the same results on the plain
// driver and on this one (with a cache small enough to evict).
func TestParity(t *testing.T) {
	plain, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "plain.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	plain.SetMaxOpenConns(1)
	cached := open(t, 3)
	cached.SetMaxOpenConns(1)
	run := func(pool *sql.DB, seed int64) []string {
		// One connection, so that nested queries share it.
		db, err := pool.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		r := rand.New(rand.NewSource(seed))
		var log []string
		note := func(v ...any) { log = append(log, fmt.Sprint(v...)) }
		var query func(q string, args ...any)
		query = func(q string, args ...any) {
			rs, err := db.QueryContext(context.Background(), q, args...)
			if err != nil {
				note("err ", err)
				return
			}
			defer rs.Close()
			for rs.Next() {
				var a, b sql.NullInt64
				rs.Scan(&a, &b)
				note(a, b)
				if r.Intn(4) == 0 {
					query("SELECT k, v FROM kv WHERE k >= ? ORDER BY k LIMIT 3", a.Int64)
				}
				if r.Intn(6) == 0 {
					note("left")
					return
				}
			}
			note("end ", rs.Err())
		}
		_, err = db.ExecContext(context.Background(), "CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER)")
		note("create ", err)
		for range 400 {
			k, v := r.Intn(30), r.Intn(100)
			switch r.Intn(6) {
			case 0:
				_, err := db.ExecContext(context.Background(), "INSERT INTO kv (k, v) VALUES (?, ?)", k, v)
				note("insert ", err)
			case 1:
				res, err := db.ExecContext(context.Background(), "UPDATE kv SET v = v + ? WHERE k < ?", v, k)
				if err == nil {
					n, _ := res.RowsAffected()
					note("update ", n)
				}
			case 2:
				_, err := db.ExecContext(context.Background(), "DELETE FROM kv WHERE k = ?", k)
				note("delete ", err)
			case 3:
				query("SELECT k, v FROM kv WHERE v > ? ORDER BY k", v)
			case 4:
				query("SELECT k, v FROM kv WHERE k >= ? ORDER BY k LIMIT 3", k)
			case 5:
				query("SELECT count(*), sum(v) FROM kv")
			}
		}
		return log
	}
	for seed := range int64(3) {
		if seed > 0 {
			exec(t, plain, "DROP TABLE kv")
			exec(t, cached, "DROP TABLE kv")
		}
		want, got := run(plain, seed), run(cached, seed)
		if !reflect.DeepEqual(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("seed %d, step %d: cached %q, plain %q", seed, i, got[i], want[i])
				}
			}
			t.Fatalf("seed %d: %d results cached, %d plain", seed, len(got), len(want))
		}
	}
}
