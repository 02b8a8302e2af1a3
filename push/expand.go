package push

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// expandBatch is how many outbox rows one round expands before it sends.
const expandBatch = 50

// draft is one notification for one phone, before the window decides when
// it goes.
type draft struct {
	user, token  string
	title, body  string
	data         map[string]any
	kind, record string
	group        string
	groupName    string // for a message's summary
}

// phone is a recipient's registered device.
type phone struct {
	User  string `db:"user"`
	Token string `db:"token"`
}

// expand turns the oldest unexpanded outbox rows into pushes, each row in
// its own transaction, and returns how many rows it expanded. The
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
	for _, o := range todo {
		err := w.app.RunInTransaction(func(tx core.App) error {
			now := w.cfg.Now()
			drafts, err := draftsFor(tx, o, now)
			if err != nil {
				return err
			}
			for _, d := range drafts {
				if err := w.place(tx, o, d, now); err != nil {
					return err
				}
			}
			_, err = tx.DB().Update(outboxTable, dbx.Params{"expanded": now.UnixMilli(), "pushes": len(drafts)}, dbx.HashExp{"id": o.ID}).Execute()
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("push: expand outbox row %d (%s %s): %w", o.ID, o.Kind, o.Record, err)
		}
	}
	return len(todo), nil
}

// draftsFor works out who gets what for one outbox row: never the person
// who made the change, never someone outside the group, never a member who
// muted it, and nothing for a record that is gone.
func draftsFor(app core.App, o entry, now time.Time) ([]draft, error) {
	switch o.Kind {
	case kindMessage:
		return messageDrafts(app, o)
	case kindEvent:
		return eventDrafts(app, o)
	case kindPromotion:
		return promotionDrafts(app, o)
	case kindReminder:
		return reminderDrafts(app, o, now)
	}
	return nil, fmt.Errorf("unknown outbox kind %q", o.Kind)
}

func messageDrafts(app core.App, o entry) ([]draft, error) {
	msg, err := find(app, collections.Messages, o.Record)
	if msg == nil || err != nil {
		return nil, err
	}
	group, err := find(app, collections.Groups, msg.GetString("group"))
	if group == nil || err != nil {
		return nil, err
	}
	author := msg.GetString("author")
	phones, err := memberPhones(app, group.Id, dbx.Not(dbx.HashExp{"m.user": author}))
	if err != nil {
		return nil, err
	}
	body := messageBody(userName(app, author), msg.GetString("body"), len(msg.GetStringSlice("attachments")))
	data := map[string]any{"type": kindMessage, "group": group.Id, "message": msg.Id}
	return drafts(phones, draft{title: group.GetString("name"), body: body, data: data, kind: kindMessage, record: msg.Id, group: group.Id, groupName: group.GetString("name")}), nil
}

func eventDrafts(app core.App, o entry) ([]draft, error) {
	ev, err := find(app, collections.Events, o.Record)
	if ev == nil || err != nil {
		return nil, err
	}
	group, err := find(app, collections.Groups, ev.GetString("group"))
	if group == nil || err != nil {
		return nil, err
	}
	creator := ev.GetString("created_by")
	phones, err := memberPhones(app, group.Id, dbx.Not(dbx.HashExp{"m.user": creator}))
	if err != nil {
		return nil, err
	}
	data := map[string]any{"type": kindEvent, "group": group.Id, "event": ev.Id}
	return drafts(phones, draft{title: group.GetString("name"), body: eventBody(userName(app, creator), ev.GetString("title")), data: data, kind: kindEvent, record: ev.Id, group: group.Id}), nil
}

// promotionDrafts: the promoted person only, if they are still going.
func promotionDrafts(app core.App, o entry) ([]draft, error) {
	rsvp, err := find(app, collections.RSVPs, o.Record)
	if rsvp == nil || err != nil || rsvp.GetString("status") != collections.StatusGoing {
		return nil, err
	}
	ev, err := find(app, collections.Events, rsvp.GetString("event"))
	if ev == nil || err != nil {
		return nil, err
	}
	group, err := find(app, collections.Groups, ev.GetString("group"))
	if group == nil || err != nil {
		return nil, err
	}
	phones, err := memberPhones(app, group.Id, dbx.HashExp{"m.user": rsvp.GetString("user")})
	if err != nil {
		return nil, err
	}
	data := map[string]any{"type": kindPromotion, "group": group.Id, "event": ev.Id, "rsvp": rsvp.Id}
	return drafts(phones, draft{title: group.GetString("name"), body: promotionBody(ev.GetString("title")), data: data, kind: kindPromotion, record: rsvp.Id, group: group.Id}), nil
}

// reminderDrafts: the going members, if the event still starts when the
// reminder was scheduled for (one moved since has its own reminder at the
// new time) and has not started yet.
func reminderDrafts(app core.App, o entry, now time.Time) ([]draft, error) {
	ev, err := find(app, collections.Events, o.Record)
	if ev == nil || err != nil {
		return nil, err
	}
	starts := ev.GetDateTime("starts_at")
	if o.Key != reminderKey(ev.Id, starts) || !starts.Time().After(now) {
		return nil, nil
	}
	group, err := find(app, collections.Groups, ev.GetString("group"))
	if group == nil || err != nil {
		return nil, err
	}
	going := dbx.Exists(dbx.NewExp("SELECT 1 FROM {{rsvps}} r WHERE r.[[event]] = {:event} AND r.[[user]] = m.[[user]] AND r.[[status]] = 'going'",
		dbx.Params{"event": ev.Id}))
	phones, err := memberPhones(app, group.Id, going)
	if err != nil {
		return nil, err
	}
	data := map[string]any{"type": kindReminder, "group": group.Id, "event": ev.Id}
	return drafts(phones, draft{title: group.GetString("name"), body: reminderBody(ev.GetString("title"), starts.Time().Sub(now)), data: data, kind: kindReminder, record: ev.Id, group: group.Id}), nil
}

// memberPhones returns the phones of group's members who match where and
// have not muted it.
func memberPhones(app core.App, group string, where dbx.Expression) ([]phone, error) {
	var out []phone
	err := app.DB().Select("d.user AS user", "d.token AS token").
		From(collections.Memberships+" m").
		InnerJoin(collections.Devices+" d", dbx.NewExp("[[d.user]] = [[m.user]]")).
		Where(dbx.HashExp{"m.group": group}).
		AndWhere(where).
		AndWhere(dbx.NotExists(dbx.NewExp("SELECT 1 FROM {{mutes}} x WHERE x.[[user]] = m.[[user]] AND x.[[group]] = m.[[group]]"))).
		OrderBy("d.user", "d.token").
		All(&out)
	if err != nil {
		return nil, fmt.Errorf("phones of group %s: %w", group, err)
	}
	return out, nil
}

func drafts(phones []phone, d draft) []draft {
	out := make([]draft, len(phones))
	for i, p := range phones {
		out[i] = d
		out[i].user, out[i].token = p.User, p.Token
	}
	return out
}

// find returns the record, or nil when it is gone.
func find(app core.App, collection, id string) (*core.Record, error) {
	if id == "" {
		return nil, nil
	}
	r, err := app.FindRecordById(collection, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", collection, id, err)
	}
	return r, nil
}

// userName is the display name of a user, "" when there is none.
func userName(app core.App, id string) string {
	if u, err := find(app, collections.Users, id); u != nil && err == nil {
		return u.GetString("name")
	}
	return ""
}

// reminderKey names the reminder of event at one start time: a moved event
// gets a new key, so the job schedules it again for the new time.
func reminderKey(event string, starts types.DateTime) string {
	return kindReminder + ":" + event + "@" + starts.String()
}

// place stores d. A message push is held by the coalescing window: while
// a push for the same member, phone and group waits to be sent, the
// message joins it (which becomes a summary); when one was sent less than
// a window ago, the new one waits for the window's end.
func (w *worker) place(app core.App, o entry, d draft, now time.Time) error {
	due := now.UnixMilli()
	if d.kind == kindMessage {
		var last struct {
			ID    int64  `db:"id"`
			State string `db:"state"`
			Sent  int64  `db:"sent"`
			Count int    `db:"count"`
		}
		err := app.DB().Select("id", "state", "sent", "count").From(pushesTable).
			Where(dbx.HashExp{"kind": kindMessage, "user": d.user, "token": d.token, "group": d.group}).
			OrderBy("id DESC").Limit(1).One(&last)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("last message push to %s: %w", d.user, err)
		case last.State == statePending:
			return joinSummary(app, o, d, last.ID, last.Count+1, now)
		case last.Sent > 0 && last.Sent+w.cfg.Window.Milliseconds() > due:
			due = last.Sent + w.cfg.Window.Milliseconds()
		}
	}
	data, err := json.Marshal(d.data)
	if err != nil {
		return err
	}
	_, err = app.DB().Insert(pushesTable, dbx.Params{
		"outbox": o.ID, "kind": d.kind, "record": d.record, "group": d.group,
		"user": d.user, "token": d.token, "title": d.title, "body": d.body, "data": string(data),
		"count": 1, "state": statePending, "due": due, "next_at": due,
		"created": now.UnixMilli(), "updated": now.UnixMilli(),
	}).Execute()
	if err != nil {
		return fmt.Errorf("push to %s: %w", d.user, err)
	}
	return nil
}

// joinSummary folds the message of d into the waiting push id, which then
// stands for count messages.
func joinSummary(app core.App, o entry, d draft, id int64, count int, now time.Time) error {
	fields := maps.Clone(d.data)
	fields["count"] = count
	data, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	_, err = app.DB().Update(pushesTable, dbx.Params{
		"outbox": o.ID, "record": d.record, "title": d.title, "body": summaryBody(count, d.groupName),
		"data": string(data), "count": count, "updated": now.UnixMilli(),
	}, dbx.HashExp{"id": id}).Execute()
	if err != nil {
		return fmt.Errorf("join push %d: %w", id, err)
	}
	return nil
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
