package push

import (
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Prune deletes the pushes that ended (delivered, failed, dropped,
// unconfirmed) and the expanded outbox rows last touched before the
// retention window that ends at now, and returns how many rows it deleted.
// Waiting pushes and unexpanded rows are kept whatever their age: pruning
// never loses a push. retention must be at least MinRetention, which the
// configuration enforces, so that a reminder's key outlives the hour in
// which it could be scheduled again.
func Prune(app core.App, retention time.Duration, now time.Time) (int64, error) {
	cutoff := now.Add(-retention).UnixMilli()
	var total int64
	err := app.RunInTransaction(func(tx core.App) error {
		for _, q := range []*dbx.Query{
			tx.DB().NewQuery("DELETE FROM {{" + pushesTable + "}} WHERE [[state]] NOT IN ('pending', 'accepted') AND [[updated]] < {:cutoff}"),
			tx.DB().NewQuery("DELETE FROM {{" + outboxTable + "}} WHERE [[expanded]] > 0 AND [[created]] < {:cutoff}"),
		} {
			res, err := q.Bind(dbx.Params{"cutoff": cutoff}).Execute()
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("push: prune: %w", err)
	}
	return total, nil
}
