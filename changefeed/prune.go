package changefeed

import (
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Prune drops every log entry written before the retention window that
// ends at now, and moves the horizon to the last of them, so that a cursor
// before it gets 410 Gone.
//
// A sync from cursor 0 reads the log from its start and must find every
// live record in it, so the latest entry of a record that still exists is
// not lost but re-appended at the head (an "update" that changes nothing).
// Every entry below the horizon is then gone and the rule for clients is
// plain: a cursor below the horizon is too old, whatever it was for. The
// price is that each live record comes round once per window, so a client
// that syncs regularly receives it again once a window.
//
// A run reads only the entries between the previous horizon and the new
// one: its cost follows the writes of one period, not the size of the log.
func Prune(app core.App, retention time.Duration, now time.Time) (pruned int64, err error) {
	cutoff := now.Add(-retention).UnixMilli()
	err = app.RunInTransaction(func(tx core.App) error {
		// The horizon is the entry before the first one inside the window,
		// read in seq order from the previous horizon: the entries read
		// are those about to be deleted (the log has no index on at, which
		// would cost every write a page). Entries are stamped in commit
		// order, so at only grows along seq; were the clock set back, an
		// entry is kept longer, never dropped early.
		var previous, horizon int64
		if err := tx.DB().Select("horizon").From(stateTable).Where(dbx.HashExp{"id": 1}).Row(&previous); err != nil {
			return fmt.Errorf("read horizon: %w", err)
		}
		err := tx.DB().NewQuery(`SELECT COALESCE(
				(SELECT [[seq]] - 1 FROM {{` + changesTable + `}} WHERE [[seq]] > {:previous} AND [[at]] >= {:cutoff} ORDER BY [[seq]] LIMIT 1),
				(SELECT MAX([[seq]]) FROM {{` + changesTable + `}}),
				0)`).
			Bind(dbx.Params{"previous": previous, "cutoff": cutoff}).Row(&horizon)
		if err != nil {
			return fmt.Errorf("find horizon: %w", err)
		}
		if horizon <= previous {
			return nil
		}
		params := dbx.Params{"horizon": horizon, "now": now.UnixMilli()}
		_, err = tx.DB().NewQuery(`INSERT INTO {{` + changesTable + `}} ([[at]], [[collection]], [[record]], [[op]], [[groups]], [[member]])
			SELECT {:now}, c.[[collection]], c.[[record]], 'update', c.[[groups]], c.[[member]]
			FROM {{` + changesTable + `}} c
			WHERE c.[[seq]] <= {:horizon} AND c.[[op]] != 'delete' AND NOT EXISTS (
				SELECT 1 FROM {{` + changesTable + `}} n
				WHERE n.[[collection]] = c.[[collection]] AND n.[[record]] = c.[[record]] AND n.[[seq]] > c.[[seq]])
			ORDER BY c.[[seq]]`).Bind(params).Execute()
		if err != nil {
			return fmt.Errorf("carry live records over: %w", err)
		}
		// The newest entry stays, whatever its age: SQLite numbers the next
		// one after it, so deleting it would hand its number out again
		// (the log has no AUTOINCREMENT, whose sqlite_sequence row costs
		// every write a page). Once live records were carried over it is
		// one of them; otherwise it is a deletion at the horizon: a cursor
		// at or past the horizon reads after it, and a full sync reports
		// no deletion (its client holds nothing to drop).
		res, err := tx.DB().NewQuery("DELETE FROM {{" + changesTable + "}} WHERE [[seq]] <= {:horizon} AND [[seq]] < (SELECT MAX([[seq]]) FROM {{" + changesTable + "}})").Bind(params).Execute()
		if err != nil {
			return fmt.Errorf("drop old entries: %w", err)
		}
		pruned, _ = res.RowsAffected()
		_, err = tx.DB().NewQuery("UPDATE {{" + stateTable + "}} SET [[horizon]] = {:horizon} WHERE [[id]] = 1").Bind(params).Execute()
		if err != nil {
			return fmt.Errorf("move horizon: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sync: prune change log: %w", err)
	}
	return pruned, nil
}
