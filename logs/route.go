package logs

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Route is the pattern of the route that serves r, without its method
// ("/api/collections/{collection}/records"): bounded, unlike the path, so
// it is the request log's route and the metrics' route label. Requests no
// route matched have PocketBase's catch-all, "/".
func Route(r *http.Request) string {
	_, path, found := strings.Cut(r.Pattern, " ")
	if !found {
		path = r.Pattern
	}
	if path == "" {
		return "/"
	}
	return path
}

// Redacted stands in for a value that is not logged.
const Redacted = "[redacted]"

// recordID is the shape of the record ids logged: PocketBase's ids
// (15 of a-z0-9 by default) are random and no credential (the API rules
// decide what an id gives access to).
var recordID = regexp.MustCompile(`^[a-z0-9]{1,64}$`)

// safePathValues are the path values logged as sent, when they are what
// they should be: the name of an existing collection (bounded by the
// schema), a record id. Any other one (a file name, which holds what the
// uploader named the file; a backup key; a wildcard {path...}) and a value
// of the wrong shape are logged as the pattern's {name}.
var safePathValues = map[string]func(v string, isCollection func(string) bool) bool{
	"collection": func(v string, isCollection func(string) bool) bool { return isCollection(v) },
	"id":         func(v string, _ func(string) bool) bool { return recordID.MatchString(v) },
	"recordId":   func(v string, _ func(string) bool) bool { return recordID.MatchString(v) },
}

// Shapes of the query values that are logged. A value that does not have
// its parameter's shape is redacted, so that a secret sent in the wrong
// parameter by mistake (an email as a sort) is not logged either.
var (
	integer = regexp.MustCompile(`^-?[0-9]{1,12}$`)
	boolean = regexp.MustCompile(`^(true|false|1|0|t|f|TRUE|FALSE|True|False)$`)
	// A list of field paths, each optionally signed (sort), a PocketBase
	// macro (@random, @rowid) or with a modifier (fields's ":excerpt(200,true)").
	fieldList = regexp.MustCompile(`^(\s*[+-]?@?[A-Za-z_*][A-Za-z0-9_.*]*(:[a-z]+(\([0-9a-z, ]*\))?)?\s*)(,\s*[+-]?@?[A-Za-z_*][A-Za-z0-9_.*]*(:[a-z]+(\([0-9a-z, ]*\))?)?\s*)*$`)
	names     = regexp.MustCompile(`^[A-Za-z0-9_,]{1,500}$`)
	thumb     = regexp.MustCompile(`^[0-9]{1,5}x[0-9]{1,5}[tbf]?$`)
	cursor    = regexp.MustCompile(`^[A-Za-z0-9_=-]{1,1000}$`)
)

// safeQueryValues are the query parameters whose values are logged (their
// shape checked): paging, sorting and shaping a list, a thumb size, and the
// sync's paging. Every other parameter is logged by name only: filter
// (its values are what a list is filtered by: invite codes, emails, push
// tokens), token (a file or auth token), and any parameter not named here.
var safeQueryValues = map[string]*regexp.Regexp{
	"page":        integer,
	"perPage":     integer,
	"skipTotal":   boolean,
	"sort":        fieldList,
	"expand":      fieldList,
	"fields":      fieldList,
	"thumb":       thumb,
	"download":    boolean,
	"limit":       integer,
	"collections": names,
	"cursor":      cursor,
}

// safeURL is what the logs say of r's URL: the route's pattern with its
// safe path values filled in, then every query parameter by name, with its
// value only when the parameter is in the safe set
// ("/api/files/messages/k3j4h5g6f7d8s9a/{filename}?thumb=100x100&token=[redacted]").
// isCollection reports whether a name is an existing collection's.
func safeURL(r *http.Request, isCollection func(string) bool) string {
	var b strings.Builder
	b.WriteString(safePath(r, isCollection))
	if r.URL.RawQuery == "" {
		return b.String()
	}
	// The raw query, split by hand, keeps the parameters in the order sent.
	sep := "?"
	for _, pair := range strings.Split(r.URL.RawQuery, "&") {
		if pair == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			name = Redacted
		}
		b.WriteString(sep)
		sep = "&"
		b.WriteString(name)
		b.WriteString("=")
		b.WriteString(safeQueryValue(name, rawValue))
	}
	return b.String()
}

// safeQueryValue is the value of parameter name as logged.
func safeQueryValue(name, raw string) string {
	shape, ok := safeQueryValues[name]
	if !ok {
		return Redacted
	}
	v, err := url.QueryUnescape(raw)
	if err != nil || (v != "" && !shape.MatchString(v)) {
		return Redacted
	}
	return v
}

// safePath fills the route pattern with r's safe path values. The
// catch-all "/" has no values: a path no route matched is logged as "/",
// since all of it is the client's and it may hold anything.
func safePath(r *http.Request, isCollection func(string) bool) string {
	pattern := Route(r)
	var b strings.Builder
	for i, seg := range strings.Split(pattern, "/") {
		if i > 0 {
			b.WriteString("/")
		}
		name, isValue := strings.CutPrefix(seg, "{")
		name, _ = strings.CutSuffix(name, "}")
		safe, named := safePathValues[name]
		if !isValue || !named || !safe(r.PathValue(name), isCollection) {
			b.WriteString(seg)
			continue
		}
		b.WriteString(r.PathValue(name))
	}
	return b.String()
}
