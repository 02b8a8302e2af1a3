package firebase

import (
	"errors"
	"fmt"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/pocketbase/core"
)

// Config configures the sign-in side of the import.
type Config struct {
	// Verifiers is how many Firebase hashes may be checked at once
	// (DefaultVerifiers when 0).
	Verifiers int
}

// DefaultVerifiers caps concurrent Firebase hash checks at 4: 64 MiB of
// scrypt memory at Firebase's parameters, two cores kept busy, and a
// sign-in beyond it waits for a slot (or for its client to hang up)
// instead of taking more memory.
const DefaultVerifiers = 4

// Register binds the sign-in hooks: a migrated user's first password
// sign-in checks the Firebase hash, and a user Firebase had disabled
// cannot sign in by any method.
func Register(app core.App, cfg Config) {
	if cfg.Verifiers <= 0 {
		cfg.Verifiers = DefaultVerifiers
	}
	limiter := NewLimiter(cfg.Verifiers)

	app.OnRecordAuthWithPasswordRequest(collections.Users).BindFunc(func(e *core.RecordAuthWithPasswordRequestEvent) error {
		if e.Record == nil || e.Record.GetString("firebase_hash") == "" {
			return e.Next()
		}
		if err := migratePassword(e, limiter); err != nil {
			return err
		}
		// With the password now PocketBase's, PocketBase's own check
		// passes (a right password) or answers its ordinary 400.
		return e.Next()
	})

	// Bound to every save of a user, so that each route is covered:
	//   - a password set any other way (a reset, a change with the old
	//     password, the dashboard) is the user's from then on: the
	//     Firebase one must not sign in and replace it (the reason for a
	//     reset may be that the old password leaked);
	//   - disabling a user ends the sessions they hold: a new token key
	//     makes every token issued before invalid (the import's reruns
	//     write the flag with SQL and renew the key the same way).
	app.OnRecordUpdate(collections.Users).BindFunc(func(e *core.RecordEvent) error {
		const hash = core.FieldNamePassword + ":hash"
		old := e.Record.Original()
		if e.Record.GetString("firebase_hash") != "" && e.Record.GetString(hash) != old.GetString(hash) {
			e.Record.Set("firebase_hash", "")
		}
		if e.Record.GetBool("disabled") && !old.GetBool("disabled") {
			e.Record.RefreshTokenKey()
		}
		return e.Next()
	})

	// OnRecordAuthRequest runs before any auth answer (password, OAuth2,
	// OTP, refresh), so a disabled user gets no token from any of them.
	app.OnRecordAuthRequest(collections.Users).BindFunc(func(e *core.RecordAuthRequestEvent) error {
		if e.Record.GetBool("disabled") {
			return e.ForbiddenError("This account is disabled.", nil)
		}
		return e.Next()
	})
}

// migratePassword checks the Firebase hash of e.Record against the
// submitted password. On a match it stores the password as a PocketBase
// hash and clears the Firebase one, in one transaction, so that the
// next sign-in is an ordinary one; on a mismatch it leaves everything as
// it was, and PocketBase's check answers the ordinary 400.
func migratePassword(e *core.RecordAuthWithPasswordRequestEvent, limiter Limiter) error {
	h, err := DecodeHash(e.Record.GetString("firebase_hash"))
	if err != nil {
		return e.InternalServerError("", fmt.Errorf("firebase hash of user %s: %w", e.Record.Id, err))
	}
	ok, err := limiter.Verify(e.Request.Context(), h, e.Password)
	if err != nil {
		if errors.Is(err, e.Request.Context().Err()) {
			return e.BadRequestError("Failed to authenticate.", err)
		}
		return e.InternalServerError("", fmt.Errorf("firebase hash of user %s: %w", e.Record.Id, err))
	}
	if !ok {
		return nil
	}
	return e.App.RunInTransaction(func(tx core.App) error {
		// Read again inside the transaction: two sign-ins of the same user
		// at once both verify, and the second finds the work done.
		fresh, err := tx.FindRecordById(collections.Users, e.Record.Id)
		if err != nil {
			return fmt.Errorf("firebase sign-in of %s: %w", e.Record.Id, err)
		}
		if fresh.GetString("firebase_hash") != "" {
			fresh.SetPassword(e.Password)
			// The password was Firebase's to judge (6 characters at least
			// there, 8 in Hearth's schema): store its hash without the
			// plain-text validators, as PocketBase does for a password it
			// generates, and renew the token key as it would.
			if raw, ok := fresh.GetRaw(core.FieldNamePassword).(*core.PasswordFieldValue); ok {
				raw.Plain = ""
			}
			fresh.RefreshTokenKey()
			fresh.Set("firebase_hash", "")
			if err := tx.Save(fresh); err != nil {
				return fmt.Errorf("firebase sign-in of %s: %w", e.Record.Id, err)
			}
		}
		e.Record = fresh
		return nil
	})
}
