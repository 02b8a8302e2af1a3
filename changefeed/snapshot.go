package changefeed

import (
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// inSnapshot runs fn with an app whose every query reads one SQLite read
// transaction: one consistent view of the database, whatever commits
// meanwhile. A page reads the log's bounds, its entries, the records and
// the memberships in many queries; on PocketBase's pool of read
// connections each would otherwise see the commits made up to its own
// start, so a prune committing between two of them left a page that
// checked its cursor against the old horizon and read the log without the
// pruned entries, or a membership change committing between them made
// the page place a record by one state and judge it by another.
//
// The transaction begins deferred on a connection of the read pool, so it
// takes no lock that a writer waits for (SQLite's WAL lets the writer
// commit while it reads), and is rolled back: it writes nothing.
func inSnapshot(app core.App, fn func(snap core.App) error) error {
	db, ok := app.ConcurrentDB().(*dbx.DB)
	if !ok {
		// app is a transaction's app already: one view.
		return fn(app)
	}
	tx, err := db.Begin()
	if err != nil {
		return fmt.Errorf("sync: begin read transaction: %w", err)
	}
	defer tx.Rollback()
	return fn(snapshot{App: app, tx: tx})
}

// snapshot is an app whose queries run in tx. Only the query builders
// are replaced: PocketBase's own finders (RecordQuery, FindRecordById)
// read through its pool whatever app they are called on, so the feed
// reads records with its own queries (see visibleRecords).
type snapshot struct {
	core.App
	tx *dbx.Tx
}

func (s snapshot) DB() dbx.Builder              { return s.tx }
func (s snapshot) ConcurrentDB() dbx.Builder    { return s.tx }
func (s snapshot) NonconcurrentDB() dbx.Builder { return s.tx }
