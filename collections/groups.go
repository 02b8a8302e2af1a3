package collections

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
)

// Group wraps a groups record.
type Group struct {
	core.BaseRecordProxy
}

// Name is the group's display name.
func (g *Group) Name() string { return g.GetString("name") }

// CreatedBy is the id of the user who created the group.
func (g *Group) CreatedBy() string { return g.GetString("created_by") }

func registerGroups(app core.App) {
	// No group exists without an owner: the group and its creator's owner
	// membership are written in one transaction, whoever creates it (API,
	// dashboard, seed).
	app.OnRecordCreate(Groups).BindFunc(func(e *core.RecordEvent) error {
		return e.App.RunInTransaction(func(txApp core.App) error {
			e.App = txApp
			if err := e.Next(); err != nil {
				return err
			}
			if _, err := AddMember(txApp, e.Record.Id, e.Record.GetString("created_by"), RoleOwner); err != nil {
				return fmt.Errorf("owner membership of new group %s: %w", e.Record.Id, err)
			}
			return nil
		})
	})
}
