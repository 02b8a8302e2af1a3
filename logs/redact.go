package logs

import (
	"context"
	"log/slog"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// Keys of the request log entry's meta that requestIDs and requestErrors
// fill and the redactor moves to the entry's top level, in place of
// PocketBase's attributes of the same names.
const (
	metaURL     = "url"
	metaError   = "error"
	metaDetails = "details"
)

// requestKeys are the attributes of PocketBase's request entries that are
// logged (apis/middlewares.go, logRequest); url, error and details are
// replaced with their meta versions, referer with its origin, and any
// other attribute is dropped.
var requestKeys = map[string]bool{
	"type": true, "execTime": true, "method": true, "status": true, "auth": true, "authId": true,
	"userIP": true, "remoteIP": true, "userAgent": true, "referer": true, "meta": true,
	"url": true, "error": true, "details": true,
}

// appKeys are the attributes of other entries (Hearth's and PocketBase's
// application and debug lines) whose values are logged: collection names,
// ids (of records, OTPs, MFAs, realtime clients: none grants anything
// alone), counts, setting names (vars), SQLite driver versions
// (expected, current), and error texts. A string or structured value under any
// other key is logged as Redacted (a realtime subscription's filter, a
// superuser's email, a device's push token in the dev push log), a number,
// boolean, duration or time as it is: none of the secrets is one.
var appKeys = map[string]bool{
	"error": true, "panic": true, "message": true, "url": true,
	"collection": true, "collectionId": true, "id": true, "clientId": true,
	"txid": true, "seq": true, "entries": true, "rows": true, "pushes": true, "vars": true,
	"otpId": true, "mfaId": true, "authOriginId": true, "expected": true, "current": true,
}

// secretShapes are the secrets that have a recognisable form: PocketBase's
// auth and file tokens (JWTs), Expo push tokens, email addresses. They are
// masked in every string that is logged (messages and error texts
// included), as a net under the allow-lists: an error text from Expo can
// list push tokens, a database error can quote an email. Invite codes and
// passwords have no form; they are kept out by the allow-lists alone.
var secretShapes = regexp.MustCompile(
	`eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*` +
		`|Expo(?:nent)?PushToken\[[^\]]*\]` +
		`|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)

func scrub(s string) string {
	return secretShapes.ReplaceAllString(s, Redacted)
}

// redactor is the handler in front of PocketBase's log handler: every
// entry passes it before PocketBase prints it (dev mode), stores it in
// auxiliary.db and the sink writes it to the output, so that what any of
// them gets has been through the allow-lists.
type redactor struct {
	next slog.Handler
	// grouped is set once WithGroup was called: the entry's top-level
	// attributes are then no longer PocketBase's request attributes.
	grouped bool
}

func (h *redactor) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *redactor) Handle(ctx context.Context, r slog.Record) error {
	var attrs []slog.Attr
	r.Attrs(func(a slog.Attr) bool {
		attrs = append(attrs, a)
		return true
	})
	if !h.grouped && isRequest(attrs) {
		return h.next.Handle(ctx, requestRecord(r, attrs))
	}
	out := slog.NewRecord(r.Time, r.Level, scrub(r.Message), r.PC)
	for _, a := range attrs {
		out.AddAttrs(appAttr(a))
	}
	return h.next.Handle(ctx, out)
}

func (h *redactor) WithAttrs(attrs []slog.Attr) slog.Handler {
	safe := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		safe[i] = appAttr(a)
	}
	return &redactor{next: h.next.WithAttrs(safe), grouped: h.grouped}
}

func (h *redactor) WithGroup(name string) slog.Handler {
	return &redactor{next: h.next.WithGroup(name), grouped: true}
}

func isRequest(attrs []slog.Attr) bool {
	for _, a := range attrs {
		if a.Key == "type" {
			return a.Value.Resolve().String() == "request"
		}
	}
	return false
}

// requestRecord is a PocketBase request entry with its allowed attributes,
// the URL, error and details of its meta, and the message rebuilt from
// the method and the URL as logged ("GET /api/files/{collection}/...").
func requestRecord(r slog.Record, attrs []slog.Attr) slog.Record {
	var meta map[string]any
	method := ""
	for _, a := range attrs {
		switch a.Key {
		case "meta":
			meta, _ = a.Value.Resolve().Any().(map[string]any)
		case "method":
			method = a.Value.Resolve().String()
		}
	}
	logged := map[string]any{}
	kept := map[string]any{}
	for k, v := range meta {
		switch k {
		case metaURL, metaError, metaDetails:
			logged[k] = v
		default:
			kept[k] = v
		}
	}
	// Without Hearth's meta (a request before logs.Register's middlewares
	// ran), nothing of the URL is known to be safe.
	u, _ := logged[metaURL].(string)
	if u == "" {
		u = Redacted
	}
	out := slog.NewRecord(r.Time, r.Level, scrub(method+" "+u), r.PC)
	for _, a := range attrs {
		if !requestKeys[a.Key] {
			continue
		}
		switch a.Key {
		case "meta":
			out.AddAttrs(slog.Any("meta", scrubAny(kept)))
		case "url":
			out.AddAttrs(slog.String("url", scrub(u)))
		case "error":
			msg, _ := logged[metaError].(string)
			if msg == "" {
				msg = Redacted
			}
			out.AddAttrs(slog.String("error", scrub(msg)))
		case "details":
			out.AddAttrs(slog.Any("details", scrubAny(logged[metaDetails])))
		case "referer":
			out.AddAttrs(slog.String("referer", origin(a.Value.Resolve().String())))
		default:
			out.AddAttrs(slog.Attr{Key: a.Key, Value: scrubValue(a.Value.Resolve())})
		}
	}
	return out
}

// appAttr is attribute a of an application entry as logged.
func appAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindInt64, slog.KindUint64, slog.KindFloat64, slog.KindBool, slog.KindDuration, slog.KindTime:
		return slog.Attr{Key: a.Key, Value: v}
	case slog.KindGroup:
		group := v.Group()
		safe := make([]any, len(group))
		for i, g := range group {
			safe[i] = appAttr(g)
		}
		return slog.Group(a.Key, safe...)
	}
	if !appKeys[a.Key] {
		return slog.String(a.Key, Redacted)
	}
	if a.Key == "url" {
		return slog.String(a.Key, appURL(v.String()))
	}
	return slog.Attr{Key: a.Key, Value: scrubValue(v)}
}

// scrubValue masks the secret shapes in a string value, and in the text of
// an error or any other value, which is logged as its text.
func scrubValue(v slog.Value) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(scrub(v.String()))
	case slog.KindAny:
		return slog.AnyValue(scrubAny(v.Any()))
	}
	return v
}

// scrubAny masks the secret shapes in the strings of a value made of maps,
// slices and strings (meta, details, vars); another value is logged as its
// text, scrubbed.
func scrubAny(v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return scrub(v)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = scrubAny(x)
		}
		return out
	case []string:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = scrub(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = scrubAny(x)
		}
		return out
	case error:
		return scrub(v.Error())
	case bool, int, int64, float64:
		return v
	}
	return scrub(slog.AnyValue(v).String())
}

// origin is the scheme and host of a referer: the page a request came
// from can carry a token in its path or query.
func origin(referer string) string {
	if referer == "" {
		return ""
	}
	u, err := url.Parse(referer)
	if err != nil || u.Host == "" {
		return Redacted
	}
	return u.Scheme + "://" + u.Host
}

// appURL is a URL an application entry names (where metrics are served,
// the replica): scheme, host and path, each query parameter by name only,
// and no user info.
func appURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return Redacted
	}
	var b strings.Builder
	if u.Scheme != "" {
		b.WriteString(u.Scheme + "://")
	}
	b.WriteString(u.Host)
	b.WriteString(u.EscapedPath())
	sep := "?"
	for _, name := range slices.Sorted(maps.Keys(u.Query())) {
		b.WriteString(sep + name + "=" + Redacted)
		sep = "&"
	}
	return scrub(b.String())
}
