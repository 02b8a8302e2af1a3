package metrics

import (
	"sync/atomic"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
	"github.com/prometheus/client_golang/prometheus"
)

// realtimeMetrics: what PocketBase's realtime shows (clients, their
// subscriptions, the messages it writes) is read from it; deliveries, their
// latency and dropped clients are reported by Hearth's realtime fan-out
// through RealtimeDelivered and RealtimeDropped.
type realtimeMetrics struct {
	// clients is the registry of connected clients when Hearth's realtime
	// serves them (RealtimeClients); PocketBase's broker otherwise.
	clients    atomic.Pointer[subscriptions.Broker]
	messages   prometheus.Counter
	deliveries prometheus.Counter
	latency    prometheus.Histogram
	dropped    prometheus.Counter
}

func newRealtimeMetrics() *realtimeMetrics {
	return &realtimeMetrics{
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
}

func (m *realtimeMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.messages, m.deliveries, m.latency, m.dropped}
}

// register reads app's subscriptions broker at each scrape and counts the
// messages PocketBase writes to its clients.
func (m *realtimeMetrics) register(app core.App, reg *prometheus.Registry) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hearth_realtime_clients",
			Help: "Realtime (SSE) clients connected.",
		}, func() float64 { return float64(m.broker(app).TotalClients()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "hearth_realtime_subscriptions",
			Help: "Subscriptions held by the connected realtime clients.",
		}, func() float64 {
			n := 0
			for _, c := range m.broker(app).Clients() {
				n += len(c.Subscriptions())
			}
			return float64(n)
		}),
	)
	app.OnRealtimeMessageSend().BindFunc(func(e *core.RealtimeMessageEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		m.messages.Inc()
		return nil
	})
}

func (m *realtimeMetrics) broker(app core.App) *subscriptions.Broker {
	if b := m.clients.Load(); b != nil {
		return b
	}
	return app.SubscriptionsBroker()
}

// RealtimeClients makes the clients and subscriptions gauges read broker,
// the registry of the realtime connections Hearth serves itself (every
// connection, including those also in PocketBase's broker).
func RealtimeClients(app core.App, broker *subscriptions.Broker) {
	of(app).realtime.clients.Store(broker)
}

// RealtimeDelivered records one change delivered to one realtime client,
// latency after the change was committed.
func RealtimeDelivered(app core.App, latency time.Duration) {
	m := of(app).realtime
	m.deliveries.Inc()
	m.latency.Observe(latency.Seconds())
}

// RealtimeDropped records a realtime client the server disconnected
// because it fell behind.
func RealtimeDropped(app core.App) {
	of(app).realtime.dropped.Inc()
}
