package collections

// Spec is what Hearth declares about one Crews collection, next to that
// collection's hooks (collections/events.go declares the events spec), so
// that every capability reading it agrees on the same facts.
type Spec struct {
	// Name is the collection's name in the schema.
	Name string

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

// specs holds every declared spec by collection name.
var specs = map[string]*Spec{}

// declare registers s and returns it, for the package-level declaration
// in each collection's file.
func declare(s Spec) *Spec {
	if _, dup := specs[s.Name]; dup {
		panic("collections: spec declared twice: " + s.Name)
	}
	specs[s.Name] = &s
	return &s
}

// Synced returns the names of the synced collections, in Names order.
func Synced() []string {
	var out []string
	for _, name := range Names {
		if s := specs[name]; s != nil && s.Synced {
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
