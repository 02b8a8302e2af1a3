package changefeed

import (
	"time"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// DefaultRetention is how long deletions and superseded entries stay in
// the log: a client offline for longer resyncs from cursor 0.
const DefaultRetention = 30 * 24 * time.Hour

// Config tunes the feed.
type Config struct {
	// Retention is the window of the log (HEARTH_SYNC_RETENTION);
	// zero means DefaultRetention.
	Retention time.Duration
	// Now is the clock the log's entries are stamped with and pruning
	// measures the window by (crews.Config.Now); nil means time.Now.
	Now func() time.Time
}

// Path is the sync route (GET).
const Path = "/api/sync"

// pruneSchedule runs the pruning hourly, so the log exceeds the window by
// an hour at most and each run has an hour of writes to look at.
const pruneSchedule = "@hourly"

// Register binds the change log hooks, the pruning (once when the server
// starts, then hourly) and the GET /api/sync route to app.
func Register(app core.App, cfg Config) {
	if cfg.Retention <= 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	registerLog(app, cfg.Now)
	m := metricsOf(app)
	prune := func() {
		n, err := Prune(app, cfg.Retention, cfg.Now())
		m.pruneRun(n, err)
		if err != nil {
			app.Logger().Error("sync: pruning the change log failed", "error", err)
			return
		}
		if n > 0 {
			app.Logger().Info("sync: pruned the change log", "entries", n)
		}
	}
	app.Cron().MustAdd("hearthSyncPrune", pruneSchedule, prune)
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		// Before the first request: a server that was stopped for longer
		// than an hour would otherwise serve from a log older than its
		// window until the next full hour. A failure is logged, not fatal:
		// an unpruned log is still correct, only longer.
		prune()
		s, err := loadSealer(se.App)
		if err != nil {
			return err
		}
		se.Router.GET(Path, func(e *core.RequestEvent) error { return handleSync(e, s) }).
			Bind(m.countRequests(), apis.RequireAuth(collections.Users))
		return se.Next()
	})
}
