package realtime

import (
	"time"

	"github.com/crews/hearth/metrics"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
	"github.com/prometheus/client_golang/prometheus"
)

// realtimeMetrics are the realtime families (docs/operations.md): the
// clients and subscriptions of the connections Hearth serves (every
// connection, those also in PocketBase's broker included), the messages
// written to them, and the fan-out's deliveries, their latency and the
// clients it cut off.
type realtimeMetrics struct {
	messages   prometheus.Counter
	deliveries prometheus.Counter
	latency    prometheus.Histogram
	dropped    prometheus.Counter
}

// registerMetrics registers app's realtime families; clients is the
// registry of the connections Hearth serves.
func registerMetrics(app core.App, clients *subscriptions.Broker) *realtimeMetrics {
	return metrics.Families(app, "realtime", func(app core.App) (*realtimeMetrics, []prometheus.Collector) {
		m := &realtimeMetrics{
			messages: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "hearth_realtime_messages_total",
				Help: "Messages written to realtime (SSE) clients, the connect message included.",
			}),
			deliveries: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "hearth_realtime_deliveries_total",
				Help: "Record changes delivered to realtime clients, as reported by the realtime fan-out.",
			}),
			latency: prometheus.NewHistogram(prometheus.HistogramOpts{
				Name:    "hearth_realtime_delivery_latency_seconds",
				Help:    "Time from a change's commit to its delivery to a realtime client.",
				Buckets: prometheus.DefBuckets,
			}),
			dropped: prometheus.NewCounter(prometheus.CounterOpts{
				Name: "hearth_realtime_dropped_clients_total",
				Help: "Realtime clients disconnected by the server because they could not keep up.",
			}),
		}
		gauges := []prometheus.Collector{
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "hearth_realtime_clients",
				Help: "Realtime (SSE) clients connected.",
			}, func() float64 { return float64(clients.TotalClients()) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "hearth_realtime_subscriptions",
				Help: "Subscriptions held by the connected realtime clients.",
			}, func() float64 {
				n := 0
				for _, c := range clients.Clients() {
					n += len(c.Subscriptions())
				}
				return float64(n)
			}),
		}
		// messages is counted by the connections' writer (sseWriter), not
		// by an OnRealtimeMessageSend handler: with no handler bound the
		// writer builds no hook event at all (connect.go).
		return m, append(gauges, m.messages, m.deliveries, m.latency, m.dropped)
	})
}

// delivered records n messages of one change queued for a client, latency
// after the change was committed.
func (m *realtimeMetrics) delivered(n int, latency time.Duration) {
	for range n {
		m.deliveries.Inc()
		m.latency.Observe(latency.Seconds())
	}
}
