package collections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Scope says how a record of a collection belongs to groups, whose members
// see it: the change log, group expansion in sync, the realtime fan-out
// and the create-denial naming read it. One form is set:
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

// Grouped reports whether records of the scope belong to groups, whose
// members see them; the others are seen by their owner or superusers only.
func (s Scope) Grouped() bool {
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
	return GroupsOfWrite(context.Background(), app, record)
}

// parentKey carries, in a write's context, the parent record (an RSVP's
// event) that the record's own hooks read inside the write's transaction.
type parentKey struct{}

// withParent returns ctx carrying parent for GroupsOfWrite: the hooks of
// a record scoped through a parent read it anyway (an RSVP's event, for
// its capacity), and the change log then takes the groups from it instead
// of reading the same row again inside the write lock.
func withParent(ctx context.Context, parent *core.Record) context.Context {
	return context.WithValue(ctx, parentKey{}, parent)
}

// GroupsOfWrite is GroupsOf for a record being written with ctx: when ctx
// carries the record's parent as read inside the write's transaction (the
// RSVP hooks put the event there), its groups come from that copy.
func GroupsOfWrite(ctx context.Context, app core.App, record *core.Record) ([]string, error) {
	spec := SpecOf(record.Collection().Name)
	if spec == nil {
		return nil, nil
	}
	s := spec.Scope
	switch {
	case !s.Grouped():
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
		if p, _ := ctx.Value(parentKey{}).(*core.Record); p != nil && p.Id == id && p.Collection().Name == s.Parent {
			return GroupsOf(app, p)
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
	q, _, err := groupRecordsQuery(app, collection, g)
	if err != nil || q == nil {
		return nil, err
	}
	var ids []string
	if err := q.Column(&ids); err != nil {
		return nil, fmt.Errorf("records of group %s in %s: %w", g, collection, err)
	}
	return ids, nil
}

// GroupRecordIDsAfter returns, in id order, at most limit ids of
// collection's records that belong to group g now and sort after the id
// after ("" for the first): a group read page by page, in an order that
// writes to other records cannot shift. where, when not nil, adds a
// condition on the record id, given the quoted column that holds it.
func GroupRecordIDsAfter(app core.App, collection, g, after string, limit int, where func(id string) dbx.Expression) ([]string, error) {
	q, id, err := groupRecordsQuery(app, collection, g)
	if err != nil || q == nil {
		return nil, err
	}
	q.AndWhere(dbx.NewExp("[["+id+"]] > {:after}", dbx.Params{"after": after}))
	if where != nil {
		q.AndWhere(where("[[" + id + "]]"))
	}
	var ids []string
	err = q.OrderBy(id).Limit(int64(limit)).Column(&ids)
	if err != nil {
		return nil, fmt.Errorf("records of group %s in %s after %q: %w", g, collection, after, err)
	}
	return ids, nil
}

// groupRecordsQuery selects the ids of collection's records in group g,
// and names the column that holds them; it returns no query when none of
// the collection's records belongs to a group. A record scoped through a
// parent is found by joining the parent, which must name its group in a
// field (one level, as an RSVP's event does).
func groupRecordsQuery(app core.App, collection, g string) (*dbx.SelectQuery, string, error) {
	spec := SpecOf(collection)
	if spec == nil {
		return nil, "", fmt.Errorf("records of group %s: %s has no spec", g, collection)
	}
	s := spec.Scope
	switch {
	case !s.Grouped():
		return nil, "", nil
	case s.Self:
		return app.DB().Select("id").From(collection).Where(dbx.HashExp{"id": g}), "id", nil
	case s.Members:
		return app.DB().Select("user").From(Memberships).Where(dbx.HashExp{"group": g}), "user", nil
	case s.Parent != "":
		parent, err := parentSpec(collection, s)
		if err != nil {
			return nil, "", err
		}
		return app.DB().Select("c.id").From(collection+" c").
			InnerJoin(s.Parent+" p", dbx.NewExp("[[p.id]] = [[c."+s.Field+"]]")).
			Where(dbx.HashExp{"p." + parent.Scope.Field: g}), "c.id", nil
	default:
		return app.DB().Select("id").From(collection).Where(dbx.HashExp{s.Field: g}), "id", nil
	}
}

// parentSpec returns the spec of the parent a collection is scoped
// through, which must name its group in a field.
func parentSpec(collection string, s Scope) (*Spec, error) {
	parent := SpecOf(s.Parent)
	if parent == nil || parent.Scope.Field == "" || parent.Scope.Parent != "" {
		return nil, fmt.Errorf("%s: the parent %s must name its group in a field", collection, s.Parent)
	}
	return parent, nil
}

// idChunk bounds the ids bound in one query, far below SQLite's limit on
// host parameters.
const idChunk = 500

// GroupsOfIDs returns the groups that each of ids of collection belongs to
// now (as GroupsOf would for the stored record); ids of records that do
// not exist, or belong to no group, are absent.
func GroupsOfIDs(app core.App, collection string, ids []string) (map[string][]string, error) {
	spec := SpecOf(collection)
	if spec == nil {
		return nil, fmt.Errorf("groups of %s records: %s has no spec", collection, collection)
	}
	out := map[string][]string{}
	if !spec.Scope.Grouped() {
		return out, nil
	}
	for start := 0; start < len(ids); start += idChunk {
		chunk := ids[start:min(start+idChunk, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		q, err := groupsOfIDsQuery(app, collection, spec.Scope, args)
		if err != nil {
			return nil, err
		}
		var rows []struct {
			ID    string `db:"id"`
			Group string `db:"grp"`
		}
		if err := q.All(&rows); err != nil {
			return nil, fmt.Errorf("groups of %s records: %w", collection, err)
		}
		for _, r := range rows {
			if r.Group != "" {
				out[r.ID] = append(out[r.ID], r.Group)
			}
		}
	}
	return out, nil
}

// groupsOfIDsQuery selects (id, grp) rows: each record of ids with one of
// its groups.
func groupsOfIDsQuery(app core.App, collection string, s Scope, ids []any) (*dbx.SelectQuery, error) {
	switch {
	case s.Self:
		return app.DB().Select("id", "id AS grp").From(collection).Where(dbx.In("id", ids...)), nil
	case s.Members:
		return app.DB().Select("user AS id", "group AS grp").From(Memberships).Where(dbx.In("user", ids...)), nil
	case s.Parent != "":
		parent, err := parentSpec(collection, s)
		if err != nil {
			return nil, err
		}
		return app.DB().Select("c.id AS id", "p."+parent.Scope.Field+" AS grp").From(collection+" c").
			InnerJoin(s.Parent+" p", dbx.NewExp("[[p.id]] = [[c."+s.Field+"]]")).
			Where(dbx.In("c.id", ids...)), nil
	default:
		return app.DB().Select("id", s.Field+" AS grp").From(collection).Where(dbx.In("id", ids...)), nil
	}
}

// Children returns the collections whose records belong to a group through
// a record of parent (the RSVPs of an event), so a write that moves parent
// to another group can account for them.
func Children(parent string) []*Spec {
	var out []*Spec
	for _, name := range names {
		if s := specs[name]; s != nil && s.Scope.Parent == parent {
			out = append(out, s)
		}
	}
	return out
}
