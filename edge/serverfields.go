package edge

import (
	"fmt"
	"slices"
	"strings"

	"github.com/crews/hearth/collections"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
)

// registerServerFields fills each spec's Owner field with the caller when
// a client creates a record without it. Refusing client-set server fields
// is serverFieldError's, a check of bodychecks.go.
func registerServerFields(app core.App) {
	for _, name := range collections.Names() {
		spec := collections.SpecOf(name)
		if spec == nil || spec.Owner == "" {
			continue
		}
		app.OnRecordCreateRequest(name).BindFunc(func(e *core.RecordRequestEvent) error {
			if e.Auth != nil && !e.HasSuperuserAuth() && e.Record.GetString(spec.Owner) == "" {
				e.Record.Set(spec.Owner, e.Auth.Id)
			}
			return e.Next()
		})
	}
}

// serverFieldError refuses a non-superuser request that sets a field its
// spec says the server manages, or changes one fixed at creation (a check of
// bodychecks.go, on the raw body). A modifier ("uses+", "+author",
// "code:autogenerate") or a form key sent twice always counts as setting
// the field; a plain key that echoes the stored value, as SDK round trips
// do, is accepted.
func serverFieldError(e *core.RecordRequestEvent, key string, field core.Field, value any) error {
	if e.HasSuperuserAuth() {
		return nil
	}
	spec := collections.SpecOf(e.Collection.Name)
	if spec == nil {
		return nil
	}
	name := field.GetName()
	var why string
	switch {
	case slices.Contains(spec.ServerManaged, name):
		why = "is set by the server"
	case !e.Record.IsNew() && slices.Contains(spec.Fixed, name):
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
