package edge

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// The body policy: what each route takes as a request body, decided by the
// route the router matched (e.Request.Pattern, such as "GET /api/sync";
// a HEAD is served by its GET route). PocketBase takes up to 32 MB on
// every route and method (its record writes more with files, its backup
// upload anything) and some handlers read it all whatever the route: an
// 18 MB JSON body on the GET of a list, a record's DELETE or /api/sync
// was read whole, and a 30 MB form on /api/health was parsed. So:
//
//   - a GET, HEAD or DELETE takes no body (none of PocketBase's handlers
//     reads one, and the SDKs send none);
//   - the routes of bodyRoutes take what their handler reads, and no more;
//   - a POST to a collection's action (auth-with-password, request-otp,
//     ...) takes what a record of that collection may hold: OAuth2 sends
//     the new user's fields;
//   - any other route, one added later included, takes at most
//     defaultBodyLimit bytes: a route is bounded until it says otherwise;
//   - multipart/form-data is parsed only where files are accepted (a
//     record write to a collection with file fields, a batch, the backup
//     upload) and refused unread everywhere else;
//   - a route only superusers may call gives its large limit to superusers
//     only: this policy runs before the route's RequireSuperuserAuth (which
//     runs with the route's middlewares, at priority 0), so anyone else is
//     held to defaultBodyLimit and then refused by it.
//
// limitBody (bodylimit.go) applies the rule.

const (
	// defaultBodyLimit bounds the routes without a rule of their own:
	// PocketBase's small ones (an OAuth2 form post with its id token, a
	// backup name, a test email address, an Apple private key) take a few
	// KB at most.
	defaultBodyLimit = 16 << 10
	// joinBodyLimit: a join body is {"code": "..."} with a 12-character
	// code.
	joinBodyLimit = 4 << 10
	// realtimeBodyLimit is the largest subscription request PocketBase's
	// own validation admits (realtime/subscribe.go checks it again): a
	// client id and at most 1000 topics of at most 2500 characters, each
	// character at most 4 bytes as JSON encoders write it.
	realtimeBodyLimit = 1000*(2500*4+keyBytes) + bodySlack
	// superuserBodyLimit is PocketBase's own limit, kept for the superuser
	// routes that take large JSON: a collections import, a schema, the
	// settings with their mail templates, a SQL query.
	superuserBodyLimit = apis.DefaultMaxBodySize
	// unbounded is the limit of the backup upload for superusers, as
	// PocketBase sets it: a backup is as large as the data.
	unbounded = -1
)

// A bodyRule is what one request may send.
type bodyRule struct {
	// limit is the most bytes of a body other than multipart: JSON, a
	// url-encoded form; 0 takes no body.
	limit int64
	// files is the most bytes of a multipart/form-data body; 0 refuses one.
	files int64
	// fields bounds the parts of a multipart body other than files (the
	// same request as JSON).
	fields int64
	// superuser rules apply to superusers; anyone else is held to
	// defaultBodyLimit.
	superuser bool
	// what the limit is for, in the 413: "messages", "a batch request",
	// or the route.
	what string
}

// The routes more than one check of the edge names, as the router
// registers them.
const (
	recordCreateRoute = "POST /api/collections/{collection}/records"
	recordUpdateRoute = "PATCH /api/collections/{collection}/records/{id}"
	batchRoute        = "POST /api/batch"
)

// bodyRoutes are the routes with a rule of their own, by pattern.
var bodyRoutes = map[string]func(*core.RequestEvent) (bodyRule, error){
	recordCreateRoute:              recordBody,
	recordUpdateRoute:              recordBody,
	batchRoute:                     batchBody,
	"POST /api/realtime":           fixed(bodyRule{limit: realtimeBodyLimit}),
	"POST " + collections.JoinPath: fixed(bodyRule{limit: joinBodyLimit}),
	"POST /api/files/token":        fixed(bodyRule{}),

	"POST /api/backups/upload":                fixed(bodyRule{limit: unbounded, files: unbounded, superuser: true}),
	"PUT /api/collections/import":             fixed(bodyRule{limit: superuserBodyLimit, superuser: true}),
	"POST /api/collections":                   fixed(bodyRule{limit: superuserBodyLimit, superuser: true}),
	"PATCH /api/collections/{collection}":     fixed(bodyRule{limit: superuserBodyLimit, superuser: true}),
	"POST /api/collections/meta/dry-run-view": fixed(bodyRule{limit: superuserBodyLimit, superuser: true}),
	"PATCH /api/settings":                     fixed(bodyRule{limit: superuserBodyLimit, superuser: true}),
	"POST /api/sql":                           fixed(bodyRule{limit: superuserBodyLimit, superuser: true}),
}

// collectionActions are the POST routes of a collection's actions
// (auth-with-password, request-otp, impersonate/{id}, ...).
const collectionActions = "POST /api/collections/{collection}/"

// bodyRuleOf returns the rule of e's request.
func bodyRuleOf(e *core.RequestEvent) (bodyRule, error) {
	r := e.Request
	var rule bodyRule
	switch route, ok := bodyRoutes[r.Pattern]; {
	case r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodDelete:
		// no body
	case ok:
		var err error
		if rule, err = route(e); err != nil {
			return bodyRule{}, fmt.Errorf("%s: %w", r.Pattern, err)
		}
	case strings.HasPrefix(r.Pattern, collectionActions):
		rule = collectionActionBody(e)
	default:
		rule = bodyRule{limit: defaultBodyLimit}
	}
	if rule.superuser && !e.HasSuperuserAuth() {
		rule = rule.heldToDefault()
	}
	if rule.what == "" {
		// The route as it was called: a HEAD names its path, not its GET.
		_, path, ok := strings.Cut(r.Pattern, " ")
		if !ok {
			path = r.Pattern // a route for any method
		}
		rule.what = r.Method + " " + path
	}
	return rule, nil
}

// heldToDefault is rule for a caller the route will refuse: no more than
// defaultBodyLimit of anything it accepts.
func (rule bodyRule) heldToDefault() bodyRule {
	held := func(n int64) int64 {
		if n == unbounded || n > defaultBodyLimit {
			return defaultBodyLimit
		}
		return n
	}
	return bodyRule{limit: held(rule.limit), files: held(rule.files), fields: held(rule.fields), what: rule.what}
}

func fixed(rule bodyRule) func(*core.RequestEvent) (bodyRule, error) {
	// Set once here: the returned function runs for concurrent requests.
	rule.fields = rule.limit
	return func(*core.RequestEvent) (bodyRule, error) {
		return rule, nil
	}
}

// recordBody is the rule of a record create or update: what a valid record
// of the collection can need, as JSON and, when it has file fields, as
// multipart.
func recordBody(e *core.RequestEvent) (bodyRule, error) {
	c, err := e.App.FindCachedCollectionByNameOrId(e.Request.PathValue("collection"))
	if err != nil {
		// PocketBase answers 404 (its own body limit of the route, next).
		return bodyRule{limit: defaultBodyLimit}, nil
	}
	jsonLimit, multipartLimit := collectionBodyLimits(c)
	rule := bodyRule{limit: jsonLimit, fields: jsonLimit, what: c.Name}
	if hasFiles(c) {
		rule.files = multipartLimit
	}
	return rule, nil
}

// collectionActionBody is the rule of a collection's action: its record's
// fields as JSON (the OAuth2 sign-up sends them), no files.
func collectionActionBody(e *core.RequestEvent) bodyRule {
	c, err := e.App.FindCachedCollectionByNameOrId(e.Request.PathValue("collection"))
	if err != nil {
		return bodyRule{limit: defaultBodyLimit} // PocketBase answers 404
	}
	jsonLimit, _ := collectionBodyLimits(c)
	return bodyRule{limit: jsonLimit, what: c.Name}
}

// batchBody is the rule of a batch: MaxRequests record bodies, files
// included. A disabled batch is refused by PocketBase without reading the
// body, so it takes only the default.
func batchBody(e *core.RequestEvent) (bodyRule, error) {
	if !batchEnabled(e.App) {
		return bodyRule{limit: defaultBodyLimit}, nil
	}
	jsonLimit, err := batchBodyLimit(e.App, false)
	if err != nil {
		return bodyRule{}, err
	}
	multipartLimit, err := batchBodyLimit(e.App, true)
	if err != nil {
		return bodyRule{}, err
	}
	return bodyRule{limit: jsonLimit, files: multipartLimit, fields: jsonLimit, what: "a batch request"}, nil
}

func hasFiles(c *core.Collection) bool {
	for _, f := range c.Fields {
		if _, ok := f.(*core.FileField); ok {
			return true
		}
	}
	return false
}
