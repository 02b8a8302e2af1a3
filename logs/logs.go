// Package logs makes Hearth's logs fit production: every request gets an id
// (X-Request-Id) and its route pattern in the request log; successful fast
// requests are sampled instead of all stored; and with a Format the logs
// kept are also written to standard output, one structured line each, for a
// container's log collector.
//
// PocketBase still writes the logs (app.Logger(), its request logger) and
// keeps them in auxiliary.db, for the dashboard, for as long as its log
// settings say (HEARTH_LOG_RETENTION, HEARTH_LOG_LEVEL; config/settings.go).
// This package decides, as each entry is about to be stored, whether it is
// kept: an application entry always, a request entry when it failed (status
// 400 or more, or an error), was slow (SlowRequest or more), or is in the
// sample (SampleRate of the others).
//
// What a log line may say is decided by allow-lists (redact.go, route.go),
// in front of PocketBase's own log handler, so that the console (dev
// mode), auxiliary.db (the dashboard) and the output all get the same
// redacted entry: of a request, its route pattern with the safe path
// values, its query parameters by name with the values of a safe set only
// (never a filter or a token), the answer's error message and field codes,
// the referer's origin; of any other entry, the attributes named safe, and
// numbers. Dev mode's SQL statement log is printed without the values.
//
// Usage:
//
//	logs.Register(app, logs.Config{Format: logs.FormatJSON, SlowRequest: 500 * time.Millisecond, SampleRate: 0.01})
package logs

import (
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
)

// Formats of the lines written to Output.
const (
	FormatJSON = "json" // one JSON object per line (log/slog's JSONHandler)
	FormatText = "text" // key=value pairs (log/slog's TextHandler)
)

// Config says which request entries are kept and where lines go.
type Config struct {
	// Format of the lines written to Output; empty writes none (PocketBase
	// prints nothing either outside dev mode).
	Format string
	// Output receives the lines; nil means standard output.
	Output io.Writer
	// SlowRequest: a request that took this long or longer is always kept.
	// Zero keeps every request.
	SlowRequest time.Duration
	// SampleRate is the fraction (0 to 1) of successful requests faster
	// than SlowRequest that are kept.
	SampleRate float64
	// Sample draws the sampling decision; nil means a random draw with
	// probability SampleRate. Tests set it to decide.
	Sample func() bool
}

// Register binds request ids and the logs' keep-or-drop decision to app.
func Register(app core.App, cfg Config) {
	if cfg.Output == nil {
		cfg.Output = os.Stdout
	}
	if cfg.Sample == nil {
		rate := cfg.SampleRate
		cfg.Sample = func() bool { return rand.Float64() < rate }
	}
	if app.IsBootstrapped() {
		// A test app is bootstrapped before its capabilities register.
		redact(app)
	}
	app.OnBootstrap().Bind(&hook.Handler[*core.BootstrapEvent]{
		Id: "hearthLogsRedact",
		// Last before PocketBase's own bootstrap, so that its new logger
		// is wrapped before any other bootstrap hook logs after it.
		Priority: math.MaxInt32,
		Func: func(e *core.BootstrapEvent) error {
			if err := e.Next(); err != nil {
				return err
			}
			redact(e.App)
			return nil
		},
	})
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		e.Router.Bind(requestIDs())
		e.Router.Bind(requestErrors())
		return e.Next()
	})
	s := newSink(cfg)
	app.OnModelCreate(core.LogsTableName).BindFunc(s.onCreate)
}

// redact puts the allow-lists in front of what app logs: its logger and,
// in dev mode, its SQL statement log.
func redact(app core.App) {
	redactLogger(app)
	redactSQLLog(app.ConcurrentDB(), os.Stdout)
	redactSQLLog(app.NonconcurrentDB(), os.Stdout)
}

// redactLogger puts the redactor in front of the handler of app's logger.
// PocketBase makes a new logger at each bootstrap and offers no setter:
// the logger is replaced in place, so that every holder of
// app.Logger() (PocketBase's code, the replica) logs through the redactor.
func redactLogger(app core.App) {
	logger := app.Logger()
	if _, done := logger.Handler().(*redactor); done {
		return
	}
	*logger = *slog.New(&redactor{next: logger.Handler()})
}
