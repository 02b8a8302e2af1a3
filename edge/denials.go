package edge

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/crews/hearth/collections"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// registerCreateDenials names the scope field (the spec's Scope.Field: the
// group, or an RSVP's event; a device's user) when a create rule refuses a
// request.
// PocketBase answers a failed create rule with a bare 400, before it
// validates the body, so an unknown group id and a group the caller does
// not belong to would both come back without a field. The answer is the
// same for both cases on purpose: telling them apart would let a client
// probe which ids exist.
func registerCreateDenials(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.BindFunc(func(e *core.RequestEvent) error {
			err := e.Next()
			if err == nil || e.Request.Method != http.MethodPost || !strings.HasSuffix(e.Request.URL.Path, "/records") {
				return err
			}
			spec := specOfPath(e.App, e.Request.PathValue("collection"))
			if spec == nil || !isCreateRuleFailure(err) {
				return err
			}
			field := deniedField(spec)
			if field == "" {
				return err
			}
			return notAllowed(field)
		})
		return se.Next()
	})
}

// specOfPath is the spec of the collection a path names, by name or by id
// (PocketBase's routes take either); nil for an unknown or undeclared one.
func specOfPath(app core.App, nameOrID string) *collections.Spec {
	c, err := app.FindCachedCollectionByNameOrId(nameOrID)
	if err != nil {
		return nil
	}
	return collections.SpecOf(c.Name)
}

// notAllowed is the answer to a create refused by its rule, naming field.
func notAllowed(field string) error {
	return collections.APIError(&collections.Error{Code: collections.EINVALID, Message: "Failed to create record: not allowed.", Fields: map[string]collections.FieldError{
		field: {Code: "validation_not_allowed", Message: fmt.Sprintf("No %s with this id that you may add to.", field)},
	}})
}

// deniedField is the field a refused create of spec's collection is
// reported on: the scope field, or for a record private to its owner
// without one (a device), the owner field its rule checks.
func deniedField(spec *collections.Spec) string {
	if spec.Scope.Field == "" && spec.Scope.Private {
		return spec.Owner
	}
	return spec.Scope.Field
}

// isCreateRuleFailure recognises PocketBase's refusal by a create rule by
// its shape, not its text: a 400 without field data whose cause is the
// rule query finding no row (apis/record_crud.go runs the rule as
// SELECT ... LIMIT 1 and reports sql.ErrNoRows). Every other refusal of a
// create either names fields or has another cause.
func isCreateRuleFailure(err error) bool {
	var apiErr *router.ApiError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest || len(apiErr.Data) > 0 {
		return false
	}
	cause, ok := apiErr.RawData().(error)
	return ok && errors.Is(cause, sql.ErrNoRows)
}
