package replica

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"regexp"
)

// checkpointStatement matches a checkpoint of the main database, in any
// mode: `PRAGMA wal_checkpoint(TRUNCATE)` as PocketBase sends it, or with
// "main." before the name.
var checkpointStatement = regexp.MustCompile(`(?i)^\s*PRAGMA\s+(?:main\s*\.\s*)?wal_checkpoint\b`)

// connector opens connections to a replicated data.db.
type connector struct {
	dsn    string
	driver driver.Driver
	stream *stream
}

// sqliteConn is what database/sql uses of a modernc.org/sqlite connection;
// conn must offer all of it, or database/sql would fall back to slower
// paths (or lose ResetSession and IsValid).
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

func (c *connector) Connect(context.Context) (driver.Conn, error) {
	raw, err := c.driver.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	sc, ok := raw.(sqliteConn)
	if !ok {
		raw.Close()
		return nil, fmt.Errorf("replica: %T lacks the methods of a modernc.org/sqlite connection", raw)
	}
	return &conn{sqliteConn: sc, stream: c.stream}, nil
}

func (c *connector) Driver() driver.Driver { return c.driver }

// conn is a data.db connection whose checkpoint statements run through the
// replica. PocketBase runs them unprepared (dbx's Execute), so Exec and
// Query are where they arrive; every other statement goes to SQLite as is.
type conn struct {
	sqliteConn
	stream *stream
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if checkpointStatement.MatchString(query) {
		if routed, err := c.stream.checkpoint(ctx); routed {
			return driver.RowsAffected(0), err
		}
	}
	return c.sqliteConn.ExecContext(ctx, query, args)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if checkpointStatement.MatchString(query) {
		if routed, err := c.stream.checkpoint(ctx); routed {
			if err != nil {
				return nil, err
			}
			return &checkpointRows{}, nil
		}
	}
	return c.sqliteConn.QueryContext(ctx, query, args)
}

// checkpointRows is the answer to a routed checkpoint query, in SQLite's
// shape (busy, log, checkpointed). Litestream does not report its frame
// counts, so both are 0; busy is 0 because a busy checkpoint is an error.
type checkpointRows struct{ done bool }

func (r *checkpointRows) Columns() []string { return []string{"busy", "log", "checkpointed"} }

func (r *checkpointRows) Close() error { return nil }

func (r *checkpointRows) Next(dest []driver.Value) error {
	if r.done {
		return io.EOF
	}
	r.done = true
	dest[0], dest[1], dest[2] = int64(0), int64(0), int64(0)
	return nil
}
