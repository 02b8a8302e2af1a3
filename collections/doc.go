// Package collections is the Crews domain: one file per collection, each with
// its typed record wrapper and the hooks that keep its invariants, plus the
// permission functions the hooks share.
//
// API rules (in pb_migrations) decide who may touch a record; the hooks here
// decide what a permitted write may do: fill server-managed fields, refuse
// client-set ones, and keep derived values true in the same transaction as
// the write that changes them.
//
// Usage:
//
//	app := pocketbase.New()
//	collections.Register(app)
//	app.Start()
package collections
