package logs

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestSafeURL routes each request through a real ServeMux with PocketBase's
// patterns, as the router does, and checks what the log says of its URL.
func TestSafeURL(t *testing.T) {
	isCollection := func(name string) bool { return name == "invites" || name == "users" }
	for _, c := range []struct{ url, want string }{
		{"/api/collections/invites/records?filter=code%3D%22ABCDEFGHJKMN%22&page=2&perPage=30&skipTotal=1&sort=-created,id&expand=group&fields=id,code:excerpt(10,true)",
			"/api/collections/invites/records?filter=[redacted]&page=2&perPage=30&skipTotal=1&sort=-created,id&expand=group&fields=id,code:excerpt(10,true)"},
		// Values of the wrong shape, a secret in a parameter of the safe set.
		{"/api/collections/users/records?sort=dave%40example.com&page=ABCDEFGHJKMN&expand=a%20b",
			"/api/collections/users/records?sort=[redacted]&page=[redacted]&expand=[redacted]"},
		{"/api/collections/users/records/k3j4h5g6f7d8s9a?token=eyJhbGciOi.x.y", "/api/collections/users/records/k3j4h5g6f7d8s9a?token=[redacted]"},
		// Not a collection, not an id: the pattern's names.
		{"/api/collections/ABCDEFGHJKMN/records/dave@example.com", "/api/collections/{collection}/records/{id}"},
		{"/api/files/users/k3j4h5g6f7d8s9a/passport_scan_x1y2z3.png?thumb=100x100&token=eyJ.a.b",
			"/api/files/users/k3j4h5g6f7d8s9a/{filename}?thumb=100x100&token=[redacted]"},
		{"/_/images/logo.svg", "/_/{path...}"},
		// No route: the path is the client's.
		{"/api/invites/ABCDEFGHJKMN?x", "/?x=[redacted]"},
		// Names are kept, in the order sent, however odd.
		{"/api/sync?cursor=eyJzZXEiOjF9&collections=groups,events&limit=50&b%20c=1&&=2", "/api/sync?cursor=eyJzZXEiOjF9&collections=groups,events&limit=50&b c=[redacted]&=[redacted]"},
	} {
		mux := http.NewServeMux()
		var got string
		for _, p := range []string{
			"GET /api/collections/{collection}/records",
			"GET /api/collections/{collection}/records/{id}",
			"GET /api/files/{collection}/{recordId}/{filename}",
			"GET /_/{path...}",
			"GET /api/sync",
			"/",
		} {
			mux.HandleFunc(p, func(_ http.ResponseWriter, r *http.Request) { got = safeURL(r, isCollection) })
		}
		mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, c.url, nil))
		if got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.url, got, c.want)
		}
	}
}

func TestRedactSQL(t *testing.T) {
	got := redactSQL("SELECT * FROM `invites` WHERE `code`='ABC''DEF' AND `uses`<3 AND `blob`=0x6162 OR `email`='a@b.co'")
	want := "SELECT * FROM `invites` WHERE `code`=? AND `uses`<3 AND `blob`=? OR `email`=?"
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
