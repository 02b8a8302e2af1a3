package collections

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Scope says how a record of a collection belongs to groups, whose members
// see it: the change log, group expansion in sync and the create-denial
// naming read it. One form is set:
//   - Self: the record is a group;
//   - Field alone: the relation Field names the record's group;
//   - Field and Parent: Field names a record of Parent, and the record
//     belongs to that record's group (an RSVP through its event);
//   - Members: the record is a user, in every group it is a member of;
//   - Private, alone or with Field: the record is its owner's alone
//     (Spec.Owner names them: a device, a mute) and belongs to no group;
//     Field names the group it is about (a mute's), for the create-denial
//     naming only;
//   - none: the record belongs to no group (the push views, which only
//     superusers read).
type Scope struct {
	Self    bool
	Field   string
	Parent  string
	Members bool
	Private bool
}

// grouped reports whether records of the scope belong to groups at all.
func (s Scope) grouped() bool {
	return !s.Private && (s.Self || s.Members || s.Field != "")
}

// ParentGoneError reports a record whose group is its parent's, when the
// parent no longer exists (an RSVP deleted in the cascade of its event).
type ParentGoneError struct {
	Collection, ID string
}

func (e *ParentGoneError) Error() string {
	return fmt.Sprintf("%s %s is gone", e.Collection, e.ID)
}

// GroupsOf returns the groups whose members may see record as it is being
// written: the group itself, the group it names (and the one it named
// before, when an update moves it), its parent's group, or a user's groups.
// A record of a collection without a spec belongs to no group. For a
// parent that is gone it returns a *ParentGoneError.
func GroupsOf(app core.App, record *core.Record) ([]string, error) {
	spec := SpecOf(record.Collection().Name)
	if spec == nil {
		return nil, nil
	}
	s := spec.Scope
	switch {
	case !s.grouped():
		return nil, nil
	case s.Self:
		return []string{record.Id}, nil
	case s.Members:
		var groups []string
		err := app.DB().Select("group").From(Memberships).
			Where(dbx.HashExp{"user": record.Id}).OrderBy("group").Column(&groups)
		if err != nil {
			return nil, fmt.Errorf("groups of user %s: %w", record.Id, err)
		}
		return groups, nil
	case s.Parent != "":
		id := record.GetString(s.Field)
		if id == "" {
			return nil, nil
		}
		parent, err := app.FindRecordById(s.Parent, id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, &ParentGoneError{Collection: s.Parent, ID: id}
		}
		if err != nil {
			return nil, fmt.Errorf("parent of %s/%s: %w", record.Collection().Name, record.Id, err)
		}
		return GroupsOf(app, parent)
	default:
		var groups []string
		if g := record.GetString(s.Field); g != "" {
			groups = append(groups, g)
		}
		if old := record.Original().GetString(s.Field); !record.IsNew() && old != "" && old != record.GetString(s.Field) {
			groups = append(groups, old)
		}
		return groups, nil
	}
}

// GroupRecordIDs returns the ids of collection's records that belong to
// group g now: none for a collection whose records belong to no group.
func GroupRecordIDs(app core.App, collection, g string) ([]string, error) {
	q, err := groupRecordsQuery(app, collection, g)
	if err != nil || q == nil {
		return nil, err
	}
	var ids []string
	if err := q.Column(&ids); err != nil {
		return nil, fmt.Errorf("records of group %s in %s: %w", g, collection, err)
	}
	return ids, nil
}

// groupRecordsQuery selects the ids of collection's records in group g,
// or returns nil when none of its records belongs to a group. A record
// scoped through a parent is found by joining the parent, which must name
// its group in a field (one level, as an RSVP's event does).
func groupRecordsQuery(app core.App, collection, g string) (*dbx.SelectQuery, error) {
	spec := SpecOf(collection)
	if spec == nil {
		return nil, fmt.Errorf("records of group %s: %s has no spec", g, collection)
	}
	s := spec.Scope
	switch {
	case !s.grouped():
		return nil, nil
	case s.Self:
		return app.DB().Select("id").From(collection).Where(dbx.HashExp{"id": g}), nil
	case s.Members:
		return app.DB().Select("user").From(Memberships).Where(dbx.HashExp{"group": g}), nil
	case s.Parent != "":
		parent := SpecOf(s.Parent)
		if parent == nil || parent.Scope.Field == "" || parent.Scope.Parent != "" {
			return nil, fmt.Errorf("records of group %s in %s: the parent %s must name its group in a field", g, collection, s.Parent)
		}
		return app.DB().Select("c.id").From(collection+" c").
			InnerJoin(s.Parent+" p", dbx.NewExp("[[p.id]] = [[c."+s.Field+"]]")).
			Where(dbx.HashExp{"p." + parent.Scope.Field: g}), nil
	default:
		return app.DB().Select("id").From(collection).Where(dbx.HashExp{s.Field: g}), nil
	}
}

// Children returns the collections whose records belong to a group through
// a record of parent (the RSVPs of an event), so a write that moves parent
// to another group can account for them.
func Children(parent string) []*Spec {
	var out []*Spec
	for _, name := range Names {
		if s := specs[name]; s != nil && s.Scope.Parent == parent {
			out = append(out, s)
		}
	}
	return out
}
