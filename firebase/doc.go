// Package firebase brings a Firebase project into Hearth: `hearth import
// firebase auth` reads the users of `firebase auth:export` (JSON or CSV)
// with their scrypt password hashes, and `hearth import firebase
// firestore` a Firestore export (node-firestore-import-export's JSON or
// newline-delimited JSON) with its subcollections and references, as
// records with their relations. A migrated user signs in with the old
// password: the first sign-in checks Firebase's modified scrypt and stores
// a PocketBase hash in its place.
//
//	firebase.Register(app, firebase.Config{Verifiers: 4})
//
// then
//
//	hearth import firebase auth users.json --hash-config hash.json
//	hearth import firebase firestore export.json --mapping mapping.json
//
// See docs/firebase-import.md.
package firebase
