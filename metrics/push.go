package metrics

import (
	"github.com/pocketbase/pocketbase/core"
	"github.com/prometheus/client_golang/prometheus"
)

// pushMetrics are reported by the push outbox (PushOutcome,
// PushOutboxDepth), from push/stats.go and push/register.go.
type pushMetrics struct {
	outcomes *prometheus.CounterVec
}

func newPushMetrics() *pushMetrics {
	return &pushMetrics{
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_push_notifications_total",
			Help: "Push notifications handled by the outbox, by outcome (as the push package names them: sent, failed, retried, ...).",
		}, []string{"outcome"}),
	}
}

func (m *pushMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.outcomes}
}

// PushOutcome records n push notifications handled with that outcome.
// Outcomes are a small fixed set chosen by the push package; never a token
// or a user id (each label value is a time series).
func PushOutcome(app core.App, outcome string, n uint64) {
	of(app).push.outcomes.WithLabelValues(outcome).Add(float64(n))
}

// PushOutboxDepth exports the outbox's depth (notifications waiting to be
// sent), read by depth at each scrape. Call it once, when the outbox starts.
func PushOutboxDepth(app core.App, depth func() int) error {
	return Add(app, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "hearth_push_outbox_depth",
		Help: "Push notifications waiting in the outbox.",
	}, func() float64 { return float64(depth()) }))
}
