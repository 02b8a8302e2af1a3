package collections

import (
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Membership wraps a memberships record.
type Membership struct {
	core.BaseRecordProxy
}

// Group is the id of the membership's group.
func (m *Membership) Group() string { return m.GetString("group") }

// User is the id of the member.
func (m *Membership) User() string { return m.GetString("user") }

// Role is owner, admin or member.
func (m *Membership) Role() string { return m.GetString("role") }

// AddMember saves a new membership of user in group with role. Call it in a
// transaction with whatever write made it necessary.
func AddMember(app core.App, group, user, role string) (*Membership, error) {
	col, err := app.FindCachedCollectionByNameOrId(Memberships)
	if err != nil {
		return nil, fmt.Errorf("add member: %w", err)
	}
	m := &Membership{}
	m.SetProxyRecord(core.NewRecord(col))
	m.Set("group", group)
	m.Set("user", user)
	m.Set("role", role)
	if err := app.Save(m); err != nil {
		return nil, fmt.Errorf("add member %s to group %s: %w", user, group, err)
	}
	return m, nil
}

// FindMembership returns user's membership of group, or an error wrapping
// sql.ErrNoRows when there is none.
func FindMembership(app core.App, group, user string) (*Membership, error) {
	m := &Membership{}
	err := app.RecordQuery(Memberships).
		AndWhere(dbx.HashExp{"group": group, "user": user}).
		Limit(1).
		One(m)
	if err != nil {
		return nil, fmt.Errorf("membership of %s in %s: %w", user, group, err)
	}
	return m, nil
}
