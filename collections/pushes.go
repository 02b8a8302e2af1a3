package collections

// Every push and its state as superusers see them in the dashboard: a view
// collection over the push table of package push (one row per phone and
// notification), read-only because PocketBase writes no view, and closed
// to everyone else by its nil rules: it holds push tokens and message text.
// Pushes is the collection's name in the schema; clients rely on it.
const Pushes = "pushes"

var pushesSpec = declare(Spec{Name: Pushes, Rank: 11})
