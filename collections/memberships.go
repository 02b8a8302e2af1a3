package collections

import (
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Memberships is the collection's name in the schema; clients rely on it.
const Memberships = "memberships"

var membershipsSpec = declare(Spec{
	Name:   Memberships,
	Rank:   3,
	Hooks:  registerMemberships,
	Scope:  Scope{Field: "group"},
	Synced: true,
	Fixed:  []string{"group", "user"},
	Query:  []string{"id", "group", "user", "role", "created", "updated", "group.name", "user.name"},
})

// Membership wraps a memberships record.
type Membership struct {
	core.BaseRecordProxy
}

func (*Membership) collection() string { return Memberships }

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
	m := As[Membership](core.NewRecord(col))
	m.Set("group", group)
	m.Set("user", user)
	m.Set("role", role)
	if err := app.Save(m); err != nil {
		return nil, fmt.Errorf("add member %s to group %s: %w", user, group, err)
	}
	return m, nil
}

// FindMembership returns user's membership of group, or a not-found error
// (IsNotFound) when there is none.
func FindMembership(app core.App, group, user string) (*Membership, error) {
	m := &Membership{}
	err := app.RecordQuery(Memberships).
		AndWhere(dbx.HashExp{"group": group, "user": user}).
		Limit(1).
		One(m)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(err, "%s is not a member of group %s.", user, group)
	}
	if err != nil {
		return nil, fmt.Errorf("membership of %s in %s: %w", user, group, err)
	}
	return m, nil
}

// countOwners counts the owners of group.
func countOwners(app core.App, group string) (int, error) {
	return count(app, Memberships, dbx.HashExp{"group": group, "role": RoleOwner}, "owners of "+group)
}

// CheckOwnerRemains refuses to take m's owner role away (by demotion,
// leaving or removal) when m is its group's last owner: a group always keeps
// at least one owner. Ownership is handed over by making someone else owner
// first; a last owner who wants out deletes the group. field names the
// request field the error is reported on ("role" for a demotion, "user" for
// a leave or removal).
func CheckOwnerRemains(app core.App, m *Membership, field string) error {
	if m.Role() != RoleOwner {
		return nil
	}
	owners, err := countOwners(app, m.Group())
	if err != nil {
		return err
	}
	if owners > 1 {
		return nil
	}
	return fieldError(field, "validation_last_owner",
		"This is the group's last owner: hand ownership over to another member first (make them owner), or delete the group.")
}

// removeFutureRSVPs deletes user's RSVPs to the events of group that start
// after at: someone who is no longer a member is not coming. Each delete
// goes through the RSVP hooks, which promote the waitlist it frees.
func removeFutureRSVPs(app core.App, group, user string, at time.Time) error {
	var rsvps []*core.Record
	err := app.RecordQuery(RSVPs).
		InnerJoin(Events, dbx.NewExp("[[events.id]] = [[rsvps.event]]")).
		AndWhere(dbx.HashExp{"events.group": group, "rsvps.user": user}).
		AndWhere(dbx.NewExp("[[events.starts_at]] > {:at}", dbx.Params{"at": dbTime(at)})).
		All(&rsvps)
	if err != nil {
		return fmt.Errorf("future rsvps of %s in %s: %w", user, group, err)
	}
	for _, r := range rsvps {
		if err := app.Delete(r); err != nil {
			return fmt.Errorf("delete rsvp %s of former member %s: %w", r.Id, user, err)
		}
	}
	return nil
}

func registerMemberships(app core.App, cfg Config) {
	now := cfg.Now
	app.OnRecordUpdate(Memberships).BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(txApp core.App) error {
			stored, err := Find[Membership](txApp, e.Record.Id)
			if err != nil {
				return err
			}
			if e.Record.GetString("role") != RoleOwner {
				if err := CheckOwnerRemains(txApp, stored, "role"); err != nil {
					return err
				}
			}
			return e.Next()
		})
	})

	app.OnRecordDelete(Memberships).BindFunc(func(e *core.RecordEvent) error {
		return InTx(e, func(txApp core.App) error {
			stored, err := Find[Membership](txApp, e.Record.Id)
			if IsNotFound(err) {
				return e.Next()
			}
			if err != nil {
				return err
			}
			// A group being deleted takes its memberships with it, last
			// owner included: that is how a last owner ends a group.
			exists, err := groupExists(txApp, stored.Group())
			if err != nil {
				return err
			}
			if !exists {
				return e.Next()
			}
			if err := CheckOwnerRemains(txApp, stored, "user"); err != nil {
				return err
			}
			if err := e.Next(); err != nil {
				return err
			}
			return removeFutureRSVPs(txApp, stored.Group(), stored.User(), now())
		})
	})
}
