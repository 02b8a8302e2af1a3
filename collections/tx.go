package collections

import (
	"context"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// InTx runs fn, which calls e.Next(), inside one transaction with e.App
// switched to the transaction, so that the hook's reads, the record write
// and every write fn adds commit or roll back together. It joins the
// caller's transaction when there is one (cascades, Join). Every model hook
// of Hearth that writes more than its record uses it (the change log too).
//
// e.App is restored afterwards, as PocketBase's own transactional hooks do:
// the after-success hooks (realtime broadcasts among them) run once the
// transaction is over and must not query through its closed handle.
func InTx(e *core.RecordEvent, fn func(txApp core.App) error) error {
	original := e.App
	defer func() { e.App = original }()
	return e.App.RunInTransaction(func(txApp core.App) error {
		e.App = txApp
		return fn(txApp)
	})
}

// derivedKey marks, in a save's context, a write the domain makes to keep a
// derived value true (a waitlist promotion, an event's going_count). The
// hooks of the written record then let it through unchanged instead of
// re-applying the rules that produced it, which would recurse.
type derivedKey struct{}

func derived(ctx context.Context) context.Context {
	return context.WithValue(ctx, derivedKey{}, true)
}

func isDerived(ctx context.Context) bool {
	v, _ := ctx.Value(derivedKey{}).(bool)
	return v
}

// dbTime formats t as PocketBase stores dates, so that SQL compares them
// as the strings they are.
func dbTime(t time.Time) string {
	return t.UTC().Format(types.DefaultDateLayout)
}
