package logs_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crews/hearth/config"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/logs"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// lines is the output the logs are written to, safe to read while they are.
type lines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// decoded parses every line as JSON; a line that does not parse fails t.
func (l *lines) decoded(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		out = append(out, m)
	}
	return out
}

func request(t *testing.T, method, url, requestID string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	if requestID != "" {
		req.Header.Set(logs.HeaderRequestID, requestID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// stored waits (PocketBase writes its logs in batches, every 3 s) until a
// log entry with that message is in auxiliary.db.
func stored(t *testing.T, app core.App, message string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !isStored(t, app, message) {
		if time.Now().After(deadline) {
			t.Fatalf("no log entry %q stored", message)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func isStored(t *testing.T, app core.App, message string) bool {
	t.Helper()
	var n int
	err := app.AuxConcurrentDB().Select("COUNT(*)").From(core.LogsTableName).
		Where(dbx.HashExp{"message": message}).Row(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// loggedApp is a test app that keeps its logs (test apps keep none), with
// the logs of cfg.
func loggedApp(t *testing.T, cfg logs.Config) core.App {
	t.Helper()
	app := hearthtest.NewApp(t)
	app.Settings().Logs.MaxDays = config.DefaultLogRetentionDays
	logs.Register(app, cfg)
	return app
}

func find(entries []map[string]any, msg string) map[string]any {
	for _, e := range entries {
		if e["msg"] == msg {
			return e
		}
	}
	return nil
}

func TestJSONLinesAndWhatIsKept(t *testing.T) {
	out := &lines{}
	app := loggedApp(t, logs.Config{Format: logs.FormatJSON, Output: out, SlowRequest: time.Hour, Sample: func() bool { return false }})
	srv := hearthtest.Serve(t, app)

	// A fast success, a failure, and an application entry.
	ok := request(t, http.MethodGet, srv.URL+"/api/health", "proxy-id-42")
	if got := ok.Header.Get(logs.HeaderRequestID); got != "proxy-id-42" {
		t.Errorf("a proxy's request id came back as %q", got)
	}
	failed := request(t, http.MethodGet, srv.URL+"/api/collections/groups/records/nosuchgroup0000", "forged id; x=1")
	id := failed.Header.Get(logs.HeaderRequestID)
	if id == "" || strings.Contains(id, "forged") {
		t.Errorf("an invalid request id came back as %q", id)
	}
	app.Logger().Info("replica: restored data.db", "txid", 42)

	const failure = "GET /api/collections/groups/records/nosuchgroup0000"
	stored(t, app, failure)
	stored(t, app, "replica: restored data.db")
	if isStored(t, app, "GET /api/health") {
		t.Error("a fast successful request was stored although the sample said no")
	}

	entries := out.decoded(t)
	line := find(entries, failure)
	if line == nil {
		t.Fatalf("no line for the failed request in:\n%v", entries)
	}
	for key, want := range map[string]any{
		"method":    "GET",
		"route":     "/api/collections/{collection}/records/{id}",
		"status":    float64(http.StatusNotFound),
		"requestId": id,
		"type":      "request",
		"level":     "ERROR",
	} {
		if line[key] != want {
			t.Errorf("line[%q] = %v, want %v", key, line[key], want)
		}
	}
	if d, ok := line["execTime"].(float64); !ok || d < 0 {
		t.Errorf("execTime (the duration in ms) = %v", line["execTime"])
	}
	if ts, _ := line["time"].(string); ts == "" {
		t.Error("no time")
	} else if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		t.Errorf("time %q: %v", ts, err)
	}
	if app := find(entries, "replica: restored data.db"); app == nil || app["txid"] != float64(42) || app["level"] != "INFO" {
		t.Errorf("application line: %v", app)
	}
	if find(entries, "GET /api/health") != nil {
		t.Error("a dropped request was written to the output")
	}
}

func TestSlowOrSampledSuccessesAreKept(t *testing.T) {
	for name, cfg := range map[string]logs.Config{
		"in the sample":       {SlowRequest: time.Hour, Sample: func() bool { return true }},
		"slower than the bar": {SlowRequest: 0, Sample: func() bool { return false }},
	} {
		t.Run(name, func(t *testing.T) {
			app := loggedApp(t, cfg)
			srv := hearthtest.Serve(t, app)
			request(t, http.MethodGet, srv.URL+"/api/health", "")
			stored(t, app, "GET /api/health")
		})
	}
}

// HEARTH_LOG_RETENTION becomes PocketBase's log retention, which its
// cleanup job (every 6 hours) applies.
func TestRetentionPrunes(t *testing.T) {
	app := hearthtest.NewApp(t)
	logs.Register(app, logs.Config{})
	cfg, err := config.FromEnv(func(name string) string {
		if name == "HEARTH_LOG_RETENTION" {
			return "2d"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := config.ApplySettings(app, cfg.Settings); err != nil {
		t.Fatal(err)
	}
	if got := app.Settings().Logs.MaxDays; got != 2 {
		t.Fatalf("log retention = %d days, want 2", got)
	}
	for msg, age := range map[string]time.Duration{"three days old": 72 * time.Hour, "one day old": 24 * time.Hour} {
		entry := &core.Log{Message: msg, Data: types.JSONMap[any]{"type": "app"}}
		entry.Id = core.GenerateDefaultRandomId()
		entry.Created, _ = types.ParseDateTime(time.Now().Add(-age))
		if err := app.AuxSave(entry); err != nil {
			t.Fatal(err)
		}
	}
	ran := false
	for _, job := range app.Cron().Jobs() {
		if job.Id() == "__pbLogsCleanup__" {
			job.Run()
			ran = true
		}
	}
	if !ran {
		t.Fatal("PocketBase's log cleanup job is not scheduled")
	}
	if isStored(t, app, "three days old") {
		t.Error("an entry older than the retention survived the cleanup")
	}
	if !isStored(t, app, "one day old") {
		t.Error("an entry within the retention was removed")
	}
}
