package collections

import (
	"cmp"
	"slices"

	"github.com/pocketbase/pocketbase/core"
)

// Spec is what Hearth declares about one Crews collection, next to that
// collection's hooks (collections/events.go declares the events spec), so
// that every capability reading it agrees on the same facts.
type Spec struct {
	// Name is the collection's name in the schema.
	Name string

	// Rank is the collection's place in Names: the order in which records
	// of several collections are reported together (the items of a join in
	// sync, whose cursors name a place among them; typegen's output).
	// Parents come before children (an event before its RSVPs). Ranks are
	// unique and start at 1 (TestSpecRanks), and a rank never changes once
	// released: a sync cursor held by a phone names a place in that order.
	Rank int

	// Hooks binds the collection's hooks (nil for none); Register calls it
	// in Names order.
	Hooks func(app core.App, cfg Config)

	// Scope is how a record belongs to groups (scope.go).
	Scope Scope

	// Synced collections are in the offline sync's change log (changefeed).
	Synced bool

	// Owner is the field filled with the caller when a client creates a
	// record without it (groups.created_by, messages.author); "" for none.
	Owner string

	// ServerManaged fields are set by the server only: a client request
	// that sends one (in any modifier form) is refused with a 400 naming it.
	ServerManaged []string

	// ServerValues are, per select field, the values only the server sets
	// (an RSVP's status "waitlisted": the server puts people on the
	// waitlist). A client request that sends one for its field, plainly or
	// in any modifier form ("+status", "status+", "status-"), is refused with
	// a 400 naming the field; a plain value that echoes the stored one, as
	// SDK round trips do, is accepted. Values a role may grant (a
	// membership's role "owner") are permissions of the API rules, not
	// server values.
	ServerValues map[string][]string

	// Fixed fields cannot change after creation: moving a record to
	// another group or user would bypass the rules that admitted it.
	Fixed []string

	// Query lists the field paths that clients other than superusers may
	// name in the filter, sort and expand of any read, a realtime
	// subscription's options included (edge/queries.go; an expand needs
	// each prefix of its path listed). A path is either a field of the
	// collection itself, or a chain of single relations whose target is
	// visible whenever the record is (an RSVP's event.group: whoever sees
	// the RSVP is a member of that group and sees the event). Paths through
	// back-relations or multi relations are never listed: PocketBase
	// evaluates most operators on them without the related collection's
	// list rule, which turns a filter into a yes/no question about hidden
	// rows.
	Query []string
}

// specs holds every declared spec by collection name; names, their names
// by Rank, once every file's declaration has run.
var (
	specs = map[string]*Spec{}
	names []string
)

func init() {
	for name := range specs {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(specs[a].Rank, specs[b].Rank) })
}

// declare registers s and returns it, for the package-level declaration
// in each collection's file.
func declare(s Spec) *Spec {
	if _, dup := specs[s.Name]; dup {
		panic("collections: spec declared twice: " + s.Name)
	}
	specs[s.Name] = &s
	return &s
}

// Names lists the Crews collections, one per declared spec, by Rank: a
// group, its people, their memberships, then the group's content (parents
// before children), followed by the collections no group reports: those
// private to one user, then the push views.
func Names() []string {
	return slices.Clone(names)
}

// Synced returns the names of the synced collections, in Names order.
func Synced() []string {
	var out []string
	for _, name := range names {
		if specs[name].Synced {
			out = append(out, name)
		}
	}
	return out
}

// SpecOf returns the declared spec of the named collection, or nil for
// collections Hearth does not declare (PocketBase's system collections and
// any an admin adds in the dashboard).
func SpecOf(name string) *Spec {
	return specs[name]
}
