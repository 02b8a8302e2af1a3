// Package metrics collects Hearth's Prometheus metrics and serves them, in
// the Prometheus text format, on a listen address of their own
// (HEARTH_METRICS_ADDR): never on the public port, where anyone could read
// request rates and table sizes. Every family is listed in
// docs/operations.md.
//
// Register measures what the app itself shows: HTTP requests, realtime
// clients and subscriptions, SQLite write waits and file sizes, the sync
// log's size, Go and process metrics. Packages report what only they know
// through small functions, which are safe to call whether or not Register
// ran (they record into the app's registry, which exists on first use):
//
//	metrics.Register(app, metrics.Config{Addr: "127.0.0.1:9090"})
//
//	metrics.RealtimeDelivered(app, time.Since(committed)) // realtime fan-out
//	metrics.RealtimeDropped(app)                          // a slow client cut off
//	metrics.SyncPage(app, len(page.Changes))              // changefeed
//	metrics.SyncPruned(app, n, err)                       // changefeed's prune job
//	metrics.PushOutcome(app, "accepted", 1)               // push outbox
//	metrics.PushOutboxDepth(app, func() int { ... })
//	metrics.Add(app, collector)                           // anything else (replica)
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config says where the metrics are served.
type Config struct {
	// Addr is the host:port of GET /metrics; empty serves nothing.
	Addr string
}

// Path is where the metrics are served on Config.Addr.
const Path = "/metrics"

const storeKey = "hearth.metrics"

// set is one app's registry and the families packages report into.
type set struct {
	registry *prometheus.Registry
	http     *httpMetrics
	realtime *realtimeMetrics
	sync     *syncMetrics
	push     *pushMetrics
}

// of returns app's metrics, creating them on first use.
func of(app core.App) *set {
	return app.Store().GetOrSet(storeKey, func() any {
		s := &set{
			registry: prometheus.NewRegistry(),
			http:     newHTTPMetrics(),
			realtime: newRealtimeMetrics(),
			sync:     newSyncMetrics(),
			push:     newPushMetrics(),
		}
		s.registry.MustRegister(
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
		s.registry.MustRegister(s.http.collectors()...)
		s.registry.MustRegister(s.realtime.collectors()...)
		s.registry.MustRegister(s.sync.collectors()...)
		s.registry.MustRegister(s.push.collectors()...)
		return s
	}).(*set)
}

// Register measures app and, when cfg.Addr is set, serves the metrics there
// while `serve` runs.
func Register(app core.App, cfg Config) {
	s := of(app)
	s.registry.MustRegister(newSQLiteCollector(app), newSyncLogCollector(app))
	s.realtime.register(app, s.registry)

	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		e.Router.Bind(s.http.middleware(s.sync))
		if cfg.Addr == "" {
			return e.Next()
		}
		srv, err := serve(cfg.Addr, Handler(app), e.App.Logger())
		if err != nil {
			return err
		}
		e.App.Logger().Info("metrics served", "url", "http://"+cfg.Addr+Path)
		e.App.OnTerminate().BindFunc(func(te *core.TerminateEvent) error {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = srv.Shutdown(ctx)
			return te.Next()
		})
		return e.Next()
	})
}

// Add registers a package's own collector in app's registry.
func Add(app core.App, c prometheus.Collector) error {
	return of(app).registry.Register(c)
}

// Gatherer is app's registry, for tests and Handler.
func Gatherer(app core.App) prometheus.Gatherer {
	return of(app).registry
}

// Handler answers a scrape with app's metrics in the Prometheus text format.
func Handler(app core.App) http.Handler {
	reg := of(app).registry
	mux := http.NewServeMux()
	mux.Handle("GET "+Path, promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return mux
}

func serve(addr string, h http.Handler, logger *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on HEARTH_METRICS_ADDR %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics: serve stopped", "addr", addr, "error", err)
		}
	}()
	return srv, nil
}
