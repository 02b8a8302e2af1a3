package push

import (
	"net/http"
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// Defaults of the settings Config leaves at zero.
const (
	// DefaultWindow is the coalescing window: at most one message push per
	// member, group and phone in it.
	DefaultWindow = time.Minute
	// DefaultRetention is how long finished pushes and expanded outbox rows
	// stay for the dashboard before they are pruned.
	DefaultRetention = 7 * 24 * time.Hour
	// MinRetention keeps an outbox row at least as long as the reminder it
	// records can still be asked for again (ReminderLead), so that pruning
	// never lets a reminder be scheduled twice.
	MinRetention = 2 * ReminderLead

	defaultTimeout      = 30 * time.Second
	defaultRetryBase    = time.Second
	defaultRetryCap     = 5 * time.Minute
	defaultMaxAttempts  = 10
	defaultReceiptDelay = 15 * time.Minute
)

// Config tunes push delivery. main.go sets URL, AccessToken, Window and
// Retention from the environment; the rest are for tests.
type Config struct {
	// URL is the base of an Expo-compatible push API ("https://exp.host";
	// requests go to URL + "/--/api/v2/push/send" and ".../getReceipts").
	// Empty means pushes are logged instead of sent (dev mode without
	// HEARTH_PUSH_URL, and test apps that do not set it).
	URL string
	// AccessToken, when set, is sent as "Authorization: Bearer ..." (Expo's
	// enhanced push security).
	AccessToken string
	// Window is the coalescing window; zero means DefaultWindow.
	Window time.Duration
	// Retention is how long finished rows are kept; zero means
	// DefaultRetention.
	Retention time.Duration
	// Now is the clock of windows, retries and reminders; nil means time.Now.
	Now func() time.Time

	// Client sends the requests; nil means a client with a 30 s timeout.
	Client *http.Client
	// RetryBase and RetryCap bound the exponential backoff of a transient
	// failure (HTTP 429 and 5xx, network errors, MessageRateExceeded);
	// MaxAttempts sends end a push as failed. Zero means 1 s, 5 min, 10.
	RetryBase, RetryCap time.Duration
	MaxAttempts         int
	// ReceiptDelay is how long after Expo accepts a push its receipt is
	// asked for (Expo: usually at once, up to 30 minutes under load); zero
	// means 15 minutes.
	ReceiptDelay time.Duration
}

func (c Config) withDefaults() Config {
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Client == nil {
		c.Client = &http.Client{Timeout: defaultTimeout}
	}
	if c.RetryBase <= 0 {
		c.RetryBase = defaultRetryBase
	}
	if c.RetryCap <= 0 {
		c.RetryCap = defaultRetryCap
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = defaultMaxAttempts
	}
	if c.ReceiptDelay <= 0 {
		c.ReceiptDelay = defaultReceiptDelay
	}
	return c
}

// Cron schedules: reminders are looked for every minute (a reminder is at
// most a minute late), finished rows pruned hourly.
const (
	remindSchedule = "* * * * *"
	pruneSchedule  = "@hourly"
)

// Register binds the triggers that write the outbox, the reminder and
// pruning jobs, and the delivery worker, which runs while the app serves
// HTTP.
func Register(app core.App, cfg Config) {
	cfg = cfg.withDefaults()
	w := newWorker(app, cfg)
	app.Store().Set(storeKey, w)

	registerTriggers(app, w)
	metricsOf(app) // exported from the first scrape

	app.Cron().MustAdd("hearthPushReminders", remindSchedule, func() {
		if err := w.remind(); err != nil {
			app.Logger().Error("push: scheduling reminders failed", "error", err)
		}
	})
	app.Cron().MustAdd("hearthPushPrune", pruneSchedule, func() {
		n, err := Prune(app, cfg.Retention, cfg.Now())
		if err != nil {
			app.Logger().Error("push: pruning the outbox failed", "error", err)
			return
		}
		if n > 0 {
			app.Logger().Info("push: pruned the outbox", "rows", n)
		}
	})

	// The worker runs where the app really serves HTTP (hearth serve). A
	// serve event without a server, as tests build the router with, starts
	// none: tests run delivery rounds with Flush, and no goroutine drains
	// a test app's outbox behind the test's back.
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		if e.Server != nil {
			w.start()
		}
		return e.Next()
	})
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		w.stop()
		return e.Next()
	})
}
