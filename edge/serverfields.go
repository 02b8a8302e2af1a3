package edge

import (
	"fmt"
	"slices"
	"strings"

	"github.com/crews/hearth/collections"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/list"
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

// serverValueError refuses a non-superuser request that sends, for a select
// field, a value its spec says only the server sets (Spec.ServerValues; a
// check of bodychecks.go, on the raw body). It reads the key's values
// before PocketBase resolves the modifiers, because resolved, "+status"
// with "waitlisted" prepends it to the stored "going" and a single select
// keeps the last value: the write passes as a no-op, where the plain form
// is refused. So any modifier form carrying the value is refused, whatever
// it would resolve to, and only a plain value that echoes the stored one is
// accepted.
func serverValueError(e *core.RecordRequestEvent, key string, field core.Field, value any) error {
	spec := collections.SpecOf(e.Collection.Name)
	if e.HasSuperuserAuth() || spec == nil {
		return nil
	}
	name := field.GetName()
	reserved := spec.ServerValues[name]
	if len(reserved) == 0 {
		return nil
	}
	sent := value
	if r, ok := value.(repeated); ok {
		sent = []string(r)
	}
	values := list.ToUniqueStringSlice(sent)
	i := slices.IndexFunc(values, func(v string) bool { return slices.Contains(reserved, v) })
	if i < 0 {
		return nil
	}
	if key == name && !e.Record.IsNew() && echoes(e.Record.Original(), field, value) {
		return nil
	}
	return validation.NewError("validation_server_managed", fmt.Sprintf("%s %q is set by the server.", name, values[i]))
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
