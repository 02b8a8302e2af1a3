package pb_migrations

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// The users list and view rule, same meaning, written so that SQLite can
// follow indexes: "a user who shares a group with the caller" went through
// two @collection.memberships aliases, which PocketBase joins to every
// user row without a join condition, so a listing cost the square of the
// memberships table per user and a member of a group of 500 got a 400
// after PocketBase's 30 s query timeout. The back-relation path joins
// memberships by user, then the group's memberships by (group, user),
// both indexed.
func init() {
	const authed = `@request.auth.id != "" && @request.auth.collectionName = "users"`
	const before = authed + ` && (id = @request.auth.id || (@collection.memberships:mine.user ?= @request.auth.id && @collection.memberships:theirs.user ?= id && @collection.memberships:theirs.group ?= @collection.memberships:mine.group))`
	const after = authed + ` && (id = @request.auth.id || memberships_via_user.group.memberships_via_group.user ?= @request.auth.id)`
	set := func(app core.App, rule string) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return fmt.Errorf("users list rule: %w", err)
		}
		users.ListRule = types.Pointer(rule)
		users.ViewRule = types.Pointer(rule)
		if err := app.Save(users); err != nil {
			return fmt.Errorf("users list rule: %w", err)
		}
		return nil
	}
	m.Register(func(app core.App) error {
		return set(app, after)
	}, func(app core.App) error {
		return set(app, before)
	})
}
