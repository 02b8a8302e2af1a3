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
		var horizon int64
		err := tx.DB().NewQuery("SELECT COALESCE(MAX([[seq]]), 0) FROM {{" + changesTable + "}} WHERE [[at]] < {:cutoff}").
			Bind(dbx.Params{"cutoff": cutoff}).Row(&horizon)
		if err != nil {
			return fmt.Errorf("find horizon: %w", err)
		}
		if horizon == 0 {
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
		res, err := tx.DB().NewQuery("DELETE FROM {{" + changesTable + "}} WHERE [[seq]] <= {:horizon}").Bind(params).Execute()
		if err != nil {
			return fmt.Errorf("drop old entries: %w", err)
		}
		pruned, _ = res.RowsAffected()
		_, err = tx.DB().NewQuery("UPDATE {{" + stateTable + "}} SET [[horizon]] = MAX([[horizon]], {:horizon}) WHERE [[id]] = 1").Bind(params).Execute()
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
