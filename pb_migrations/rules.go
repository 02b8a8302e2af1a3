package pb_migrations

// MemberOfRule is the list and view rule the schema migration
// (1764115200_crews_schema.go) sets on every collection whose records a
// member of their group sees: groups ("id"), memberships, events and
// messages ("group"), RSVPs ("event.group"). Realtime reads it to know
// when its membership index already answers the rule
// (realtime/index_rules.go): a rule that differs by one character, as one
// changed in the dashboard does, is judged by PocketBase's SQL instead.
func MemberOfRule(path string) string { return memberOf(path) }
