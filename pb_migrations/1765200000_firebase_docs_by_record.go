package pb_migrations

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// _firebase_docs keyed by the record a document became, (collection,
// record), in a WITHOUT ROWID table: each imported document then costs one
// insert into one B-tree, where the first shape (a rowid table with the
// path as its key and an index on (collection, record)) cost three. A
// rerun finds its row by the record, whose id follows from the path
// (package firebase, idKey), so the path needs no index of its own; the
// importer's end looks records up by (collection, record), now the key,
// and finds a run's groups or events among the key's rows of their
// collection, so the index on (run, collection) goes too (building it
// after a large import sorted every row). An import stopped before this
// migration may have recorded the old indexes as dropped (_params row
// firebase_deferred_indexes): they are taken off that list.
func init() {
	m.Register(func(app core.App) error {
		return execAll(app, "firebase docs by record",
			`CREATE TABLE {{_firebase_docs_new}} (
				[[collection]] TEXT NOT NULL,
				[[record]]     TEXT NOT NULL,
				[[path]]       TEXT NOT NULL,
				[[run]]        INTEGER NOT NULL,
				[[first_run]]  INTEGER NOT NULL,
				PRIMARY KEY ([[collection]], [[record]])
			) WITHOUT ROWID`,
			`INSERT OR REPLACE INTO {{_firebase_docs_new}} ([[collection]], [[record]], [[path]], [[run]], [[first_run]])
				SELECT [[collection]], [[record]], [[path]], [[run]], [[first_run]] FROM {{_firebase_docs}} ORDER BY [[rowid]]`,
			"DROP TABLE {{_firebase_docs}}",
			"ALTER TABLE {{_firebase_docs_new}} RENAME TO {{_firebase_docs}}",
			`UPDATE {{_params}} SET [[value]] = (SELECT json_group_array(json(j.[[value]])) FROM json_each({{_params}}.[[value]]) j
				WHERE json_extract(j.[[value]], '$.name') NOT IN ('idx_firebase_docs_record', 'idx_firebase_docs_run'))
				WHERE [[id]] = 'firebase_deferred_indexes'`,
		)
	}, func(app core.App) error {
		return execAll(app, "firebase docs by record down",
			`CREATE TABLE {{_firebase_docs_old}} (
				[[path]]       TEXT PRIMARY KEY NOT NULL,
				[[collection]] TEXT NOT NULL,
				[[record]]     TEXT NOT NULL,
				[[run]]        INTEGER NOT NULL,
				[[first_run]]  INTEGER NOT NULL
			)`,
			`INSERT OR REPLACE INTO {{_firebase_docs_old}} ([[path]], [[collection]], [[record]], [[run]], [[first_run]])
				SELECT [[path]], [[collection]], [[record]], [[run]], [[first_run]] FROM {{_firebase_docs}}`,
			"DROP TABLE {{_firebase_docs}}",
			"ALTER TABLE {{_firebase_docs_old}} RENAME TO {{_firebase_docs}}",
			"CREATE INDEX idx_firebase_docs_record ON {{_firebase_docs}} ([[collection]], [[record]])",
			"CREATE INDEX idx_firebase_docs_run ON {{_firebase_docs}} ([[run]], [[collection]])",
		)
	})
}

// execAll runs stmts in order, stopping at the first error.
func execAll(app core.App, what string, stmts ...string) error {
	for _, s := range stmts {
		if _, err := app.DB().NewQuery(s).Execute(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}
