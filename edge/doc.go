// Package edge is the request edge of the Crews records: every check that
// decides, from a request alone, whether it may reach the data, before the
// domain (package collections) sees it. It stands beside the domain as
// PocketBase's apis stands beside its core: collections keeps the specs,
// rules, hooks and errors; edge reads the specs and guards the doors.
//
// What it checks, on every route and method the router maps to a handler
// (HEAD is served by the GET handler, so it is checked as GET):
//   - bodies: every route has a body policy (bodyroutes.go): none on a GET,
//     HEAD or DELETE, a record body bounded by its collection's schema, the
//     other routes by their handler's needs, any route not listed by a small
//     default; multipart only where files are taken (413 past a limit, 415
//     for multipart elsewhere, bodylimit.go); a form's @jsonPayload must be
//     a JSON object (bodyshape.go);
//   - writes: every record create or update, through the records API or a
//     batch, has its raw body checked by one request hook (bodychecks.go):
//     value types (bodytypes.go), text lengths, server-managed and fixed
//     fields and server-only select values in any modifier form
//     (serverfields.go), owner fields filled with
//     the caller;
//   - reads: a filter, sort or expand may name only the paths its
//     collection's Spec.Query lists, and fields must parse (queries.go,
//     CheckQuery), on every route that answers records, decided by the
//     route the router matched, and on each request of a batch and each
//     realtime subscription's options (reads.go);
//   - refusals: a create refused by its rule names the field it was checked
//     against (denials.go), inside a batch too (batchdenials.go);
//   - files: a protected file is answered Cache-Control private, for its
//     file token's lifetime (files.go).
//
// docs/access-rules.md lists every entrance and what guards it.
//
// Usage:
//
//	app := pocketbase.New()
//	edge.Register(app)
//	collections.Register(app, collections.Config{})
//	app.Start()
package edge
