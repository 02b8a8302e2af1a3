package diskfull_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/pocketbase/pocketbase/tools/router"
	_ "modernc.org/sqlite"

	"github.com/crews/hearth/diskfull"
)

// sqliteFullError makes SQLite refuse a write for want of space, the way a
// full disk does (SQLITE_FULL), on a database whose page count is capped.
func sqliteFullError(t *testing.T) error {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, q := range []string{"CREATE TABLE t (x BLOB)", "PRAGMA max_page_count = 8"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for range 100 {
		if _, err := db.Exec("INSERT INTO t VALUES (randomblob(4000))"); err != nil {
			return err
		}
	}
	t.Fatal("SQLite never refused a write on a capped database")
	return nil
}

func TestIsDiskFull(t *testing.T) {
	full := sqliteFullError(t)
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"SQLite's error", full, true},
		{"wrapped", fmt.Errorf("create group: %w", full), true},
		// PocketBase's record handlers answer a failed save with a 400 made
		// from the error.
		{"in PocketBase's 400", router.NewBadRequestError("Failed to create record.", fmt.Errorf("tx: %w", full)), true},
		{"another error", errors.New("UNIQUE constraint failed: groups.name"), false},
		{"another 400", router.NewBadRequestError("Failed to create record.", errors.New("validation")), false},
		{"nil", nil, false},
	} {
		if got := diskfull.IsDiskFull(tc.err); got != tc.want {
			t.Errorf("%s: IsDiskFull(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
