package collections

import (
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// A mute is a member's wish for no pushes from one group. It is theirs
// alone: the group does not see who muted it, which a field on memberships
// (visible to every member) would have shown.
// Mutes is the collection's name in the schema; clients rely on it.
const Mutes = "mutes"

var mutesSpec = declare(Spec{
	Name:  Mutes,
	Rank:  9,
	Hooks: registerMutes,
	Scope: Scope{Field: "group", Private: true},
	Owner: "user",
	Fixed: []string{"user", "group"},
	Query: []string{"id", "user", "group", "created", "updated"},
})

func registerMutes(app core.App, cfg Config) {
	// A mute ends with the membership: whoever joins the group again
	// starts with its pushes on, as a new member does.
	app.OnRecordDelete(Memberships).BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(txApp core.App) error {
			if err := e.Next(); err != nil {
				return err
			}
			var mutes []*core.Record
			err := txApp.RecordQuery(Mutes).
				AndWhere(dbx.HashExp{"group": e.Record.GetString("group"), "user": e.Record.GetString("user")}).
				All(&mutes)
			if err != nil {
				return fmt.Errorf("mutes of former member %s: %w", e.Record.GetString("user"), err)
			}
			for _, m := range mutes {
				if err := txApp.Delete(m); err != nil {
					return fmt.Errorf("delete mute %s of former member: %w", m.Id, err)
				}
			}
			return nil
		})
	})
}
