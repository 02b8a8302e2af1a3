package pb_migrations

import (
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// users.mfa: a user turns on MFA for their own account (the users' update
// rule lets only them, and superusers, change it); PocketBase's MFA rule,
// set by package auth, then asks such a user for an emailed code after the
// password. False for everyone at first: nobody is locked out by the
// upgrade.
func init() {
	m.Register(func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return fmt.Errorf("users mfa: %w", err)
		}
		users.Fields.Add(&core.BoolField{Name: "mfa"})
		if err := app.Save(users); err != nil {
			return fmt.Errorf("users mfa: %w", err)
		}
		return nil
	}, func(app core.App) error {
		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return fmt.Errorf("users mfa: %w", err)
		}
		users.MFA.Rule = ""
		users.MFA.Enabled = false
		users.Fields.RemoveByName("mfa")
		if err := app.Save(users); err != nil {
			return fmt.Errorf("users mfa: %w", err)
		}
		return nil
	})
}
