package collections

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// scopeField is the relation each collection's create rule is checked
// against: the caller must be a member (or owner/admin) of what it names.
var scopeField = map[string]string{
	Invites:  "group",
	Events:   "group",
	Messages: "group",
	RSVPs:    "event",
}

// registerCreateDenials names the scope field when a create rule refuses a
// request. PocketBase answers a failed create rule with a bare 400, before
// it validates the body, so an unknown group id and a group the caller does
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
			field, ok := scopeField[e.Request.PathValue("collection")]
			var apiErr *router.ApiError
			if !ok || !errors.As(err, &apiErr) || apiErr.Status != http.StatusBadRequest ||
				len(apiErr.Data) > 0 || !strings.HasPrefix(fmt.Sprint(apiErr.RawData()), "create rule failure") {
				return err
			}
			return apis.NewBadRequestError("Failed to create record: not allowed.", validation.Errors{
				field: validation.NewError("validation_not_allowed", fmt.Sprintf("No %s with this id that you may add to.", field)),
			})
		})
		return se.Next()
	})
}
