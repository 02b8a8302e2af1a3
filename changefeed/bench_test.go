package changefeed_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/crews"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
)

// BenchmarkSync1000Changes measures one sync of 1,000 changes (creates,
// edits and deletions of messages, a tenth of them in a group the caller
// is not in) from a database of 10,000 and of 1,000,000 records. The cost
// must follow the changes, not the tables: see docs/benchmarks.md.
//
//	go test ./changefeed/ -run '^$' -bench Sync1000Changes -benchtime 20x
//
// The databases are built once with raw SQL and cached in the temp dir
// (hearth-sync-bench-*); delete them to rebuild.
func BenchmarkSync1000Changes(b *testing.B) {
	for _, records := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("records=%d", records), func(b *testing.B) {
			app := benchApp(b, records)
			cursor := head(b, app)
			applyBenchChanges(b, app, records)

			mux := benchMux(b, app)
			token := hearthtest.Token(b, app, hearthtest.Alice)
			url := "/api/sync?limit=1000&cursor=" + changefeed.SealCursor(app, changefeed.Cursor{Seq: cursor})
			sync := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodGet, url, nil)
				req.Header.Set("Authorization", token)
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				return rec
			}
			first := sync()
			p := &page{}
			if first.Code != http.StatusOK {
				b.Fatalf("sync: %d %s", first.Code, first.Body)
			}
			if err := decode(first.Body, p); err != nil {
				b.Fatal(err)
			}
			if p.More || len(p.Changes) != benchVisible {
				b.Fatalf("sync returned %d changes (more %v), want %d in one page", len(p.Changes), p.More, benchVisible)
			}

			b.ResetTimer()
			for range b.N {
				if rec := sync(); rec.Code != http.StatusOK {
					b.Fatalf("sync: %d", rec.Code)
				}
			}
		})
	}
}

// The changes: in the caller's group 400 new messages, 300 edits and 200
// deletions; 100 new messages elsewhere. Each of the first 900 is one
// visible change (an upsert or a tombstone).
const benchVisible = 900

func applyBenchChanges(b *testing.B, app core.App, records int) {
	b.Helper()
	col, err := app.FindCollectionByNameOrId(collections.Messages)
	if err != nil {
		b.Fatal(err)
	}
	newMessage := func(group string, i int) {
		m := core.NewRecord(col)
		m.Load(map[string]any{"group": group, "author": hearthtest.Alice, "body": fmt.Sprintf("new %d", i)})
		if err := app.Save(m); err != nil {
			b.Fatal(err)
		}
	}
	for i := range 400 {
		newMessage(benchID("g", 0), i)
	}
	// Old messages of group 0 are those whose number is a multiple of the
	// group count.
	groups := benchGroups(records)
	for i := range 500 {
		m, err := app.FindRecordById(col, benchID("m", i*groups))
		if err != nil {
			b.Fatal(err)
		}
		if i < 300 {
			m.Set("body", "edited")
			err = app.Save(m)
		} else {
			err = app.Delete(m)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := range 100 {
		newMessage(benchID("g", 1), i)
	}
}

func benchMux(b *testing.B, app *tests.TestApp) http.Handler {
	return hearthtest.Handler(b, app)
}

func benchID(prefix string, n int) string { return fmt.Sprintf("%s%014d", prefix, n) }

// benchGroups is the number of groups in a bench database of n records:
// a thousand records per group.
func benchGroups(n int) int { return max(n/1000, 2) }

// benchApp returns a test app over a database of about n records,
// building it (or reusing the copy cached in the temp dir).
func benchApp(b *testing.B, n int) *tests.TestApp {
	b.Helper()
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("hearth-sync-bench-v1-%d", n))
	if _, err := os.Stat(filepath.Join(dir, "data.db")); err != nil {
		start := time.Now()
		if err := buildBenchDB(b, dir, n); err != nil {
			os.RemoveAll(dir)
			b.Fatal(err)
		}
		b.Logf("built the %d-record database in %s", n, time.Since(start).Round(time.Millisecond))
	}
	app, err := tests.NewTestApp(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(app.Cleanup)
	crews.Register(app, crews.Config{})
	return app
}

// buildBenchDB fills a fixture-world app with n records (messages mostly,
// with n/100 users, each a member of one of n/1000 groups; Alice is in
// group 0) and their log entries, in one transaction of set-based INSERTs,
// then copies its data dir to dir.
func buildBenchDB(b *testing.B, dir string, n int) error {
	app := hearthtest.NewApp(b)
	groups := benchGroups(n)
	users := n / 100
	messages := n - groups - 2*users
	ts := "2026-01-01 00:00:00.000Z"
	params := dbx.Params{"groups": groups, "users": users, "messages": messages, "ts": ts, "at": time.Now().UnixMilli()}
	stmts := []string{
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < {:groups})
		INSERT INTO groups (id, name, description, cover, created_by, created, updated)
		SELECT printf('g%014d', i), 'Group ' || i, '', '', {:alice}, {:ts}, {:ts} FROM n`,
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < {:users})
		INSERT INTO users (id, email, emailVisibility, verified, password, tokenKey, name, avatar, created, updated)
		SELECT printf('u%014d', i), printf('u%014d@bench.test', i), 0, 1, 'x', printf('k%014d', i), 'User ' || i, '', {:ts}, {:ts} FROM n`,
		`INSERT INTO memberships (id, "group", user, role, created, updated)
		SELECT printf('s%014d', rowid), printf('g%014d', CAST(substr(id, 2) AS INTEGER) % {:groups}), id, 'member', {:ts}, {:ts}
		FROM users WHERE id LIKE 'u%'`,
		`INSERT INTO memberships (id, "group", user, role, created, updated)
		VALUES ('alicebenchmemb', 'g00000000000000', {:alice}, 'member', {:ts}, {:ts})`,
		`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i+1 FROM n WHERE i+1 < {:messages})
		INSERT INTO messages (id, "group", author, body, attachments, created, updated)
		SELECT printf('m%014d', i), printf('g%014d', i % {:groups}), printf('u%014d', i % {:users}), 'Message ' || i, '[]', {:ts}, {:ts} FROM n`,
		`INSERT INTO _hearth_changes (at, collection, record, op, groups, member)
		SELECT {:at}, 'groups', id, 'create', id, '' FROM groups WHERE id LIKE 'g%' ORDER BY rowid`,
		`INSERT INTO _hearth_changes (at, collection, record, op, groups, member)
		SELECT {:at}, 'users', u.id, 'create', m."group", '' FROM users u JOIN memberships m ON m.user = u.id WHERE u.id LIKE 'u%' ORDER BY u.rowid`,
		`INSERT INTO _hearth_changes (at, collection, record, op, groups, member)
		SELECT {:at}, 'memberships', id, 'create', "group", user FROM memberships WHERE id LIKE 's%' OR id = 'alicebenchmemb' ORDER BY rowid`,
		`INSERT INTO _hearth_changes (at, collection, record, op, groups, member)
		SELECT {:at}, 'messages', id, 'create', "group", '' FROM messages WHERE id LIKE 'm%' ORDER BY rowid`,
	}
	params["alice"] = hearthtest.Alice
	err := app.RunInTransaction(func(tx core.App) error {
		for _, s := range stmts {
			if _, err := tx.DB().NewQuery(s).Bind(params).Execute(); err != nil {
				return fmt.Errorf("%s: %w", s[:60], err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, q := range []string{"ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)"} {
		if _, err := app.DB().NewQuery(q).Execute(); err != nil {
			return err
		}
	}
	if _, err := app.AuxDB().NewQuery("PRAGMA wal_checkpoint(TRUNCATE)").Execute(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"auxiliary.db", "data.db"} {
		if err := copyFile(filepath.Join(app.DataDir(), name), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to + ".tmp")
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	if err := dst.Close(); err != nil {
		return err
	}
	return os.Rename(to+".tmp", to)
}
