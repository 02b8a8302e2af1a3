package collections

import (
	"time"

	"github.com/pocketbase/pocketbase/core"
)

// Config tunes the Crews domain.
type Config struct {
	// Now is the clock of every time-based rule: the message edit window,
	// invite expiry, which events are in the future, the waitlist's order.
	// Nil means time.Now; tests give each app its own.
	Now func() time.Time
}

// Register binds every Crews hook and route to app.
func Register(app core.App, cfg Config) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for _, name := range names {
		if hooks := specs[name].Hooks; hooks != nil {
			hooks(app, cfg)
		}
	}
	registerJoin(app, cfg.Now)
	registerAccountDeletion(app)
}
