package collections

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
)

// Groups is the collection's name in the schema; clients rely on it.
const Groups = "groups"

var groupsSpec = declare(Spec{
	Name:          Groups,
	Rank:          1,
	Hooks:         registerGroups,
	Scope:         Scope{Self: true},
	Synced:        true,
	Owner:         "created_by",
	ServerManaged: []string{"created_by"},
	Query:         []string{"id", "name", "description", "created_by", "created", "updated"},
})

// Group wraps a groups record.
type Group struct {
	core.BaseRecordProxy
}

// Name is the group's display name.
func (g *Group) Name() string { return g.GetString("name") }

// CreatedBy is the id of the user who created the group.
func (g *Group) CreatedBy() string { return g.GetString("created_by") }

func (*Group) collection() string { return Groups }

// groupExists reports whether group is still stored. Inside the transaction
// that deletes a group it is false by the time the cascade reaches the
// group's memberships: PocketBase deletes the row before its references.
func groupExists(app core.App, group string) (bool, error) {
	_, err := app.FindRecordById(Groups, group)
	if IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("find group %s: %w", group, err)
	}
	return true, nil
}

func registerGroups(app core.App, cfg Config) {
	// No group exists without an owner: the group and its creator's owner
	// membership are written in one transaction, whoever creates it (API,
	// dashboard, seed).
	app.OnRecordCreate(Groups).BindFunc(func(e *core.RecordEvent) error {
		creator := e.Record.GetString("created_by")
		if creator == "" {
			return fieldError("created_by", "validation_required", "A group needs a creator, who becomes its first owner.")
		}
		return InTx(e, func(txApp core.App) error {
			if err := e.Next(); err != nil {
				return err
			}
			if _, err := AddMember(txApp, e.Record.Id, creator, RoleOwner); err != nil {
				return fmt.Errorf("owner membership of new group %s: %w", e.Record.Id, err)
			}
			return nil
		})
	})
}
