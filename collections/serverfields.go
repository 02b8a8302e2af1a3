package collections

import (
	"fmt"
	"slices"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
)

// serverManaged lists the fields the server sets; a client request that
// sends one is refused with a 400 naming it. Refusing (rather than silently
// dropping) tells a client developer at once that the value will not stick.
// Superusers (the dashboard) are exempt: they repair data by hand.
var serverManaged = map[string][]string{
	Groups:   {"created_by"},
	Invites:  {"code", "uses", "created_by"},
	Events:   {"going_count", "created_by"},
	RSVPs:    {"waitlisted_at"},
	Messages: {"author"},
}

// immutable lists the fields fixed at creation: moving a record to another
// group or user would bypass the rules that admitted it.
var immutable = map[string][]string{
	Memberships: {"group", "user"},
	Invites:     {"group"},
	Events:      {"group"},
	RSVPs:       {"event", "user"},
	Messages:    {"group"},
}

// ownerField is the field each collection fills with the caller on create.
var ownerField = map[string]string{
	Groups:   "created_by",
	Invites:  "created_by",
	Events:   "created_by",
	Messages: "author",
	RSVPs:    "user",
}

func registerServerFields(app core.App) {
	for name, field := range ownerField {
		app.OnRecordCreateRequest(name).BindFunc(func(e *core.RecordRequestEvent) error {
			if e.Auth != nil && !e.HasSuperuserAuth() && e.Record.GetString(field) == "" {
				e.Record.Set(field, e.Auth.Id)
			}
			return e.Next()
		})
	}
}

// serverFieldError refuses a non-superuser request that sets a field the
// server manages, or changes one fixed at creation (a check of
// bodychecks.go, on the raw body). A modifier ("uses+", "+author",
// "code:autogenerate") or a form key sent twice always counts as setting
// the field; a plain key that echoes the stored value, as SDK round trips
// do, is accepted.
func serverFieldError(e *core.RecordRequestEvent, key string, field core.Field, value any) error {
	if e.HasSuperuserAuth() {
		return nil
	}
	name := field.GetName()
	var why string
	switch {
	case slices.Contains(serverManaged[e.Collection.Name], name):
		why = "is set by the server"
	case !e.Record.IsNew() && slices.Contains(immutable[e.Collection.Name], name):
		why = "cannot change after creation"
	default:
		return nil
	}
	if key == name && !e.Record.IsNew() && echoes(e.Record.Original(), field, value) {
		return nil
	}
	return validation.NewError("validation_server_managed", fmt.Sprintf("%s %s.", name, why))
}

// echoes reports whether value, set on record's field, leaves it as stored.
// A list sent to a scalar field is never an echo, even when PocketBase
// would cast it to the stored value.
func echoes(record *core.Record, field core.Field, value any) bool {
	if _, ok := value.(repeated); ok || checkType(field, value) != nil {
		return false
	}
	v, err := field.PrepareValue(record, value)
	return err == nil && fmt.Sprint(v) == fmt.Sprint(record.Get(field.GetName()))
}

// bodyField strips PocketBase's field modifiers (+field, field+, field-,
// field:autogenerate) so that "uses+" is caught like "uses".
func bodyField(key string) string {
	key, _, _ = strings.Cut(key, ":")
	return strings.Trim(key, "+-")
}
