package push

import (
	"context"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/pocketbase/core"
)

// registerTriggers binds the hooks that ask for pushes. Each writes one
// outbox row in the transaction of the write that caused it (a message or
// an event only when its group has a phone to reach, phoneCheck), and
// nothing else: who receives what is worked out later by the worker, so a
// write pays one small insert however large its group. They bind the Execute
// stage, which runs for every write (records API, batch, dashboard, Go)
// once validation has passed; a write that rolls back takes its row along.
// Whether a message or event has a phone to reach is asked earlier, at the
// create stage, outside the write's transaction (askFirst).
func registerTriggers(app core.App, w *worker) {
	w.phones.invalidateOnWrites(app)
	// w.app, not the write's transaction app: the question goes to the
	// read pool.
	reaches := func(o entry) (bool, error) { return w.phones.reaches(w.app, o) }
	messageEntry := func(r *core.Record) entry {
		msg := collections.As[collections.Message](r)
		return entry{Kind: kindMessage, Record: msg.Id, Group: msg.Group(), Actor: msg.Author()}
	}
	eventEntry := func(r *core.Record) entry {
		ev := collections.As[collections.Event](r)
		return entry{Kind: kindEvent, Record: ev.Id, Group: ev.Group(), Actor: ev.CreatedBy()}
	}
	// The question is asked at the create stage, before validation and
	// before the change log opens the write's transaction (at the Execute
	// stage): the writer connection, which every write waits for, is not
	// held while it is asked. The Execute stage takes the answer from the
	// write's context.
	app.OnRecordCreate(collections.Messages).BindFunc(func(e *core.RecordEvent) error {
		return askFirst(e, messageEntry(e.Record), reaches)
	})
	app.OnRecordCreate(collections.Events).BindFunc(func(e *core.RecordEvent) error {
		return askFirst(e, eventEntry(e.Record), reaches)
	})
	app.OnRecordCreateExecute(collections.Messages).BindFunc(func(e *core.RecordEvent) error {
		return enqueueIf(e, messageEntry(e.Record), answered(e.Context, reaches), w)
	})
	app.OnRecordCreateExecute(collections.Events).BindFunc(func(e *core.RecordEvent) error {
		return enqueueIf(e, eventEntry(e.Record), answered(e.Context, reaches), w)
	})
	app.OnRecordUpdateExecute(collections.RSVPs).BindFunc(func(e *core.RecordEvent) error {
		if !collections.IsPromotion(e.Context) {
			return e.Next()
		}
		return enqueueIf(e, entry{Kind: kindPromotion, Record: e.Record.Id}, nil, w)
	})

	// The worker is woken once a write that wrote an outbox row has
	// committed; a write that rolled back, or asked for no push, never
	// wakes it.
	wake := func(e *core.RecordEvent) error {
		if enqueued(e.Context) {
			w.poke()
		}
		return e.Next()
	}
	app.OnRecordAfterCreateSuccess(collections.Messages, collections.Events).BindFunc(wake)
	app.OnRecordAfterUpdateSuccess(collections.RSVPs).BindFunc(wake)
}

// answerKey carries, in a write's context, the phones question's answer
// for the entry it was asked for (askFirst).
type answerKey struct{}

type answer struct {
	group, actor string
	reach        bool
}

// askFirst asks whether o may reach a phone and leaves the answer in the
// write's context for its Execute stage (answered); a failed question
// fails the write, as it did when asked at the Execute stage.
func askFirst(e *core.RecordEvent, o entry, reaches func(entry) (bool, error)) error {
	reach, err := reaches(o)
	if err != nil {
		return err
	}
	e.Context = context.WithValue(e.Context, answerKey{}, answer{group: o.Group, actor: o.Actor, reach: reach})
	return e.Next()
}

// answered returns the phones question for the Execute stage: the answer
// askFirst left in ctx when it was asked for the same group and actor,
// else (a hook between them changed either) the question asked again.
func answered(ctx context.Context, reaches func(entry) (bool, error)) func(entry) (bool, error) {
	return func(o entry) (bool, error) {
		if a, ok := ctx.Value(answerKey{}).(answer); ok && a.group == o.Group && a.actor == o.Actor {
			return a.reach, nil
		}
		return reaches(o)
	}
}

// enqueuedKey marks, in a write's context, a write that stored an outbox
// row. PocketBase hands the write's context on to its after-success
// hooks, which wake the worker only then.
type enqueuedKey struct{}

func enqueued(ctx context.Context) bool {
	v, _ := ctx.Value(enqueuedKey{}).(bool)
	return v
}

// enqueueIf runs the write and, when cond (nil: always; read before the
// write) holds, its outbox row in one transaction (collections.InTx:
// inside a transaction already open, a hook that wraps e.Next, a batch,
// the change log's own, it joins that one).
func enqueueIf(e *core.RecordEvent, o entry, cond func(entry) (bool, error), w *worker) error {
	return collections.InTx(e, func(tx core.App) error {
		wanted := true
		if cond != nil {
			var err error
			if wanted, err = cond(o); err != nil {
				return err
			}
		}
		if err := e.Next(); err != nil {
			return err
		}
		if !wanted {
			return nil
		}
		if err := insertEntry(tx, o, w.cfg.Now()); err != nil {
			return err
		}
		e.Context = context.WithValue(e.Context, enqueuedKey{}, true)
		return nil
	})
}
