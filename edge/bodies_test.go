package edge_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/crews/hearth/edge"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
)

// A bodyWant is what a route must take from a caller: at most json bytes
// of JSON (0: no body at all), and at most multipart bytes of a
// multipart/form-data body (0: none, refused unread with a 415).
type bodyWant struct {
	json, multipart int64
	// unbounded: PocketBase's own backup upload for superusers, which
	// takes a backup of any size.
	unbounded bool
}

// bodySuperuserRoutes are the routes that take large bodies, from superusers
// only; anyone else is held to the default limit.
var bodySuperuserRoutes = map[string]bodyWant{
	"POST /api/backups/upload":                {unbounded: true},
	"PUT /api/collections/import":             {json: edge.SuperuserBodyLimit},
	"POST /api/collections":                   {json: edge.SuperuserBodyLimit},
	"PATCH /api/collections/{collection}":     {json: edge.SuperuserBodyLimit},
	"POST /api/collections/meta/dry-run-view": {json: edge.SuperuserBodyLimit},
	"PATCH /api/settings":                     {json: edge.SuperuserBodyLimit},
	"POST /api/sql":                           {json: edge.SuperuserBodyLimit},
}

// wantBody is the body policy as docs/access-rules.md states it, for a
// request to pattern with its {collection} being c.
func wantBody(t *testing.T, app core.App, method, pattern string, c *core.Collection, superuser bool) bodyWant {
	t.Helper()
	if method == http.MethodGet || method == http.MethodHead || method == http.MethodDelete {
		return bodyWant{}
	}
	if w, ok := bodySuperuserRoutes[pattern]; ok {
		if superuser {
			return w
		}
		if w.unbounded {
			return bodyWant{json: edge.DefaultBodyLimit, multipart: edge.DefaultBodyLimit}
		}
		return bodyWant{json: edge.DefaultBodyLimit}
	}
	switch pattern {
	case "POST /api/collections/{collection}/records", "PATCH /api/collections/{collection}/records/{id}":
		jsonLimit, multipartLimit := edge.BodyLimits(c)
		if !hasFiles(c) {
			multipartLimit = 0
		}
		return bodyWant{json: jsonLimit, multipart: multipartLimit}
	case "POST /api/batch":
		jsonLimit, err := edge.BatchBodyLimit(app, false)
		if err != nil {
			t.Fatal(err)
		}
		multipartLimit, err := edge.BatchBodyLimit(app, true)
		if err != nil {
			t.Fatal(err)
		}
		return bodyWant{json: jsonLimit, multipart: multipartLimit}
	case "POST /api/realtime":
		return bodyWant{json: edge.RealtimeBodyLimit}
	case "POST /api/crews/join":
		return bodyWant{json: edge.JoinBodyLimit}
	case "POST /api/files/token":
		return bodyWant{}
	}
	if strings.HasPrefix(pattern, "POST /api/collections/{collection}/") {
		jsonLimit, _ := edge.BodyLimits(c) // an auth action: the record's fields
		return bodyWant{json: jsonLimit}
	}
	return bodyWant{json: edge.DefaultBodyLimit}
}

// TestBodiesOnEveryRoute walks every route of the router, PocketBase's own
// and Hearth's, with every method it serves (HEAD too, for a GET): an
// oversized body (JSON and multipart, with a Content-Length and chunked)
// is refused with a 413 naming the limit, or a 415 for a multipart body
// where no files are taken; a body on a GET, HEAD or DELETE is refused;
// a body at the limit is not. Collection routes are walked for a
// collection with files (users) and one without (events). Nothing is
// stored.
func TestBodiesOnEveryRoute(t *testing.T) {
	s := hearthtest.NewServer(t)
	hearthtest.EnableBatch(t, s.App, 5)
	settings := s.App.Settings()
	settings.Batch.MaxBodySize = 1 << 20 // keeps the oversized batch small
	if err := s.App.Save(settings); err != nil {
		t.Fatal(err)
	}
	root := hearthtest.SuperuserToken(t, s.App)
	before := hearthtest.Fingerprint(t, s.App)

	ids := map[string]string{"users": hearthtest.Carol, "events": hearthtest.ClimbEvent}
	requests := 0
	for _, route := range hearthtest.Routes(t, s.App) {
		methods := []string{route.Method}
		switch route.Method {
		case "":
			t.Fatalf("%s: a route for any method; walk each method it serves", route.Path)
		case http.MethodGet:
			methods = append(methods, http.MethodHead)
		}
		collectionNames := []string{""}
		if strings.Contains(route.Path, "{collection}") {
			collectionNames = []string{"users", "events"}
		}
		pattern := route.Method + " " + route.Path
		for _, name := range collectionNames {
			var c *core.Collection
			path := route.Path
			if name != "" {
				var err error
				if c, err = s.App.FindCollectionByNameOrId(name); err != nil {
					t.Fatal(err)
				}
				path = strings.NewReplacer("{collection}", name, "{id}", ids[name], "{recordId}", ids[name]).Replace(path)
			}
			path = strings.NewReplacer("{id}", "x", "{key}", "x.zip", "{filename}", "x.png", "{code}", "x").Replace(path)
			if strings.Contains(path, "{") {
				t.Fatalf("%s: a path parameter this walk does not fill", route.Path)
			}
			callers := map[string]string{"anonymous": ""}
			if _, ok := bodySuperuserRoutes[pattern]; ok {
				callers["superuser"] = root
			}
			for _, method := range methods {
				for who, token := range callers {
					want := wantBody(t, s.App, method, pattern, c, who == "superuser")
					what := fmt.Sprintf("%s %s (%s)", method, path, who)
					if want.unbounded {
						t.Logf("%s: unbounded, PocketBase's backup upload", what)
						continue
					}
					requests += checkRouteBodies(t, s, method, path, token, want, what)
				}
			}
		}
	}
	if after := hearthtest.Fingerprint(t, s.App); after != before {
		t.Errorf("the walk changed the database:\n%s", after)
	}
	t.Logf("%d requests", requests)
}

// checkRouteBodies sends the oversized bodies and the one at the limit to
// one route, and returns how many requests it sent.
func checkRouteBodies(t *testing.T, s *hearthtest.Server, method, path, token string, want bodyWant, what string) int {
	t.Helper()
	n := 0
	jsonSize := want.json + 1
	if want.json == 0 {
		jsonSize = 64 << 10
	}
	for _, l := range lengths {
		res := s.Send(t, method, path, token, "application/json", padded(`{"x":"`, jsonSize, `"}`), length(jsonSize, l.chunked))
		bodyRefused(t, what+", JSON, "+l.name, method, res, http.StatusRequestEntityTooLarge, fmt.Sprintf("at most %d bytes", want.json))

		size, code, names := want.multipart+1, http.StatusRequestEntityTooLarge, fmt.Sprintf("at most %d bytes", want.multipart)
		switch {
		case want.json == 0:
			size, names = 64<<10, "at most 0 bytes"
		case want.multipart == 0:
			size, code, names = 64<<10, http.StatusUnsupportedMediaType, fmt.Sprintf("send JSON of at most %d bytes", want.json)
		}
		upload, contentType := bigUpload(t, map[string]string{"x": "y"}, "file", "big.bin", size)
		res = s.Send(t, method, path, token, contentType, upload, length(size, l.chunked))
		bodyRefused(t, what+", multipart, "+l.name, method, res, code, names)
		n += 2
	}

	// At the limit, the body is the route's to judge.
	if path == "/api/realtime" && (method == http.MethodGet || method == http.MethodHead) {
		return n // an event stream: connecting is the realtime tests'
	}
	if want.json > 16<<20 {
		return n // the superuser's 32 MB: PocketBase's own limit
	}
	var body io.Reader
	if want.json > 0 {
		body = padded(`{"x":"`, want.json, `"}`)
	}
	res := s.Send(t, method, path, token, "application/json", body, want.json)
	if res.Status == http.StatusRequestEntityTooLarge || res.Status == http.StatusUnsupportedMediaType || res.Status >= 500 {
		t.Errorf("%s with %d bytes of JSON: %d %.300s", what, want.json, res.Status, res.Raw)
	}
	return n + 1
}

// bodyRefused fails t unless the answer has status code and, but for a HEAD,
// a JSON message containing names.
func bodyRefused(t *testing.T, what, method string, res hearthtest.Response, code int, names string) {
	t.Helper()
	if res.Status != code || (method != http.MethodHead && !strings.Contains(res.Raw, names)) {
		t.Errorf("%s: want %d naming %q, got %d %.300s", what, code, names, res.Status, res.Raw)
	}
}

// TestNewRouteBoundedByDefault: a route added later, by a plugin or a
// hook, takes at most the default limit until the policy says otherwise;
// its handler never sees a larger body.
func TestNewRouteBoundedByDefault(t *testing.T) {
	app := hearthtest.NewApp(t)
	handled := 0
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.POST("/api/later", func(e *core.RequestEvent) error {
			handled++
			if _, err := io.Copy(io.Discard, e.Request.Body); err != nil {
				return err
			}
			return e.NoContent(http.StatusNoContent)
		})
		return se.Next()
	})
	s := &hearthtest.Server{App: app, URL: hearthtest.Serve(t, app).URL}
	for _, l := range lengths {
		size := int64(edge.DefaultBodyLimit + 1)
		tooLarge(t, s.Send(t, http.MethodPost, "/api/later", "", "application/json", padded(`{"x":"`, size, `"}`), length(size, l.chunked)), edge.DefaultBodyLimit)
	}
	if handled != 0 {
		t.Errorf("the handler read %d oversized bodies", handled)
	}
	if res := s.Send(t, http.MethodPost, "/api/later", "", "application/json", padded(`{"x":"`, edge.DefaultBodyLimit, `"}`), edge.DefaultBodyLimit); res.Status != http.StatusNoContent {
		t.Errorf("at the limit: %d %s", res.Status, res.Raw)
	}
}
