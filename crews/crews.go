// Package crews wires the Crews domain into a PocketBase app: the
// collections' hooks, rules and routes, then the sync change log that
// records their writes, the realtime fan-out of those writes, the push
// notifications they ask for, and the invite links' pages. main.go and every test app call Register, so
// a capability wired here is under test as soon as it is wired.
//
// Usage:
//
//	app := pocketbase.New()
//	crews.Register(app, crews.Config{SyncRetention: 30 * 24 * time.Hour, Push: push.Config{URL: "https://exp.host"}})
//	app.Start()
package crews

import (
	"time"

	"github.com/crews/hearth/auth"
	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/edge"
	"github.com/crews/hearth/firebase"
	"github.com/crews/hearth/links"
	"github.com/crews/hearth/push"
	"github.com/crews/hearth/realtime"
	"github.com/pocketbase/pocketbase/core"
)

// Config holds the domain's settings.
type Config struct {
	// Now is the clock of every time-based rule; nil means time.Now.
	Now func() time.Time
	// SyncRetention is the change log's window (HEARTH_SYNC_RETENTION);
	// zero means changefeed.DefaultRetention.
	SyncRetention time.Duration
	// Realtime tunes the fan-out of group-scoped changes.
	Realtime realtime.Config
	// Push configures push delivery (HEARTH_PUSH_*); its zero value logs
	// pushes instead of sending them. Push.Now is set to Now.
	Push push.Config
	// Links configures the invite links (HEARTH_IOS_APP_ID,
	// HEARTH_ANDROID_*, HEARTH_APP_SCHEME). Links.Now is set to Now.
	Links links.Config
	// Auth configures sign-in (HEARTH_OAUTH2_*, HEARTH_APPLE_*); its zero
	// value still turns on OTP, per-user MFA and Crews' email templates.
	// Auth.Now defaults to Now.
	Auth auth.Config
	// Firebase caps the checks of imported Firebase password hashes.
	Firebase firebase.Config
}

// Register binds the Crews domain to app, in the order it must bind: the
// collections' hooks wrap each write before the change log records it,
// realtime captures each write inside the transaction the log opens, and
// the push triggers join that transaction too.
func Register(app core.App, cfg Config) {
	edge.Register(app)
	collections.Register(app, collections.Config{Now: cfg.Now})
	changefeed.Register(app, changefeed.Config{Retention: cfg.SyncRetention, Now: cfg.Now})
	realtime.Register(app, cfg.Realtime)
	cfg.Push.Now = cfg.Now
	push.Register(app, cfg.Push)
	cfg.Links.Now = cfg.Now
	links.Register(app, cfg.Links)
	if cfg.Auth.Now == nil {
		cfg.Auth.Now = cfg.Now
	}
	auth.Register(app, cfg.Auth)
	firebase.Register(app, cfg.Firebase)
}
