package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// due is a push ready to go, with what is true of its recipient now.
type due struct {
	ID       int64  `db:"id"`
	Kind     string `db:"kind"`
	Record   string `db:"record"`
	User     string `db:"user"`
	Token    string `db:"token"`
	Title    string `db:"title"`
	Body     string `db:"body"`
	Data     string `db:"data"`
	Count    int    `db:"count"`
	Attempts int    `db:"attempts"`
	// Why it may not go any more ("" when it may).
	Drop string `db:"drop_reason"`
}

// dueQuery selects up to one request's worth of pushes whose time has
// come, in order, and checks each against the database as it is now: a
// push waits in the outbox for a window, or for Expo to come back, and
// meanwhile its phone may have been signed in by someone else, its
// recipient may have left or muted the group, or its subject been deleted.
const dueQuery = `SELECT p.[[id]], p.[[kind]], p.[[record]], p.[[user]], p.[[token]], p.[[title]], p.[[body]], p.[[data]], p.[[count]], p.[[attempts]],
	CASE
		WHEN NOT EXISTS (SELECT 1 FROM {{devices}} d WHERE d.[[token]] = p.[[token]] AND d.[[user]] = p.[[user]])
			THEN 'the phone is no longer registered to the recipient'
		WHEN p.[[group]] != '' AND NOT EXISTS (SELECT 1 FROM {{memberships}} m WHERE m.[[group]] = p.[[group]] AND m.[[user]] = p.[[user]])
			THEN 'the recipient is no longer a member of the group'
		WHEN EXISTS (SELECT 1 FROM {{mutes}} x WHERE x.[[group]] = p.[[group]] AND x.[[user]] = p.[[user]])
			THEN 'the recipient muted the group'
		WHEN p.[[kind]] = 'message' AND p.[[count]] = 1 AND NOT EXISTS (SELECT 1 FROM {{messages}} s WHERE s.[[id]] = p.[[record]])
			THEN 'the message was deleted'
		WHEN p.[[kind]] = 'event' AND NOT EXISTS (SELECT 1 FROM {{events}} s WHERE s.[[id]] = p.[[record]])
			THEN 'the event was deleted'
		WHEN p.[[kind]] = 'reminder' AND NOT EXISTS (SELECT 1 FROM {{events}} s WHERE s.[[id]] = p.[[record]] AND s.[[starts_at]] > {:nowDate})
			THEN 'the event was deleted or has started'
		WHEN p.[[kind]] = 'promotion' AND NOT EXISTS (SELECT 1 FROM {{rsvps}} s WHERE s.[[id]] = p.[[record]] AND s.[[status]] = 'going')
			THEN 'the RSVP is no longer going'
		ELSE ''
	END AS [[drop_reason]]
	FROM {{` + pushesTable + `}} p
	WHERE p.[[state]] = 'pending' AND p.[[next_at]] <= {:now}
	ORDER BY p.[[next_at]], p.[[id]]
	LIMIT {:limit}`

// sendDue sends one request's worth of due pushes and records the outcome
// of each. It returns how many pushes it settled (sent or dropped), 0 when
// none was due, and a *requestError when the request as a whole failed.
func (w *worker) sendDue(ctx context.Context) (int, error) {
	now := w.cfg.Now()
	var batch []due
	err := w.app.DB().NewQuery(dueQuery).
		Bind(dbx.Params{"now": now.UnixMilli(), "nowDate": dateOf(now), "limit": sendBatch}).
		All(&batch)
	if err != nil {
		return 0, fmt.Errorf("push: read due pushes: %w", err)
	}
	if len(batch) == 0 {
		return 0, nil
	}

	var sendable, dropped []due
	var msgs []message
	for _, p := range batch {
		if p.Drop != "" {
			dropped = append(dropped, p)
			continue
		}
		m, err := p.message()
		if err != nil {
			return 0, err
		}
		sendable = append(sendable, p)
		msgs = append(msgs, m)
	}
	if len(dropped) > 0 {
		if err := w.drop(dropped, now); err != nil {
			return 0, err
		}
	}
	if len(sendable) == 0 {
		return len(dropped), nil
	}

	w.counters.requests.Add(1)
	tickets, sendErr := w.sender.send(ctx, msgs)
	if ctx.Err() != nil {
		// Shutting down in the middle of the request: nothing is known of
		// it, so the pushes stay pending and go again after the restart.
		return 0, ctx.Err()
	}
	now = w.cfg.Now()
	var reqErr *requestError
	switch {
	case errors.As(sendErr, &reqErr):
		w.counters.requestFailures.Add(1)
		if err := w.failRequest(sendable, reqErr, now); err != nil {
			return 0, err
		}
		return len(dropped), reqErr
	case sendErr != nil:
		return 0, fmt.Errorf("push: send: %w", sendErr)
	}
	if err := w.recordTickets(sendable, tickets, now); err != nil {
		return 0, err
	}
	return len(batch), nil
}

// message is p in Expo's format. A message push that several messages
// joined is sent as their summary, naming the last of them.
func (p due) message() (message, error) {
	m := message{To: p.Token, Title: p.Title, Body: p.Body, Data: json.RawMessage(p.Data), Sound: "default", Priority: "high"}
	if p.Kind != kindMessage || p.Count < 2 {
		return m, nil
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(p.Data), &data); err != nil {
		return m, fmt.Errorf("push: data of push %d: %w", p.ID, err)
	}
	data["message"], data["count"] = p.Record, p.Count
	raw, err := json.Marshal(data)
	if err != nil {
		return m, err
	}
	m.Body, m.Data = fmt.Sprintf(summaryFormat, p.Count, p.Title), raw
	return m, nil
}

// drop ends pushes that may not go any more.
func (w *worker) drop(pushes []due, now time.Time) error {
	return w.inTx(func(tx core.App, n *tally) error {
		for _, p := range pushes {
			if err := settle(tx, p.ID, stateDropped, p.Drop, now); err != nil {
				return err
			}
			n.dropped++
		}
		return nil
	})
}

// failRequest records a request that got no tickets: its pushes are tried
// again later when the failure is transient, and fail otherwise.
func (w *worker) failRequest(pushes []due, e *requestError, now time.Time) error {
	if !e.transient() {
		w.app.Logger().Error("push: Expo refused a request; its pushes fail", "error", e.Error(), "pushes", len(pushes))
	}
	return w.inTx(func(tx core.App, n *tally) error {
		for _, p := range pushes {
			if err := w.retryOrFail(tx, n, p, e.transient(), e.Error(), e.RetryAfter, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// retryOrFail counts a failed attempt of p: a transient failure sends it
// again after a backoff, until MaxAttempts; anything else fails it.
func (w *worker) retryOrFail(tx core.App, n *tally, p due, transient bool, why string, retryAfter time.Duration, now time.Time) error {
	attempts := p.Attempts + 1
	if !transient || attempts >= w.cfg.MaxAttempts {
		if transient {
			why = fmt.Sprintf("gave up after %d attempts: %s", attempts, why)
		}
		n.failed++
		return update(tx, p.ID, dbx.Params{"state": stateFailed, "attempts": attempts, "error": trimError(why), "next_at": 0, "updated": now.UnixMilli()})
	}
	n.retried++
	next := now.Add(backoff(attempts, w.cfg.RetryBase, w.cfg.RetryCap, retryAfter))
	return update(tx, p.ID, dbx.Params{"attempts": attempts, "error": trimError(why), "next_at": next.UnixMilli(), "updated": now.UnixMilli()})
}

// recordTickets stores what Expo answered for each push, in one
// transaction: an ok ticket makes the push accepted (it is never sent
// again) and schedules its receipt.
func (w *worker) recordTickets(pushes []due, tickets []ticket, now time.Time) error {
	return w.inTx(func(tx core.App, n *tally) error {
		var ok []accepted
		for i, p := range pushes {
			t := tickets[i]
			var err error
			switch {
			case t.Status == "ok" && t.ID != "":
				ok = append(ok, accepted{ID: p.ID, Ticket: t.ID})
			case t.Status == "ok":
				// Accepted without a receipt id: it is never sent again,
				// and nothing more can be learnt of it.
				n.accepted++
				n.unconfirmed++
				err = update(tx, p.ID, dbx.Params{"state": stateUnconfirmed, "attempts": p.Attempts + 1, "sent": now.UnixMilli(), "next_at": 0, "updated": now.UnixMilli()})
			case t.Details.Error == errMessageRateExceeded:
				err = w.retryOrFail(tx, n, p, true, "ticket: "+t.errorCode(), 0, now)
			default:
				err = w.failTicket(tx, n, p, t, now)
			}
			if err != nil {
				return err
			}
		}
		n.accepted += uint64(len(ok))
		return w.accept(tx, ok, now)
	})
}

// accept records the ok tickets of a request in one statement, however
// many: a request is up to 100 pushes, and one statement each would hold
// the write lock a hundred times as long.
func (w *worker) accept(tx core.App, ok []accepted, now time.Time) error {
	if len(ok) == 0 {
		return nil
	}
	params := dbx.Params{"now": now.UnixMilli(), "next": now.Add(w.cfg.ReceiptDelay).UnixMilli()}
	rows := make([]string, len(ok))
	for i, a := range ok {
		rows[i] = fmt.Sprintf("({:id%d}, {:ticket%d})", i, i)
		params[fmt.Sprint("id", i)], params[fmt.Sprint("ticket", i)] = a.ID, a.Ticket
	}
	_, err := tx.DB().NewQuery(`WITH v([[id]], [[ticket]]) AS (VALUES ` + strings.Join(rows, ", ") + `)
		UPDATE {{` + pushesTable + `}} SET [[state]] = 'accepted', [[attempts]] = [[attempts]] + 1,
			[[ticket]] = (SELECT v.[[ticket]] FROM v WHERE v.[[id]] = {{` + pushesTable + `}}.[[id]]),
			[[sent]] = {:now}, [[error]] = '', [[next_at]] = {:next}, [[updated]] = {:now}
		WHERE [[id]] IN (SELECT [[id]] FROM v)`).Bind(params).Execute()
	if err != nil {
		return fmt.Errorf("push: record %d accepted pushes: %w", len(ok), err)
	}
	return nil
}

// failTicket ends a push Expo refused; a token Expo no longer knows is
// removed, so that nothing is sent to it again.
func (w *worker) failTicket(tx core.App, n *tally, p due, t ticket, now time.Time) error {
	switch t.Details.Error {
	case errDeviceNotRegistered:
		if err := removeDevice(tx, n, p.Token, now); err != nil {
			return err
		}
	case errInvalidCredentials:
		w.app.Logger().Error("push: Expo has no valid push credentials for the app (InvalidCredentials)", "message", t.Message)
	}
	n.failed++
	return update(tx, p.ID, dbx.Params{
		"state": stateFailed, "attempts": p.Attempts + 1, "error": trimError("ticket: " + t.errorCode()),
		"next_at": 0, "updated": now.UnixMilli(),
	})
}

// removeDevice deletes the devices holding token that were registered no
// later than sent, the moment Expo's answer was about: a phone that
// registered the token again since has proved it works.
func removeDevice(tx core.App, n *tally, token string, sent time.Time) error {
	var devices []*core.Record
	err := tx.RecordQuery(collections.Devices).
		AndWhere(dbx.HashExp{"token": token}).
		AndWhere(dbx.NewExp("[[last_seen]] <= {:sent}", dbx.Params{"sent": dateOf(sent)})).
		All(&devices)
	if err != nil {
		return fmt.Errorf("push: devices with token: %w", err)
	}
	for _, d := range devices {
		if err := tx.Delete(d); err != nil {
			return fmt.Errorf("push: remove unregistered device %s: %w", d.Id, err)
		}
		n.devicesRemoved++
	}
	return nil
}

func settle(tx core.App, id int64, state, why string, now time.Time) error {
	return update(tx, id, dbx.Params{"state": state, "error": trimError(why), "next_at": 0, "updated": now.UnixMilli()})
}

func update(tx core.App, id int64, params dbx.Params) error {
	if _, err := tx.DB().Update(pushesTable, params, dbx.HashExp{"id": id}).Execute(); err != nil {
		return fmt.Errorf("push: update push %d: %w", id, err)
	}
	return nil
}
