package push

import (
	"github.com/crews/hearth/metrics"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/prometheus/client_golang/prometheus"
)

// pushMetrics are the push families (docs/operations.md).
type pushMetrics struct {
	// outcomes counts notifications by outcome, the small fixed set of
	// tally.byOutcome; never a token or a user id (each label value is a
	// time series).
	outcomes *prometheus.CounterVec
}

// metricsOf returns app's push families, registered on first use.
func metricsOf(app core.App) *pushMetrics {
	return metrics.Families(app, "push", newPushMetrics)
}

func newPushMetrics(app core.App) (*pushMetrics, []prometheus.Collector) {
	m := &pushMetrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_push_notifications_total",
			Help: "Push notifications handled by the outbox, by outcome: accepted, retried, failed, dropped, delivered, unconfirmed.",
		}, []string{"outcome"}),
	}
	// Every outcome is exported from the start, so that rates and ratios
	// work before the first of each happens.
	for outcome := range (tally{}).byOutcome() {
		m.outcomes.WithLabelValues(outcome)
	}
	// The outbox's depth, read at each scrape through the same partial
	// index Stats counts with.
	depth := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hearth_push_outbox_depth",
		Help: "Push notifications waiting in the outbox.",
	}, func() float64 {
		var n int
		if err := app.DB().Select("COUNT(*)").From(outboxTable).Where(dbx.HashExp{"expanded": 0}).Row(&n); err != nil {
			return 0
		}
		return float64(n)
	})
	return m, []prometheus.Collector{m.outcomes, depth}
}
