package collections

import (
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cast"
)

// Users is the collection's name in the schema; clients rely on it.
const Users = "users"

var usersSpec = declare(Spec{
	Name:   Users,
	Rank:   2,
	Hooks:  registerUsers,
	Scope:  Scope{Members: true},
	Synced: true,
	Query:  []string{"id", "name", "created", "updated"},
})

// User wraps a users record.
type User struct {
	core.BaseRecordProxy
}

func (*User) collection() string { return Users }

// Name is the user's display name.
func (u *User) Name() string { return u.GetString("name") }

func registerUsers(app core.App, cfg Config) {
	// A user's email is theirs alone: the emailVisibility flag that
	// PocketBase lets a user turn on is overridden for everyone else.
	app.OnRecordEnrich(Users).BindFunc(func(e *core.RecordEnrichEvent) error {
		if e.RequestInfo == nil || !e.RequestInfo.HasSuperuserAuth() &&
			(e.RequestInfo.Auth == nil || e.RequestInfo.Auth.Id != e.Record.Id) {
			e.Record.Hide("email")
		} else {
			// The same record can be enriched twice: a first OAuth2
			// sign-in creates it anonymously, then answers it to its
			// new owner.
			e.Record.Unhide("email")
		}
		return e.Next()
	})

	// Hiding the email in responses is not enough: PocketBase lets anyone
	// who sees a user filter on its email when emailVisibility is true,
	// which would answer "is this Carol's address?". So the flag stays false
	// for every user: a client asking for true is refused
	// (PrivateEmailError), and any other writer (dashboard, seed,
	// migrations) has it reset on save.
	app.OnRecordValidate(Users).BindFunc(func(e *core.RecordEvent) error {
		e.Record.Set(core.FieldNameEmailVisibility, false)
		return e.Next()
	})
}

// PrivateEmailError refuses a non-superuser asking for emailVisibility true
// on a user (a check of bodychecks.go, on the raw body).
func PrivateEmailError(e *core.RecordRequestEvent, key string, value any) error {
	if e.Collection.Name != Users || key != core.FieldNameEmailVisibility || e.HasSuperuserAuth() || !cast.ToBool(value) {
		return nil
	}
	return validation.NewError("validation_email_private", "Emails are visible only to their owner.")
}
