package collections

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/pocketbase/pocketbase/tools/types"
)

// PocketBase casts a submitted value to its field's type and keeps going:
// "abc" for a number becomes 0, "tomorrow" for an optional date becomes no
// date, {"x":1} for a text becomes "". Each is a client bug that would be
// stored silently, so a request whose value does not have its field's type
// is refused with a 400 naming the field. Multipart bodies carry every value
// as a string, so a string that parses as the type is accepted too.
//
// The check reads the raw body in a router middleware: by the time the
// record request hooks run, PocketBase has already cast the values.
func registerBodyTypes(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.BindFunc(func(e *core.RequestEvent) error {
			name := e.Request.PathValue("collection")
			if name == "" || (e.Request.Method != http.MethodPost && e.Request.Method != http.MethodPatch) ||
				!strings.Contains(e.Request.URL.Path, "/records") {
				return e.Next()
			}
			collection, err := e.App.FindCachedCollectionByNameOrId(name)
			if err != nil {
				return e.Next()
			}
			raw, err := rawBody(e)
			if err != nil {
				return e.Next() // PocketBase reports the malformed body itself
			}
			errs := validation.Errors{}
			for key, value := range raw {
				field := collection.Fields.GetByName(bodyField(key))
				if field == nil || value == nil {
					continue
				}
				if err := checkType(field, value); err != nil {
					errs[field.GetName()] = err
				}
			}
			if len(errs) > 0 {
				return apis.NewBadRequestError("Failed to save record: values of the wrong type.", errs)
			}
			return e.Next()
		})
		return se.Next()
	})
}

// rawBody reads the request body without PocketBase's inference, which
// turns the multipart string "123" into a number and "true" into a bool:
// form values stay strings, JSON (including a multipart @jsonPayload) keeps
// its own types.
func rawBody(e *core.RequestEvent) (map[string]any, error) {
	raw := map[string]any{}
	contentType := e.Request.Header.Get("Content-Type")
	var err error
	switch {
	case strings.HasPrefix(contentType, "multipart/form-data"):
		err = e.Request.ParseMultipartForm(router.DefaultMaxMemory)
	case strings.HasPrefix(contentType, "application/x-www-form-urlencoded"):
		err = e.Request.ParseForm()
	default:
		return raw, e.BindBody(&raw)
	}
	if err != nil {
		return nil, err
	}
	for key, values := range e.Request.Form {
		if key != router.JSONPayloadKey && len(values) > 0 {
			raw[key] = values[len(values)-1]
		}
	}
	for _, payload := range e.Request.Form[router.JSONPayloadKey] {
		if err := json.Unmarshal([]byte(payload), &raw); err != nil {
			return nil, err
		}
	}
	return raw, nil
}

func checkType(field core.Field, value any) error {
	switch field.(type) {
	case *core.NumberField:
		switch v := value.(type) {
		case float64, int, int64, json.Number:
			return nil
		case string:
			if _, err := strconv.ParseFloat(v, 64); v == "" || err == nil {
				return nil
			}
		}
		return validation.NewError("validation_invalid_number", "Must be a number.")
	case *core.BoolField:
		switch v := value.(type) {
		case bool:
			return nil
		case string:
			if _, err := strconv.ParseBool(v); v == "" || err == nil {
				return nil
			}
		}
		return validation.NewError("validation_invalid_bool", "Must be true or false.")
	case *core.DateField, *core.AutodateField:
		if v, ok := value.(string); ok {
			if d, err := types.ParseDateTime(v); v == "" || (err == nil && !d.IsZero()) {
				return nil
			}
		}
		return validation.NewError("validation_invalid_date", "Must be a date such as 2026-01-31 18:30:00.000Z.")
	case *core.TextField, *core.EditorField, *core.EmailField, *core.URLField, *core.PasswordField:
		if _, ok := value.(string); ok {
			return nil
		}
		return validation.NewError("validation_invalid_text", "Must be a string.")
	}
	return nil
}
