package logs

import (
	"crypto/rand"
	"regexp"
	"strings"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"
)

// HeaderRequestID carries a request's id: a proxy's is kept when it looks
// like one, else a new one is made; the answer always carries it, so that a
// client's report can be matched to the log line.
const HeaderRequestID = "X-Request-Id"

// validRequestID admits the ids proxies make (UUIDs, hex, base64url) and
// nothing that could forge a log field or line.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// requestIDs gives every request its id and puts the id, the route pattern
// and the URL as it may be logged (safeURL) in PocketBase's request log
// entry (as its "meta"; the redacting handler moves the URL to the entry's
// "url"). It runs first, so that requests refused by PocketBase's own
// middlewares have them too.
func requestIDs() *hook.Handler[*core.RequestEvent] {
	return &hook.Handler[*core.RequestEvent]{
		Id:       "hearthRequestID",
		Priority: apis.DefaultWWWRedirectMiddlewarePriority - 2,
		Func: func(e *core.RequestEvent) error {
			id := e.Request.Header.Get(HeaderRequestID)
			if !validRequestID.MatchString(id) {
				// 128 random bits in one read; PocketBase's RandomString
				// draws each character apart (20 draws, 1.8 % of a message
				// create's CPU in a profile, docs/benchmarks.md).
				id = rand.Text()
			}
			e.Response.Header().Set(HeaderRequestID, id)
			meta, _ := e.Get(apis.RequestEventKeyLogMeta).(map[string]any)
			if meta == nil {
				meta = map[string]any{}
			}
			meta["requestId"] = id
			meta["route"] = Route(e.Request)
			meta[metaURL] = safeURL(e.Request, func(name string) bool {
				_, err := e.App.FindCachedCollectionByNameOrId(name)
				return err == nil
			})
			e.Set(apis.RequestEventKeyLogMeta, meta)
			return e.Next()
		},
	}
}

// requestErrors puts in the request log entry's meta what the client was
// told of a failure, instead of the error PocketBase logs: that is the
// whole chain of a wrapped error and the raw data of an ApiError (a filter
// parser's error quotes the filter, a validation message can quote the
// value: `limit "x" is not an integer`). The message is the answer's,
// without a "Raw error" PocketBase appends for superusers; the details are
// the answer's field codes, without their messages. It runs right inside
// PocketBase's activity logger, so it sees every error that logger does.
func requestErrors() *hook.Handler[*core.RequestEvent] {
	return &hook.Handler[*core.RequestEvent]{
		Id:       "hearthRequestErrors",
		Priority: apis.DefaultActivityLoggerMiddlewarePriority + 1,
		Func: func(e *core.RequestEvent) error {
			err := e.Next()
			if err == nil {
				return nil
			}
			meta, _ := e.Get(apis.RequestEventKeyLogMeta).(map[string]any)
			if meta == nil {
				return err
			}
			apiErr := router.ToApiError(err)
			meta[metaError] = clientMessage(apiErr.Message)
			meta[metaDetails] = codes(apiErr.Data)
			return err
		},
	}
}

// clientMessage is message up to PocketBase's "Raw error", which quotes an
// internal error (a test email's SMTP answer, a failed query) to superusers.
func clientMessage(message string) string {
	message, _, _ = strings.Cut(message, "Raw error")
	message, _, _ = strings.Cut(message, "\n")
	return strings.TrimSpace(message)
}

// codes is the error data of an answer with each field's code only: the
// codes are the server's; the messages may quote what was sent.
func codes(data map[string]any) map[string]any {
	out := make(map[string]any, len(data))
	for field, v := range data {
		item, ok := v.(map[string]any)
		if !ok {
			continue
		}
		if code, ok := item["code"].(string); ok {
			out[field] = code
			continue
		}
		out[field] = codes(item)
	}
	return out
}
