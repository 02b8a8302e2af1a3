// Package changefeed is Hearth's offline sync: a change log written in the
// transaction of every write of a synced collection (users, groups,
// memberships, events, rsvps, messages), and GET /api/sync, which tells a
// signed-in user what changed, what was deleted and what they lost access
// to after a cursor, under the same list rules as the records API.
// docs/sync.md describes the protocol for client developers.
//
// Decisions where the issue was silent:
//   - The log is a plain SQLite table (_hearth_changes) with an
//     AUTOINCREMENT sequence: SQLite's single writer makes sequence order
//     commit order, and AUTOINCREMENT never reuses a number.
//   - Each entry keeps the group(s) of its record (a user's groups at the
//     time of the write, an RSVP's event's group); tombstones and
//     revocations go only to users who are, or after the cursor were,
//     members of one of them.
//   - Records are evaluated as of the request ("now"), so a page holds at
//     most one change per record, its current state.
//   - Pages are bounded in log entries (limit); a membership change of the
//     caller expands to every record of that group, so such a page may hold
//     more changes than limit.
//   - A full sync (cursor 0) reads the same log from the start, so cursors
//     stay plain integers and a full sync pages like any other. Pruning
//     therefore re-appends the latest entry of every live record older than
//     the window at the head (a client gets each record again once per
//     window) and deletes everything below the horizon.
//   - A cursor before the retention horizon, or after the last entry
//     (a restored or replaced database), is 410 Gone.
//   - The caller must be a users record; superusers read the records API.
//   - List rules do not depend on a member's role, so a role change does not
//     resend the group.
//   - The log is written by record hooks, so every write through PocketBase
//     (records API, batch, dashboard, app.Save in Go, cascades) is logged;
//     raw SQL writes to the synced tables are not, and must not be used.
//
// Usage:
//
//	app := pocketbase.New()
//	collections.Register(app)
//	changefeed.Register(app, changefeed.Config{Retention: 30 * 24 * time.Hour})
//	app.Start()
package changefeed
