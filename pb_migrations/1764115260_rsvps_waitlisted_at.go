package migrations

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// rsvps.waitlisted_at: when an RSVP joined its event's waitlist (empty when
// it is not waitlisted). The waitlist is served in this order, so a place
// in it is kept across updates, which `updated` would not do, and it starts
// when the person asked to go, which `created` would not say.
func init() {
	m.Register(func(app core.App) error {
		rsvps, err := app.FindCollectionByNameOrId("rsvps")
		if err != nil {
			return fmt.Errorf("rsvps waitlisted_at: %w", err)
		}
		rsvps.Fields.Add(&core.DateField{Name: "waitlisted_at"})
		rsvps.AddIndex("idx_rsvps_event_status_waitlisted_at", false, "event, status, waitlisted_at", "")
		if err := app.Save(rsvps); err != nil {
			return fmt.Errorf("rsvps waitlisted_at: %w", err)
		}
		return nil
	}, func(app core.App) error {
		rsvps, err := app.FindCollectionByNameOrId("rsvps")
		if err != nil {
			return fmt.Errorf("rsvps waitlisted_at down: %w", err)
		}
		rsvps.RemoveIndex("idx_rsvps_event_status_waitlisted_at")
		rsvps.Fields.RemoveByName("waitlisted_at")
		if err := app.Save(rsvps); err != nil {
			return fmt.Errorf("rsvps waitlisted_at down: %w", err)
		}
		return nil
	})
}
