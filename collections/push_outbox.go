package collections

// The push outbox as superusers see it in the dashboard: a view collection
// over the outbox table of package push (one row per change that asked for
// pushes), read-only because PocketBase writes no view, and closed to
// everyone else by its nil rules. It belongs to no group and is not synced.
// PushOutbox is the collection's name in the schema; clients rely on it.
const PushOutbox = "push_outbox"

var pushOutboxSpec = declare(Spec{Name: PushOutbox, Rank: 10})
