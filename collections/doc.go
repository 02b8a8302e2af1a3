// Package collections is the Crews domain: one file per collection, each with
// its typed record wrapper and the hooks that keep its invariants, plus the
// permission functions the hooks share.
//
// API rules (in pb_migrations) decide who may touch a record; the hooks here
// decide what a permitted write may do: fill server-managed fields, refuse
// client-set ones, and keep derived values true in the same transaction as
// the write that changes them. Two router middlewares check requests before
// either: values of the wrong type are refused instead of cast (bodytypes.go),
// and a create refused by its rule names the field it was checked against
// (denials.go). docs/access-rules.md is the reader's guide to all of it.
//
// Usage:
//
//	app := pocketbase.New()
//	collections.Register(app)
//	app.Start()
package collections
