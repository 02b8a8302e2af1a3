package realtime

import (
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/pb_migrations"
	"github.com/pocketbase/pocketbase/core"
)

// The membership index as a rule check. Most group-scoped collections are
// seen by the members of the record's group: their list and view rules are
// pb_migrations.MemberOfRule of the path to that group. For a candidate
// whom the index held as a member of that group when the dispatcher took
// the change, the rule's SQL query can only say yes, so the worker skips
// it and judges the subscription's filter alone (PocketBase's own code,
// given the empty rule, which admits everyone; realtimeCanAccessRecord).
// This is what makes a change into a group of 500 cost one query for the
// group rather than one per member.
//
// The rule is compared with the one the migration set on every decision,
// from the collection the change was written with: a rule changed in the
// dashboard (or by a hook, or a later migration) differs, and its changes
// take the SQL path at once, with no cache to invalidate. Anyone else (a
// candidate who is not a member by the index, such as the members of the
// group a record left; the users collection, whose rule also admits
// oneself; invites, seen by owners and admins only) takes the SQL path,
// and so do deletions, which are decided at their capture against the
// committed state, which the index may lag behind.
// TestIndexRuleMatchesSQL compares both paths on generated worlds.
//
// The index follows memberships through their record hooks (a cascade
// included, which PocketBase deletes record by record; and a superuser's
// move of a membership to another group or user, TestMovedMembershipLeavesTheIndex). A membership
// written with raw SQL would leave it stale, and where it answers the
// rule, a removed member would still be admitted: Hearth writes none that
// way, and a new write of memberships must go through app.Save or
// app.Delete (an account deletion too).

// ruleByIndex returns the rule the index answers for collection name, or
// "" when it answers none.
func ruleByIndex(name string) string {
	path := groupPath(collections.SpecOf(name))
	if path == "" {
		return ""
	}
	return pb_migrations.MemberOfRule(path)
}

// groupPath returns the rule path from a record of s to its group: "id"
// for a group, its group field, or through its parent's group field; ""
// for a user (in many groups) and collections in no group.
func groupPath(s *collections.Spec) string {
	if !isScoped(s) {
		return ""
	}
	sc := s.Scope
	switch {
	case sc.Self:
		return "id"
	case sc.Members:
		return ""
	case sc.Parent != "":
		parent := groupPath(collections.SpecOf(sc.Parent))
		if parent == "" {
			return ""
		}
		return sc.Field + "." + parent
	default:
		return sc.Field
	}
}

// indexRules holds ruleByIndex for every scoped collection, computed once.
type indexRules map[string]string

func newIndexRules() indexRules {
	out := indexRules{}
	for _, name := range scoped() {
		if r := ruleByIndex(name); r != "" {
			out[name] = r
		}
	}
	return out
}

// answers reports whether rule, the rule of collection a topic is judged
// by, is the one the index answers.
func (r indexRules) answers(collection *core.Collection, rule *string) bool {
	want, ok := r[collection.Name]
	return ok && rule != nil && *rule == want
}

// admittedLocked reports whether user is, in the index as it stands, a
// member of one of groups; the caller holds h.mu. Only the dispatcher
// changes memberships in the index, so when it asks, the answer is the
// one at the change's place in commit order.
func (h *hub) admittedLocked(user string, groups []string) bool {
	if user == "" {
		return false
	}
	for _, g := range groups {
		if _, ok := h.members[g][user]; ok {
			return true
		}
	}
	return false
}
