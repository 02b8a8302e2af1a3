package metrics_test

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/metrics"
	"github.com/crews/hearth/push"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape GETs url and parses the answer with Prometheus's own text parser.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", url, res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET %s: Content-Type %q, want the text format", url, ct)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("the scrape does not parse: %v", err)
	}
	return families
}

// value is the value of the series of family f whose labels include want
// (pairs of name, value): a counter's, a gauge's, a histogram's count; 0
// when there is no such series (a vector exports none until it has one).
func value(t *testing.T, families map[string]*dto.MetricFamily, f string, want ...string) float64 {
	t.Helper()
next:
	for _, m := range families[f].GetMetric() {
		for i := 0; i+1 < len(want); i += 2 {
			if labelValue(m, want[i]) != want[i+1] {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return 0
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

// families every app exports, whatever else is registered.
var appFamilies = []string{
	"hearth_http_requests_total",
	"hearth_http_request_duration_seconds",
	"hearth_realtime_clients",
	"hearth_realtime_subscriptions",
	"hearth_realtime_messages_total",
	"hearth_realtime_deliveries_total",
	"hearth_realtime_delivery_latency_seconds",
	"hearth_realtime_dropped_clients_total",
	"hearth_sync_requests_total",
	"hearth_sync_page_changes",
	"hearth_sync_log_entries",
	"hearth_sync_prune_runs_total",
	"hearth_sync_pruned_entries_total",
	"hearth_sqlite_write_lock_waits_total",
	"hearth_sqlite_write_lock_wait_seconds_total",
	"hearth_sqlite_database_bytes",
	"hearth_sqlite_wal_bytes",
	"go_goroutines",
	"go_memstats_heap_alloc_bytes",
	"process_cpu_seconds_total",
	"process_resident_memory_bytes",
}

func get(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestRequestsSyncAndAPIs(t *testing.T) {
	app := hearthtest.NewApp(t)
	metrics.Register(app, metrics.Config{})
	srv := hearthtest.Serve(t, app)
	scrapes := httptest.NewServer(metrics.Handler(app))
	defer scrapes.Close()
	alice := hearthtest.Token(t, app, hearthtest.Alice)

	for range 3 {
		get(t, srv.URL+"/api/health", "")
	}
	for url, status := range map[string]int{
		"/api/sync?cursor=0":         http.StatusOK,
		"/api/sync":                  http.StatusBadRequest,
		"/api/sync?cursor=999999999": http.StatusGone,
	} {
		if got := get(t, srv.URL+url, alice); got != status {
			t.Fatalf("GET %s: %d, want %d", url, got, status)
		}
	}
	if got := get(t, srv.URL+"/api/no/such/route", ""); got != http.StatusNotFound {
		t.Fatalf("unknown route: %d", got)
	}

	// The families of changefeed, realtime and push are theirs (each
	// package's metrics.go, tested there); here they must be in the app's
	// registry and served with the rest. The outbox of the test app (push registers the depth gauge): the
	// fixture world's writes left rows that no worker expanded.
	stats, err := push.Stats(app)
	if err != nil {
		t.Fatal(err)
	}

	f := scrape(t, scrapes.URL+metrics.Path)
	for _, name := range append(appFamilies, "hearth_push_notifications_total", "hearth_push_outbox_depth") {
		if _, ok := f[name]; !ok {
			t.Errorf("family %s missing", name)
		}
	}
	for _, c := range []struct {
		family string
		labels []string
		want   float64
	}{
		{"hearth_http_requests_total", []string{"route", "/api/health", "method", "GET", "status", "200"}, 3},
		{"hearth_http_request_duration_seconds", []string{"route", "/api/health", "method", "GET"}, 3},
		{"hearth_http_requests_total", []string{"route", "/api/sync", "status", "410"}, 1},
		{"hearth_http_requests_total", []string{"route", "/", "status", "404"}, 1},
		{"hearth_sync_requests_total", []string{"outcome", "page"}, 1},
		{"hearth_sync_requests_total", []string{"outcome", "invalid"}, 1},
		{"hearth_sync_requests_total", []string{"outcome", "gone"}, 1},
		{"hearth_sync_requests_total", []string{"outcome", "error"}, 0},
		{"hearth_sync_page_changes", nil, 1},
		{"hearth_sync_prune_runs_total", []string{"result", "ok"}, 1}, // changefeed prunes once when serving starts
		{"hearth_sync_prune_runs_total", []string{"result", "error"}, 0},
		{"hearth_push_outbox_depth", nil, float64(stats.Outbox)},
	} {
		if got := value(t, f, c.family, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.family, c.labels, got, c.want)
		}
	}
	// The fixture world is in the change log.
	if got := value(t, f, "hearth_sync_log_entries"); got < 1 {
		t.Errorf("hearth_sync_log_entries = %v", got)
	}
	if got := value(t, f, "hearth_sqlite_database_bytes", "db", "data"); got <= 0 {
		t.Errorf("hearth_sqlite_database_bytes{db=data} = %v", got)
	}
	// A sync page's changes are observed: the fixture world has some.
	if sum := f["hearth_sync_page_changes"].GetMetric()[0].GetHistogram().GetSampleSum(); sum < 1 {
		t.Errorf("the full sync page's changes were not observed: sum %v", sum)
	}
}

func TestRealtimeClientsAndSubscriptions(t *testing.T) {
	app := hearthtest.NewApp(t)
	metrics.Register(app, metrics.Config{})
	srv := hearthtest.Serve(t, app)
	scrapes := httptest.NewServer(metrics.Handler(app))
	defer scrapes.Close()

	res, err := http.Get(srv.URL + "/api/realtime")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	events := bufio.NewScanner(res.Body)
	clientID := ""
	for events.Scan() {
		if id, ok := strings.CutPrefix(events.Text(), "id:"); ok {
			clientID = id
			break
		}
	}
	if clientID == "" {
		t.Fatalf("no PB_CONNECT event: %v", events.Err())
	}
	body := strings.NewReader(`{"clientId":"` + clientID + `","subscriptions":["groups","messages"]}`)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/realtime", body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", hearthtest.Token(t, app, hearthtest.Alice))
	sub, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	sub.Body.Close()
	if sub.StatusCode != http.StatusNoContent {
		t.Fatalf("subscribe: status %d", sub.StatusCode)
	}

	// The connect message is counted once its write returns, which may be
	// after the client has read it.
	f := scrape(t, scrapes.URL+metrics.Path)
	for deadline := time.Now().Add(10 * time.Second); value(t, f, "hearth_realtime_messages_total") == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		f = scrape(t, scrapes.URL+metrics.Path)
	}
	for family, want := range map[string]float64{
		"hearth_realtime_clients":        1,
		"hearth_realtime_subscriptions":  2,
		"hearth_realtime_messages_total": 1, // PB_CONNECT
	} {
		if got := value(t, f, family); got != want {
			t.Errorf("%s = %v, want %v", family, got, want)
		}
	}
	// The stream is counted, not timed: its duration is the connection's.
	// Setting subscriptions is an ordinary request.
	if got := value(t, f, "hearth_http_request_duration_seconds", "route", "/api/realtime", "method", "GET"); got != 0 {
		t.Errorf("the realtime stream was timed (%v observations)", got)
	}
	if got := value(t, f, "hearth_http_request_duration_seconds", "route", "/api/realtime", "method", "POST"); got != 1 {
		t.Errorf("the subscription request was timed %v times, want 1", got)
	}

	res.Body.Close()
	deadline := time.Now().Add(10 * time.Second)
	for value(t, scrape(t, scrapes.URL+metrics.Path), "hearth_realtime_clients") != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the disconnected client is still counted")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
