package hearthtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
)

// Server is a test app behind a real HTTP server, for flows of several
// requests and for parallel requests: the PocketBase router with the
// routes OnServe registers, as tests.ApiScenario builds it.
type Server struct {
	App *tests.TestApp
	URL string
}

// NewServer returns a fresh test app with the fixture world, served.
func NewServer(t *testing.T) *Server {
	t.Helper()
	app := NewApp(t)
	return &Server{App: app, URL: Serve(t, app).URL}
}

// Response is a decoded JSON answer.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

// Do sends a JSON request; token may be "" (anonymous), body may be nil or
// a string sent as it is. It is safe to call from many goroutines; it
// reports failures with t.Error so that it may run outside the test
// goroutine.
func (s *Server) Do(t *testing.T, method, path, token string, body any) Response {
	var r io.Reader
	if raw, ok := body.(string); ok {
		r = bytes.NewBufferString(raw)
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Error(err)
			return Response{}
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	if err != nil {
		t.Error(err)
		return Response{}
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return Response{}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Error(err)
	}
	out := Response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			t.Errorf("%s %s: body is not a JSON object: %s", method, path, raw)
		}
	}
	return out
}

// Send sends a request with a raw body of contentType: with a
// Content-Length of length, or chunked, without one, when length is -1.
// Any answer is taken as it comes: a redirect is not followed (the OAuth2
// redirect routes answer with one), an event stream is not read (a
// realtime connection never ends), a JSON answer is decoded into Body and
// must parse.
func (s *Server) Send(t *testing.T, method, path, token, contentType string, body io.Reader, length int64) Response {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out := Response{Status: res.StatusCode, Header: res.Header}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		return out
	}
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out.Raw = string(raw)
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") && len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			t.Fatalf("%s %s: the JSON answer does not parse: %s", method, path, raw)
		}
	}
	return out
}

// noRedirects is a client that shows a redirect as it is.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// FieldCode returns data.<field>.code of an error answer.
func (r Response) FieldCode(field string) string {
	data, _ := r.Body["data"].(map[string]any)
	f, _ := data[field].(map[string]any)
	code, _ := f["code"].(string)
	return code
}

// Str returns the string value of key in the answer.
func (r Response) Str(key string) string {
	s, _ := r.Body[key].(string)
	return s
}

// NewUsers saves n users and returns their ids and tokens. They share
// Alice's password hash: hashing a password per user would make a hundred
// users cost seconds for nothing under test.
func NewUsers(t *testing.T, app core.App, prefix string, n int) (ids, tokens []string) {
	t.Helper()
	alice, err := app.FindRecordById(collections.Users, Alice)
	if err != nil {
		t.Fatal(err)
	}
	col, err := app.FindCachedCollectionByNameOrId(collections.Users)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		u := core.NewRecord(col)
		u.Set("name", fmt.Sprintf("%s %d", prefix, i))
		u.SetEmail(fmt.Sprintf("%s%d@crews.test", prefix, i))
		u.SetRaw(core.FieldNamePassword, alice.GetRaw(core.FieldNamePassword))
		u.SetVerified(true)
		if err := app.SaveNoValidate(u); err != nil {
			t.Fatalf("user %d: %v", i, err)
		}
		token, err := u.NewAuthToken()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.Id)
		tokens = append(tokens, token)
	}
	return ids, tokens
}

// AddMembers makes every user a member of group.
func AddMembers(t *testing.T, app core.App, group string, users []string) {
	t.Helper()
	for _, u := range users {
		if _, err := collections.AddMember(app, group, u, collections.RoleMember); err != nil {
			t.Fatal(err)
		}
	}
}

// Record reads a record, failing the test when it is missing.
func Record(t testing.TB, app core.App, collection, id string) *core.Record {
	t.Helper()
	r, err := app.FindRecordById(collection, id)
	if err != nil {
		t.Fatalf("%s/%s: %v", collection, id, err)
	}
	return r
}

// EnableBatch turns PocketBase's batch API on, as a superuser would in the
// dashboard (it is off by default).
func EnableBatch(t testing.TB, app core.App, maxRequests int) {
	t.Helper()
	settings := app.Settings()
	settings.Batch.Enabled = true
	settings.Batch.MaxRequests = maxRequests
	if err := app.Save(settings); err != nil {
		t.Fatal(err)
	}
}
