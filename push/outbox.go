package push

import (
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// The outbox tables, created by pb_migrations/1764115400_push.go.
const (
	outboxTable = "_hearth_push_outbox"
	pushesTable = "_hearth_pushes"
)

// What an outbox row asks for.
const (
	kindMessage   = "message"   // a new message: its group's members
	kindEvent     = "event"     // a new event: its group's members
	kindPromotion = "promotion" // an RSVP promoted from the waitlist: its user
	kindReminder  = "reminder"  // an event about to start: its going members
)

// The states of a push. pending waits to be sent (again); accepted has an
// Expo ticket and waits for its receipt; the others are final.
const (
	statePending     = "pending"
	stateAccepted    = "accepted"
	stateDelivered   = "delivered"   // the receipt said ok
	stateFailed      = "failed"      // a ticket or receipt error, or too many attempts
	stateDropped     = "dropped"     // not sent: the recipient may no longer have it
	stateUnconfirmed = "unconfirmed" // accepted, but no receipt came while Expo keeps them
)

// entry is one outbox row: what changed, in which group, by whom.
type entry struct {
	ID      int64  `db:"id"`
	Created int64  `db:"created"`
	Kind    string `db:"kind"`
	Record  string `db:"record"`
	Group   string `db:"group"`
	Actor   string `db:"actor"`
	Key     string `db:"key"`
}

// insertEntry writes e, in the transaction of the change that asked for it.
func insertEntry(app core.App, e entry, at time.Time) error {
	_, err := app.DB().Insert(outboxTable, dbx.Params{
		"created": at.UnixMilli(),
		"kind":    e.Kind,
		"record":  e.Record,
		"group":   e.Group,
		"actor":   e.Actor,
	}).Execute()
	if err != nil {
		return fmt.Errorf("push: outbox %s %s: %w", e.Kind, e.Record, err)
	}
	return nil
}
