package edge_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/filesystem"
)

// The adversarial probes of file tokens (POST /api/files/token) and
// protected files left open by the review of issue 17. A file token is a
// short-lived token of its user (3 minutes, PocketBase's default), checked
// at each request against the record's view rule: what decides is who the
// user is and what they may view now, not when the token was issued.

// fileAnswer is one answer of the files route.
type fileAnswer struct {
	status int
	header http.Header
	body   []byte
}

func fetchFile(t *testing.T, s *hearthtest.Server, method, path string, header map[string]string) fileAnswer {
	t.Helper()
	r, err := http.NewRequest(method, s.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		r.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fileAnswer{res.StatusCode, res.Header, body}
}

// attach stores a picture in the message's attachments and returns its
// path under /api/files.
func attach(t *testing.T, app core.App, message string) string {
	t.Helper()
	rec := hearthtest.Record(t, app, collections.Messages, message)
	file, err := filesystem.NewFileFromBytes(hearthtest.PNG(t, 0), "picture.png")
	if err != nil {
		t.Fatal(err)
	}
	rec.Set("attachments", file)
	if err := app.Save(rec); err != nil {
		t.Fatal(err)
	}
	return "/api/files/" + collections.Messages + "/" + message + "/" + rec.GetStringSlice("attachments")[0]
}

// newFileToken asks the files route for a file token, as the SDK does.
func newFileToken(t *testing.T, s *hearthtest.Server, authToken string) string {
	t.Helper()
	res := s.Do(t, http.MethodPost, "/api/files/token", authToken, nil)
	if res.Status != http.StatusOK || res.Str("token") == "" {
		t.Fatalf("file token: %d %s", res.Status, res.Raw)
	}
	return res.Str("token")
}

// fileRequest is one way of asking for a file: GET, HEAD, a range, or a
// thumb of each size (the attachments' sizes, and a size not offered, which
// answers the original).
type fileRequest struct {
	name, method, query string
	header              map[string]string
}

func fileRequests(t *testing.T, app core.App) []fileRequest {
	t.Helper()
	messages, err := app.FindCachedCollectionByNameOrId(collections.Messages)
	if err != nil {
		t.Fatal(err)
	}
	field, _ := messages.Fields.GetByName("attachments").(*core.FileField)
	out := []fileRequest{
		{"GET", http.MethodGet, "", nil},
		{"HEAD", http.MethodHead, "", nil},
		{"range", http.MethodGet, "", map[string]string{"Range": "bytes=0-3"}},
		{"download", http.MethodGet, "&download=1", nil},
	}
	for _, size := range append(slices.Clone(field.Thumbs), "7x7") {
		out = append(out, fileRequest{"thumb " + size, http.MethodGet, "&thumb=" + size, nil})
	}
	return out
}

// refusedLike reports whether a is answered as the file that does not
// exist (other): the same status, body and headers but the date, so that
// a refusal tells nothing a wrong file name would not.
func refusedLike(a, other fileAnswer) bool {
	if a.status != http.StatusNotFound || a.status != other.status || !bytes.Equal(a.body, other.body) {
		return false
	}
	h1, h2 := a.header.Clone(), other.header.Clone()
	h1.Del("Date")
	h2.Del("Date")
	j1, _ := json.Marshal(h1)
	j2, _ := json.Marshal(h2)
	return bytes.Equal(j1, j2)
}

// A member's file token opens their crew's attachment by every way of
// asking (GET, HEAD, a range, a download, each thumb); another crew's
// member's token, the member's auth token in place of a file token, and
// the member's Authorization header without a token open it by none, and
// each refusal is the answer for a file that does not exist.
func TestFileTokensAcrossCrews(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	path := attach(t, s.App, hearthtest.ClimbMessage)
	chessPath := attach(t, s.App, hearthtest.ChessMessage)
	carolAuth := hearthtest.Token(t, s.App, hearthtest.Carol)
	carol := newFileToken(t, s, carolAuth)
	erin := newFileToken(t, s, hearthtest.Token(t, s.App, hearthtest.Erin))
	picture := hearthtest.PNG(t, 0)

	for _, r := range fileRequests(t, s.App) {
		t.Run(r.name, func(t *testing.T) {
			ok := fetchFile(t, s, r.method, path+"?token="+carol+r.query, r.header)
			switch {
			case r.method == http.MethodHead:
				if ok.status != http.StatusOK || len(ok.body) != 0 || ok.header.Get("Content-Length") == "" {
					t.Errorf("carol's HEAD: %d %v", ok.status, ok.header)
				}
			case r.header["Range"] != "":
				if ok.status != http.StatusPartialContent || !bytes.Equal(ok.body, picture[:4]) {
					t.Errorf("carol's range: %d %q", ok.status, ok.body)
				}
			default:
				if ok.status != http.StatusOK || !bytes.HasPrefix(ok.body, []byte("\x89PNG")) {
					t.Errorf("carol's file: %d %q", ok.status, ok.body)
				}
			}
			// Carol asked first, so a thumb exists when Erin asks.
			missing := fetchFile(t, s, r.method, path+"x?token="+erin+r.query, r.header)
			for who, p := range map[string]string{
				"erin's file token":         path + "?token=" + erin + r.query,
				"carol's auth token":        path + "?token=" + strings.TrimPrefix(carolAuth, "Bearer ") + r.query,
				"a token that is not one":   path + "?token=nope" + r.query,
				"another message's file":    strings.Replace(path, hearthtest.ClimbMessage, hearthtest.ChessMessage, 1) + "?token=" + carol + r.query,
				"no token, an auth header":  path + "?" + strings.TrimPrefix(r.query, "&"),
				"erin, with carol's header": path + "?token=" + erin + r.query,
			} {
				header := map[string]string{}
				for k, v := range r.header {
					header[k] = v
				}
				if strings.Contains(who, "header") {
					header["Authorization"] = carolAuth
				}
				if got := fetchFile(t, s, r.method, p, header); !refusedLike(got, missing) {
					t.Errorf("%s: want the answer for a missing file (%d %s %v), got %d %s %v", who, missing.status, missing.body, missing.header, got.status, got.body, got.header)
				}
			}
			if got := fetchFile(t, s, r.method, chessPath+"?token="+erin+r.query, r.header); got.status/100 != 2 {
				t.Errorf("erin's own crew's file: %d %s", got.status, got.body)
			}
		})
	}
}

// A file token is checked against what its user may view when it is used:
// once the user is removed from the crew, disabled or deleted, the token
// issued before opens nothing (GET, HEAD, a thumb), and a disabled user's
// sessions ask for no new file token.
func TestFileTokensAfterTheUserLeaves(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		user  string
		leave func(t *testing.T, app core.App)
	}{
		{"removed from the crew", hearthtest.Carol, func(t *testing.T, app core.App) {
			if err := app.Delete(hearthtest.Record(t, app, collections.Memberships, hearthtest.MembershipID(t, app, hearthtest.Climbers, hearthtest.Carol))); err != nil {
				t.Fatal(err)
			}
		}},
		{"disabled", hearthtest.Bob, func(t *testing.T, app core.App) {
			hearthtest.Save(t, app, collections.Users, hearthtest.Bob, map[string]any{"disabled": true})
		}},
		{"deleted", hearthtest.Bob, func(t *testing.T, app core.App) {
			if err := app.Delete(hearthtest.Record(t, app, collections.Users, hearthtest.Bob)); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := hearthtest.NewServer(t)
			path := attach(t, s.App, hearthtest.ClimbMessage)
			auth := hearthtest.Token(t, s.App, c.user)
			token := newFileToken(t, s, auth)
			requests := fileRequests(t, s.App)
			for _, r := range requests {
				if got := fetchFile(t, s, r.method, path+"?token="+token+r.query, r.header); got.status/100 != 2 {
					t.Fatalf("%s before: %d %s", r.name, got.status, got.body)
				}
			}
			c.leave(t, s.App)
			for _, r := range requests {
				if got := fetchFile(t, s, r.method, path+"?token="+token+r.query, r.header); got.status != http.StatusNotFound {
					t.Errorf("%s after: want 404, got %d", r.name, got.status)
				}
			}
			if c.name == "disabled" {
				if res := s.Do(t, http.MethodPost, "/api/files/token", auth, nil); res.Status != http.StatusUnauthorized {
					t.Errorf("a file token for a disabled user's session: %d %s", res.Status, res.Raw)
				}
			}
		})
	}
}

// A protected file is answered "private": no shared cache keeps it under
// its token's URL for anyone else, past the token's lifetime, once Hearth
// would refuse it. The client that fetched it keeps it as long as the
// token was valid.
func TestProtectedFilesArePrivate(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	path := attach(t, s.App, hearthtest.ClimbMessage)
	token := newFileToken(t, s, hearthtest.Token(t, s.App, hearthtest.Carol))
	users, err := s.App.FindCachedCollectionByNameOrId(collections.Users)
	if err != nil {
		t.Fatal(err)
	}
	want := "private, max-age=" + strconv.FormatInt(users.FileToken.Duration, 10)
	for _, r := range fileRequests(t, s.App) {
		got := fetchFile(t, s, r.method, path+"?token="+token+r.query, r.header)
		if got.status/100 != 2 || got.header.Get("Cache-Control") != want {
			t.Errorf("%s: %d, Cache-Control %q, want %q", r.name, got.status, got.header.Get("Cache-Control"), want)
		}
	}
}

// PocketBase's own answer for a file may be kept by any cache, the reason
// for registerFileCaching (edge/files.go): when an upgrade makes it
// private, this fails and the hook can go.
func TestPocketBaseFilesAreCacheable(t *testing.T) {
	t.Parallel()
	fsys, err := filesystem.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	if err := fsys.Upload(hearthtest.PNG(t, 0), "a/picture.png"); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	if err := fsys.Serve(rec, httptest.NewRequest(http.MethodGet, "/picture.png", nil), "a/picture.png", "picture.png"); err != nil {
		t.Fatal(err)
	}
	if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "max-age=") || strings.Contains(cc, "private") || strings.Contains(cc, "no-store") {
		t.Errorf("PocketBase's Cache-Control for a file is now %q: registerFileCaching may be needless", cc)
	}
}
