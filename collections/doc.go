// Package collections is the Crews domain: one file per collection, each with
// its Spec (spec.go), typed record wrapper and the hooks that keep its
// invariants, plus the permission functions the hooks share and the
// join-by-code route (join.go).
//
// A collection's Spec is the one statement of its facts that the rest of
// Hearth reads: how its records belong to groups (Scope, scope.go: the
// change log, sync's group expansion, create denials), whether it is
// synced, the field filled with the caller, its server-managed and fixed
// fields, and the paths clients may filter and sort on. A collection in the
// schema without a spec fails TestEveryCollectionHasASpec.
//
// API rules (in pb_migrations) decide who may touch a record; the hooks here
// decide what a permitted write may do and keep derived values true in the
// same transaction as the write that changes them. What a request may ask
// or send before it reaches either (body limits and shapes, the raw body
// checks, the query policy of filter, sort and expand) is the request edge, package edge,
// which reads the specs. docs/access-rules.md is the reader's guide to all
// of it.
//
// The business rules (docs/api.md has them as a client sees them):
//   - join by invite code: POST /api/crews/join (join.go, invites.go);
//   - a group keeps at least one owner (memberships.go);
//   - event capacity, waitlist and going_count (events.go, rsvps.go);
//   - leaving a group drops one's RSVPs to its future events (memberships.go);
//   - messages are editable for EditWindow after posting (messages.go);
//   - an invite's code never changes (invites.go).
//
// Race safety: every rule is checked and applied inside the transaction of
// the write it guards, by model-level hooks (so the API, the dashboard and
// Go code are all covered) that read through that transaction, never
// through a record loaded before it. PocketBase runs every write
// transaction on a single connection, so they are serialized and a check
// made inside one still holds when it commits. Writes the domain derives
// (promotions, going_count) are marked with a context value so that their
// own hooks let them through instead of re-applying the rules.
//
// Domain errors (*Error, codes EINVALID, EUNAUTHORIZED, EFORBIDDEN,
// ENOTFOUND, ECONFLICT, ETOOLARGE, with the request fields at fault) are
// mapped to HTTP in errors.go only (APIError); something that does not
// exist is always a not-found *Error wrapping sql.ErrNoRows (IsNotFound).
//
// The clock of every time-based rule is Config.Now, so tests give each app
// its own and run in parallel.
//
// Usage:
//
//	app := pocketbase.New()
//	collections.Register(app, collections.Config{})
//	app.Start()
package collections
