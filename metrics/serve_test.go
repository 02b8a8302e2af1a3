package metrics_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/internal/hearthbin"
	"github.com/crews/hearth/metrics"
)

var bin string

func TestMain(m *testing.M) { hearthbin.Main(m, &bin) }

// The real binary, with replication on (a file replica): every family is
// served on HEARTH_METRICS_ADDR and nowhere else.
func TestServedOnTheirOwnAddressOnly(t *testing.T) {
	addr, metricsAddr := hearthbin.FreeAddr(t), hearthbin.FreeAddr(t)
	srv := hearthbin.Serve(t, bin, addr, map[string]string{
		"HEARTH_HTTP":               addr,
		"HEARTH_DATA_DIR":           t.TempDir(),
		"HEARTH_METRICS_ADDR":       metricsAddr,
		"HEARTH_REPLICA_URL":        "file://" + t.TempDir(),
		"HEARTH_SUPERUSER_EMAIL":    "root@hearth.test",
		"HEARTH_SUPERUSER_PASSWORD": "root-password-1",
	})
	scrapeURL := "http://" + metricsAddr + metrics.Path

	if got := get(t, srv.URL+metrics.Path, ""); got != http.StatusNotFound {
		t.Errorf("GET %s on the public address: %d, want 404", metrics.Path, got)
	}
	if got := get(t, "http://"+metricsAddr+"/api/health", ""); got != http.StatusNotFound {
		t.Errorf("the metrics address serves the API: GET /api/health %d", got)
	}

	before := scrape(t, scrapeURL)
	for _, name := range append(appFamilies,
		"hearth_replica_txid", "hearth_replica_replicated_txid", "hearth_replica_lag_seconds",
		"hearth_replica_last_sync_timestamp_seconds",
		"hearth_replica_failing_since_timestamp_seconds", "hearth_replica_errors_total", "hearth_replica_detached",
		"hearth_replica_detached_checkpoints_total", "hearth_replica_local_bytes", "hearth_replica_local_max_bytes",
		"hearth_replica_local_dropped_total", "hearth_storage_disk_full", "hearth_storage_disk_full_writes_total") {
		if _, ok := before[name]; !ok {
			t.Errorf("family %s missing", name)
		}
	}

	for range 4 {
		get(t, srv.URL+"/api/health", "")
	}
	// The daily optimisation, run on demand: its checkpoint of data.db is
	// made by replication.
	token := superuserToken(t, srv.URL)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/crons/__pbDBOptimize__", nil)
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("run the optimisation: status %d", res.StatusCode)
	}

	// The cron API answers before the job is done.
	deadline := time.Now().Add(30 * time.Second)
	var after = scrape(t, scrapeURL)
	for value(t, after, "hearth_sqlite_checkpoints_total", "mode", "PASSIVE") <= value(t, before, "hearth_sqlite_checkpoints_total", "mode", "PASSIVE") {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint of data.db after the optimisation")
		}
		time.Sleep(50 * time.Millisecond)
		after = scrape(t, scrapeURL)
	}
	if _, ok := after["hearth_sqlite_checkpoint_seconds_total"]; !ok {
		t.Error("family hearth_sqlite_checkpoint_seconds_total missing")
	}
	health := []string{"route", "/api/health", "method", "GET", "status", "200"}
	if got := value(t, after, "hearth_http_requests_total", health...) - value(t, before, "hearth_http_requests_total", health...); got != 4 {
		t.Errorf("hearth_http_requests_total{/api/health} moved by %v, want 4", got)
	}
	if got := value(t, after, "hearth_http_requests_total", "route", "/api/crons/{id}", "status", "204"); got != 1 {
		t.Errorf("the cron request counted %v times", got)
	}
	if strings.Contains(srv.Output(), "Failed to write log") {
		t.Errorf("log entries were lost:\n%s", srv.Output())
	}
}

func superuserToken(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Post(url+"/api/collections/_superusers/auth-with-password", "application/json",
		strings.NewReader(`{"identity":"root@hearth.test","password":"root-password-1"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var auth struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&auth); err != nil || auth.Token == "" {
		t.Fatalf("superuser sign-in: %d, %v", res.StatusCode, err)
	}
	return auth.Token
}
