package edge

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/crews/hearth/collections"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
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
// filter likewise (checked by realtime through CheckFilter, on the topics
// as its dispatcher reads them); anything else is a 400 naming the path. Collections
// without a spec (PocketBase's own, or one an admin adds in the dashboard)
// allow their own non-hidden fields only: a single-segment path reads the
// row the list rule already admitted, so it cannot reach a hidden one.
//
// Besides the listed paths a filter may use literals, PocketBase's date
// macros (@now, @todayStart, ...) and the :lower modifier of a listed path;
// a sort may also use @random and @rowid. @request paths are refused too
// (PocketBase itself allows them in client filters to superusers only).

// queryPaths returns the paths non-superusers may filter and sort collection on.
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

// CheckFilter returns the 400 naming param when filter names a path that
// collection's policy does not list, for a caller who is not a superuser
// (the caller skips superusers). Package realtime checks each
// subscription's filter with it, on the topic as its dispatcher parsed it.
func CheckFilter(collection *core.Collection, param, filter string) error {
	return checkFilter(collection, queryPaths(collection), param, filter)
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

// checkSort is checkFilter for a sort expression ("-starts_at,title").
func checkSort(collection *core.Collection, paths []string, sort string) error {
	if sortsByEmail(sort) {
		// Refused for every collection, listed or not: PocketBase guards
		// email filters but not sorts, and an order reveals how hidden
		// addresses compare.
		return collections.APIError(&collections.Error{Code: collections.EINVALID, Message: "Invalid sort.", Fields: map[string]collections.FieldError{
			search.SortQueryParam: {Code: "validation_email_private", Message: "Emails cannot be sorted on."},
		}})
	}
	for _, f := range search.ParseSortFromString(sort) {
		if f.Name == "@random" || f.Name == "@rowid" || f.Name == "" {
			continue
		}
		if !queryPathAllowed(paths, f.Name) {
			return refusedPath(collection, paths, search.SortQueryParam, f.Name)
		}
	}
	return nil
}

func refusedPath(collection *core.Collection, paths []string, param, path string) error {
	return collections.APIError(&collections.Error{Code: collections.EINVALID, Message: fmt.Sprintf("Invalid %s.", param), Fields: map[string]collections.FieldError{
		param: {Code: "validation_path_not_allowed", Message: fmt.Sprintf(
			"%q cannot be used in a %s of %s; the allowed paths are %s (docs/access-rules.md).",
			path, param, collection.Name, strings.Join(paths, ", "))},
	}})
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

// registerQueries checks the filter and sort of list requests. A realtime
// subscription's filter is checked by realtime, where its topics are read
// as they will be consumed (CheckFilter).
func registerQueries(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.BindFunc(func(e *core.RequestEvent) error {
			name := e.Request.PathValue("collection")
			if name == "" || e.Request.Method != http.MethodGet || !strings.HasSuffix(e.Request.URL.Path, "/records") || e.HasSuperuserAuth() {
				return e.Next()
			}
			collection, err := e.App.FindCachedCollectionByNameOrId(name)
			if err != nil {
				return e.Next() // PocketBase answers the unknown collection
			}
			paths := queryPaths(collection)
			query := e.Request.URL.Query()
			if err := checkFilter(collection, paths, search.FilterQueryParam, query.Get(search.FilterQueryParam)); err != nil {
				return err
			}
			if err := checkSort(collection, paths, query.Get(search.SortQueryParam)); err != nil {
				return err
			}
			return e.Next()
		})
		return se.Next()
	})
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
