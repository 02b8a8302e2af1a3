// Package typegen writes TypeScript types for the Crews collections from the
// schema compiled into the binary, for the app's typed client (clients/js).
//
// The schema is read from a throwaway app in a temporary directory with every
// registered migration applied, so no server, data directory or network is
// needed, and the output depends on nothing but the build. For each
// collection in collections.Names that an app can reach (superuser-only
// collections, which have no API rule, are left out) it writes:
//   - <Name>Record: the record as the records API returns it, every field
//     present, with its exact type: select fields as string unions,
//     relations as record ids, files as stored file names, dates as strings,
//     and the empty string among the values of an optional (not required)
//     field that PocketBase reports empty that way. Hidden fields (password,
//     tokenKey) are absent; the users' email is optional, as Hearth shows it
//     to its owner only.
//   - <Name>Expand: what `expand` holds for each of its relations, and
//     <Name>ExpandPath: the paths an app may ask to expand, the relation
//     paths of collections.Spec.Query that the edge's query policy allows
//     (never a back-relation: the server refuses those to apps).
//   - <Name>Create and <Name>Update: request bodies without the fields the
//     server fills (collections.Spec.ServerManaged, autodates, the owner
//     field filled with the caller) and without the select values only the
//     server sets (Spec.ServerValues); updates also leave out the fields
//     fixed after creation (Spec.Fixed). A body with no field takes none.
//   - TypedPocketBase: the SDK client with pb.collection(name) typed per
//     collection (a CrewsRecordService: the SDK's RecordService whose
//     create and update take only those bodies and whose expand takes only
//     those paths) and authStore.record typed as the users record.
//
// Usage:
//
//	typegen.Register(app)
//	// $ hearth typegen --out clients/js/src/types.gen.ts
//
// or, from Go:
//
//	src, err := typegen.FromMigrations()
package typegen
