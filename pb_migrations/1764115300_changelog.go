package pb_migrations

import (
	"fmt"
	"time"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The change log behind GET /api/sync (package changefeed): one row per
// create, update and delete of a synced record, numbered by an AUTOINCREMENT
// sequence that never reuses a number, plus the one-row sync state that
// holds the retention horizon.
//
// Plain tables rather than a collection: the log is written by hooks in the
// transaction of every synced write and read only through /api/sync, so it
// needs no API rules, dashboard view or record hooks of its own.
//
// Existing records are backfilled as "create" rows, so that a database that
// predates the log still syncs in full from cursor 0.
func init() {
	m.Register(func(app core.App) error {
		stmts := []string{
			`CREATE TABLE {{_hearth_changes}} (
				[[seq]]        INTEGER PRIMARY KEY AUTOINCREMENT,
				[[at]]         INTEGER NOT NULL,
				[[collection]] TEXT NOT NULL,
				[[record]]     TEXT NOT NULL,
				[[op]]         TEXT NOT NULL CHECK ([[op]] IN ('create', 'update', 'delete')),
				[[groups]]     TEXT NOT NULL DEFAULT '',
				[[member]]     TEXT NOT NULL DEFAULT ''
			)`,
			"CREATE INDEX idx_hearth_changes_record ON {{_hearth_changes}} ([[collection]], [[record]], [[seq]])",
			"CREATE INDEX idx_hearth_changes_member ON {{_hearth_changes}} ([[member]], [[seq]]) WHERE [[member]] != ''",
			"CREATE INDEX idx_hearth_changes_at ON {{_hearth_changes}} ([[at]])",
			`CREATE TABLE {{_hearth_sync}} (
				[[id]]      INTEGER PRIMARY KEY CHECK ([[id]] = 1),
				[[horizon]] INTEGER NOT NULL DEFAULT 0
			)`,
			"INSERT INTO {{_hearth_sync}} ([[id]], [[horizon]]) VALUES (1, 0)",

			// Backfill, parents before children.
			backfill("groups", "[[id]]", "''", "{{groups}}"),
			`INSERT INTO {{_hearth_changes}} ([[at]], [[collection]], [[record]], [[op]], [[groups]], [[member]])
				SELECT {:now}, 'users', u.[[id]], 'create',
					COALESCE((SELECT group_concat(ms.[[group]]) FROM {{memberships}} ms WHERE ms.[[user]] = u.[[id]]), ''), ''
				FROM {{users}} u ORDER BY u.rowid`,
			backfill("memberships", "[[group]]", "[[user]]", "{{memberships}}"),
			backfill("events", "[[group]]", "''", "{{events}}"),
			`INSERT INTO {{_hearth_changes}} ([[at]], [[collection]], [[record]], [[op]], [[groups]], [[member]])
				SELECT {:now}, 'rsvps', r.[[id]], 'create', COALESCE(e.[[group]], ''), ''
				FROM {{rsvps}} r LEFT JOIN {{events}} e ON e.[[id]] = r.[[event]] ORDER BY r.rowid`,
			backfill("messages", "[[group]]", "''", "{{messages}}"),
		}
		now := map[string]any{"now": time.Now().UnixMilli()}
		for _, s := range stmts {
			if _, err := app.DB().NewQuery(s).Bind(now).Execute(); err != nil {
				return fmt.Errorf("changelog: %w", err)
			}
		}
		return nil
	}, func(app core.App) error {
		for _, t := range []string{"_hearth_changes", "_hearth_sync"} {
			if _, err := app.DB().NewQuery("DROP TABLE IF EXISTS {{" + t + "}}").Execute(); err != nil {
				return fmt.Errorf("changelog down: %w", err)
			}
		}
		return nil
	})
}

func backfill(collection, groupsExpr, memberExpr, table string) string {
	return fmt.Sprintf(`INSERT INTO {{_hearth_changes}} ([[at]], [[collection]], [[record]], [[op]], [[groups]], [[member]])
		SELECT {:now}, '%s', [[id]], 'create', %s, %s FROM %s ORDER BY rowid`, collection, groupsExpr, memberExpr, table)
}
