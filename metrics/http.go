package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/crews/hearth/logs"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/prometheus/client_golang/prometheus"
)

// realtimeRoute is PocketBase's realtime route; a GET there is the SSE
// stream, which lasts as long as the client stays connected, so it is
// counted but not timed (a POST sets subscriptions and is timed).
const realtimeRoute = "/api/realtime"

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics() *httpMetrics {
	return &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hearth_http_request_duration_seconds",
			Help:    "Time from a request's arrival to its answer, by route pattern and method (the realtime stream excluded).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
	}
}

func (m *httpMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.duration}
}

// middleware measures every request. It runs before PocketBase's own
// middlewares (rate limiting, body limits, auth), so their refusals count,
// and their time is in the latency.
func (m *httpMetrics) middleware() *hook.Handler[*core.RequestEvent] {
	return &hook.Handler[*core.RequestEvent]{
		Id:       "hearthMetrics",
		Priority: apis.DefaultWWWRedirectMiddlewarePriority - 1,
		Func: func(e *core.RequestEvent) error {
			started := time.Now()
			err := e.Next()
			route, method := logs.Route(e.Request), methodLabel(e.Request.Method)
			status := Status(e, err)
			m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
			if route != realtimeRoute || method != http.MethodGet {
				m.duration.WithLabelValues(route, method).Observe(time.Since(started).Seconds())
			}
			return err
		},
	}
}

// Status is the status a request is answered with, for a middleware that
// has run the rest of the chain (err is what it returned): the one written,
// or, when the handler returned an error instead, the one PocketBase's
// error handler will write for it.
func Status(e *core.RequestEvent, err error) int {
	if status := e.Status(); status != 0 {
		return status
	}
	if err != nil {
		return router.ToApiError(err).Status
	}
	return http.StatusOK
}

// methodLabel keeps the method label bounded: any method is accepted on
// the wire, only the standard ones are labels.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	}
	return "OTHER"
}
