package config_test

import (
	"path/filepath"
	"testing"

	"github.com/crews/hearth/config"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// TestSQLitePragmas: Hearth's connections are PocketBase's in every
// pragma but the cache size, so that a PocketBase upgrade that changes its
// pragmas fails here instead of being silently dropped.
func TestSQLitePragmas(t *testing.T) {
	pragmas := func(open func(string) (*dbx.DB, error)) map[string]string {
		db, err := open(filepath.Join(t.TempDir(), "data.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		out := map[string]string{}
		for _, p := range []string{"busy_timeout", "journal_mode", "journal_size_limit", "synchronous", "foreign_keys", "temp_store", "cache_size", "trusted_schema"} {
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
	delete(ours, "cache_size")
	delete(theirs, "cache_size")
	for p, v := range theirs {
		if ours[p] != v {
			t.Errorf("PRAGMA %s: Hearth %s, PocketBase %s", p, ours[p], v)
		}
	}
	if cfg := (config.Config{}).PocketBase(); cfg.DBConnect == nil {
		t.Error("PocketBase() does not open databases with DBConnect")
	}
}
