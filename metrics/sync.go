package metrics

import (
	"fmt"
	"net/http"

	"github.com/pocketbase/pocketbase/core"
	"github.com/prometheus/client_golang/prometheus"
)

// syncRoute is changefeed's GET /api/sync.
const syncRoute = "/api/sync"

// Outcomes of a sync request.
const (
	syncPage    = "page"    // 200: a page of changes
	syncGone    = "gone"    // 410: the cursor is older than the log; the client resyncs
	syncInvalid = "invalid" // another 4xx: bad parameters, no auth
	syncError   = "error"   // 5xx
)

type syncMetrics struct {
	requests *prometheus.CounterVec
	changes  prometheus.Histogram
	prunes   *prometheus.CounterVec
	pruned   prometheus.Counter
}

func newSyncMetrics() *syncMetrics {
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
	for _, o := range []string{syncPage, syncGone, syncInvalid, syncError} {
		m.requests.WithLabelValues(o)
	}
	m.prunes.WithLabelValues("ok")
	m.prunes.WithLabelValues("error")
	return m
}

func (m *syncMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.changes, m.prunes, m.pruned}
}

func (m *syncMetrics) request(status int) {
	outcome := syncError
	switch {
	case status == http.StatusOK:
		outcome = syncPage
	case status == http.StatusGone:
		outcome = syncGone
	case status >= 400 && status < 500:
		outcome = syncInvalid
	}
	m.requests.WithLabelValues(outcome).Inc()
}

// SyncPage records a sync page served with that many changes.
func SyncPage(app core.App, changes int) {
	of(app).sync.changes.Observe(float64(changes))
}

// SyncPruned records a run of the change log's pruning: entries removed,
// or the error that stopped it.
func SyncPruned(app core.App, entries int64, err error) {
	m := of(app).sync
	if err != nil {
		m.prunes.WithLabelValues("error").Inc()
		return
	}
	m.prunes.WithLabelValues("ok").Inc()
	m.pruned.Add(float64(entries))
}

// syncLogCollector reads the change log's size at each scrape. It counts
// rows rather than keep a counter: the log is shared by every process that
// opens data.db, and a restore replaces it.
type syncLogCollector struct {
	app  core.App
	desc *prometheus.Desc
}

// changesTable is changefeed's log (pb_migrations/1764115300_changelog.go).
const changesTable = "_hearth_changes"

func newSyncLogCollector(app core.App) *syncLogCollector {
	return &syncLogCollector{app: app, desc: prometheus.NewDesc("hearth_sync_log_entries",
		"Entries in the sync change log.", nil, nil)}
}

func (c *syncLogCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *syncLogCollector) Collect(ch chan<- prometheus.Metric) {
	var n int64
	if err := c.app.ConcurrentDB().NewQuery("SELECT COUNT(*) FROM {{" + changesTable + "}}").Row(&n); err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, fmt.Errorf("count %s: %w", changesTable, err))
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}
