package collections

import (
	"fmt"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
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
	for name, fields := range serverManaged {
		app.OnRecordCreateRequest(name).BindFunc(func(e *core.RecordRequestEvent) error {
			return refuseFields(e, fields, "is set by the server")
		})
		app.OnRecordUpdateRequest(name).BindFunc(func(e *core.RecordRequestEvent) error {
			return refuseFields(e, fields, "is set by the server")
		})
	}
	for name, fields := range immutable {
		app.OnRecordUpdateRequest(name).BindFunc(func(e *core.RecordRequestEvent) error {
			return refuseFields(e, fields, "cannot change after creation")
		})
	}
	for name, field := range ownerField {
		app.OnRecordCreateRequest(name).BindFunc(func(e *core.RecordRequestEvent) error {
			if e.Auth != nil && !e.HasSuperuserAuth() && e.Record.GetString(field) == "" {
				e.Record.Set(field, e.Auth.Id)
			}
			return e.Next()
		})
	}
}

// refuseFields fails a non-superuser request whose body names one of fields
// with a value other than the stored one; echoing a record back unchanged,
// as SDK round trips do, is accepted.
func refuseFields(e *core.RecordRequestEvent, fields []string, why string) error {
	if e.HasSuperuserAuth() {
		return e.Next()
	}
	info, err := e.RequestInfo()
	if err != nil {
		return apis.NewBadRequestError("Invalid request body.", err)
	}
	errs := validation.Errors{}
	for key, value := range info.Body {
		field := bodyField(key)
		if !contains(fields, field) {
			continue
		}
		if key == field && !e.Record.IsNew() && fmt.Sprint(value) == fmt.Sprint(e.Record.Original().Get(field)) {
			continue
		}
		errs[field] = validation.NewError("validation_server_managed", fmt.Sprintf("%s %s.", field, why))
	}
	if len(errs) > 0 {
		return apis.NewBadRequestError("Failed to save record: server-managed fields in the request.", errs)
	}
	return e.Next()
}

// bodyField strips PocketBase's field modifiers (+field, field+, field-,
// field:autogenerate) so that "uses+" is caught like "uses".
func bodyField(key string) string {
	key, _, _ = strings.Cut(key, ":")
	return strings.Trim(key, "+-")
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
