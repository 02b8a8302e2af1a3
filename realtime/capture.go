package realtime

import (
	"time"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/pocketbase/core"
)

// captureWrite runs a create or update and, once it is written, adds a
// copy of the record to its transaction's batch. Nothing else happens
// inside the write: who receives it is decided after the commit.
func (h *hub) captureWrite(e *core.RecordEvent, action string) error {
	if err := e.Next(); err != nil {
		return err
	}
	ch := &change{collection: e.Record.Collection().Name, action: action, record: snapshot(e.Record), at: time.Now()}
	if s := collections.SpecOf(ch.collection).Scope; action == actionUpdate && s.Field != "" && s.Parent == "" {
		if old := e.Record.Original().GetString(s.Field); old != e.Record.GetString(s.Field) {
			ch.oldGroup = old
		}
	}
	if ch.collection == collections.Memberships && action == actionUpdate {
		if old := e.Record.Original().GetString("user"); old != e.Record.GetString("user") {
			ch.oldUser = old
		}
	}
	h.order.add(e.App, ch)
	return nil
}

// captureDelete decides a deletion's recipients before the row goes, as
// PocketBase does: afterwards no rule can be evaluated against it. The
// decision reads the committed state (through the app, not the
// transaction), so a record deleted in the cascade of its parent is judged
// with the parent still there. The messages wait in the batch and reach
// no one if the transaction rolls back.
func (h *hub) captureDelete(e *core.RecordEvent) error {
	ch := &change{collection: e.Record.Collection().Name, action: actionDelete, record: snapshot(e.Record), at: time.Now()}
	prepared, err := h.decide(ch)
	if err != nil {
		h.app.Logger().Warn("realtime: deciding the recipients of a deletion failed", "collection", ch.collection, "id", ch.record.Id, "error", err)
	}
	ch.prepared = prepared
	if err := e.Next(); err != nil {
		return err
	}
	h.order.add(e.App, ch)
	return nil
}

// dispatchChange is the dispatcher's work for one committed change, in
// commit order: update the membership index, pick the recipients from it,
// and queue each recipient owner's share of the judging and encoding for
// the workers. It does no rule query itself, so an expensive change holds
// up only the owners whose topics make it expensive.
func (h *hub) dispatchChange(ch *change) {
	// One change that fails (a panic in a hook, say) must not stop every
	// later delivery.
	defer func() {
		if r := recover(); r != nil {
			h.app.Logger().Error("realtime: dispatching a change panicked", "collection", ch.collection, "id", ch.record.Id, "panic", r)
		}
	}()
	h.applyIndex(ch)
	if ch.action == actionDelete {
		byOwner := map[string][]delivery{}
		for _, d := range ch.prepared {
			owner := h.ownerOf(d.conn)
			byOwner[owner] = append(byOwner[owner], d)
		}
		tasks := make([]*task, 0, len(byOwner))
		for owner, ds := range byOwner {
			tasks = append(tasks, &task{owner: owner, ch: ch, prepared: ds})
		}
		h.work.push(tasks)
		return
	}
	conns, ruleGroups, err := h.recipients(ch)
	if err != nil {
		h.app.Logger().Warn("realtime: deciding the recipients of a change failed", "collection", ch.collection, "id", ch.record.Id, "error", err)
	}
	byOwner := make(map[string]*task, len(conns))
	tasks := make([]*task, 0, len(conns))
	shared := newPayloads()
	// One read lock for all recipients: a change into a group of 500
	// took 1,000 of them.
	h.mu.RLock()
	for _, c := range conns {
		t := byOwner[c.owner]
		if t == nil {
			// One owner is one account, so its conns share the answer.
			t = &task{owner: c.owner, ch: ch, shared: shared, admitted: h.admittedLocked(c.user, ruleGroups)}
			t.conns = t.one[:0]
			byOwner[c.owner] = t
			tasks = append(tasks, t)
		}
		t.conns = append(t.conns, c)
	}
	h.mu.RUnlock()
	h.work.push(tasks)
}

func (h *hub) ownerOf(c *conn) string {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return c.owner
}

// run is a worker's work for one task: judge (unless a deletion's
// messages were decided at its capture), then queue the messages.
func (h *hub) run(t *task) {
	defer func() {
		if r := recover(); r != nil {
			h.app.Logger().Error("realtime: delivering a change panicked", "collection", t.ch.collection, "id", t.ch.record.Id, "panic", r)
		}
	}()
	deliveries := t.prepared
	if t.conns != nil {
		deliveries = h.judge(t.ch, t.conns, t.owner, t.admitted, t.shared)
	}
	for _, d := range deliveries {
		// A client dropped here is counted by enqueue, before its
		// stream ends.
		if d.conn.enqueue(d.msgs) {
			h.metrics.delivered(len(d.msgs), time.Since(t.ch.at))
		}
	}
}

// snapshot copies record for judging and delivery after the commit. Fresh
// copies the field values, but a password field's value is a pointer to
// the one PocketBase clears of its plain text only once the save returns,
// while a worker may already encode the copy: the copy gets a value of its
// own, with the hash and never the plain text (a superuser's payload shows
// every field, the password field included).
func snapshot(record *core.Record) *core.Record {
	c := record.Fresh()
	for _, f := range record.Collection().Fields {
		if p, ok := f.(*core.PasswordField); ok {
			c.SetRaw(p.Name, &core.PasswordFieldValue{Hash: record.GetString(p.Name + ":hash")})
		}
	}
	return c
}
