// Package metrics collects Hearth's Prometheus metrics and serves them, in
// the Prometheus text format, on a listen address of their own
// (HEARTH_METRICS_ADDR): never on the public port, where anyone could read
// request rates and table sizes. Every family is listed in
// docs/operations.md.
//
// Register measures what the app itself shows: HTTP requests, SQLite
// write waits and file sizes, Go and process metrics. Every other family
// lives beside the code it describes (changefeed's sync families in
// changefeed/metrics.go, push's, realtime's, replica's) and is registered
// by that package in the app's registry, which exists on first use, so a
// package reports whether or not Register ran:
//
//	metrics.Register(app, metrics.Config{Addr: "127.0.0.1:9090"})
//
//	// in a package: its families, created and registered once per app
//	m := metrics.Families(app, "sync", newSyncMetrics)
//	m.pages.Observe(float64(n))
//
//	metrics.Add(app, collector) // a collector read at each scrape (replica)
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
}

// of returns app's metrics, creating them on first use.
func of(app core.App) *set {
	return app.Store().GetOrSet(storeKey, func() any {
		s := &set{
			registry: prometheus.NewRegistry(),
			http:     newHTTPMetrics(),
		}
		s.registry.MustRegister(
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
		s.registry.MustRegister(s.http.collectors()...)
		return s
	}).(*set)
}

// Register measures app and, when cfg.Addr is set, serves the metrics there
// while `serve` runs.
func Register(app core.App, cfg Config) {
	s := of(app)
	s.registry.MustRegister(newSQLiteCollector(app))

	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		e.Router.Bind(s.http.middleware())
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

// Families returns the metric families a package keeps for app: made by
// create and registered in app's registry the first time key is asked for,
// the same value after that. A package asks for its families when it is
// registered, so that they are exported from the first scrape.
func Families[T any](app core.App, key string, create func(app core.App) (T, []prometheus.Collector)) T {
	// The registry is read first: the store holds its lock while the
	// function below runs, and of takes it too.
	registry := of(app).registry
	return app.Store().GetOrSet(storeKey+"."+key, func() any {
		families, collectors := create(app)
		registry.MustRegister(collectors...)
		return families
	}).(T)
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
