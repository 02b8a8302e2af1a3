package pb_migrations

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// What `hearth import firebase` keeps of a Firebase project (package
// firebase):
//
//   - on users, hidden fields (never in an API answer, realtime message or
//     sync page for anyone but a superuser, and dropped from a client's
//     write): firebase_uid, the Firebase uid, unique, so that references
//     and re-runs find the user; firebase_hash, the user's Firebase scrypt
//     hash with its salt and the project's parameters, until the first
//     sign-in replaces it with a PocketBase hash; firebase_claims, the
//     custom claims; disabled, a user Firebase had disabled, who cannot
//     sign in.
//   - _firebase_docs, one row per imported Firestore document: its path,
//     the Hearth collection and record it became, the import run that
//     first wrote it and the one that last did. A plain table, like the change log: only the importer
//     reads and writes it.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return fmt.Errorf("users firebase: %w", err)
		}
		users.Fields.Add(
			&core.TextField{Name: "firebase_uid", Hidden: true, Max: 128},
			&core.TextField{Name: "firebase_hash", Hidden: true, Max: 1000},
			&core.JSONField{Name: "firebase_claims", Hidden: true, MaxSize: 4096},
			&core.BoolField{Name: "disabled", Hidden: true},
		)
		users.AddIndex("idx_users_firebase_uid", true, "firebase_uid", "firebase_uid != ''")
		if err := app.Save(users); err != nil {
			return fmt.Errorf("users firebase: %w", err)
		}
		stmts := []string{
			`CREATE TABLE {{_firebase_docs}} (
				[[path]]       TEXT PRIMARY KEY NOT NULL,
				[[collection]] TEXT NOT NULL,
				[[record]]     TEXT NOT NULL,
				[[run]]        INTEGER NOT NULL,
				[[first_run]]  INTEGER NOT NULL
			)`,
			"CREATE INDEX idx_firebase_docs_record ON {{_firebase_docs}} ([[collection]], [[record]])",
			"CREATE INDEX idx_firebase_docs_run ON {{_firebase_docs}} ([[run]], [[collection]])",
		}
		for _, s := range stmts {
			if _, err := app.DB().NewQuery(s).Execute(); err != nil {
				return fmt.Errorf("firebase docs table: %w", err)
			}
		}
		return nil
	}, func(app core.App) error {
		if _, err := app.DB().NewQuery("DROP TABLE IF EXISTS {{_firebase_docs}}").Execute(); err != nil {
			return fmt.Errorf("firebase docs table down: %w", err)
		}
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return fmt.Errorf("users firebase down: %w", err)
		}
		users.RemoveIndex("idx_users_firebase_uid")
		for _, name := range []string{"firebase_uid", "firebase_hash", "firebase_claims", "disabled"} {
			users.Fields.RemoveByName(name)
		}
		if err := app.Save(users); err != nil {
			return fmt.Errorf("users firebase down: %w", err)
		}
		return nil
	})
}
