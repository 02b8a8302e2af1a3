package changefeed

import (
	"fmt"
	"net/http"

	"github.com/crews/hearth/metrics"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a sync request.
const (
	outcomePage    = "page"    // 200: a page of changes
	outcomeGone    = "gone"    // 410: the cursor is older than the log; the client resyncs
	outcomeInvalid = "invalid" // another 4xx: bad parameters, no auth
	outcomeError   = "error"   // 5xx
)

// syncMetrics are the sync families (docs/operations.md).
type syncMetrics struct {
	requests *prometheus.CounterVec
	changes  prometheus.Histogram
	prunes   *prometheus.CounterVec
	pruned   prometheus.Counter
}

// metricsOf returns app's sync families, registered on first use.
func metricsOf(app core.App) *syncMetrics {
	return metrics.Families(app, "sync", newSyncMetrics)
}

func newSyncMetrics(app core.App) (*syncMetrics, []prometheus.Collector) {
	m := &syncMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_sync_requests_total",
			Help: "GET /api/sync requests, by outcome: page, gone (410, the client resyncs), invalid (other 4xx), error (5xx).",
		}, []string{"outcome"}),
		changes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "hearth_sync_page_changes",
			Help:    "Changes per sync page served (its count is the pages served).",
			Buckets: []float64{0, 1, 10, 50, 100, 200, 500, 1000},
		}),
		prunes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_sync_prune_runs_total",
			Help: "Runs of the change log's pruning job, by result (ok, error).",
		}, []string{"result"}),
		pruned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hearth_sync_pruned_entries_total",
			Help: "Change log entries removed by pruning.",
		}),
	}
	// Every outcome is exported from the start, so that rates and ratios
	// work before the first of each happens.
	for _, o := range []string{outcomePage, outcomeGone, outcomeInvalid, outcomeError} {
		m.requests.WithLabelValues(o)
	}
	m.prunes.WithLabelValues("ok")
	m.prunes.WithLabelValues("error")
	return m, []prometheus.Collector{m.requests, m.changes, m.prunes, m.pruned, newLogCollector(app)}
}

// countRequests is the sync route's outermost middleware: it counts each
// request by the outcome its status says, refusals of the route's auth
// check included.
func (m *syncMetrics) countRequests() *hook.Handler[*core.RequestEvent] {
	return &hook.Handler[*core.RequestEvent]{
		Id:       "hearthSyncMetrics",
		Priority: -1, // before apis.RequireAuth (0)
		Func: func(e *core.RequestEvent) error {
			err := e.Next()
			outcome := outcomeError
			switch status := metrics.Status(e, err); {
			case status == http.StatusOK:
				outcome = outcomePage
			case status == http.StatusGone:
				outcome = outcomeGone
			case status >= 400 && status < 500:
				outcome = outcomeInvalid
			}
			m.requests.WithLabelValues(outcome).Inc()
			return err
		},
	}
}

// pruneRun records a run of the change log's pruning: entries removed, or
// the error that stopped it.
func (m *syncMetrics) pruneRun(entries int64, err error) {
	if err != nil {
		m.prunes.WithLabelValues("error").Inc()
		return
	}
	m.prunes.WithLabelValues("ok").Inc()
	m.pruned.Add(float64(entries))
}

// logCollector reads the change log's size at each scrape. It counts rows
// rather than keep a counter: the log is shared by every process that
// opens data.db, and a restore replaces it.
type logCollector struct {
	app  core.App
	desc *prometheus.Desc
}

func newLogCollector(app core.App) *logCollector {
	return &logCollector{app: app, desc: prometheus.NewDesc("hearth_sync_log_entries",
		"Entries in the sync change log.", nil, nil)}
}

func (c *logCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *logCollector) Collect(ch chan<- prometheus.Metric) {
	var n int64
	if err := c.app.ConcurrentDB().NewQuery("SELECT COUNT(*) FROM {{" + changesTable + "}}").Row(&n); err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, fmt.Errorf("count %s: %w", changesTable, err))
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}
