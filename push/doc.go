// Package push sends push notifications to the members' phones through
// Expo's push service, from a durable outbox in the app's database.
//
// A write that asks for pushes (a new message or event, a waitlist
// promotion; reminders come from a cron job) adds one row to the outbox in
// its own transaction, so a write that rolls back sends nothing and a
// write that commits is never forgotten. The worker, one goroutine while
// the app serves HTTP (tests run its rounds with Flush), then:
//
//  1. expands each outbox row into one push per recipient phone, in its
//     own transaction: never to the person who made the change, never
//     outside the group, never to a member who muted it; message pushes
//     are coalesced, at most one per member, phone and group per window
//     (Config.Window), the held one summarising ("4 new messages in
//     Climbers");
//  2. sends the pushes that are due to Expo, at most 100 per request, and
//     records each ticket in one transaction with the batch: ok makes a
//     push accepted, and an accepted push is never sent again; a
//     transient failure (HTTP 429 and 5xx, network errors and timeouts,
//     MessageRateExceeded) sends it again after an exponential backoff
//     with jitter and a cap; anything else fails it;
//  3. reads the receipts of accepted pushes later, up to 300 per request;
//     DeviceNotRegistered, on a ticket or a receipt, deletes the phone.
//
// After a crash every push not yet accepted is still pending and goes
// again (at least once); Expo accepting a request whose answer never
// reached the database is the one way a push can arrive twice.
//
// Expo has no way to take a push back, so each push is checked again just
// before it is sent: a phone signed in by someone else since, a recipient
// who left or muted the group, a message or event deleted since, each
// drops the push instead.
//
// Superusers see the outbox in the dashboard through two read-only view
// collections, push_outbox and pushes; Stats reports its depth and the
// worker's totals for monitoring. Rows that ended are pruned after
// Config.Retention.
//
// Decisions where the issue was silent:
//   - Pushes go per phone; coalescing is per member, phone and group.
//   - Expanding a row and recording a request's tickets take a fixed
//     number of statements whatever the number of recipients, so the
//     worker holds SQLite's write lock briefly and the writes queued
//     behind it stay fast; a group where nobody else has a phone costs
//     one count.
//   - One worker sends one request at a time: Expo allows a project 600
//     notifications per second, which one worker exceeds several times
//     over (BenchmarkWorkerThroughput).
//   - A summary stands for the messages held in one window; a window
//     holding one message shows that message.
//   - Whether a message or event has a phone to reach is remembered per
//     group (up to two members with a phone who did not mute it) until a
//     membership, phone or mute is written anywhere (phones.go).
//   - Recipients are read when the worker expands a row, not at the write:
//     the write stays one insert, and someone who left in between gets
//     nothing.
//   - A reminder goes to going members 1 hour before the start; one that
//     comes due while the server is down goes at the restart if the event
//     has not started, and not at all otherwise.
//   - 400, 401 and 403 answers fail the request's pushes at once (a wrong
//     access token is logged as an error): they will not succeed by
//     retrying.
//   - With no URL configured the pushes are written to the log instead
//     (dev mode), and count as delivered.
//
// Usage:
//
//	app := pocketbase.New()
//	push.Register(app, push.Config{URL: "https://exp.host", AccessToken: os.Getenv("EXPO_TOKEN")})
//	app.Start()
package push
