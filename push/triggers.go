package push

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// registerTriggers binds the hooks that ask for pushes. Each writes one
// outbox row in the transaction of the write that caused it, and nothing
// else: who receives what is worked out later by the worker, so a write
// pays one small insert however large its group. They bind the Execute
// stage, which runs for every write (records API, batch, dashboard, Go)
// once validation has passed; a write that rolls back takes its row along.
func registerTriggers(app core.App, w *worker) {
	app.OnRecordCreateExecute(collections.Messages).BindFunc(func(e *core.RecordEvent) error {
		msg := collections.As[collections.Message](e.Record)
		return enqueue(e, w, entry{Kind: kindMessage, Record: msg.Id, Group: msg.Group(), Actor: msg.Author()})
	})
	app.OnRecordCreateExecute(collections.Events).BindFunc(func(e *core.RecordEvent) error {
		ev := collections.As[collections.Event](e.Record)
		return enqueue(e, w, entry{Kind: kindEvent, Record: ev.Id, Group: ev.Group(), Actor: ev.CreatedBy()})
	})
	app.OnRecordUpdateExecute(collections.RSVPs).BindFunc(func(e *core.RecordEvent) error {
		if collections.As[collections.RSVP](e.Record).Status() != collections.StatusGoing {
			return e.Next()
		}
		return enqueueIf(e, w, entry{Kind: kindPromotion, Record: e.Record.Id}, wasWaitlisted)
	})

	// The worker is woken once the write has committed; a write that
	// rolled back never wakes it.
	wake := func(e *core.RecordEvent) error {
		w.poke()
		return e.Next()
	}
	app.OnRecordAfterCreateSuccess(collections.Messages, collections.Events).BindFunc(wake)
	app.OnRecordAfterUpdateSuccess(collections.RSVPs).BindFunc(wake)
}

// wasWaitlisted reports whether the RSVP being saved as going is stored as
// waitlisted: a promotion. It reads the stored row inside the write's
// transaction, not the copy the request loaded before it, which a
// concurrent promotion may have made stale.
func wasWaitlisted(tx core.App, record *core.Record) (bool, error) {
	var status string
	err := tx.DB().Select("status").From(collections.RSVPs).Where(dbx.HashExp{"id": record.Id}).Row(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("push: stored status of rsvp %s: %w", record.Id, err)
	}
	return status == collections.StatusWaitlisted, nil
}

func enqueue(e *core.RecordEvent, w *worker, o entry) error {
	return enqueueIf(e, w, o, nil)
}

// enqueueIf runs the write and, when cond (read before the write) holds,
// its outbox row in one transaction (collections.InTx: inside a
// transaction already open, a hook that wraps e.Next, a batch, the change
// log's own, it joins that one).
func enqueueIf(e *core.RecordEvent, w *worker, o entry, cond func(core.App, *core.Record) (bool, error)) error {
	return collections.InTx(e, func(tx core.App) error {
		wanted := true
		if cond != nil {
			var err error
			if wanted, err = cond(tx, e.Record); err != nil {
				return err
			}
		}
		if err := e.Next(); err != nil {
			return err
		}
		if !wanted {
			return nil
		}
		return insertEntry(tx, o, w.cfg.Now())
	})
}
