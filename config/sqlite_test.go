package config_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/crews/hearth/config"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// TestSQLitePragmas: Hearth's connections are PocketBase's in every
// pragma but the cache size and the checkpoint threshold, so that a
// PocketBase upgrade that changes its pragmas fails here instead of being
// silently dropped.
func TestSQLitePragmas(t *testing.T) {
	pragmas := func(open func(string) (*dbx.DB, error)) map[string]string {
		db, err := open(filepath.Join(t.TempDir(), "data.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		out := map[string]string{}
		for _, p := range []string{"busy_timeout", "journal_mode", "journal_size_limit", "synchronous", "foreign_keys", "temp_store", "cache_size", "trusted_schema", "wal_autocheckpoint"} {
			var v string
			if err := db.NewQuery("PRAGMA " + p).Row(&v); err != nil {
				t.Fatalf("PRAGMA %s: %v", p, err)
			}
			out[p] = v
		}
		return out
	}
	ours, theirs := pragmas(config.DBConnect), pragmas(core.DefaultDBConnect)
	if ours["cache_size"] != "-8000" {
		t.Errorf("cache_size %s, want -%d", ours["cache_size"], config.SQLiteCacheKiB)
	}
	// Never 0: nothing but a commit bounds the log when no background
	// checkpoint completes (package checkpoint's never do under a steady
	// write load).
	if ours["wal_autocheckpoint"] != fmt.Sprint(config.WALAutocheckpoint) || config.WALAutocheckpoint <= 0 {
		t.Errorf("wal_autocheckpoint %s, want %d", ours["wal_autocheckpoint"], config.WALAutocheckpoint)
	}
	for _, p := range []string{"cache_size", "wal_autocheckpoint"} {
		delete(ours, p)
		delete(theirs, p)
	}
	for p, v := range theirs {
		if ours[p] != v {
			t.Errorf("PRAGMA %s: Hearth %s, PocketBase %s", p, ours[p], v)
		}
	}
	if cfg := (config.Config{}).PocketBase(); cfg.DBConnect == nil {
		t.Error("PocketBase() does not open databases with DBConnect")
	}
}
