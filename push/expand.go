package push

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// expandBatch is how many outbox rows one round expands before it sends.
const expandBatch = 50

// notice is what one outbox row tells the members it concerns: the same
// text for each of their phones.
type notice struct {
	kind, record, group string
	title, body         string
	data                map[string]any
	// who narrows the group's members, as SQL on the memberships row m
	// with params.
	who    string
	params dbx.Params
	// phones is how many phones who reaches, when known (-1 otherwise):
	// a message that joins a waiting push on each of them stores nothing
	// new.
	phones int64
}

// expand turns the oldest unexpanded outbox rows into pushes and returns
// how many rows it expanded. Each row is expanded in its own transaction
// with a fixed number of statements, however many recipients it has, so
// that the writes waiting for SQLite's write lock never wait long. The
// recipients are read as they are now, not as they were at the write: a
// member who left since gets nothing, and so does a message deleted since.
func (w *worker) expand() (int, error) {
	var todo []entry
	err := w.app.DB().NewQuery(`SELECT [[id]], [[created]], [[kind]], [[record]], [[group]], [[actor]], COALESCE([[key]], '') AS [[key]]
		FROM {{` + outboxTable + `}} WHERE [[expanded]] = 0 ORDER BY [[id]] LIMIT {:n}`).
		Bind(dbx.Params{"n": expandBatch}).All(&todo)
	if err != nil {
		return 0, fmt.Errorf("push: read the outbox: %w", err)
	}
	// A row that fails is left for the next round and does not hold up
	// the rows after it.
	var errs []error
	for _, o := range todo {
		err := w.app.RunInTransaction(func(tx core.App) error {
			now := w.cfg.Now()
			var pushes int64
			n, err := noticeFor(tx, o, now)
			if err != nil {
				return err
			}
			if n != nil {
				if pushes, err = w.place(tx, o, n, now); err != nil {
					return err
				}
			}
			_, err = tx.DB().Update(outboxTable, dbx.Params{"expanded": now.UnixMilli(), "pushes": pushes}, dbx.HashExp{"id": o.ID}).Execute()
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("push: expand outbox row %d (%s %s): %w", o.ID, o.Kind, o.Record, err))
		}
	}
	if len(errs) > 0 {
		return 0, errors.Join(errs...)
	}
	return len(todo), nil
}

// noticeFor works out what one outbox row says and to whom: never the
// person who made the change, never someone outside the group, never a
// member who muted it, and nothing (nil) for a record that is gone or a
// group where nobody else has a phone.
func noticeFor(app core.App, o entry, now time.Time) (*notice, error) {
	var phones int64
	if o.Group != "" {
		// One indexed question first: most of the work below is for
		// nothing in a group where no other member has a phone.
		err := app.DB().NewQuery(`SELECT COUNT(*) ` + othersPhones).
			Bind(dbx.Params{"group": o.Group, "actor": o.Actor}).Row(&phones)
		if err != nil || phones == 0 {
			return nil, err
		}
	}
	n, err := kindNotice(app, o, now)
	if n == nil || err != nil {
		return nil, err
	}
	n.phones = -1
	if n.kind == kindMessage && n.group == o.Group && n.params["actor"] == o.Actor {
		n.phones = phones
	}
	return n, nil
}

func kindNotice(app core.App, o entry, now time.Time) (*notice, error) {
	switch o.Kind {
	case kindMessage:
		return messageNotice(app, o)
	case kindEvent:
		return eventNotice(app, o)
	case kindPromotion:
		return promotionNotice(app, o)
	case kindReminder:
		return reminderNotice(app, o, now)
	}
	return nil, fmt.Errorf("unknown outbox kind %q", o.Kind)
}

func messageNotice(app core.App, o entry) (*notice, error) {
	msg, err := find[collections.Message](app, o.Record)
	if msg == nil || err != nil {
		return nil, err
	}
	return postNotice(app, kindMessage, msg.Id, msg.Group(), msg.Author(), func(author string) string {
		return messageBody(author, msg.Body(), len(msg.Attachments()))
	})
}

func eventNotice(app core.App, o entry) (*notice, error) {
	ev, err := find[collections.Event](app, o.Record)
	if ev == nil || err != nil {
		return nil, err
	}
	return postNotice(app, kindEvent, ev.Id, ev.Group(), ev.CreatedBy(), func(creator string) string {
		return eventBody(creator, ev.Title())
	})
}

// postNotice is the notice of something a member posted to group (a
// message, an event), for every member but the one who posted it; body
// writes its text from the poster's name.
func postNotice(app core.App, kind, record, group, actor string, body func(actorName string) string) (*notice, error) {
	g, err := find[collections.Group](app, group)
	if g == nil || err != nil {
		return nil, err
	}
	return &notice{
		kind: kind, record: record, group: g.Id, title: g.Name(),
		body: body(userName(app, actor)),
		// The kind names the record too: {"message": id} or {"event": id}.
		data: map[string]any{"type": kind, "group": g.Id, kind: record},
		who:  "m.[[user]] != {:actor}", params: dbx.Params{"actor": actor},
	}, nil
}

// promotionNotice: the promoted person only, if they are still going.
func promotionNotice(app core.App, o entry) (*notice, error) {
	rsvp, err := find[collections.RSVP](app, o.Record)
	if rsvp == nil || err != nil || rsvp.Status() != collections.StatusGoing {
		return nil, err
	}
	ev, err := find[collections.Event](app, rsvp.Event())
	if ev == nil || err != nil {
		return nil, err
	}
	group, err := find[collections.Group](app, ev.Group())
	if group == nil || err != nil {
		return nil, err
	}
	return &notice{
		kind: kindPromotion, record: rsvp.Id, group: group.Id, title: group.Name(),
		body: promotionBody(ev.Title()),
		data: map[string]any{"type": kindPromotion, "group": group.Id, "event": ev.Id, "rsvp": rsvp.Id},
		who:  "m.[[user]] = {:target}", params: dbx.Params{"target": rsvp.User()},
	}, nil
}

// reminderNotice: the going members, if the event still starts when the
// reminder was scheduled for (one moved since has its own reminder at the
// new time) and has not started yet.
func reminderNotice(app core.App, o entry, now time.Time) (*notice, error) {
	ev, err := find[collections.Event](app, o.Record)
	if ev == nil || err != nil {
		return nil, err
	}
	starts := ev.StartsAt()
	if o.Key != reminderKey(ev.Id, starts) || !starts.Time().After(now) {
		return nil, nil
	}
	group, err := find[collections.Group](app, ev.Group())
	if group == nil || err != nil {
		return nil, err
	}
	return &notice{
		kind: kindReminder, record: ev.Id, group: group.Id, title: group.Name(),
		body:   reminderBody(ev.Title(), starts.Time().Sub(now)),
		data:   map[string]any{"type": kindReminder, "group": group.Id, "event": ev.Id},
		who:    "EXISTS (SELECT 1 FROM {{rsvps}} r WHERE r.[[event]] = {:event} AND r.[[user]] = m.[[user]] AND r.[[status]] = 'going')",
		params: dbx.Params{"event": ev.Id},
	}, nil
}

// recipientsCTE names, as "r", the phones of n's recipients: members of
// its group who match n.who and have not muted it, with the id of the
// last message push of the group to that member and phone ("last").
const recipientsCTE = `WITH r AS (
	SELECT d.[[user]] AS [[user]], d.[[token]] AS [[token]],
		CASE WHEN {:kind} = 'message' THEN (SELECT MAX(p.[[id]]) FROM {{` + pushesTable + `}} p
			WHERE p.[[kind]] = 'message' AND p.[[user]] = d.[[user]] AND p.[[token]] = d.[[token]] AND p.[[group]] = {:group}) END AS [[last]]
	FROM {{memberships}} m
	JOIN {{devices}} d ON d.[[user]] = m.[[user]]
	WHERE m.[[group]] = {:group} AND (%s)
		AND NOT EXISTS (SELECT 1 FROM {{mutes}} x WHERE x.[[user]] = m.[[user]] AND x.[[group]] = m.[[group]])
)`

// place stores the pushes of n, one per recipient phone, and returns how
// many phones it reached. A message push is held by the coalescing
// window: while a push of the group to the same member and phone waits to
// be sent, the message joins it (its count grows; the push is sent as a
// summary, "4 new messages in Climbers", see sendDue); when one was sent
// less than a window ago, the new one waits for the window's end. Joining
// writes only unindexed columns, so a message to a large group that is
// mid-conversation costs little.
func (w *worker) place(tx core.App, o entry, n *notice, now time.Time) (int64, error) {
	data, err := json.Marshal(n.data)
	if err != nil {
		return 0, err
	}
	params := dbx.Params{
		"outbox": o.ID, "kind": n.kind, "record": n.record, "group": n.group,
		"title": n.title, "body": n.body, "data": string(data),
		"now": now.UnixMilli(), "window": w.cfg.Window.Milliseconds(),
	}
	for k, v := range n.params {
		params[k] = v
	}
	cte := fmt.Sprintf(recipientsCTE, n.who)

	var joined int64
	if n.kind == kindMessage {
		res, err := tx.DB().NewQuery(cte + `
			UPDATE {{` + pushesTable + `}} SET [[count]] = [[count]] + 1, [[outbox]] = {:outbox}, [[record]] = {:record}
			WHERE [[id]] IN (SELECT [[last]] FROM r) AND [[state]] = 'pending'`).Bind(params).Execute()
		if err != nil {
			return 0, fmt.Errorf("join waiting pushes: %w", err)
		}
		joined, _ = res.RowsAffected()
		if joined == n.phones {
			return joined, nil
		}
	}

	// The due time: now, or for a message the end of the window of the
	// last one sent (0 when none was).
	due := "{:now}"
	if n.kind == kindMessage {
		due = "MAX({:now}, COALESCE(p.[[sent]], 0) + {:window})"
	}
	res, err := tx.DB().NewQuery(cte + `
		INSERT INTO {{` + pushesTable + `}} ([[outbox]], [[kind]], [[record]], [[group]], [[user]], [[token]], [[title]], [[body]], [[data]],
			[[count]], [[state]], [[due]], [[next_at]], [[created]], [[updated]])
		SELECT {:outbox}, {:kind}, {:record}, {:group}, r.[[user]], r.[[token]], {:title}, {:body}, {:data},
			1, 'pending', ` + due + `, ` + due + `, {:now}, {:now}
		FROM r LEFT JOIN {{` + pushesTable + `}} p ON p.[[id]] = r.[[last]]
		WHERE p.[[id]] IS NULL OR p.[[state]] != 'pending' OR {:kind} != 'message'
		ORDER BY r.[[user]], r.[[token]]`).Bind(params).Execute()
	if err != nil {
		return 0, fmt.Errorf("store pushes: %w", err)
	}
	inserted, _ := res.RowsAffected()
	return joined + inserted, nil
}

// find returns the record id through its wrapper T, or nil when it is gone
// (a notice of a deleted record is dropped).
func find[T any, W collections.Wrapper[T]](app core.App, id string) (W, error) {
	if id == "" {
		return nil, nil
	}
	r, err := collections.Find[T, W](app, id)
	if collections.IsNotFound(err) {
		return nil, nil
	}
	return r, err
}

// userName is the display name of a user, "" when there is none.
func userName(app core.App, id string) string {
	if u, err := find[collections.User](app, id); u != nil && err == nil {
		return u.Name()
	}
	return ""
}

// reminderKey names the reminder of event at one start time: a moved event
// gets a new key, so the job schedules it again for the new time.
func reminderKey(event string, starts types.DateTime) string {
	return kindReminder + ":" + event + "@" + starts.String()
}

// dateOf renders t as PocketBase stores dates, for comparisons in SQL.
func dateOf(t time.Time) string {
	return t.UTC().Format(types.DefaultDateLayout)
}

// trimError keeps a stored error message short.
func trimError(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 500 {
		return s[:500]
	}
	return s
}
