package realtime

import (
	"net/http"
	"runtime"
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

// The caps on what one user may ask of realtime (docs/access-rules.md,
// "Realtime"). A user is a signed-in account (superusers included); a
// guest is counted by IP address.
//
// The app opens one connection per running copy (a phone, a tablet, a
// browser tab) and subscribes a handful of topics per screen; the SDK
// resubscribes its whole set on every change, so one connection holds the
// topics of the screens mounted at once, a few dozen at most.
const (
	// DefaultMaxConnsPerUser leaves room for a few devices plus the
	// connections a phone leaves behind when it changes networks, which
	// the server notices only at its next failed write: a subscription
	// past the cap closes the user's least recently subscribed one.
	DefaultMaxConnsPerUser = 8
	// DefaultMaxTopicsPerUser is 25 topics on each of those connections.
	DefaultMaxTopicsPerUser = 200
	// DefaultMaxTopicsPerChange bounds the rule checks, filter queries,
	// expansions and encodings one change may cost for one user: their
	// distinct topics (same collection, record and options count once,
	// across their connections) that one record's change can match. The
	// app uses one or two per collection.
	DefaultMaxTopicsPerChange = 16
)

// DefaultBareTimeout is how long a connection may hold no topic: from
// its connect until its first subscription, or from the subscription
// that removed its last topic. The SDK subscribes the moment PB_CONNECT
// arrives and closes the connection itself when its last topic goes, so
// an app's connection is bare for milliseconds; one that stays bare asks
// for nothing and counts against no cap (those apply to topics), so it
// is closed well before PocketBase's 5-minute idle timeout would.
const DefaultBareTimeout = 30 * time.Second

// Config tunes the fan-out.
type Config struct {
	// ClientBuffer is the number of queued messages per client at which
	// the client is disconnected, and the number of changes waiting to be
	// judged for one user at which all of the user's connections are;
	// zero means DefaultClientBuffer.
	ClientBuffer int
	// GapTimeout is how long delivery waits for a transaction that never
	// reports its end; zero means DefaultGapTimeout.
	GapTimeout time.Duration
	// MaxConnsPerUser is how many subscribed connections one user may
	// hold; subscribing one more closes their least recently subscribed
	// connection. Zero means DefaultMaxConnsPerUser.
	MaxConnsPerUser int
	// MaxTopicsPerUser is how many topics one user may hold over all of
	// their connections; a subscription past it is a 400 naming
	// subscriptions. Zero means DefaultMaxTopicsPerUser.
	MaxTopicsPerUser int
	// MaxTopicsPerChange is how many distinct topics of one user one
	// change may match; a subscription past it is a 400 naming
	// subscriptions. Zero means DefaultMaxTopicsPerChange.
	MaxTopicsPerChange int
	// BareTimeout is how long a connection may hold no topic before it
	// is closed; zero means DefaultBareTimeout.
	BareTimeout time.Duration
	// Workers is the number of goroutines that judge and encode
	// deliveries, each working for one user at a time; zero means the
	// number of CPUs, and never fewer than two, so that one user's work
	// never holds all of them.
	Workers int
}

// withDefaults returns cfg with every zero field set to its default.
func (cfg Config) withDefaults() Config {
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&cfg.ClientBuffer, DefaultClientBuffer)
	set(&cfg.MaxConnsPerUser, DefaultMaxConnsPerUser)
	set(&cfg.MaxTopicsPerUser, DefaultMaxTopicsPerUser)
	set(&cfg.MaxTopicsPerChange, DefaultMaxTopicsPerChange)
	set(&cfg.Workers, max(2, runtime.GOMAXPROCS(0)))
	if cfg.BareTimeout <= 0 {
		cfg.BareTimeout = DefaultBareTimeout
	}
	if cfg.GapTimeout <= 0 {
		cfg.GapTimeout = DefaultGapTimeout
	}
	return cfg
}

// Register serves /api/realtime with Hearth's fan-out and binds the hooks
// that capture the writes of group-scoped collections. Call it after the
// change log is registered (crews.Register does), so that its capture runs
// inside the transaction the log opens.
func Register(app core.App, cfg Config) {
	h := newHub(app, cfg.withDefaults())
	app.Store().Set(storeKey, h)

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
			case http.MethodHead:
				return h.head(e)
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
