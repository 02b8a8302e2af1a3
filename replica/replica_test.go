package replica_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crews/hearth/internal/hearthbin"
	"github.com/crews/hearth/internal/s3test"
	_ "modernc.org/sqlite"
)

// These tests run the real binary against a real S3 server (versitygw):
// what they check (a process killed mid-write, a restore into an empty
// data dir) only exists across processes.

var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hearth_replica_test_")
	if err != nil {
		log.Fatal(err)
	}
	code := 1
	if bin, err = hearthbin.Build(dir); err != nil {
		log.Print(err)
	} else if err = s3test.Build(dir); err != nil {
		log.Print(err)
	} else {
		code = m.Run()
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	bucket        = "replica"
	superuser     = "root@hearth.test"
	superuserPass = "root-password-1"
	syncInterval  = time.Second
)

// replicaEnv is a server's environment: replication to the bucket of s3,
// rate limits off (the writers are fast), a superuser for the health answer.
func replicaEnv(s3 *s3test.Server, addr, dir string) map[string]string {
	env := s3.Env()
	env["HEARTH_HTTP"] = addr
	env["HEARTH_DATA_DIR"] = dir
	env["HEARTH_REPLICA_URL"] = "s3://" + bucket + "/hearth"
	env["HEARTH_REPLICA_SYNC_INTERVAL"] = syncInterval.String()
	env["HEARTH_RATE_LIMITS"] = "false"
	env["HEARTH_SUPERUSER_EMAIL"] = superuser
	env["HEARTH_SUPERUSER_PASSWORD"] = superuserPass
	return env
}

func serve(t *testing.T, env map[string]string) *hearthbin.Server {
	t.Helper()
	return hearthbin.Serve(t, bin, env["HEARTH_HTTP"], env)
}

// restoreInto runs `hearth restore` into dir and fails the test unless it
// succeeds.
func restoreInto(t *testing.T, env map[string]string, dir string, args ...string) string {
	t.Helper()
	res := hearthbin.Run(t, bin, env, append([]string{"restore", "--dir", dir}, args...)...)
	if res.ExitCode != 0 {
		t.Fatalf("hearth restore: exit %d\n%s", res.ExitCode, res.Output)
	}
	return res.Output
}

func TestCleanShutdownShipsEveryWrite(t *testing.T) {
	s3 := s3test.Start(t, bucket)
	dir := t.TempDir()
	env := replicaEnv(s3, hearthbin.FreeAddr(t), dir)
	srv := serve(t, env)
	if !strings.Contains(srv.Output(), "starting with a new database") {
		t.Errorf("first start on an empty bucket does not say it starts empty:\n%s", srv.Output())
	}
	c := newClient(t, srv.URL)
	var ids []string
	for i := range 20 {
		ids = append(ids, c.createGroup(t, fmt.Sprintf("group %d", i)))
	}

	// The health answer shows the replica to a superuser, and only to one.
	health := c.health(t, "")
	if _, ok := health["replica"]; ok {
		t.Errorf("anonymous health answer shows the replica: %v", health)
	}
	health = c.health(t, c.superuserToken(t))
	st, ok := health["replica"].(map[string]any)
	if !ok || st["url"] != "s3://"+bucket+"/hearth" || st["txid"].(float64) < 1 {
		t.Fatalf("superuser health answer: %v", health)
	}
	for _, key := range []string{"replicaTxid", "lagSeconds"} {
		if _, ok := st[key].(float64); !ok {
			t.Errorf("health replica.%s = %v", key, st[key])
		}
	}

	// Stopped right after the last write, within the sync interval: only
	// the final flush can have shipped it.
	srv.Stop()
	restored := t.TempDir()
	out := restoreInto(t, env, restored)
	if !strings.Contains(out, "restored "+filepath.Join(restored, "data.db")) {
		t.Errorf("restore output: %s", out)
	}
	want, got := readTables(t, filepath.Join(dir, "data.db")), readTables(t, filepath.Join(restored, "data.db"))
	if len(want) == 0 {
		t.Fatal("no tables read from the original")
	}
	for table, rows := range want {
		if diff := compareRows(rows, got[table]); diff != "" {
			t.Errorf("table %s differs after a clean shutdown: %s", table, diff)
		}
	}

	// A server on an empty data dir restores the replica before it serves.
	again := t.TempDir()
	env2 := replicaEnv(s3, hearthbin.FreeAddr(t), again)
	srv2 := serve(t, env2)
	if !strings.Contains(srv2.Output(), "restored data.db") {
		t.Errorf("start on an empty data dir does not report a restore:\n%s", srv2.Output())
	}
	c2 := signIn(t, srv2.URL)
	for _, id := range ids {
		c2.getGroup(t, id)
	}
}

func TestKillLosesOnlyTheLastSyncInterval(t *testing.T) {
	s3 := s3test.Start(t, bucket)
	dir := t.TempDir()
	env := replicaEnv(s3, hearthbin.FreeAddr(t), dir)
	srv := serve(t, env)
	c := newClient(t, srv.URL)

	// Writers create groups until the server dies; each acknowledged
	// write is noted with the time its answer arrived.
	type ack struct {
		at time.Time
		id string
	}
	var (
		mu   sync.Mutex
		acks []ack
		wg   sync.WaitGroup
	)
	stop := make(chan struct{})
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id, err := c.tryCreateGroup(fmt.Sprintf("writer %d #%d", w, i))
				if err != nil {
					continue
				}
				mu.Lock()
				acks = append(acks, ack{time.Now(), id})
				mu.Unlock()
			}
		}()
	}
	started := time.Now()
	for {
		mu.Lock()
		n := len(acks)
		mu.Unlock()
		if n >= 200 && time.Since(started) > 4*syncInterval {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	killed := time.Now()
	srv.Kill()
	close(stop)
	wg.Wait()

	restored := t.TempDir()
	restoreInto(t, env, restored)
	original, got := readTables(t, filepath.Join(dir, "data.db")), readTables(t, filepath.Join(restored, "data.db"))

	// Every restored row is a row of the original, as it was.
	for table, rows := range got {
		for rowid, row := range rows {
			if orig, ok := original[table][rowid]; !ok || orig != row {
				t.Errorf("%s row %s restored as %s, original %q", table, rowid, row, orig)
			}
		}
	}
	// Every write acknowledged before the loss window is there.
	window := syncInterval + time.Second
	groups := idsOf(t, filepath.Join(restored, "data.db"), "SELECT id FROM groups")
	old, recent, recentKept := 0, 0, 0
	for _, a := range acks {
		if a.at.Before(killed.Add(-window)) {
			old++
			if !groups[a.id] {
				t.Errorf("group %s, acknowledged %v before the kill, is not in the replica", a.id, killed.Sub(a.at))
			}
			continue
		}
		recent++
		if groups[a.id] {
			recentKept++
		}
	}
	if old == 0 {
		t.Fatal("no write was acknowledged before the loss window; the test proves nothing")
	}
	t.Logf("%d writes acknowledged more than %v before the kill, all restored; %d in the last %v, %d of them restored",
		old, window, recent, window, recentKept)

	// Nothing is half-applied: a group and its owner's membership and its
	// change log entry are one transaction.
	db := openDB(t, filepath.Join(restored, "data.db"))
	for _, q := range []string{
		`SELECT COUNT(*) FROM groups g WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m."group" = g.id AND m.role = 'owner')`,
		`SELECT COUNT(*) FROM groups g WHERE NOT EXISTS (SELECT 1 FROM _hearth_changes c WHERE c.collection = 'groups' AND c.record = g.id)`,
		`SELECT COUNT(*) FROM memberships m WHERE NOT EXISTS (SELECT 1 FROM groups g WHERE g.id = m."group")`,
	} {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s: %d, %v", q, n, err)
		}
	}
}

func TestPointInTimeRestore(t *testing.T) {
	s3 := s3test.Start(t, bucket)
	dir := t.TempDir()
	env := replicaEnv(s3, hearthbin.FreeAddr(t), dir)
	srv := serve(t, env)
	c := newClient(t, srv.URL)
	su := c.superuserToken(t)

	txid := func() (local, replicated float64) {
		st := c.health(t, su)["replica"].(map[string]any)
		return st["txid"].(float64), st["replicaTxid"].(float64)
	}
	start, _ := txid()
	before := c.createGroup(t, "before")
	// Once replication has taken the first group in and the replica holds
	// it, the time is noted; the second group is written after it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		local, replicated := txid()
		if local > start && replicated >= local {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica never caught up: txid %v, replica %v", local, replicated)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// LTX timestamps have millisecond precision.
	time.Sleep(10 * time.Millisecond)
	at := time.Now().UTC()
	time.Sleep(10 * time.Millisecond)
	after := c.createGroup(t, "after")
	srv.Stop()

	restored := t.TempDir()
	restoreInto(t, env, restored, "--timestamp", at.Format(time.RFC3339Nano))
	groups := idsOf(t, filepath.Join(restored, "data.db"), "SELECT id FROM groups")
	if !groups[before] || groups[after] {
		t.Fatalf("restore at %v: group before the time present %v (want true), after it present %v (want false)", at, groups[before], groups[after])
	}

	latest := t.TempDir()
	restoreInto(t, env, latest)
	if groups := idsOf(t, filepath.Join(latest, "data.db"), "SELECT id FROM groups"); !groups[after] {
		t.Fatal("the latest restore lacks the last group")
	}

	// A data dir that has a data.db is never overwritten.
	res := hearthbin.Run(t, bin, env, "restore", "--dir", latest)
	if res.ExitCode == 0 || !strings.Contains(res.Output, "exists") {
		t.Fatalf("restore over an existing data.db: exit %d\n%s", res.ExitCode, res.Output)
	}
}

// Restoring a PocketBase backup replaces data.db and restarts the server;
// the replica then follows the restored database.
func TestBackupRestoreWhileReplicating(t *testing.T) {
	s3 := s3test.Start(t, bucket)
	dir := t.TempDir()
	env := replicaEnv(s3, hearthbin.FreeAddr(t), dir)
	srv := serve(t, env)
	c := newClient(t, srv.URL)
	su := c.superuserToken(t)

	kept := c.createGroup(t, "in the backup")
	c.do(t, http.MethodPost, "/api/backups", su, `{"name":"before.zip"}`, nil)
	undone := c.createGroup(t, "after the backup")
	c.do(t, http.MethodPost, "/api/backups/before.zip/restore", su, "", nil)

	// PocketBase restores in the background and re-executes itself (same
	// process); the restored database no longer has the second group.
	deadline := time.Now().Add(60 * time.Second)
	for {
		time.Sleep(200 * time.Millisecond)
		err := c.request(http.MethodGet, "/api/collections/groups/records/"+undone, c.token, "", nil)
		if err != nil && strings.Contains(err.Error(), ": 404 ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the backup was not restored: %v\n%s", err, srv.Output())
		}
	}
	// Stopped at once: the restarted server's first writes are shipped by
	// its final flush, even before replication has taken anything in.
	after := c.createGroup(t, "after the restore")
	srv.Stop()

	restored := t.TempDir()
	restoreInto(t, env, restored)
	groups := idsOf(t, filepath.Join(restored, "data.db"), "SELECT id FROM groups")
	if !groups[kept] || groups[undone] || !groups[after] {
		t.Fatalf("replica after a backup restore: kept %v (want true), undone %v (want false), written after %v (want true)",
			groups[kept], groups[undone], groups[after])
	}
}

// A replica that cannot be read stops the start, before any data.db exists:
// starting empty would put a new database in front of the replica's.
func TestUnreachableReplicaStopsTheStart(t *testing.T) {
	s3 := s3test.Start(t, bucket)
	dir := t.TempDir()
	env := replicaEnv(s3, hearthbin.FreeAddr(t), dir)
	env["HEARTH_S3_ENDPOINT"] = "http://" + hearthbin.FreeAddr(t) // nothing listens
	res := hearthbin.Run(t, bin, env, "serve")
	if res.ExitCode == 0 || !strings.Contains(res.Output, "HEARTH_RESTORE_ON_START=false") {
		t.Fatalf("serve with an unreachable replica: exit %d\n%s", res.ExitCode, res.Output)
	}
	if _, err := os.Stat(filepath.Join(dir, "data.db")); !os.IsNotExist(err) {
		t.Fatalf("data.db was created (stat: %v)", err)
	}

	// Turning the restore off starts empty; replication then fails on its
	// own, without stopping the server.
	env["HEARTH_RESTORE_ON_START"] = "false"
	srv := serve(t, env)
	srv.Stop()
}

// --- helpers -----------------------------------------------------------------

type client struct {
	url   string
	token string
	http  *http.Client
}

// newClient signs up a user and signs it in.
func newClient(t *testing.T, url string) *client {
	t.Helper()
	c := &client{url: url, http: &http.Client{Timeout: 30 * time.Second}}
	body := `{"email":"writer@hearth.test","password":"writer-password-1","passwordConfirm":"writer-password-1","name":"Writer"}`
	c.do(t, http.MethodPost, "/api/collections/users/records", "", body, nil)
	return signIn(t, url)
}

// signIn signs in the user newClient signed up.
func signIn(t *testing.T, url string) *client {
	t.Helper()
	c := &client{url: url, http: &http.Client{Timeout: 30 * time.Second}}
	var auth struct{ Token string }
	c.do(t, http.MethodPost, "/api/collections/users/auth-with-password", "",
		`{"identity":"writer@hearth.test","password":"writer-password-1"}`, &auth)
	c.token = auth.Token
	return c
}

func (c *client) superuserToken(t *testing.T) string {
	t.Helper()
	var auth struct{ Token string }
	c.do(t, http.MethodPost, "/api/collections/_superusers/auth-with-password", "",
		fmt.Sprintf(`{"identity":%q,"password":%q}`, superuser, superuserPass), &auth)
	return auth.Token
}

func (c *client) createGroup(t *testing.T, name string) string {
	t.Helper()
	id, err := c.tryCreateGroup(name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (c *client) tryCreateGroup(name string) (string, error) {
	var g struct{ ID string }
	err := c.request(http.MethodPost, "/api/collections/groups/records", c.token, fmt.Sprintf(`{"name":%q}`, name), &g)
	return g.ID, err
}

func (c *client) getGroup(t *testing.T, id string) {
	t.Helper()
	c.do(t, http.MethodGet, "/api/collections/groups/records/"+id, c.token, "", nil)
}

func (c *client) health(t *testing.T, token string) map[string]any {
	t.Helper()
	var h struct{ Data map[string]any }
	c.do(t, http.MethodGet, "/api/health", token, "", &h)
	return h.Data
}

func (c *client) do(t *testing.T, method, path, token, body string, out any) {
	t.Helper()
	if err := c.request(method, path, token, body, out); err != nil {
		t.Fatal(err)
	}
}

func (c *client) request(method, path, token, body string, out any) error {
	req, err := http.NewRequestWithContext(context.Background(), method, c.url+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, buf.String())
	}
	if out != nil {
		return json.Unmarshal(buf.Bytes(), out)
	}
	return nil
}

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// readTables reads every row of every table of the database at path,
// keyed by table and row key (the rowid, or for a WITHOUT ROWID table its
// primary key), each row printed as a string. Litestream's own
// bookkeeping tables are left out.
func readTables(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	db := openDB(t, path)
	rows, err := db.Query(`SELECT name, sql LIKE '%WITHOUT ROWID%' FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_litestream_%'`)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{} // table -> its row key expression
	for rows.Next() {
		var name string
		var withoutRowid bool
		if err := rows.Scan(&name, &withoutRowid); err != nil {
			t.Fatal(err)
		}
		keys[name] = "rowid"
		if withoutRowid {
			keys[name] = ""
		}
	}
	rows.Close()
	for table, key := range keys {
		if key != "" {
			continue
		}
		var pk []string
		if err := readColumn(db, `SELECT 'quote(' || name || ')' FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk`, &pk, table); err != nil || len(pk) == 0 {
			t.Fatalf("primary key of %s: %v", table, err)
		}
		keys[table] = strings.Join(pk, " || ',' || ")
	}

	out := map[string]map[string]string{}
	for table, key := range keys {
		rows, err := db.Query(fmt.Sprintf(`SELECT %s, * FROM %q`, key, table))
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		out[table] = map[string]string{}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			out[table][fmt.Sprintf("%v", vals[0])] = fmt.Sprintf("%v", vals[1:])
		}
		rows.Close()
	}
	return out
}

// readColumn reads the one-column answer of query into out.
func readColumn(db *sql.DB, query string, out *[]string, args ...any) error {
	rows, err := db.Query(query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return err
		}
		*out = append(*out, v)
	}
	return rows.Err()
}

// compareRows describes how got differs from want ("" when equal).
func compareRows(want, got map[string]string) string {
	var diffs []string
	for rowid, row := range want {
		if got[rowid] != row {
			diffs = append(diffs, fmt.Sprintf("row %s: want %s, got %q", rowid, row, got[rowid]))
		}
	}
	for rowid := range got {
		if _, ok := want[rowid]; !ok {
			diffs = append(diffs, fmt.Sprintf("row %s: not in the original", rowid))
		}
	}
	slices.Sort(diffs)
	return strings.Join(diffs, "; ")
}

func idsOf(t *testing.T, path, query string) map[string]bool {
	t.Helper()
	rows, err := openDB(t, path).Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	return ids
}
