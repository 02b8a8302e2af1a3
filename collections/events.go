package collections

import (
	"context"
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Events is the collection's name in the schema; clients rely on it.
const Events = "events"

var eventsSpec = declare(Spec{
	Name:          Events,
	Rank:          5,
	Hooks:         registerEvents,
	Scope:         Scope{Field: "group"},
	Synced:        true,
	Owner:         "created_by",
	ServerManaged: []string{"going_count", "created_by"},
	Fixed:         []string{"group"},
	Query:         []string{"id", "group", "title", "description", "starts_at", "ends_at", "place", "capacity", "going_count", "created_by", "created", "updated", "group.name"},
})

// Event wraps an events record.
type Event struct {
	core.BaseRecordProxy
}

func (*Event) collection() string { return Events }

// Group is the id of the event's group.
func (ev *Event) Group() string { return ev.GetString("group") }

// Title is the event's name.
func (ev *Event) Title() string { return ev.GetString("title") }

// CreatedBy is the id of the user who created the event.
func (ev *Event) CreatedBy() string { return ev.GetString("created_by") }

// Capacity is the number of people who can go; 0 means unlimited.
func (ev *Event) Capacity() int { return ev.GetInt("capacity") }

// GoingCount is the stored number of going RSVPs.
func (ev *Event) GoingCount() int { return ev.GetInt("going_count") }

// StartsAt is when the event starts.
func (ev *Event) StartsAt() types.DateTime { return ev.GetDateTime("starts_at") }

// EndsAt is when the event ends; zero when open-ended.
func (ev *Event) EndsAt() types.DateTime { return ev.GetDateTime("ends_at") }

// IsFull reports whether going people fill capacity. An event may hold more
// than its capacity when the capacity was lowered after people said yes:
// they keep their places, and newcomers wait.
func IsFull(capacity, going int) bool {
	return capacity > 0 && going >= capacity
}

// countGoing counts the going RSVPs of event: going_count is always this
// count taken inside the write's transaction, never an increment.
func countGoing(app core.App, event string) (int, error) {
	return count(app, RSVPs, dbx.HashExp{"event": event, "status": StatusGoing}, "going rsvps of "+event)
}

// tally counts the going and the waitlisted RSVPs of event in one
// statement (an index range of idx_rsvps_event_status_*): recount needs
// both, and an event without a waitlist, the common case, is then spared
// the waitlist query.
func tally(app core.App, event string) (going, waiting int, err error) {
	var n struct {
		Going   int `db:"going"`
		Waiting int `db:"waiting"`
	}
	err = app.DB().NewQuery(`SELECT COALESCE(SUM([[status]] = {:going}), 0) AS [[going]], COALESCE(SUM([[status]] = {:waiting}), 0) AS [[waiting]]
		FROM {{` + RSVPs + `}} WHERE [[event]] = {:event} AND [[status]] IN ({:going}, {:waiting})`).
		Bind(dbx.Params{"event": event, "going": StatusGoing, "waiting": StatusWaitlisted}).One(&n)
	if err != nil {
		return 0, 0, fmt.Errorf("count going and waitlisted rsvps of %s: %w", event, err)
	}
	return n.Going, n.Waiting, nil
}

// refreshEvent brings event up to date after a write to its RSVPs (see
// recount) and stores it when that changed it. Call it inside the write's
// transaction (app), with the write's context; root is the app outside
// it, which the after-success hooks get (storeGoingCount). An event that
// no longer exists (its RSVPs are being deleted with it) needs nothing.
func refreshEvent(ctx context.Context, root, app core.App, event string) error {
	ev, err := Find[Event](app, event)
	if IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	return refreshLoadedEvent(ctx, root, app, ev)
}

// refreshLoadedEvent is refreshEvent for an event read earlier in the same
// transaction (an RSVP's hooks read it before the RSVP's write, which does
// not change the event's row): one read less inside the write lock.
func refreshLoadedEvent(ctx context.Context, root, app core.App, ev *Event) error {
	stored := ev.GoingCount()
	if err := recount(ctx, app, ev); err != nil {
		return err
	}
	if ev.GoingCount() == stored {
		return nil
	}
	if err := storeGoingCount(ctx, root, app, ev); err != nil {
		return fmt.Errorf("going_count of event %s: %w", ev.Id, err)
	}
	return nil
}

// storeGoingCount writes ev's going_count, a derived write, as the Execute
// stage of an event update whose write is one UPDATE of going_count and
// updated, inside the transaction of app. The stage's hooks run as for a
// save (PocketBase's own, which sets updated; the change log's row;
// realtime's capture, which delivers the new count; any other Execute
// hook), and once the transaction ends the after-success (or error) hooks
// run with root, as PocketBase runs a save's. But the row is not
// rewritten column by column: a save's UPDATE sets every column, and
// SQLite then rewrites the event's entry in each of the 5 indexes of
// events (6 pages to the WAL at the commit where this writes 1, measured
// with sqlite3 on the benchmark's data). Not run, as for a save
// without validation (which this write was before): validation, and the
// OnRecordUpdate hooks, which Hearth's own let a derived write through
// unchanged (a JS or Go hook bound there for events does not see a
// going_count change; one bound at the Execute or after-success stage
// does). TestGoingCountWriteIsAnUpdate holds the rest to a save's.
func storeGoingCount(ctx context.Context, root, app core.App, ev *Event) error {
	e := &core.RecordEvent{App: app, Context: derived(ctx), Type: core.ModelEventTypeUpdate}
	e.Record = ev.ProxyRecord()
	err := app.OnRecordUpdateExecute().Trigger(e, func(e *core.RecordEvent) error {
		_, err := e.App.NonconcurrentDB().Update(Events, dbx.Params{
			"going_count": As[Event](e.Record).GoingCount(),
			"updated":     e.Record.GetDateTime("updated").String(),
		}, dbx.HashExp{"id": e.Record.Id}).WithContext(e.Context).Execute()
		return err
	})
	if err != nil {
		return err
	}
	after := &core.ModelEvent{App: root, Context: e.Context, Type: core.ModelEventTypeUpdate}
	after.Model = e.Record
	tx := app.TxInfo()
	if tx == nil {
		return root.OnModelAfterUpdateSuccess().Trigger(after)
	}
	tx.OnComplete(func(txErr error) error {
		if txErr != nil {
			return root.OnModelAfterUpdateError().Trigger(&core.ModelErrorEvent{ModelEvent: *after, Error: txErr})
		}
		return root.OnModelAfterUpdateSuccess().Trigger(after)
	})
	return nil
}

// recount is the one place that derives an event's going_count: it
// promotes the waitlist into the places ev's capacity leaves beside the
// going RSVPs, and sets going_count on ev to the count taken inside the
// write's transaction, never an increment. The caller saves ev.
func recount(ctx context.Context, app core.App, ev *Event) error {
	going, waiting, err := tally(app, ev.Id)
	if err != nil {
		return err
	}
	promoted, err := promoteWaitlist(ctx, app, ev, going, waiting)
	if err != nil {
		return err
	}
	ev.Set("going_count", going+promoted)
	return nil
}

// validateEventDates refuses an event that ends before it starts.
func validateEventDates(ev *Event) *Error {
	if !ev.EndsAt().IsZero() && ev.EndsAt().Before(ev.StartsAt()) {
		return fieldError("ends_at", "validation_ends_before_start", "ends_at cannot be before starts_at.")
	}
	return nil
}

func registerEvents(app core.App, cfg Config) {
	app.OnRecordValidate(Events).BindFunc(func(e *core.RecordEvent) error {
		ev := As[Event](e.Record)
		return mergeValidation(e.Next(), validateEventDates(ev))
	})

	// A new event has nobody going yet, whatever the writer says.
	app.OnRecordCreate(Events).BindFunc(func(e *core.RecordEvent) error {
		e.Record.Set("going_count", 0)
		return e.Next()
	})

	// Any write to an event recounts going_count in its transaction (the
	// record a request loaded may hold a count that changed since), and a
	// raised or removed capacity promotes the waitlist at once. Bound at
	// the Execute stage, as the RSVP hooks are: the transaction opens once
	// validation has passed, outside it.
	app.OnRecordUpdateExecute(Events).BindFunc(func(e *core.RecordEvent) error {
		if isDerived(e.Context) {
			return e.Next()
		}
		return InTx(e, func(txApp core.App) error {
			ev := As[Event](e.Record)
			if err := recount(e.Context, txApp, ev); err != nil {
				return err
			}
			return e.Next()
		})
	})
}
