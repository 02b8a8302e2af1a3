package realtime_test

import (
	"bytes"
	"encoding/json/v2"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// event is one SSE event as a client reads it.
type event = hearthtest.SSEEvent

// payload is the realtime payload.
type payload struct {
	Action string         `json:"action"`
	Record map[string]any `json:"record"`
}

// stream is a real SSE connection to /api/realtime, read in the background.
type stream struct {
	t      testing.TB
	id     string
	events chan event
	resp   *http.Response
}

// waitFor bounds the wait for an expected event; it fails a test that
// waits longer and measures nothing.
const waitFor = 5 * time.Second

// connect opens an SSE connection and subscribes it, signed in as user
// (a fixture id, or "" for a guest, or "superuser").
func connect(t testing.TB, app core.App, srv *httptest.Server, user string, topics ...string) *stream {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + "/api/realtime")
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	s := &stream{t: t, events: make(chan event, 10000), resp: resp}
	t.Cleanup(func() { resp.Body.Close() })
	go s.read()
	first := s.next()
	if first.Name != "PB_CONNECT" {
		t.Fatalf("first event %q, want PB_CONNECT", first.Name)
	}
	var connected struct {
		ClientID string `json:"clientId"`
	}
	if err := json.Unmarshal([]byte(first.Data), &connected); err != nil {
		t.Fatal(err)
	}
	s.id = connected.ClientID
	s.subscribe(app, srv, user, topics...)
	return s
}

func (s *stream) subscribe(app core.App, srv *httptest.Server, user string, topics ...string) {
	s.t.Helper()
	if code := subscribeStatus(s.t, app, srv, s.id, user, topics...); code != http.StatusNoContent {
		s.t.Fatalf("subscribe %v: status %d", topics, code)
	}
}

func subscribeStatus(t testing.TB, app core.App, srv *httptest.Server, id, user string, topics ...string) int {
	t.Helper()
	code, _ := subscribeAnswer(t, app, srv, id, user, topics...)
	return code
}

// subscribeAnswer returns the status and the body of a subscription.
func subscribeAnswer(t testing.TB, app core.App, srv *httptest.Server, id, user string, topics ...string) (int, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"clientId": id, "subscriptions": topics})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/realtime", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	switch user {
	case "":
	case "superuser":
		req.Header.Set("Authorization", hearthtest.SuperuserToken(t, app))
	default:
		req.Header.Set("Authorization", hearthtest.Token(t, app, user))
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg)
}

func (s *stream) read() { hearthtest.ReadSSE(s.resp.Body, s.events) }

// next returns the next event, failing after waitFor.
func (s *stream) next() event {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatal("the stream closed")
		}
		return ev
	case <-time.After(waitFor):
		s.t.Fatal("no event within the wait")
	}
	return event{}
}

// closed returns once the server has closed the stream, failing after
// waitFor.
func (s *stream) closed() {
	s.t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return
			}
		case <-deadline:
			s.t.Fatal("the stream is still open")
		}
	}
}

// until returns the events received up to and including the first whose
// record has id; everything before it was sent before it, since a client's
// events arrive in commit order.
func (s *stream) until(id string) []payload {
	s.t.Helper()
	var out []payload
	for {
		ev := s.next()
		var p payload
		if err := json.Unmarshal([]byte(ev.Data), &p); err != nil {
			s.t.Fatalf("event %q: %v", ev.Name, err)
		}
		out = append(out, p)
		if p.Record["id"] == id {
			return out
		}
	}
}

// save creates or updates a record of collection with data, as the
// domain's Go code does (hooks, change log and capture included).
func save(t testing.TB, app core.App, collection string, data map[string]any) *core.Record {
	t.Helper()
	col, err := app.FindCachedCollectionByNameOrId(collection)
	if err != nil {
		t.Fatal(err)
	}
	r := core.NewRecord(col)
	r.Load(data)
	if err := app.Save(r); err != nil {
		t.Fatalf("save %s: %v", collection, err)
	}
	return r
}

func message(t testing.TB, app core.App, group, author, body string) *core.Record {
	t.Helper()
	return save(t, app, collections.Messages, map[string]any{"group": group, "author": author, "body": body})
}

func ids(ps []payload) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Record["id"].(string))
	}
	return out
}

func dbxCollection(name string) dbx.Expression {
	return dbx.HashExp{"collection": name}
}

// authOf is the auth record of a fixture user id, or of the fixture's
// superuser for "superuser".
func authOf(t *testing.T, app core.App, user string) *core.Record {
	t.Helper()
	var auth *core.Record
	var err error
	if user == "superuser" {
		auth, err = app.FindAuthRecordByEmail(core.CollectionNameSuperusers, hearthtest.SuperuserEmail)
	} else {
		auth, err = app.FindRecordById(collections.Users, user)
	}
	if err != nil {
		t.Fatal(err)
	}
	return auth
}
