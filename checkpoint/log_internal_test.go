package checkpoint

import (
	"bytes"
	"context"
	"database/sql"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"
	_ "modernc.org/sqlite"
)

// A checkpoint that fails is logged once, however often it fails again,
// and its recovery once.
func TestFailuresAreLoggedWhenTheyStartAndEnd(t *testing.T) {
	var out bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&out, nil))
	raw, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "data.db")+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	closed, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "gone.db"))
	if err != nil {
		t.Fatal(err)
	}
	closed.Close() // every query on it fails: "sql: database is closed"

	d := &database{name: "data.db", db: dbx.NewFromDB(closed, "sqlite")}
	for range 3 {
		d.checkpoint(context.Background(), logger)
	}
	d.db = dbx.NewFromDB(raw, "sqlite")
	for range 2 {
		d.checkpoint(context.Background(), logger)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "database is closed") ||
		!strings.Contains(lines[1], "level=INFO") || !strings.Contains(lines[1], "works again") {
		t.Fatalf("logged:\n%s\nwant one warning with the error, then one line for the recovery", out.String())
	}
}
