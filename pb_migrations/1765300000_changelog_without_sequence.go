package pb_migrations

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The change log without AUTOINCREMENT and without its index on at (issue
// 21): each costs every write transaction of a synced record one page in
// the WAL (sqlite_sequence's, idx_hearth_changes_at's), 2 of the 9 a
// message create wrote, where plain PocketBase writes 5.
//
//   - seq stays an INTEGER PRIMARY KEY, which SQLite numbers max(seq)+1.
//     That never reuses a number as long as the newest entry is never
//     deleted, and pruning keeps it (changefeed.Prune). A log that was
//     emptied, or lost its newest entries, before this migration keeps
//     its next number through one entry written here at the last number
//     ever assigned, a deletion of nothing at the horizon, which no feed
//     reports (a cursor at the horizon reads after it; a full sync
//     reports no deletion).
//   - Pruning finds its horizon by reading the log in seq order from the
//     previous horizon, which it deletes up to anyway, instead of through
//     the index on at.
//
// The table is rebuilt (SQLite cannot drop AUTOINCREMENT in place) with
// the indexes it has, read from sqlite_master, so an index a later
// migration adds is carried over by the reverse as well.
func init() {
	m.Register(func(app core.App) error {
		return rebuildChanges(app, "[[seq]] INTEGER PRIMARY KEY", "idx_hearth_changes_at", "")
	}, func(app core.App) error {
		return rebuildChanges(app, "[[seq]] INTEGER PRIMARY KEY AUTOINCREMENT", "",
			"CREATE INDEX idx_hearth_changes_at ON {{_hearth_changes}} ([[at]])")
	})
}

// rebuildChanges recreates _hearth_changes with seqColumn, its rows, and
// its indexes but drop, plus add. A log whose last assigned number (in
// sqlite_sequence) is past its newest entry gets the entry that keeps it.
func rebuildChanges(app core.App, seqColumn, drop, add string) error {
	return app.RunInTransaction(func(tx core.App) error {
		var indexes []string
		err := tx.DB().NewQuery("SELECT [[sql]] FROM sqlite_master WHERE [[type]] = 'index' AND [[tbl_name]] = '_hearth_changes' AND [[sql]] IS NOT NULL AND [[name]] != {:drop} ORDER BY [[name]]").
			Bind(dbx.Params{"drop": drop}).Column(&indexes)
		if err != nil {
			return fmt.Errorf("change log rebuild: read indexes: %w", err)
		}
		// sqlite_sequence exists once any table has AUTOINCREMENT (the
		// log before this migration, the push tables).
		var assigned int64
		err = tx.DB().NewQuery("SELECT [[seq]] FROM sqlite_sequence WHERE [[name]] = '_hearth_changes'").Row(&assigned)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("change log rebuild: read the last number: %w", err)
		}
		stmts := []string{
			`CREATE TABLE {{_hearth_changes_new}} (
				` + seqColumn + `,
				[[at]]         INTEGER NOT NULL,
				[[collection]] TEXT NOT NULL,
				[[record]]     TEXT NOT NULL,
				[[op]]         TEXT NOT NULL CHECK ([[op]] IN ('create', 'update', 'delete')),
				[[groups]]     TEXT NOT NULL DEFAULT '',
				[[member]]     TEXT NOT NULL DEFAULT ''
			)`,
			"INSERT INTO {{_hearth_changes_new}} SELECT [[seq]], [[at]], [[collection]], [[record]], [[op]], [[groups]], [[member]] FROM {{_hearth_changes}} ORDER BY [[seq]]",
			// The keeper: only where numbers were assigned past the newest
			// entry. The horizon moves to it, as a prune that had deleted
			// up to there would have moved it.
			`INSERT INTO {{_hearth_changes_new}} ([[seq]], [[at]], [[collection]], [[record]], [[op]])
				SELECT {:assigned}, {:now}, '', '', 'delete'
				WHERE {:assigned} > COALESCE((SELECT MAX([[seq]]) FROM {{_hearth_changes}}), 0)`,
			`UPDATE {{_hearth_sync}} SET [[horizon]] = {:assigned}
				WHERE [[horizon]] < {:assigned} AND {:assigned} > COALESCE((SELECT MAX([[seq]]) FROM {{_hearth_changes}}), 0)`,
			"DROP TABLE {{_hearth_changes}}",
			"ALTER TABLE {{_hearth_changes_new}} RENAME TO {{_hearth_changes}}",
		}
		stmts = append(stmts, indexes...)
		if add != "" {
			stmts = append(stmts, add)
		}
		params := dbx.Params{"assigned": assigned, "now": time.Now().UnixMilli()}
		for _, s := range stmts {
			if _, err := tx.DB().NewQuery(s).Bind(params).Execute(); err != nil {
				return fmt.Errorf("change log rebuild: %w", err)
			}
		}
		// The reverse needs no sqlite_sequence row: AUTOINCREMENT numbers
		// past the larger of it and max(seq), and the newest entry was
		// never deleted.
		return nil
	})
}
