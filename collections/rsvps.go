package collections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// RSVPs is the collection's name in the schema; clients rely on it.
const RSVPs = "rsvps"

var rsvpsSpec = declare(Spec{
	Name:          RSVPs,
	Rank:          6,
	Hooks:         registerRSVPs,
	Scope:         Scope{Field: "event", Parent: Events},
	Synced:        true,
	Owner:         "user",
	ServerManaged: []string{"waitlisted_at"},
	ServerValues:  map[string][]string{"status": {StatusWaitlisted}},
	Fixed:         []string{"event", "user"},
	Query:         []string{"id", "event", "user", "status", "created", "updated", "event.group", "event.title", "event.starts_at", "user.name"},
})

// RSVP wraps an rsvps record.
type RSVP struct {
	core.BaseRecordProxy
}

// Event is the id of the RSVP's event.
func (r *RSVP) Event() string { return r.GetString("event") }

// User is the id of the person answering.
func (r *RSVP) User() string { return r.GetString("user") }

// Status is going, maybe, declined or waitlisted.
func (r *RSVP) Status() string { return r.GetString("status") }

// WaitlistedAt is when the RSVP joined the waitlist; zero when it is not on it.
func (r *RSVP) WaitlistedAt() types.DateTime { return r.GetDateTime("waitlisted_at") }

func (*RSVP) collection() string { return RSVPs }

// AdmitStatus decides the status an RSVP is stored with when requested is
// asked of an RSVP stored as stored ("" for a new one) on an event with
// capacity and going people, and since when it waits if it is waitlisted:
//   - going is granted while there is room; when the event is full it is
//     stored as waitlisted, joining the end of the waitlist at;
//   - someone already going stays going;
//   - someone waitlisted who asks for going again keeps their place;
//   - any other answer leaves the waitlist.
func AdmitStatus(requested, stored string, waitingSince types.DateTime, capacity, going int, at time.Time) (string, types.DateTime) {
	switch {
	case requested == StatusGoing && stored == StatusGoing:
		return StatusGoing, types.DateTime{}
	case (requested == StatusGoing || requested == StatusWaitlisted) && stored == StatusWaitlisted:
		return StatusWaitlisted, waitingSince
	case requested == StatusWaitlisted, requested == StatusGoing && IsFull(capacity, going):
		since, _ := types.ParseDateTime(at)
		return StatusWaitlisted, since
	default:
		return requested, types.DateTime{}
	}
}

// promoteWaitlist turns the oldest waitlisted RSVPs of ev into going ones,
// as many as fit beside going people (all of them when the capacity is
// unlimited), and returns how many it promoted. waits is how many
// RSVPs of ev wait (tally): none spares the query. The waitlist is served in
// the order people joined it; RSVPs that joined in the same millisecond
// are served in insertion order.
func promoteWaitlist(ctx context.Context, app core.App, ev *Event, going, waits int) (int, error) {
	if waits == 0 {
		return 0, nil
	}
	q := app.RecordQuery(RSVPs).
		AndWhere(dbx.HashExp{"event": ev.Id, "status": StatusWaitlisted}).
		OrderBy("waitlisted_at ASC", "rowid ASC")
	if ev.Capacity() > 0 {
		free := ev.Capacity() - going
		if free <= 0 {
			return 0, nil
		}
		q = q.Limit(int64(free))
	}
	var waiting []*core.Record
	if err := q.All(&waiting); err != nil {
		return 0, fmt.Errorf("waitlist of event %s: %w", ev.Id, err)
	}
	for _, r := range waiting {
		r.Set("status", StatusGoing)
		r.Set("waitlisted_at", "")
		if err := app.SaveNoValidateWithContext(promotion(ctx), r); err != nil {
			return 0, fmt.Errorf("promote rsvp %s: %w", r.Id, err)
		}
	}
	return len(waiting), nil
}

// promotionKey marks, in a save's context, an RSVP's promotion from the
// waitlist (promoteWaitlist), the one write that makes a waitlisted RSVP
// going: the RSVP hooks keep a client's going on the waitlist.
type promotionKey struct{}

func promotion(ctx context.Context) context.Context {
	return context.WithValue(derived(ctx), promotionKey{}, true)
}

// IsPromotion reports whether an RSVP save with ctx is a promotion from
// the waitlist (package push sends its person a notification).
func IsPromotion(ctx context.Context) bool {
	v, _ := ctx.Value(promotionKey{}).(bool)
	return v
}

// CheckCanRSVP refuses an RSVP of someone who is not a member of the
// event's group (member, as read inside the write's transaction). The API
// rules check this before the write; checking again inside the write's
// transaction closes the gap in which the person left.
func CheckCanRSVP(member bool) error {
	if !member {
		return Errorf(EFORBIDDEN, "Only members of the event's group can answer it.")
	}
	return nil
}

// The columns that the RSVP hooks' reads add beside the event's own
// (RecordFromRow takes only the collection's fields from a row).
const (
	colStoredStatus = "__rsvp_status"
	colStoredSince  = "__rsvp_waitlisted_at"
	colMember       = "__rsvp_member"
)

// eventForCreate reads, in one statement, the event a new RSVP answers and
// whether user is a member of its group.
func eventForCreate(app core.App, event, user string) (ev *Event, member bool, err error) {
	row := dbx.NullStringMap{}
	err = app.DB().NewQuery(`SELECT e.*, EXISTS (SELECT 1 FROM {{` + Memberships + `}} m WHERE m.[[group]] = e.[[group]] AND m.[[user]] = {:user}) AS [[` + colMember + `]]
		FROM {{` + Events + `}} e WHERE e.[[id]] = {:event}`).
		Bind(dbx.Params{"event": event, "user": user}).One(&row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, notFound(err, "No %s record %s.", Events, event)
	}
	if err != nil {
		return nil, false, fmt.Errorf("event %s of a new rsvp: %w", event, err)
	}
	ev, err = eventFromRow(app, row)
	return ev, row[colMember].String == "1", err
}

// eventForUpdate reads, in one statement, the event an RSVP update answers
// and the RSVP's stored status and waitlisted_at: the stored ones, not
// those the request loaded, since a promotion may have changed them.
func eventForUpdate(app core.App, rsvp, event string) (ev *Event, status string, since types.DateTime, err error) {
	row := dbx.NullStringMap{}
	err = app.DB().NewQuery(`SELECT e.*, r.[[status]] AS [[` + colStoredStatus + `]], r.[[waitlisted_at]] AS [[` + colStoredSince + `]]
		FROM {{` + Events + `}} e, {{` + RSVPs + `}} r WHERE e.[[id]] = {:event} AND r.[[id]] = {:rsvp}`).
		Bind(dbx.Params{"event": event, "rsvp": rsvp}).One(&row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", since, notFound(err, "No %s record %s with its %s record %s.", RSVPs, rsvp, Events, event)
	}
	if err != nil {
		return nil, "", since, fmt.Errorf("rsvp %s and its event %s: %w", rsvp, event, err)
	}
	if ev, err = eventFromRow(app, row); err != nil {
		return nil, "", since, err
	}
	if s := row[colStoredSince].String; s != "" {
		if since, err = types.ParseDateTime(s); err != nil {
			return nil, "", since, fmt.Errorf("rsvp %s: waitlisted_at: %w", rsvp, err)
		}
	}
	return ev, row[colStoredStatus].String, since, nil
}

func eventFromRow(app core.App, row dbx.NullStringMap) (*Event, error) {
	c, err := app.FindCachedCollectionByNameOrId(Events)
	if err != nil {
		return nil, fmt.Errorf("collection %s: %w", Events, err)
	}
	r, err := RecordFromRow(c, row)
	if err != nil {
		return nil, err
	}
	return As[Event](r), nil
}

// The RSVP hooks bind the Execute stage, after PocketBase's validation
// (its relation checks are reads of their own) and outside the write's
// transaction, which they open there: the writer connection is held for
// the write and what keeps its derived values true, not for validating
// (plain PocketBase validates outside the write lock too). What they set,
// status and waitlisted_at, is one of the values the schema allows.
func registerRSVPs(app core.App, cfg Config) {
	now := cfg.Now
	app.OnRecordCreateExecute(RSVPs).BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(txApp core.App) error {
			r := As[RSVP](e.Record)
			ev, member, err := eventForCreate(txApp, r.Event(), r.User())
			if err != nil {
				// Validation found the event; it went since.
				return err
			}
			if err := CheckCanRSVP(member); err != nil {
				return err
			}
			if err := admit(txApp, r, "", types.DateTime{}, ev, now()); err != nil {
				return err
			}
			e.Context = withParent(e.Context, ev.ProxyRecord())
			if err := e.Next(); err != nil {
				return err
			}
			return refreshLoadedEvent(e.Context, app, txApp, ev)
		})
	})

	app.OnRecordUpdateExecute(RSVPs).BindFunc(func(e *core.RecordEvent) error {
		if isDerived(e.Context) {
			return e.Next()
		}
		return InTx(e, func(txApp core.App) error {
			r := As[RSVP](e.Record)
			ev, stored, since, err := eventForUpdate(txApp, r.Id, r.Event())
			if err != nil {
				return err
			}
			if err := admit(txApp, r, stored, since, ev, now()); err != nil {
				return err
			}
			e.Context = withParent(e.Context, ev.ProxyRecord())
			if err := e.Next(); err != nil {
				return err
			}
			return refreshLoadedEvent(e.Context, app, txApp, ev)
		})
	})

	app.OnRecordDelete(RSVPs).BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(txApp core.App) error {
			if err := e.Next(); err != nil {
				return err
			}
			return refreshEvent(e.Context, app, txApp, As[RSVP](e.Record).Event())
		})
	})
}

// admit sets r's status and waitlisted_at as AdmitStatus decides at at.
func admit(app core.App, r *RSVP, stored string, waitingSince types.DateTime, ev *Event, at time.Time) error {
	// Only a capacity makes the count matter (IsFull); an event without
	// one is spared the query inside the write lock.
	going := 0
	if ev.Capacity() > 0 {
		n, err := countGoing(app, ev.Id)
		if err != nil {
			return err
		}
		going = n
	}
	status, since := AdmitStatus(r.Status(), stored, waitingSince, ev.Capacity(), going, at)
	r.Set("status", status)
	if since.IsZero() {
		r.Set("waitlisted_at", "")
	} else {
		r.Set("waitlisted_at", since)
	}
	return nil
}
