// Package realtime delivers the changes of Hearth's group-scoped
// collections (every collection whose collections.Spec places its records
// in groups, Scope.Grouped: groups, users, memberships, invites, events,
// rsvps, messages) to realtime subscribers at a cost that follows the
// recipients, off the request path.
//
// PocketBase's own broadcast walks every connected client for every change,
// in the after-success hook of the request that made it, and for each
// matching subscription evaluates the rule with its own SQL query. Even the
// walk alone (a prefix check per client and topic form, with no rule query)
// costs 21 to 73 ms of CPU per change at 10,000 clients on the 2-core
// development machine (BenchmarkPocketBaseBrokerWalk, docs/benchmarks.md),
// so Hearth keeps its SSE clients out of PocketBase's broker altogether:
//
//   - Hearth serves GET and POST /api/realtime itself (a middleware in front
//     of PocketBase's handlers, same protocol, same hooks:
//     OnRealtimeConnectRequest, OnRealtimeSubscribeRequest,
//     OnRealtimeMessageSend). Its clients live in Hearth's registry.
//   - A subscription to a group-scoped collection is stored under the
//     topic prefix "hearth:", which no PocketBase topic prefix matches
//     (collection names cannot contain ':'), and delivered by Hearth under
//     the topic string the client sent, which is the event name the SDK
//     listens for.
//   - A client that also subscribes to a collection without a scope (a
//     PocketBase system collection, one an admin adds in the dashboard) is
//     registered in PocketBase's broker too, and those topics keep
//     PocketBase's own path.
//
// A write of a group-scoped record is captured inside its transaction
// (which the change log opens for every synced write) and numbered there:
// SQLite's single writer makes that number the commit order. When the
// transaction commits, a dispatcher goroutine takes the changes in that
// order, keeps an in-memory index of who is a member of which group
// (loaded once, then maintained by the membership, group and user changes
// it sees), and considers as recipients only the subscribed members of the
// record's groups and subscribed superusers. Each of them gets exactly what
// PocketBase would send: the same rule decision (the collection's list rule
// for "name/*", its view rule for "name/id", plus the subscription's
// filter), the same expand, fields and payload ({"record","action"}), the
// same enrich hooks: that code is PocketBase's own, copied verbatim into
// pocketbase.go, where a test holds it to the pinned version's source. A
// deletion is decided before the row goes, against the committed state, as
// PocketBase does.
//
// Where a rule is the one the schema migration set, membership of the
// record's group (index_rules.go), the index answers it for the members
// it holds at the change's place in commit order, and no rule query runs
// per recipient; any other rule takes PocketBase's SQL.
//
// The dispatcher itself runs no rule query: it queues, per recipient user
// and change, the judging and encoding for a few workers. A user's tasks
// run in commit order, one at a time, and users take turns, so a user
// whose topics are slow to judge holds one worker and delays no one else.
//
// A subscription is decided where it is consumed: its topics are read once
// as they will be stored and delivered (parseTopic, and PocketBase's own
// client for the options), and on that reading the filter policy
// (edge.CheckQuery) applies to both paths, the reserved prefix and
// options that name no collection are refused, and each user's caps hold:
// connections, topics, and distinct topics one change can match (Config;
// docs/access-rules.md, "Realtime").
//
// An SSE connection over HTTP/1.1 leaves net/http once accepted
// (wire.go): the socket is hijacked, the response head written by Hearth,
// and the workers write each frame to it with an attempt that never
// waits; only a socket that is full gets a goroutine that writes the rest.
// Nothing reads it: a periodic sweep finds closed peers and timeouts.
// HTTP/2 and TLS connections keep net/http's path, a queue drained by the
// connection's own handler. Either way one client that stops reading
// delays no one: when more than Config.ClientBuffer messages wait for it
// the connection is closed. The app then reconnects, resubscribes and
// catches up with GET /api/sync, which the SDK's reconnect does not do by
// itself (docs/sync.md, "Combining with realtime").
//
// Usage (crews.Register does this for main.go and every test app):
//
//	realtime.Register(app, realtime.Config{ClientBuffer: 1024})
package realtime
