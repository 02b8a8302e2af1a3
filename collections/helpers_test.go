package collections_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
)

// server is a test app behind a real HTTP server, for flows of several
// requests and for parallel requests: the PocketBase router with the
// routes OnServe registers, as tests.ApiScenario builds it.
type server struct {
	app *tests.TestApp
	url string
}

func newServer(t *testing.T) *server {
	t.Helper()
	app := hearthtest.NewApp(t)
	return &server{app: app, url: hearthtest.Serve(t, app).URL}
}

// response is a decoded JSON answer.
type response struct {
	Status int
	Body   map[string]any
	Raw    string
}

// do sends a JSON request; token may be "" (anonymous), body may be nil.
// It is safe to call from many goroutines; it reports failures with
// t.Error so that it may run outside the test goroutine.
func (s *server) do(t *testing.T, method, path, token string, body any) response {
	var r io.Reader
	if raw, ok := body.(string); ok {
		r = bytes.NewBufferString(raw)
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Error(err)
			return response{}
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.url+path, r)
	if err != nil {
		t.Error(err)
		return response{}
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return response{}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Error(err)
	}
	out := response{Status: res.StatusCode, Raw: string(raw)}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out.Body); err != nil {
			t.Errorf("%s %s: body is not a JSON object: %s", method, path, raw)
		}
	}
	return out
}

// fieldCode returns data.<field>.code of an error answer.
func (r response) fieldCode(field string) string {
	data, _ := r.Body["data"].(map[string]any)
	f, _ := data[field].(map[string]any)
	code, _ := f["code"].(string)
	return code
}

func (r response) str(key string) string {
	s, _ := r.Body[key].(string)
	return s
}

// newUsers saves n users and returns their ids and tokens. They share
// Alice's password hash: hashing a password per user would make a hundred
// users cost seconds for nothing under test.
func newUsers(t *testing.T, app core.App, prefix string, n int) (ids, tokens []string) {
	t.Helper()
	alice, err := app.FindRecordById(collections.Users, hearthtest.Alice)
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

// addMembers makes every user a member of group.
func addMembers(t *testing.T, app core.App, group string, users []string) {
	t.Helper()
	for _, u := range users {
		if _, err := collections.AddMember(app, group, u, collections.RoleMember); err != nil {
			t.Fatal(err)
		}
	}
}

// record reads a record, failing the test when it is missing.
func record(t *testing.T, app core.App, collection, id string) *core.Record {
	t.Helper()
	r, err := app.FindRecordById(collection, id)
	if err != nil {
		t.Fatalf("%s/%s: %v", collection, id, err)
	}
	return r
}

// setFields saves a record with data, as the dashboard would.
func setFields(t *testing.T, app core.App, collection, id string, data map[string]any) *core.Record {
	t.Helper()
	r := record(t, app, collection, id)
	for k, v := range data {
		r.Set(k, v)
	}
	if err := app.Save(r); err != nil {
		t.Fatalf("save %s/%s: %v", collection, id, err)
	}
	return r
}

func token(t *testing.T, app core.App, user string) string {
	t.Helper()
	return hearthtest.Token(t, app, user)
}

// send sends a request with a raw body of contentType: with a
// Content-Length of length, or chunked, without one, when length is -1.
func (s *server) send(t *testing.T, method, path, token, contentType string, body io.Reader, length int64) response {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = length
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{Status: res.StatusCode, Raw: string(raw)}
	if err := json.Unmarshal(raw, &out.Body); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %s", method, path, raw)
	}
	return out
}

// enableBatch turns PocketBase's batch API on, as a superuser would in the
// dashboard (it is off by default).
func enableBatch(t testing.TB, app core.App, maxRequests int) {
	t.Helper()
	settings := app.Settings()
	settings.Batch.Enabled = true
	settings.Batch.MaxRequests = maxRequests
	if err := app.Save(settings); err != nil {
		t.Fatal(err)
	}
}
