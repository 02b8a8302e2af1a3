// Package changefeed is Hearth's offline sync: a change log written in the
// transaction of every write of a synced collection (users, groups,
// memberships, events, rsvps, messages), and GET /api/sync, which tells a
// signed-in user what changed, what was deleted and what they lost access
// to after a cursor, under the same list rules as the records API.
// docs/sync.md describes the protocol for client developers.
//
// A user's feed is the log with, after each time they joined or left a
// group, that group's records as items of the entry (an expansion), and
// after another user's joining or leaving of a group the caller was then
// a member of, that user (feed.items, feed.concerns). Each
// record is reported at one place, its last (place.go), and a page holds
// at most limit changes, whatever the size of an expansion: a Cursor names
// a log entry and, inside an expansion, the last item delivered; items are
// in collection then id order, so a page resumes exactly where the last
// one ended, and writes made meanwhile, being later entries, do not shift
// it.
//
// Decisions where the issue was silent:
//   - The log is a plain SQLite table (_hearth_changes) numbered by its
//     INTEGER PRIMARY KEY: SQLite's single writer makes sequence order
//     commit order, and since pruning never deletes the newest entry,
//     max(seq)+1 never reuses a number. (It had AUTOINCREMENT, whose
//     sqlite_sequence row cost every write a page; see
//     pb_migrations/1765300000_changelog_without_sequence.go.)
//   - Each entry keeps the group(s) of its record (a user's groups at the
//     time of the write, an RSVP's event's group, a moved record's new
//     then old group), and a membership's user.
//   - A cursor carries the collection set it was issued for and is refused
//     (400 naming collections) for any other set, rather than being valid
//     for every set: re-delivering what a narrower sync skipped would need
//     the server to know what that sync skipped, that is, a full sync of
//     the other collections, so the simple, checkable rule is the one a
//     client cannot get wrong. Every synced collection is one set (a
//     collection a later version syncs joins it); cursor 0 fits any set.
//   - Cursors are opaque strings, base64url of a versioned text. A bare
//     number (the first protocol's cursor, which did not carry its set) or
//     another version is answered 410, so that old clients resync once.
//   - Records are evaluated as of the request ("now"): a record is sent
//     with its current state, once, however many entries it has.
//   - Joining expands to the group's records now (those not written since,
//     which their own entries report); leaving expands to the records that
//     were in the group when the caller left, including those deleted or
//     moved away since, and drops each of them there, so that once a
//     client is past a leaving it holds nothing of that group.
//   - A drop (tombstone or revocation) is sent only when the client could
//     hold the record at its cursor: the record existed then in a group the
//     caller was then a member of (held.go). Membership and existence at a
//     cursor come from the log; an entry at the cursor itself counts both
//     ways, which can only over-report a drop of a record the caller could
//     see. Nobody learns an id of a group they never belonged to, of a
//     record created after they lost access, or of anything in a group
//     after the page that told them they left it.
//   - limit counts changes; a request reads at most 20 × limit places, so
//     a page may be short or empty with more: true.
//   - A full sync (cursor 0) reads the same log from the start. Pruning
//     therefore re-appends the latest entry of every live record older than
//     the window at the head (a client gets each record again once per
//     window) and deletes everything below the horizon. It runs when the
//     server starts serving, before the first request, and hourly.
//   - A cursor below the horizon, or after the last entry (a restored or
//     replaced database), is 410 Gone; one at the horizon is served.
//   - The caller must be a users record; superusers read the records API.
//   - List rules do not depend on a member's role, so a role change does not
//     resend the group.
//   - The log is written by record hooks, so every write through PocketBase
//     (records API, batch, dashboard, app.Save in Go, cascades) is logged;
//     raw SQL writes to the synced tables are not, and must not be used
//     (seeding tools that do must write the log rows as the change log
//     migration's backfill does).
//
// Usage (crews.Register does this for main.go and every test app):
//
//	app := pocketbase.New()
//	collections.Register(app, collections.Config{})
//	changefeed.Register(app, changefeed.Config{Retention: 30 * 24 * time.Hour})
//	app.Start()
//
// and, from Go:
//
//	page, err := changefeed.Sync(app, user, changefeed.Request{Cursor: changefeed.Start, Limit: 500})
//	next, err := changefeed.Sync(app, user, changefeed.Request{Cursor: page.Cursor, Limit: 500})
package changefeed
