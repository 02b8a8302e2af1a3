package edge

import (
	"bytes"
	"encoding/json/v2"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/crews/hearth/collections"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"
)

// A record body is a JSON object, and so is the @jsonPayload part that
// carries the fields of a form body (the SDKs send one with every upload).
// PocketBase decodes either into a map, and a JSON null turns that map
// into a nil one: a record create or update with files then panics
// ("assignment to entry in nil map", a 500), and without files it saves a
// record from no data. So a form body whose @jsonPayload is not a JSON
// object is refused with a 400 naming @jsonPayload on every API route, and
// a record body that is not a JSON object with a 400.
func registerBodyShape(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Id: "hearthBodyShape",
			// After the route's own middlewares (apis.RequireSuperuserAuth
			// and the like run at 0), so that the upload of a caller they
			// refuse is not parsed: the backup upload has no body limit.
			Priority: 1,
			Func:     checkBodyShape,
		})
		return se.Next()
	})
}

func checkBodyShape(e *core.RequestEvent) error {
	r := e.Request
	switch {
	case !strings.HasPrefix(r.URL.Path, "/api/"):
	case isForm(r):
		if r.Pattern == batchRoute && !batchEnabled(e.App) {
			break // refused by PocketBase without reading the body
		}
		if err := parseForm(r); err != nil {
			var apiErr *router.ApiError
			if errors.As(err, &apiErr) {
				return apiErr // 413 from a body limit
			}
			return collections.APIError(&collections.Error{Code: collections.EINVALID, Message: "Failed to read the form body.", Err: err})
		}
		for _, payload := range r.Form[router.JSONPayloadKey] {
			if _, err := decodeJSONPayload(payload); err != nil {
				return err
			}
		}
	case isRecordWrite(r):
		body, err := io.ReadAll(r.Body)
		if rr, ok := r.Body.(router.Rereader); ok {
			rr.Reread()
		}
		if err != nil {
			return router.ToApiError(err)
		}
		if body = bytes.TrimLeft(body, " \t\r\n"); len(body) > 0 && body[0] != '{' {
			return errNotObject()
		}
	}
	return e.Next()
}

func errNotObject() error {
	return collections.APIError(collections.Errorf(collections.EINVALID, "The request body must be a JSON object of the record's fields."))
}

// decodeJSONPayload decodes the value of a form's @jsonPayload key, which
// must be a JSON object.
func decodeJSONPayload(payload string) (map[string]any, error) {
	var v any
	message := "Must be a JSON object, such as {\"name\": \"Climbers\"}."
	if err := json.Unmarshal([]byte(payload), &v); err != nil {
		message = "Must be valid JSON: a JSON object, such as {\"name\": \"Climbers\"}."
	} else if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	return nil, collections.APIError(&collections.Error{Code: collections.EINVALID, Message: "Invalid " + router.JSONPayloadKey + ".", Fields: map[string]collections.FieldError{
		router.JSONPayloadKey: {Code: "validation_invalid_json_payload", Message: message},
	}})
}

// isRecordWrite reports whether r creates or updates a record through the
// records API.
func isRecordWrite(r *http.Request) bool {
	return r.Pattern == recordCreateRoute || r.Pattern == recordUpdateRoute
}

func isForm(r *http.Request) bool {
	return isMultipart(r) || strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
}

// parseForm parses a form body as PocketBase would; a form parsed before
// (by limitBody, with less memory) is kept.
func parseForm(r *http.Request) error {
	if isMultipart(r) {
		return r.ParseMultipartForm(router.DefaultMaxMemory)
	}
	return r.ParseForm()
}
