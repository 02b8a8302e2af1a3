package edge

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/collections"

	"github.com/pocketbase/pocketbase/core"
)

// Where the query policy (queries.go) is applied: where the decision to
// read is made, not where a method or a path suffix suggests one. A check
// of "GET .../records" missed HEAD, which Go's ServeMux serves with the GET
// handler (and a HEAD answer's Content-Length told a true guess from a
// false one), and it missed every other route that answers a record with
// ?expand= and ?fields=. So the route edge asks which route the router
// matched (the request's Pattern, "GET /api/..." for a HEAD too), and:
//
//   - every route under /api/collections/{collection}/ (records list, view,
//     create, update, delete; the auth routes, impersonate and the rest of
//     PocketBase's, those it adds in an upgrade included) has its query
//     checked against the collection its path names, whether or not its
//     handler reads each parameter;
//   - POST /api/crews/join answers a membership: checked as memberships;
//   - GET /api/sync answers records of several collections, each enriched
//     with the request's expand: expand is refused, fields parsed;
//   - the requests of a batch do not pass the router's middlewares: their
//     record request hooks check the query of each request's own URL;
//   - a realtime subscription's options.query is checked by package
//     realtime with CheckQuery, on the topic as its dispatcher reads it.
//
// docs/access-rules.md lists every route and what guards it.

// collectionRoutes is the prefix of the routes that read or write the
// records of the collection their path names.
const collectionRoutes = "/api/collections/{collection}/"

func registerReads(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.BindFunc(func(e *core.RequestEvent) error {
			if e.HasSuperuserAuth() {
				return e.Next()
			}
			if err := checkRoute(e); err != nil {
				return err
			}
			return e.Next()
		})
		return se.Next()
	})

	// A batch runs each request's handler without the router: its record
	// request hooks are the first place that sees the request's URL. They
	// run before the write, inside the batch's transaction, so a refusal
	// fails the batch with nothing stored. A request through the router was
	// checked already; checking it again answers the same.
	checkHook := func(e *core.RecordRequestEvent) error {
		if e.HasSuperuserAuth() {
			return e.Next()
		}
		if err := CheckQuery(e.Collection, queryParams(e.Request.URL)); err != nil {
			return err
		}
		return e.Next()
	}
	app.OnRecordCreateRequest().BindFunc(checkHook)
	app.OnRecordUpdateRequest().BindFunc(checkHook)
	app.OnRecordDeleteRequest().BindFunc(checkHook)
}

// checkRoute applies the query policy to the route the router matched for
// e (see above); routes that answer no records pass.
func checkRoute(e *core.RequestEvent) error {
	pattern := e.Request.Pattern
	if _, path, ok := strings.Cut(pattern, " "); ok {
		pattern = path // "GET /api/..." -> "/api/...": any method
	}
	var name string
	switch {
	case strings.HasPrefix(pattern, collectionRoutes):
		name = e.Request.PathValue("collection")
	case pattern == collections.JoinPath:
		name = collections.Memberships
	case pattern == changefeed.Path:
		params := queryParams(e.Request.URL)
		if params[expandParam] != "" {
			return collections.APIError(&collections.Error{Code: collections.EINVALID, Message: "Invalid expand.", Fields: map[string]collections.FieldError{
				expandParam: {Code: "validation_path_not_allowed", Message: fmt.Sprintf(
					"%q: a sync page holds records of many collections and is not expanded; expand with the records API (docs/access-rules.md).", params[expandParam])},
			}})
		}
		return checkFields(params[fieldsParam])
	default:
		return nil
	}
	collection, err := e.App.FindCachedCollectionByNameOrId(name)
	if err != nil {
		return nil // PocketBase answers the unknown collection
	}
	return CheckQuery(collection, queryParams(e.Request.URL))
}

// queryParams returns the first value of each query parameter of u, as
// PocketBase's handlers read them (url.Values.Get, RequestInfo.Query).
func queryParams(u *url.URL) map[string]string {
	params := map[string]string{}
	for k, v := range u.Query() {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	return params
}
