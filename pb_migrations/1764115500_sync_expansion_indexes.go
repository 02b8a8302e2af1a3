package pb_migrations

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Indexes for sync's paged group expansions (changefeed). When a user
// joins or leaves a group, /api/sync reads that group's records in id
// order, limit at a time, resuming after the last id it sent:
//   - (group, id) on events and messages makes each page an index range
//     instead of a sort of the whole group (memberships already have
//     (group, user); RSVPs are read through their event's group);
//   - on leaving, the records that were in the group then but left it
//     since (deleted, or moved by a superuser) are read from the change
//     log: the two partial indexes hold only those entries.
var syncRecordIndexes = []struct{ collection, name string }{
	{"events", "idx_events_group_id"},
	{"messages", "idx_messages_group_id"},
}

var syncLogIndexes = []string{
	"CREATE INDEX idx_hearth_changes_deletes ON {{_hearth_changes}} ([[collection]], [[groups]], [[record]]) WHERE [[op]] = 'delete'",
	// A move is the only update of a record other than a user that names
	// more than one group (its new group, then its old ones).
	"CREATE INDEX idx_hearth_changes_moves ON {{_hearth_changes}} ([[collection]], [[record]]) WHERE [[op]] = 'update' AND instr([[groups]], ',') > 0 AND [[collection]] != 'users'",
}

func init() {
	m.Register(func(app core.App) error {
		for _, ix := range syncRecordIndexes {
			c, err := app.FindCollectionByNameOrId(ix.collection)
			if err != nil {
				return fmt.Errorf("sync expansion indexes: %w", err)
			}
			c.AddIndex(ix.name, false, "`group`, id", "")
			if err := app.Save(c); err != nil {
				return fmt.Errorf("sync expansion indexes: %s: %w", ix.collection, err)
			}
		}
		for _, stmt := range syncLogIndexes {
			if _, err := app.DB().NewQuery(stmt).Execute(); err != nil {
				return fmt.Errorf("sync expansion indexes: %w", err)
			}
		}
		return nil
	}, func(app core.App) error {
		for _, name := range []string{"idx_hearth_changes_deletes", "idx_hearth_changes_moves"} {
			if _, err := app.DB().NewQuery("DROP INDEX IF EXISTS " + name).Execute(); err != nil {
				return fmt.Errorf("sync expansion indexes down: %w", err)
			}
		}
		for _, ix := range syncRecordIndexes {
			c, err := app.FindCollectionByNameOrId(ix.collection)
			if err != nil {
				return fmt.Errorf("sync expansion indexes down: %w", err)
			}
			c.RemoveIndex(ix.name)
			if err := app.Save(c); err != nil {
				return fmt.Errorf("sync expansion indexes down: %s: %w", ix.collection, err)
			}
		}
		return nil
	})
}
