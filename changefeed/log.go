package changefeed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Synced lists the collections the feed covers (those whose spec says
// Synced), in the order in which the records of one group are reported
// when a membership change expands to the whole group.
var Synced = collections.Synced()

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
// and only after validation has passed. Entries are stamped with now, the
// clock pruning measures the window by.
func registerLog(app core.App, now func() time.Time) {
	for _, name := range Synced {
		app.OnRecordCreateExecute(name).BindFunc(func(e *core.RecordEvent) error { return logged(e, opCreate, now) })
		app.OnRecordUpdateExecute(name).BindFunc(func(e *core.RecordEvent) error { return logged(e, opUpdate, now) })
		app.OnRecordDeleteExecute(name).BindFunc(func(e *core.RecordEvent) error { return logged(e, opDelete, now) })
	}
}

// logged runs the write and its log row in one transaction
// (collections.InTx): app.Save alone is not transactional, and a write
// without its row would be a change that no client ever learns of. Inside
// an outer transaction (a hook that wraps e.Next, a batch request, a
// cascade) it joins it, and SQLite's single writer makes the sequence
// order the commit order.
func logged(e *core.RecordEvent, op string, now func() time.Time) error {
	return collections.InTx(e, func(tx core.App) error {
		// The groups are read before the write: a delete's cascade removes
		// the rows (an RSVP's event, a user's memberships) that name them.
		groups, err := groupsOf(e.Context, tx, e.Record)
		if err != nil {
			return fmt.Errorf("change log: groups of %s/%s: %w", e.Record.Collection().Name, e.Record.Id, err)
		}
		if err := e.Next(); err != nil {
			return err
		}
		return appendChange(tx, e.Record, op, groups, now().UnixMilli())
	})
}

// appendChange writes the log row of one write of record. The row keeps
// the groups the record belongs to (and, for a membership, its user) so
// that a tombstone or revocation can later be shown only to those who
// were in one of those groups, even once the record is gone.
func appendChange(app core.App, record *core.Record, op string, groups []string, at int64) error {
	collection := record.Collection().Name
	member := ""
	if collection == collections.Memberships {
		member = collections.As[collections.Membership](record).User()
	}
	if err := insertRow(app, at, collection, record.Id, op, groups, member); err != nil {
		return err
	}
	// A record moved to another group (a superuser moving an event;
	// clients cannot) moves the records scoped through it (its RSVPs):
	// log them too, so members of both groups learn.
	if op != opUpdate || len(groups) < 2 {
		return nil
	}
	for _, child := range collections.Children(collection) {
		var ids []string
		if err := app.DB().Select("id").From(child.Name).Where(dbx.HashExp{child.Scope.Field: record.Id}).Column(&ids); err != nil {
			return fmt.Errorf("change log: %s of moved %s %s: %w", child.Name, collection, record.Id, err)
		}
		for _, id := range ids {
			if err := insertRow(app, at, child.Name, id, opUpdate, groups, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// insertSQL is the log row's INSERT, written out once: building it with
// dbx's Insert (sorting and quoting the columns) on every write cost a
// quarter of the row's CPU.
const insertSQL = `INSERT INTO {{` + changesTable + `}} ([[at]], [[collection]], [[record]], [[op]], [[groups]], [[member]])
	VALUES ({:at}, {:collection}, {:record}, {:op}, {:groups}, {:member})`

func insertRow(app core.App, at int64, collection, id, op string, groups []string, member string) error {
	_, err := app.DB().NewQuery(insertSQL).Bind(dbx.Params{
		"at":         at,
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

// groupsOf returns the groups whose members may see record
// (collections.GroupsOfWrite, with the write's context). A record scoped
// through a parent that is gone already (an RSVP deleted in the cascade of
// a deletion that removed its event first) takes the groups of the
// parent's last log entry.
func groupsOf(ctx context.Context, app core.App, record *core.Record) ([]string, error) {
	groups, err := collections.GroupsOfWrite(ctx, app, record)
	var gone *collections.ParentGoneError
	if !errors.As(err, &gone) {
		return groups, err
	}
	var logged string
	err = app.DB().Select("groups").From(changesTable).
		Where(dbx.HashExp{"collection": gone.Collection, "record": gone.ID}).
		OrderBy("seq DESC").Limit(1).Row(&logged)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return splitGroups(logged), err
}
