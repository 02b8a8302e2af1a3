package changefeed

import (
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Prune drops the log entries that fell out of the retention window
// before now, and moves the horizon to the last of them, so that a cursor
// from before it gets 410 Gone.
//
// Dropped: tombstones, and entries superseded by a later entry of the same
// record. Kept, whatever their age: the latest entry of every live record,
// because a sync from cursor 0 reads the log from the start and must find
// every record in it.
//
// Each run looks only at the entries between the previous horizon and the
// new one, so its cost follows the writes of the last period, not the size
// of the log: an entry superseded by one beyond the horizon is dropped by
// the run that passes that later entry.
func Prune(app core.App, retention time.Duration, now time.Time) (pruned int64, err error) {
	cutoff := now.Add(-retention).UnixMilli()
	err = app.RunInTransaction(func(tx core.App) error {
		var prev int64
		if err := tx.DB().Select("horizon").From(stateTable).Where(dbx.HashExp{"id": 1}).Row(&prev); err != nil {
			return fmt.Errorf("read horizon: %w", err)
		}
		var horizon int64
		err := tx.DB().NewQuery("SELECT COALESCE(MAX([[seq]]), 0) FROM {{" + changesTable + "}} WHERE [[at]] < {:cutoff}").
			Bind(dbx.Params{"cutoff": cutoff}).Row(&horizon)
		if err != nil {
			return fmt.Errorf("find horizon: %w", err)
		}
		if horizon <= prev {
			return nil
		}
		window := dbx.Params{"prev": prev, "horizon": horizon}
		res, err := tx.DB().NewQuery(`DELETE FROM {{` + changesTable + `}} WHERE [[seq]] IN (
			SELECT old.[[seq]] FROM {{` + changesTable + `}} new
			JOIN {{` + changesTable + `}} old
				ON old.[[collection]] = new.[[collection]] AND old.[[record]] = new.[[record]] AND old.[[seq]] < new.[[seq]]
			WHERE new.[[seq]] > {:prev} AND new.[[seq]] <= {:horizon})`).Bind(window).Execute()
		if err != nil {
			return fmt.Errorf("drop superseded entries: %w", err)
		}
		superseded, _ := res.RowsAffected()
		res, err = tx.DB().NewQuery(`DELETE FROM {{` + changesTable + `}}
			WHERE [[seq]] > {:prev} AND [[seq]] <= {:horizon} AND [[op]] = 'delete'`).Bind(window).Execute()
		if err != nil {
			return fmt.Errorf("drop tombstones: %w", err)
		}
		tombstones, _ := res.RowsAffected()
		pruned = superseded + tombstones
		if _, err := tx.DB().Update(stateTable, dbx.Params{"horizon": horizon}, dbx.HashExp{"id": 1}).Execute(); err != nil {
			return fmt.Errorf("move horizon: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("sync: prune change log: %w", err)
	}
	return pruned, nil
}
