package logs

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/security"
)

// HeaderRequestID carries a request's id: a proxy's is kept when it looks
// like one, else a new one is made; the answer always carries it, so that a
// client's report can be matched to the log line.
const HeaderRequestID = "X-Request-Id"

// validRequestID admits the ids proxies make (UUIDs, hex, base64url) and
// nothing that could forge a log field or line.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// requestIDs gives every request its id and puts the id and the route
// pattern in PocketBase's request log entry (as its "meta"). It runs first,
// so that requests refused by PocketBase's own middlewares have them too.
func requestIDs() *hook.Handler[*core.RequestEvent] {
	return &hook.Handler[*core.RequestEvent]{
		Id:       "hearthRequestID",
		Priority: apis.DefaultWWWRedirectMiddlewarePriority - 2,
		Func: func(e *core.RequestEvent) error {
			id := e.Request.Header.Get(HeaderRequestID)
			if !validRequestID.MatchString(id) {
				id = security.RandomString(20)
			}
			e.Response.Header().Set(HeaderRequestID, id)
			meta, _ := e.Get(apis.RequestEventKeyLogMeta).(map[string]any)
			if meta == nil {
				meta = map[string]any{}
			}
			meta["requestId"] = id
			meta["route"] = route(e.Request)
			e.Set(apis.RequestEventKeyLogMeta, meta)
			return e.Next()
		},
	}
}

// route is the pattern of the route that serves r, without its method
// ("/api/collections/{collection}/records"); "/" is PocketBase's catch-all,
// which answers 404.
func route(r *http.Request) string {
	_, path, found := strings.Cut(r.Pattern, " ")
	if !found {
		path = r.Pattern
	}
	if path == "" {
		return "/"
	}
	return path
}
