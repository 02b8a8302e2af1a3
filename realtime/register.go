package realtime

import (
	"net/http"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/pocketbase/core"
)

// DefaultClientBuffer is how many messages may wait for one client before
// it is disconnected: a burst of a few hundred changes in the client's
// groups, far more than a phone that is reading ever lags behind.
const DefaultClientBuffer = 1024

// DefaultGapTimeout is how long the dispatcher waits for a numbered
// transaction that never reports its end (a panic inside it) before it
// delivers the ones after it.
const DefaultGapTimeout = 5 * time.Second

// Config tunes the fan-out.
type Config struct {
	// ClientBuffer is the number of queued messages per client at which
	// the client is disconnected; zero means DefaultClientBuffer.
	ClientBuffer int
	// GapTimeout is how long delivery waits for a transaction that never
	// reports its end; zero means DefaultGapTimeout.
	GapTimeout time.Duration
}

// Register serves /api/realtime with Hearth's fan-out and binds the hooks
// that capture the writes of group-scoped collections. Call it after the
// change log is registered (crews.Register does), so that its capture runs
// inside the transaction the log opens.
func Register(app core.App, cfg Config) {
	if cfg.ClientBuffer <= 0 {
		cfg.ClientBuffer = DefaultClientBuffer
	}
	if cfg.GapTimeout <= 0 {
		cfg.GapTimeout = DefaultGapTimeout
	}
	h := newHub(app, cfg)
	app.Store().Set(storeKey, h)
	h.metrics = registerMetrics(app, h.clients)

	for _, name := range scoped() {
		app.OnRecordCreateExecute(name).BindFunc(func(e *core.RecordEvent) error { return h.captureWrite(e, actionCreate) })
		app.OnRecordUpdateExecute(name).BindFunc(func(e *core.RecordEvent) error { return h.captureWrite(e, actionUpdate) })
		app.OnRecordDeleteExecute(name).BindFunc(h.captureDelete)
	}
	bindAuthChanges(app, h)

	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.BindFunc(func(e *core.RequestEvent) error {
			if e.Request.URL.Path != "/api/realtime" {
				return e.Next()
			}
			switch e.Request.Method {
			case http.MethodGet:
				return h.connect(e)
			case http.MethodPost:
				return h.setSubscriptions(e)
			}
			return e.Next()
		})
		return se.Next()
	})
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		h.stop()
		return e.Next()
	})
}

// storeKey holds the app's hub in its store, for tests of this package.
const storeKey = "hearth.realtime"

func hubOf(app core.App) *hub {
	h, _ := app.Store().Get(storeKey).(*hub)
	return h
}

// scoped returns the collections whose realtime Hearth delivers: those
// whose spec places their records in groups.
func scoped() []string {
	var out []string
	for _, name := range collections.Names() {
		if isScoped(collections.SpecOf(name)) {
			out = append(out, name)
		}
	}
	return out
}

// isScoped reports whether s places its records in groups. A record that
// is its owner's alone (a device, a mute) or a superuser's (the push
// views) keeps PocketBase's own path, which checks the rules per client.
func isScoped(s *collections.Spec) bool {
	return s != nil && s.Scope.Grouped()
}

func isScopedName(name string) bool {
	return isScoped(collections.SpecOf(name))
}
