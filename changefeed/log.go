package changefeed

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Synced lists the collections the feed covers, in the order in which the
// records of one group are reported when a membership change expands to
// the whole group.
var Synced = []string{
	collections.Groups,
	collections.Users,
	collections.Memberships,
	collections.Events,
	collections.RSVPs,
	collections.Messages,
}

// The log's tables, created by pb_migrations/1764115300_changelog.go.
const (
	changesTable = "_hearth_changes"
	stateTable   = "_hearth_sync"
)

// Operations recorded in the log.
const (
	opCreate = "create"
	opUpdate = "update"
	opDelete = "delete"
)

// registerLog binds the hooks that append one log row per write of a synced
// record. They bind the Execute stage, which runs for every write, whether
// it comes from the records API, the dashboard or Go code (including
// cascade deletes, which PocketBase performs with app.Delete per record),
// and only after validation has passed.
func registerLog(app core.App) {
	for _, name := range Synced {
		app.OnRecordCreateExecute(name).BindFunc(func(e *core.RecordEvent) error { return logged(e, opCreate) })
		app.OnRecordUpdateExecute(name).BindFunc(func(e *core.RecordEvent) error { return logged(e, opUpdate) })
		app.OnRecordDeleteExecute(name).BindFunc(func(e *core.RecordEvent) error { return logged(e, opDelete) })
	}
}

// logged runs the write and its log row in one transaction: app.Save alone
// is not transactional, and a write without its row would be a change that
// no client ever learns of. Inside an outer transaction (a hook that wraps
// e.Next, a batch request, a cascade) RunInTransaction reuses it, and
// SQLite's single writer makes the AUTOINCREMENT order the commit order.
func logged(e *core.RecordEvent, op string) error {
	original := e.App
	defer func() { e.App = original }()
	return original.RunInTransaction(func(tx core.App) error {
		e.App = tx
		// The groups are read before the write: a delete's cascade removes
		// the rows (an RSVP's event, a user's memberships) that name them.
		groups, err := groupsOf(tx, e.Record)
		if err != nil {
			return fmt.Errorf("change log: groups of %s/%s: %w", e.Record.Collection().Name, e.Record.Id, err)
		}
		if err := e.Next(); err != nil {
			return err
		}
		return appendChange(tx, e.Record, op, groups)
	})
}

// appendChange writes the log row of one write of record. The row keeps
// the groups the record belongs to (and, for a membership, its user) so
// that a tombstone or revocation can later be shown only to those who
// were in one of those groups, even once the record is gone.
func appendChange(app core.App, record *core.Record, op string, groups []string) error {
	collection := record.Collection().Name
	member := ""
	if collection == collections.Memberships {
		member = record.GetString("user")
	}
	if err := insertRow(app, collection, record.Id, op, groups, member); err != nil {
		return err
	}
	// An event moved to another group (a superuser repair; clients cannot)
	// moves its RSVPs with it: log them too, so members of both groups learn.
	if collection == collections.Events && op == opUpdate && record.GetString("group") != record.Original().GetString("group") {
		var ids []string
		if err := app.DB().Select("id").From(collections.RSVPs).Where(dbx.HashExp{"event": record.Id}).Column(&ids); err != nil {
			return fmt.Errorf("change log: rsvps of moved event %s: %w", record.Id, err)
		}
		for _, id := range ids {
			if err := insertRow(app, collections.RSVPs, id, opUpdate, groups, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

func insertRow(app core.App, collection, id, op string, groups []string, member string) error {
	_, err := app.DB().Insert(changesTable, dbx.Params{
		"at":         time.Now().UnixMilli(),
		"collection": collection,
		"record":     id,
		"op":         op,
		"groups":     strings.Join(groups, ","),
		"member":     member,
	}).Execute()
	if err != nil {
		return fmt.Errorf("change log: append %s %s/%s: %w", op, collection, id, err)
	}
	return nil
}

// groupsOf returns the groups whose members may see record: the group
// itself, the group field (old and new value on update), an RSVP's event's
// group, or a user's groups at the time of the write.
func groupsOf(app core.App, record *core.Record) ([]string, error) {
	switch record.Collection().Name {
	case collections.Groups:
		return []string{record.Id}, nil
	case collections.Users:
		var groups []string
		err := app.DB().Select("group").From(collections.Memberships).
			Where(dbx.HashExp{"user": record.Id}).OrderBy("group").Column(&groups)
		return groups, err
	case collections.RSVPs:
		g, err := eventGroup(app, record.GetString("event"))
		if err != nil {
			return nil, err
		}
		return nonEmpty(g), nil
	default:
		groups := nonEmpty(record.GetString("group"))
		if old := record.Original().GetString("group"); !record.IsNew() && old != "" && old != record.GetString("group") {
			groups = append(groups, old)
		}
		return groups, nil
	}
}

// eventGroup finds the group of an event. The event may be gone already
// (an RSVP deleted in the cascade of a deletion that removed its event
// first); its last log entry still names the group.
func eventGroup(app core.App, event string) (string, error) {
	var group string
	err := app.DB().Select("group").From(collections.Events).Where(dbx.HashExp{"id": event}).Row(&group)
	if err == nil {
		return group, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	err = app.DB().Select("groups").From(changesTable).
		Where(dbx.HashExp{"collection": collections.Events, "record": event}).
		OrderBy("seq DESC").Limit(1).Row(&group)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return group, err
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
