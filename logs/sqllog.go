package logs

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/pocketbase/dbx"
)

// sqlValues are the values dbx writes into a logged statement in place of
// its parameters: quoted strings (a quote in one doubled) and hex blobs. They
// are the records' values (emails, token keys, push tokens, invite codes
// in a filter), so the statement is printed without them.
var sqlValues = regexp.MustCompile(`'(?:[^']|'')*'|\b0x[0-9a-fA-F]+\b`)

// redactSQL is a statement as the dev mode SQL log prints it.
func redactSQL(statement string) string {
	return sqlValues.ReplaceAllString(statement, "?")
}

// redactSQLLog replaces the statement log PocketBase gives db in dev mode
// (every statement, its parameters filled in, on standard output) with one
// that prints the statements without their values. A db without a
// statement log (outside dev mode) is left alone.
func redactSQLLog(db dbx.Builder, out io.Writer) {
	d, ok := db.(*dbx.DB)
	if !ok || (d.QueryLogFunc == nil && d.ExecLogFunc == nil) {
		return
	}
	write := func(took time.Duration, statement string) {
		fmt.Fprintf(out, "[%.2fms] %s\n", float64(took.Microseconds())/1000, redactSQL(statement))
	}
	d.QueryLogFunc = func(_ context.Context, took time.Duration, statement string, _ *sql.Rows, _ error) {
		write(took, statement)
	}
	d.ExecLogFunc = func(_ context.Context, took time.Duration, statement string, _ sql.Result, _ error) {
		write(took, statement)
	}
}
