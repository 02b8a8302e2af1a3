package hearthtest

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// Route is one route of the router: its method ("" for any) and its full
// path pattern, as the router registers it with net/http's ServeMux.
type Route struct {
	Method string
	Path   string
}

// Routes returns every route app's router serves, read from the router
// itself after the OnServe hooks have added theirs (PocketBase's own, the
// Crews routes, a plugin's): tests that must cover every entrance walk
// this list instead of one written by hand. The router keeps its routes in
// unexported fields, so they are read through reflection; a PocketBase
// upgrade that renames them fails here, loudly, rather than yielding no
// routes.
func Routes(t testing.TB, app core.App) []Route {
	t.Helper()
	r, err := apis.NewRouter(app)
	if err != nil {
		t.Fatalf("hearthtest: router: %v", err)
	}
	err = app.OnServe().Trigger(&core.ServeEvent{App: app, Router: r}, func(e *core.ServeEvent) error { return nil })
	if err != nil {
		t.Fatalf("hearthtest: serve hooks: %v", err)
	}
	var out []Route
	walkRoutes(t, reflect.ValueOf(r.RouterGroup).Elem(), "", &out)
	if len(out) < 50 {
		t.Fatalf("hearthtest: read %d routes from the router; PocketBase alone has more: has router.RouterGroup changed?", len(out))
	}
	slices.SortFunc(out, func(a, b Route) int { return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method) })
	return out
}

func walkRoutes(t testing.TB, group reflect.Value, prefix string, out *[]Route) {
	t.Helper()
	prefix += group.FieldByName("Prefix").String()
	children := group.FieldByName("children")
	if !children.IsValid() || children.Kind() != reflect.Slice {
		t.Fatalf("hearthtest: router.RouterGroup has no children slice")
	}
	for i := range children.Len() {
		child := children.Index(i).Elem().Elem() // any -> pointer -> struct
		switch {
		case child.FieldByName("Action").IsValid():
			*out = append(*out, Route{Method: child.FieldByName("Method").String(), Path: prefix + child.FieldByName("Path").String()})
		case child.FieldByName("children").IsValid():
			walkRoutes(t, child, prefix, out)
		default:
			t.Fatalf("hearthtest: unknown router child %s", child.Type())
		}
	}
}
