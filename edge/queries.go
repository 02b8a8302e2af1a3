package edge

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/crews/hearth/collections"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/picker"
	"github.com/pocketbase/pocketbase/tools/search"
)

// A filter is a question about rows, and PocketBase does not always ask it
// behind the rules: on a multi-valued path (a back-relation such as
// memberships_via_user, or a multi relation) the operators that must hold
// for every related row (=, !=, !~, <, ...) run in a subquery without the
// related collection's list rule. A user who can see one member of another
// crew could then ask "does some invite of that member's other crew have a
// code starting with 48TV?" one character at a time.
//
// So for everyone but superusers a filter or sort may name only the paths
// its collection's Spec lists (Spec.Query), and a realtime subscription's
// filter likewise (checked by realtime through CheckQuery, on the topics
// as its dispatcher reads them); anything else is a 400 naming the path. Collections
// without a spec (PocketBase's own, or one an admin adds in the dashboard)
// allow their own non-hidden fields only: a single-segment path reads the
// row the list rule already admitted, so it cannot reach a hidden one.
//
// Besides the listed paths a filter may use literals, PocketBase's date
// macros (@now, @todayStart, ...) and the :lower modifier of a listed path;
// a sort may also use @random and @rowid. @request paths are refused too
// (PocketBase itself allows them in client filters to superusers only).
//
// An expand may follow only listed paths, each of its prefixes listed too:
// PocketBase fetches every expanded record through its view rule, but a
// back-relation expand first reads the ids of up to 1000 rows of another
// collection without any rule, and a deep chain multiplies the rows read;
// neither is a question the app asks. The fields parameter needs no path
// policy: it picks from the answer the caller already gets (rules, enrich
// hooks and the expand policy applied), and its one modifier (:excerpt)
// shortens visible text; it is parsed here only so that a malformed one is
// a 400 naming it.

// The query parameters a read answers to; PocketBase's apis package keeps
// the names of expand and fields unexported.
const (
	expandParam = "expand"
	fieldsParam = "fields"
)

// CheckQuery returns the 400 naming the parameter and the path when the
// query parameters of a read of collection's records (filter, sort,
// expand, fields; a missing key is an absent parameter) ask what
// collection's policy does not allow, and nil when they may be answered.
// It applies to callers who are not superusers: the caller skips
// superusers. The route edge calls it for every route that answers
// records, whatever the method, and for each request of a batch; package
// realtime for each subscription's options.query, as its dispatcher reads
// them.
func CheckQuery(collection *core.Collection, params map[string]string) error {
	paths := queryPaths(collection)
	if err := checkFilter(collection, paths, search.FilterQueryParam, params[search.FilterQueryParam]); err != nil {
		return err
	}
	if err := checkSort(collection, paths, params[search.SortQueryParam]); err != nil {
		return err
	}
	if err := checkExpand(collection, paths, params[expandParam]); err != nil {
		return err
	}
	return checkFields(params[fieldsParam])
}

// queryPaths returns the paths non-superusers may filter, sort and expand
// collection on.
func queryPaths(collection *core.Collection) []string {
	if spec := collections.SpecOf(collection.Name); spec != nil {
		return spec.Query
	}
	var paths []string
	for _, f := range collection.Fields {
		if !f.GetHidden() {
			paths = append(paths, f.GetName())
		}
	}
	return paths
}

// queryPathAllowed reports whether path (as written in a filter or sort)
// names one of paths, optionally with the :lower modifier.
func queryPathAllowed(paths []string, path string) bool {
	return slices.Contains(paths, strings.TrimSuffix(path, ":lower"))
}

// checkFilter returns a field error naming param when filter names a path
// that paths does not list. A filter that does not parse is left to
// PocketBase, which answers it with its own 400.
func checkFilter(collection *core.Collection, paths []string, param, filter string) error {
	if filter == "" {
		return nil
	}
	r := &pathRecorder{paths: paths}
	if _, err := search.FilterData(filter).BuildExpr(r); err != nil && r.refused == "" {
		return nil
	}
	if r.refused != "" {
		return refusedPath(collection, paths, param, r.refused)
	}
	return nil
}

// checkSort is checkFilter for a sort expression ("-starts_at,title"),
// split and resolved by PocketBase's own sort parser.
func checkSort(collection *core.Collection, paths []string, sort string) error {
	if sortsByEmail(sort) {
		// Refused for every collection, listed or not: PocketBase guards
		// email filters but not sorts, and an order reveals how hidden
		// addresses compare.
		return collections.APIError(&collections.Error{Code: collections.EINVALID, Message: "Invalid sort.", Fields: map[string]collections.FieldError{
			search.SortQueryParam: {Code: "validation_email_private", Message: "Emails cannot be sorted on."},
		}})
	}
	if sort == "" {
		return nil
	}
	for _, f := range search.ParseSortFromString(sort) {
		if f.Name == "" {
			continue // "a,,b": PocketBase answers the empty field with its own 400
		}
		r := &pathRecorder{paths: paths}
		if _, err := f.BuildExpr(r); err != nil && r.refused != "" {
			return refusedPath(collection, paths, search.SortQueryParam, r.refused)
		}
	}
	return nil
}

// checkExpand returns a field error naming expand when one of its paths,
// read the way PocketBase reads them (comma separated, spaces removed,
// dots trimmed at the ends), or a prefix of one, is not in paths.
func checkExpand(collection *core.Collection, paths []string, expand string) error {
	for _, p := range strings.Split(expand, ",") {
		p = strings.Trim(strings.ReplaceAll(p, " ", ""), ".")
		if p == "" {
			continue
		}
		segments := strings.Split(p, ".")
		for i := range segments {
			if !slices.Contains(paths, strings.Join(segments[:i+1], ".")) {
				return refusedPath(collection, paths, expandParam, p)
			}
		}
	}
	return nil
}

// checkFields returns a field error naming fields when PocketBase's picker
// cannot parse it (an unknown modifier, bad arguments, an unclosed
// parenthesis): PocketBase would fail the answer after the handler ran.
func checkFields(fields string) error {
	if fields == "" {
		return nil
	}
	if _, err := picker.Pick(map[string]any{}, fields); err != nil {
		return collections.APIError(&collections.Error{Code: collections.EINVALID, Message: "Invalid fields.", Fields: map[string]collections.FieldError{
			fieldsParam: {Code: "validation_invalid_fields", Message: fmt.Sprintf("%q: %v.", fields, err)},
		}})
	}
	return nil
}

func refusedPath(collection *core.Collection, paths []string, param, path string) error {
	return collections.APIError(&collections.Error{Code: collections.EINVALID, Message: fmt.Sprintf("Invalid %s.", param), Fields: map[string]collections.FieldError{
		param: {Code: "validation_path_not_allowed", Message: fmt.Sprintf(
			"%q cannot be used in %s %s of %s; the allowed paths are %s (docs/access-rules.md).",
			path, article(param), param, collection.Name, strings.Join(paths, ", "))},
	}})
}

// article is the indefinite article of a parameter's name.
func article(param string) string {
	if strings.ContainsRune("aeiou", rune(param[0])) {
		return "an"
	}
	return "a"
}

// pathRecorder is a search.FieldResolver that resolves nothing: it lets
// PocketBase's own parser walk a filter and notes the first identifier that
// is not an allowed path.
type pathRecorder struct {
	paths   []string
	refused string
}

func (r *pathRecorder) UpdateQuery(*dbx.SelectQuery) error { return nil }

func (r *pathRecorder) Resolve(path string) (*search.ResolverResult, error) {
	switch strings.ToLower(path) {
	case "null", "true", "false":
		// An empty identifier makes the parser fall back to its literal.
		return &search.ResolverResult{}, nil
	}
	if queryPathAllowed(r.paths, path) {
		return &search.ResolverResult{Identifier: "1"}, nil
	}
	if r.refused == "" {
		r.refused = path
	}
	return nil, fmt.Errorf("path %q not allowed", path)
}

var emailSortField = regexp.MustCompile(`(^|\.)email(:\w+)?$`)

// sortsByEmail reports whether a PocketBase sort expression ("-created,user.email")
// orders by an email field.
func sortsByEmail(sort string) bool {
	for _, f := range strings.Split(sort, ",") {
		if emailSortField.MatchString(strings.TrimLeft(strings.TrimSpace(f), "+-")) {
			return true
		}
	}
	return false
}
