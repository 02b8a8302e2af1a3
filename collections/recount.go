package collections

import (
	"context"

	"github.com/pocketbase/pocketbase/core"
)

// RecountEvent brings event's going_count and waitlist up to date (see
// recount) in one transaction, for writers that put RSVPs in place
// without the RSVP hooks: the Firebase importer (package firebase).
func RecountEvent(app core.App, event string) error {
	return app.RunInTransaction(func(tx core.App) error {
		return refreshEvent(context.Background(), app, tx, event)
	})
}
