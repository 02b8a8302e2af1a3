package edge

import (
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/crews/hearth/collections"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"
)

// bodyChecksPriority runs the body checks before every other record request
// hook, the JS ones included (pb_hooks are bound later, at bootstrap, with
// the default priority 0): a JS hook never sees a value the schema refuses.
const bodyChecksPriority = -10

// The checks of a record create or update body, on every path that writes
// one: the records API and each request of a batch (/api/batch), which
// PocketBase runs through the same handlers and request hooks, and the
// OAuth2 sign-up, likewise. They read the body as the client sent it,
// because by the time the request hooks run PocketBase has cast its values
// ("abc" for a number became 0) and resolved its modifiers ("uses+" became
// "uses", "+author" became "author"), and so has RequestInfo().Body. A
// failed check is a 400 naming the field, with PocketBase's own message for
// a record that fails validation.
func registerBodyChecks(app core.App) {
	checks := &hook.Handler[*core.RecordRequestEvent]{
		Id:       "hearthBodyChecks",
		Priority: bodyChecksPriority,
		Func:     checkBody,
	}
	app.OnRecordCreateRequest().Bind(checks)
	app.OnRecordUpdateRequest().Bind(checks)
}

func checkBody(e *core.RecordRequestEvent) error {
	body, err := rawBody(e.RequestEvent)
	if err != nil {
		return router.ToApiError(err)
	}
	errs := validation.Errors{}
	// Sorted, so that two keys of one field ("uses", "uses+") always
	// report the same one.
	for _, key := range slices.Sorted(maps.Keys(body)) {
		field := e.Collection.Fields.GetByName(bodyField(key))
		if field == nil || errs[field.GetName()] != nil {
			continue
		}
		if err := valueError(e, key, field, body[key]); err != nil {
			errs[field.GetName()] = err
		}
	}
	if len(errs) == 0 {
		return e.Next()
	}
	message := "Failed to update record."
	if e.Record.IsNew() {
		message = "Failed to create record."
	}
	return collections.APIError(collections.InvalidFields(message, errs))
}

// valueError returns the first check that the value sent under key fails.
func valueError(e *core.RecordRequestEvent, key string, field core.Field, value any) error {
	if err := serverFieldError(e, key, field, value); err != nil {
		return err
	}
	if err := serverValueError(e, key, field, value); err != nil {
		return err
	}
	if value == nil {
		return nil // clears the field
	}
	if err := checkType(field, value); err != nil {
		return err
	}
	if err := collections.PrivateEmailError(e, key, value); err != nil {
		return err
	}
	return textLengthError(field, value)
}

// textLengthError refuses a text longer than its field allows, with the
// code, message and params of PocketBase's own check (core/field_text.go),
// so the answer is the one PocketBase would give; counted here, before the
// JS hooks, none of them walks a text the schema refuses anyway.
func textLengthError(field core.Field, value any) error {
	f, ok := field.(*core.TextField)
	s, isString := value.(string)
	if !ok || !isString {
		return nil
	}
	if maxLength := textMax(f); utf8.RuneCountInString(s) > maxLength {
		return validation.NewError("validation_max_text_constraint", "Must be no more than {{.max}} character(s).").
			SetParams(map[string]any{"max": maxLength})
	}
	return nil
}

// repeated is a form key sent more than once, which PocketBase takes as a
// list of its values.
type repeated []string

// rawBody reads a record request's body as the client sent it: JSON keeps
// its types, form values stay strings (a key sent more than once is a
// repeated), and the JSON object of a form's @jsonPayload is merged over
// them, as PocketBase does. It rereads the request: a JSON body is
// rereadable (router.RereadableReadCloser) and a form has been parsed.
func rawBody(e *core.RequestEvent) (map[string]any, error) {
	if isForm(e.Request) {
		if err := parseForm(e.Request); err != nil {
			return nil, err
		}
		raw := map[string]any{}
		for key, values := range e.Request.Form {
			switch {
			case key == router.JSONPayloadKey:
			case len(values) == 1:
				raw[key] = values[0]
			case len(values) > 1:
				raw[key] = repeated(values)
			}
		}
		for _, payload := range e.Request.Form[router.JSONPayloadKey] {
			fields, err := decodeJSONPayload(payload)
			if err != nil {
				return nil, err
			}
			maps.Copy(raw, fields)
		}
		return raw, nil
	}
	var v any
	if err := e.BindBody(&v); err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case map[string]any:
		return v, nil
	case nil:
		if e.Request.ContentLength == 0 {
			return map[string]any{}, nil
		}
	}
	return nil, errNotObject()
}
