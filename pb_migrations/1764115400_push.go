package pb_migrations

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Push notifications (package push):
//
//   - devices: a user's phones, each with its Expo push token. A token is
//     unique; each user sees, registers and removes only their own.
//   - mutes: the groups a member muted, seen only by that member. A
//     collection of its own rather than a field on memberships, which every
//     member of the group lists.
//   - _hearth_push_outbox: one row per change that asks for pushes (a new
//     message or event, a waitlist promotion, a reminder), written in the
//     change's own transaction; the worker expands it into
//   - _hearth_pushes: one row per notification and phone, with its state.
//   - push_outbox and pushes: read-only views of the two tables, for
//     superusers in the dashboard (nil rules: nobody else lists them).
//
// The two tables are plain tables rather than collections: they are
// written by hooks and the worker with plain SQL (a collection's record
// hooks would cost every message create), and a view collection over them
// is read-only by construction, which a collection with nil rules is not
// for a superuser.
//
// Events get an index on starts_at for the reminder job, which asks for
// the events starting within the next hour.
//
// A migration is a snapshot: the rule strings are written out here.

const (
	pushTokenPattern = `^Expo(nent)?PushToken\[[^\[\]\s]{1,200}\]$`
	ownRecord        = `@request.auth.id != "" && @request.auth.collectionName = "users" && user = @request.auth.id`
	ownCreate        = `@request.auth.id != "" && @request.auth.collectionName = "users" && (@request.body.user:isset = false || @request.body.user = @request.auth.id)`
	memberOfGroup    = `@collection.memberships:acl.group ?= group && @collection.memberships:acl.user ?= @request.auth.id`
)

// pushTables are the outbox tables; the views come after them.
var pushTables = []string{
	`CREATE TABLE {{_hearth_push_outbox}} (
		[[id]]       INTEGER PRIMARY KEY AUTOINCREMENT,
		[[created]]  INTEGER NOT NULL,
		[[kind]]     TEXT NOT NULL CHECK ([[kind]] IN ('message', 'event', 'promotion', 'reminder')),
		[[record]]   TEXT NOT NULL,
		[[group]]    TEXT NOT NULL DEFAULT '',
		[[actor]]    TEXT NOT NULL DEFAULT '',
		[[key]]      TEXT UNIQUE,
		[[expanded]] INTEGER NOT NULL DEFAULT 0,
		[[pushes]]   INTEGER NOT NULL DEFAULT 0
	)`,
	"CREATE INDEX idx_hearth_push_outbox_todo ON {{_hearth_push_outbox}} ([[id]]) WHERE [[expanded]] = 0",
	"CREATE INDEX idx_hearth_push_outbox_created ON {{_hearth_push_outbox}} ([[created]])",
	`CREATE TABLE {{_hearth_pushes}} (
		[[id]]       INTEGER PRIMARY KEY AUTOINCREMENT,
		[[outbox]]   INTEGER NOT NULL,
		[[kind]]     TEXT NOT NULL,
		[[record]]   TEXT NOT NULL,
		[[group]]    TEXT NOT NULL DEFAULT '',
		[[user]]     TEXT NOT NULL,
		[[token]]    TEXT NOT NULL,
		[[title]]    TEXT NOT NULL,
		[[body]]     TEXT NOT NULL,
		[[data]]     TEXT NOT NULL DEFAULT '{}',
		[[count]]    INTEGER NOT NULL DEFAULT 1,
		[[state]]    TEXT NOT NULL CHECK ([[state]] IN ('pending', 'accepted', 'delivered', 'failed', 'dropped', 'unconfirmed')),
		[[attempts]] INTEGER NOT NULL DEFAULT 0,
		[[due]]      INTEGER NOT NULL,
		[[next_at]]  INTEGER NOT NULL DEFAULT 0,
		[[sent]]     INTEGER NOT NULL DEFAULT 0,
		[[ticket]]   TEXT NOT NULL DEFAULT '',
		[[error]]    TEXT NOT NULL DEFAULT '',
		[[created]]  INTEGER NOT NULL,
		[[updated]]  INTEGER NOT NULL
	)`,
	"CREATE INDEX idx_hearth_pushes_work ON {{_hearth_pushes}} ([[state]], [[next_at]]) WHERE [[state]] IN ('pending', 'accepted')",
	"CREATE INDEX idx_hearth_pushes_window ON {{_hearth_pushes}} ([[user]], [[token]], [[group]], [[id]]) WHERE [[kind]] = 'message'",
	"CREATE INDEX idx_hearth_pushes_updated ON {{_hearth_pushes}} ([[updated]])",
}

// pushDate renders a millisecond column as PocketBase prints dates.
func pushDate(column string) string {
	return fmt.Sprintf(`CAST(CASE WHEN %[1]s > 0 THEN strftime('%%Y-%%m-%%d %%H:%%M:%%fZ', %[1]s / 1000.0, 'unixepoch') ELSE '' END AS TEXT)`, column)
}

// The pushes view shows a message push that several messages joined as
// the summary it is sent as (push.summaryFormat).
//
// The views are written in plain SQL (no {{ }} or [[ ]]): PocketBase reads
// a view's field types from its query text, and a column taken from the id
// of a collection (g.id) becomes a relation to it, a link in the
// dashboard. Ids are zero-padded so that sorting them as text keeps the
// outbox order.
var (
	pushOutboxView = `SELECT printf('%012d', o.id) AS id, CAST(o.kind AS TEXT) AS kind, CAST(o.record AS TEXT) AS record,
		g.id AS "group", u.id AS actor, ` + pushDate("o.created") + ` AS created,
		` + pushDate("o.expanded") + ` AS expanded, CAST(o.pushes AS INTEGER) AS pushes
		FROM _hearth_push_outbox o
		LEFT JOIN groups g ON g.id = o."group"
		LEFT JOIN users u ON u.id = o.actor`
	pushesView = `SELECT printf('%012d', p.id) AS id, CAST(printf('%012d', p.outbox) AS TEXT) AS outbox, CAST(p.kind AS TEXT) AS kind,
		CAST(p.state AS TEXT) AS state, u.id AS user, CAST(p.token AS TEXT) AS token, g.id AS "group",
		CAST(p.title AS TEXT) AS title,
		CAST(CASE WHEN p.kind = 'message' AND p.count > 1 THEN printf('%d new messages in %s', p.count, p.title) ELSE p.body END AS TEXT) AS body,
		CAST(p.count AS INTEGER) AS count,
		CAST(p.attempts AS INTEGER) AS attempts, CAST(p.error AS TEXT) AS error, CAST(p.ticket AS TEXT) AS ticket,
		` + pushDate("p.due") + ` AS due, ` + pushDate("p.sent") + ` AS sent,
		` + pushDate("p.created") + ` AS created, ` + pushDate("p.updated") + ` AS updated
		FROM _hearth_pushes p
		LEFT JOIN users u ON u.id = p.user
		LEFT JOIN groups g ON g.id = p."group"`
)

func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		groups, err := app.FindCollectionByNameOrId("groups")
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}

		devices := core.NewBaseCollection("devices")
		devices.Fields.Add(
			&core.RelationField{Name: "user", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.TextField{Name: "token", Required: true, Max: 220, Pattern: pushTokenPattern},
			&core.SelectField{Name: "platform", Required: true, MaxSelect: 1, Values: []string{"ios", "android"}},
			&core.DateField{Name: "last_seen"},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		devices.AddIndex("idx_devices_token", true, "token", "")
		devices.AddIndex("idx_devices_user", false, "`user`", "")
		devices.ListRule = types.Pointer(ownRecord)
		devices.ViewRule = devices.ListRule
		devices.CreateRule = types.Pointer(ownCreate)
		devices.UpdateRule = nil
		devices.DeleteRule = devices.ListRule
		if err := app.Save(devices); err != nil {
			return fmt.Errorf("push: devices: %w", err)
		}

		mutes := core.NewBaseCollection("mutes")
		mutes.Fields.Add(
			&core.RelationField{Name: "user", CollectionId: users.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.RelationField{Name: "group", CollectionId: groups.Id, MaxSelect: 1, Required: true, CascadeDelete: true},
			&core.AutodateField{Name: "created", OnCreate: true},
			&core.AutodateField{Name: "updated", OnCreate: true, OnUpdate: true},
		)
		mutes.AddIndex("idx_mutes_user_group", true, "`user`, `group`", "")
		mutes.AddIndex("idx_mutes_group", false, "`group`", "")
		if err := app.Save(mutes); err != nil {
			return fmt.Errorf("push: mutes: %w", err)
		}
		mutes.ListRule = types.Pointer(ownRecord)
		mutes.ViewRule = mutes.ListRule
		mutes.CreateRule = types.Pointer(ownCreate + " && " + memberOfGroup)
		mutes.UpdateRule = nil
		mutes.DeleteRule = mutes.ListRule
		if err := app.Save(mutes); err != nil {
			return fmt.Errorf("push: rules of mutes: %w", err)
		}

		events, err := app.FindCollectionByNameOrId("events")
		if err != nil {
			return fmt.Errorf("push: %w", err)
		}
		events.AddIndex("idx_events_starts_at", false, "starts_at", "")
		if err := app.Save(events); err != nil {
			return fmt.Errorf("push: events index: %w", err)
		}

		for _, stmt := range pushTables {
			if _, err := app.DB().NewQuery(stmt).Execute(); err != nil {
				return fmt.Errorf("push: %w", err)
			}
		}
		for name, query := range map[string]string{"push_outbox": pushOutboxView, "pushes": pushesView} {
			view := core.NewViewCollection(name)
			view.ViewQuery = query
			if err := app.Save(view); err != nil {
				return fmt.Errorf("push: view %s: %w", name, err)
			}
		}
		return nil
	}, func(app core.App) error {
		for _, name := range []string{"pushes", "push_outbox", "mutes", "devices"} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				continue
			}
			if err := app.Delete(c); err != nil {
				return fmt.Errorf("push down: %s: %w", name, err)
			}
		}
		events, err := app.FindCollectionByNameOrId("events")
		if err != nil {
			return fmt.Errorf("push down: %w", err)
		}
		events.RemoveIndex("idx_events_starts_at")
		if err := app.Save(events); err != nil {
			return fmt.Errorf("push down: events index: %w", err)
		}
		for _, stmt := range []string{
			"DROP TABLE IF EXISTS {{_hearth_pushes}}",
			"DROP TABLE IF EXISTS {{_hearth_push_outbox}}",
		} {
			if _, err := app.DB().NewQuery(stmt).Execute(); err != nil {
				return fmt.Errorf("push down: %w", err)
			}
		}
		return nil
	})
}
