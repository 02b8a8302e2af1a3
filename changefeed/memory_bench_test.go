package changefeed_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthbin"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// BenchmarkFullSyncMemory measures the memory of the real hearth binary
// during a full sync (cursor 0, limit 500) of Erin, a member of a group of
// n messages: the growth of the server's peak RSS (VmHWM, reset through
// /proc/<pid>/clear_refs just before) over its RSS just before the sync
// (VmRSS), as the metric "peak-MB". Erin joins after the messages were
// posted (the sync reads them as her join's expansion) or before (as the
// log of the group); the sizes show whether memory follows the group or
// the page.
//
//	go test ./changefeed/ -run '^$' -bench FullSyncMemory -benchtime 1x -timeout 30m
//
// docs/benchmarks.md has the figures. It needs Linux's /proc.
func BenchmarkFullSyncMemory(b *testing.B) {
	bin, err := hearthbin.Build(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		messages int
		joined   string
	}{
		{10_000, "after"},
		{100_000, "after"},
		{100_000, "before"},
	} {
		b.Run(fmt.Sprintf("messages=%d/joined=%s", tc.messages, tc.joined), func(b *testing.B) {
			dir, group := memoryBenchData(b, tc.messages, tc.joined == "before")
			addr := hearthbin.FreeAddr(b)
			srv := hearthbin.Serve(b, bin, addr, map[string]string{
				"HEARTH_HTTP": addr, "HEARTH_DATA_DIR": dir, "HEARTH_RATE_LIMITS": "false",
			})
			token := signIn(b, srv.URL, hearthtest.Email(hearthtest.Erin))

			var peak float64
			for range b.N {
				before := resetPeak(b, srv.PID())
				pages, got := fullSync(b, srv.URL, token, group, 500)
				growth := float64(procStatus(b, srv.PID(), "VmHWM")-before) / 1024
				peak = max(peak, growth)
				if got != tc.messages {
					b.Fatalf("the sync brought %d messages in %d pages, want %d", got, pages, tc.messages)
				}
				b.ReportMetric(float64(pages), "pages")
			}
			b.ReportMetric(peak, "peak-MB")
		})
	}
}

// memoryBenchData returns a data dir holding the fixture world plus a
// group of Bob's with n messages; Erin joins it before or after they are
// posted. The messages and their log entries are written with set-based
// SQL, as the change log migration's backfill writes them; the group and
// the memberships through app.Save, whose hooks log them.
func memoryBenchData(b *testing.B, n int, joinFirst bool) (dir, group string) {
	app := hearthtest.NewApp(b)
	g := hearthtest.Save(b, app, collections.Groups, "", map[string]any{"name": "Big", "created_by": hearthtest.Bob})
	join := func() {
		if _, err := collections.AddMember(app, g.Id, hearthtest.Erin, collections.RoleMember); err != nil {
			b.Fatal(err)
		}
	}
	if joinFirst {
		join()
	}
	params := dbx.Params{"n": n, "group": g.Id, "author": hearthtest.Bob, "ts": "2026-01-01 00:00:00.000Z", "at": time.Now().UnixMilli()}
	err := app.RunInTransaction(func(tx core.App) error {
		for _, stmt := range []string{
			`WITH RECURSIVE i(n) AS (SELECT 0 UNION ALL SELECT n+1 FROM i WHERE n+1 < {:n})
			INSERT INTO messages (id, "group", author, body, attachments, created, updated)
			SELECT printf('m%014d', n), {:group}, {:author}, 'Message ' || n || ': who brings the rope, the chalk and the snacks?', '[]', {:ts}, {:ts} FROM i`,
			`INSERT INTO _hearth_changes (at, collection, record, op, groups, member)
			SELECT {:at}, 'messages', id, 'create', "group", '' FROM messages WHERE "group" = {:group} ORDER BY rowid`,
		} {
			if _, err := tx.DB().NewQuery(stmt).Bind(params).Execute(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if !joinFirst {
		join()
	}
	for _, q := range []string{"ANALYZE", "PRAGMA wal_checkpoint(TRUNCATE)"} {
		if _, err := app.DB().NewQuery(q).Execute(); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := app.AuxDB().NewQuery("PRAGMA wal_checkpoint(TRUNCATE)").Execute(); err != nil {
		b.Fatal(err)
	}
	dir = b.TempDir()
	for _, name := range []string{"data.db", "auxiliary.db"} {
		if err := copyFile(filepath.Join(app.DataDir(), name), filepath.Join(dir, name)); err != nil {
			b.Fatal(err)
		}
	}
	return dir, g.Id
}

func signIn(b *testing.B, base, email string) string {
	body := fmt.Sprintf(`{"identity":%q,"password":%q}`, email, hearthtest.Password)
	res, err := http.Post(base+"/api/collections/users/auth-with-password", "application/json", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var auth struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&auth); err != nil || auth.Token == "" {
		b.Fatalf("sign in %s: %d %v", email, res.StatusCode, err)
	}
	return auth.Token
}

// fullSync pages from cursor 0 to the end, as a client would, and returns
// the pages and the messages of group upserted.
func fullSync(b *testing.B, base, token, group string, limit int) (pages, messages int) {
	cursor := "0"
	for {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/sync?cursor=%s&limit=%d", base, url.QueryEscape(cursor), limit), nil)
		req.Header.Set("Authorization", token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		p := &page{}
		err = json.NewDecoder(res.Body).Decode(p)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("sync: %d %v", res.StatusCode, err)
		}
		pages++
		for _, c := range p.Changes {
			if c.Collection == collections.Messages && c.Op == "upsert" && c.Record["group"] == group {
				messages++
			}
		}
		cursor = p.Cursor
		if !p.More {
			return pages, messages
		}
	}
}

// resetPeak makes VmHWM start again from the current RSS and returns that
// RSS, in kB.
func resetPeak(b *testing.B, pid int) int64 {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		b.Fatalf("reset the peak RSS: %v", err)
	}
	return procStatus(b, pid, "VmRSS")
}

// procStatus returns a kB field of /proc/<pid>/status.
func procStatus(b *testing.B, pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
