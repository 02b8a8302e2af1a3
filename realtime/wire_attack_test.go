package realtime_test

import (
	"bufio"
	"encoding/json/v2"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/realtime"
	"github.com/pocketbase/pocketbase/core"
)

// The adversarial review of the hijacked realtime path (realtime/wire.go):
// requests no SDK sends, clients that misbehave, and the registrations
// they leave. Each test speaks HTTP over a raw TCP socket where the
// request's exact bytes are the subject.

// rawRequest sends req (the request's exact bytes) on a new connection to
// srv and returns everything the server sends until it closes the
// connection, failing if it is still open after waitFor.
func rawRequest(t *testing.T, addr, req string) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(waitFor))
	got, err := io.ReadAll(nc)
	if err != nil {
		t.Fatalf("%q: the server still holds the connection after %s (read: %v); it sent %q", req, waitFor, err, got)
	}
	return string(got)
}

// waitUnregistered waits until the hub, its registry and PocketBase's
// broker hold no client, failing after waitFor.
func waitUnregistered(t *testing.T, app core.App) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		conns, clients, broker := realtime.Registered(app)
		if conns == 0 && clients == 0 && broker == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still registered: %d connections, %d clients, %d in PocketBase's broker", conns, clients, broker)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rawStream is an SSE connection over a raw TCP socket: the test decides
// what the client sends and when it reads.
type rawStream struct {
	nc   net.Conn
	resp *http.Response
	body *bufio.Reader // the response's body, read by line
	id   string
}

// openRaw sends req on a new connection to srv and reads the response's
// head and PB_CONNECT.
func openRaw(t *testing.T, srv *httptest.Server, req string) *rawStream {
	t.Helper()
	nc, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(waitFor))
	s := &rawStream{nc: nc}
	s.resp, err = http.ReadResponse(bufio.NewReader(nc), nil)
	if err != nil {
		t.Fatalf("%q: %v", req, err)
	}
	s.body = bufio.NewReader(s.resp.Body)
	if s.resp.StatusCode != http.StatusOK {
		t.Fatalf("%q: status %d", req, s.resp.StatusCode)
	}
	ev := s.next(t)
	if ev.Name != "PB_CONNECT" {
		t.Fatalf("first event %q", ev.Name)
	}
	var connected struct {
		ClientID string `json:"clientId"`
	}
	if err := json.Unmarshal([]byte(ev.Data), &connected); err != nil {
		t.Fatal(err)
	}
	s.id = connected.ClientID
	return s
}

// next reads the next SSE event from the response's body, failing after
// waitFor.
func (s *rawStream) next(t *testing.T) event {
	t.Helper()
	_ = s.nc.SetReadDeadline(time.Now().Add(waitFor))
	var ev event
	for {
		line, err := s.body.ReadString('\n')
		if err != nil {
			t.Fatalf("reading an event: %v", err)
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if ev.Name != "" {
				return ev
			}
		case strings.HasPrefix(line, "event:"):
			ev.Name = line[len("event:"):]
		case strings.HasPrefix(line, "data:"):
			ev.Data = line[len("data:"):]
		}
	}
}

const getRealtime = "GET /api/realtime HTTP/1.1\r\nHost: x\r\n\r\n"

// HEAD /api/realtime answers what a GET's response starts with (status,
// stream headers, every middleware's) and no body, and ends: no client is
// made, no connect hook runs, nothing stays registered, and the
// connection serves the client's next request. Before, the router handed
// it to PocketBase's realtimeConnect, which held it (and a client in
// PocketBase's broker) until the client left.
func TestHeadAnswersHeadersOnly(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	connects := 0
	app.OnRealtimeConnectRequest().BindFunc(func(e *core.RealtimeConnectRequestEvent) error {
		connects++ // read after the answers: the server has returned from the hook by then
		return e.Next()
	})
	srv := serveWithCORS(t, app)
	got := rawRequest(t, srv.Listener.Addr().String(),
		"HEAD /api/realtime HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n\r\n"+
			"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	r := bufio.NewReader(strings.NewReader(got))
	head, err := http.ReadResponse(r, &http.Request{Method: http.MethodHead})
	if err != nil {
		t.Fatalf("HEAD: %v in %q", err, got)
	}
	for name, want := range map[string]string{
		"Content-Type":                "text/event-stream",
		"Cache-Control":               "no-store",
		"X-Accel-Buffering":           "no",
		"Access-Control-Allow-Origin": "*",
	} {
		if v := head.Header.Get(name); v != want {
			t.Errorf("HEAD %s: %q, want %q", name, v, want)
		}
	}
	if head.StatusCode != http.StatusOK {
		t.Errorf("HEAD status %d", head.StatusCode)
	}
	// The next bytes are the health check's answer: HEAD sent no body.
	health, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatalf("the request after HEAD: %v in %q", err, got)
	}
	body, _ := io.ReadAll(health.Body)
	if health.StatusCode != http.StatusOK || !strings.Contains(string(body), "healthy") {
		t.Errorf("the request after HEAD: %d %s", health.StatusCode, body)
	}
	if connects != 0 {
		t.Errorf("HEAD ran the connect hooks %d times", connects)
	}
	if conns, clients, broker := realtime.Registered(app); conns+clients+broker != 0 {
		t.Errorf("HEAD left %d connections, %d clients, %d in PocketBase's broker", conns, clients, broker)
	}
}

// Bytes a client sends after its connect request (a pipelined request
// here, a sign-up) are never read as a request: the connection left
// net/http, and nothing parses what arrives on it. The same sign-up sent
// as a request of its own creates its user, so the test can tell.
func TestPipelinedRequestIsNotRun(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	signUp := func(email string) string {
		body := `{"email":"` + email + `","password":"pipelined-1234","passwordConfirm":"pipelined-1234","name":"P"}`
		return "POST /api/collections/users/records HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body
	}
	exists := func(email string) bool {
		_, err := app.FindAuthRecordByEmail(collections.Users, email)
		return err == nil
	}
	if got := rawRequest(t, srv.Listener.Addr().String(), signUp("alone@example.com")); !strings.HasPrefix(got, "HTTP/1.1 200") || !exists("alone@example.com") {
		t.Fatalf("the sign-up on its own did not create its user: %q", got)
	}

	s := openRaw(t, srv, getRealtime+signUp("pipelined@example.com"))
	if !realtime.Hijacked(app, s.id) {
		t.Fatal("not hijacked")
	}
	if code := subscribeStatus(t, app, srv, s.id, hearthtest.Bob, "messages/*"); code != http.StatusNoContent {
		t.Fatalf("subscribe: %d", code)
	}
	msg := message(t, app, hearthtest.Climbers, hearthtest.Alice, "after the pipelined request")
	// The event arrives after anything the server would have answered
	// the pipelined request with, so an answer would be read here first.
	if ev := s.next(t); !strings.Contains(ev.Data, msg.Id) {
		t.Fatalf("event %s %s, want the message", ev.Name, ev.Data)
	}
	if exists("pipelined@example.com") {
		t.Error("the request pipelined after the connect request was run")
	}
}
