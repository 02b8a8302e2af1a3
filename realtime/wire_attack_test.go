package realtime_test

import (
	"bufio"
	"encoding/json/v2"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/realtime"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// The adversarial review of the hijacked realtime path (realtime/wire.go):
// requests no SDK sends, clients that misbehave, and the registrations
// they leave. Each test speaks HTTP over a raw TCP socket where the
// request's exact bytes are the subject.

// rawRequest sends req (the request's exact bytes) on a new connection to
// srv and returns everything the server sends until it closes the
// connection, failing if it is still open after wait.
func rawRequest(t *testing.T, addr, req string, wait time.Duration) string {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := io.WriteString(nc, req); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(wait))
	got, err := io.ReadAll(nc)
	if err != nil {
		t.Fatalf("%q: the server still holds the connection after %s (read: %v); it sent %q", req, wait, err, got)
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
			"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", waitFor)
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

// signUpWait bounds a sign-up: hashing its password takes seconds under
// the race detector on a loaded machine.
const signUpWait = 60 * time.Second

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
	if got := rawRequest(t, srv.Listener.Addr().String(), signUp("alone@example.com"), signUpWait); !strings.HasPrefix(got, "HTTP/1.1 200") || !exists("alone@example.com") {
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

// The hijacked head is net/http's for requests no SDK sends: an origin
// CORS refuses (no Access-Control-Allow-Origin, as on net/http), one it
// allows, an HTTP/1.0 client, a request carrying an auth header (nothing
// of it echoed), and a keep-alive request. Each client reads its
// PB_CONNECT.
func TestHijackedHeadForOddRequests(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.Bind(apis.CORS(apis.CORSConfig{AllowOrigins: []string{"https://app.example"}}))
		return se.Next()
	})
	srv := hearthtest.Serve(t, app)
	token := hearthtest.Token(t, app, hearthtest.Bob)
	for _, tc := range []struct{ name, req string }{
		{"refused origin", "GET /api/realtime HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n\r\n"},
		{"allowed origin", "GET /api/realtime HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n\r\n"},
		{"HTTP/1.0", "GET /api/realtime HTTP/1.0\r\nHost: x\r\n\r\n"},
		{"auth header", "GET /api/realtime HTTP/1.1\r\nHost: x\r\nAuthorization: " + token + "\r\n\r\n"},
		{"keep-alive", "GET /api/realtime HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"},
	} {
		heads := map[bool]http.Header{}
		for _, hijack := range []bool{false, true} {
			realtime.SetHijack(app, hijack)
			s := openRaw(t, srv, tc.req)
			if realtime.Hijacked(app, s.id) != hijack {
				t.Fatalf("%s: hijacked %v, want %v", tc.name, !hijack, hijack)
			}
			s.resp.Header.Del("Date")
			heads[hijack] = s.resp.Header
			s.nc.Close()
		}
		if !maps.EqualFunc(heads[false], heads[true], slices.Equal) {
			t.Errorf("%s: headers differ:\nnet/http %v\nhijacked %v", tc.name, heads[false], heads[true])
		}
		allowed := heads[true].Get("Access-Control-Allow-Origin")
		if want := map[string]string{"allowed origin": "https://app.example"}[tc.name]; allowed != want {
			t.Errorf("%s: Access-Control-Allow-Origin %q, want %q", tc.name, allowed, want)
		}
		for name, values := range heads[true] {
			if slices.ContainsFunc(values, func(v string) bool { return strings.Contains(v, token) }) {
				t.Errorf("%s: header %s carries the request's token", tc.name, name)
			}
		}
	}
}

// A client that never reads: the socket fills, its drain waits, and once
// ClientBuffer messages wait behind it the server closes the connection
// (nothing it holds grows past that) and unregisters it; another member
// keeps receiving.
func TestClientThatNeverReadsIsDropped(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	realtime.SetClientBuffer(app, 16)
	stuck := openRaw(t, srv, getRealtime)
	if code := subscribeStatus(t, app, srv, stuck.id, hearthtest.Bob, "messages/*"); code != http.StatusNoContent {
		t.Fatalf("subscribe: %d", code)
	}
	realtime.SetClientBuffer(app, 1024)
	alice := connect(t, app, srv, hearthtest.Alice, "messages/*")
	body := strings.Repeat("x", 4000)
	// Enough messages to fill any socket buffers (a few MB on loopback)
	// many times over; the loop ends when the server gives up on Bob.
	var last *core.Record
	for i := 0; realtime.Connected(app, stuck.id); i++ {
		if i == 5000 {
			t.Fatal("a client that never reads is still connected after 5000 messages of 4 KB")
		}
		last = message(t, app, hearthtest.Climbers, hearthtest.Alice, body)
	}
	if got := alice.until(last.Id); len(got) == 0 {
		t.Error("Alice received nothing")
	}
	// The server closed Bob's socket: after what it had sent, the stream ends.
	_ = stuck.nc.SetReadDeadline(time.Now().Add(waitFor))
	if _, err := io.Copy(io.Discard, stuck.body); err != nil {
		t.Errorf("the stuck client's stream did not end: %v", err)
	}
}

// A client that half-closes (shuts its sending side, as a client that is
// done does) is unregistered on both paths: net/http's background read
// sees the end of its request, the sweep's read sees it on a hijacked
// socket.
func TestHalfClosedClientIsUnregistered(t *testing.T) {
	t.Parallel()
	for _, hijack := range []bool{true, false} {
		app := hearthtest.NewApp(t)
		realtime.SetSweepEvery(app, 20*time.Millisecond)
		realtime.SetHijack(app, hijack)
		srv := hearthtest.Serve(t, app)
		s := openRaw(t, srv, getRealtime)
		if code := subscribeStatus(t, app, srv, s.id, hearthtest.Bob, "messages/*", "devices/*"); code != http.StatusNoContent {
			t.Fatalf("subscribe: %d", code)
		}
		if err := s.nc.(*net.TCPConn).CloseWrite(); err != nil {
			t.Fatal(err)
		}
		waitUnregistered(t, app)
	}
}

// Many clients connecting, subscribing (some to PocketBase's path too)
// and leaving in every way at once, while changes are delivered to them:
// closing at once, after PB_CONNECT, after subscribing, after
// unsubscribing, by half-closing, and by being closed by the server (a
// user's connection cap). When all
// have left, neither the hub, nor its registry (the source of the
// hearth_realtime_clients and _subscriptions gauges), nor PocketBase's
// broker holds any of them. Run with -race, it is also the race of a
// drop, a worker's write, a drain and the sweep on one connection.
func TestChurnLeavesNoRegistration(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	realtime.SetSweepEvery(app, time.Millisecond)
	realtime.SetLimits(app, 2, 200, 16) // Bob's third connection closes his oldest
	srv := hearthtest.Serve(t, app)
	messages, err := app.FindCachedCollectionByNameOrId(collections.Messages)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	writing := make(chan struct{})
	go func() {
		defer close(writing)
		for {
			select {
			case <-stop:
				return
			default:
				r := core.NewRecord(messages)
				r.Load(map[string]any{"group": hearthtest.Climbers, "author": hearthtest.Alice, "body": strings.Repeat("y", 2000)})
				if err := app.Save(r); err != nil {
					t.Error(err) // t.Fatal must not be called off the test's goroutine
					return
				}
			}
		}
	}()
	var subscribed, received atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			nc, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			defer nc.Close()
			if _, err := io.WriteString(nc, getRealtime); err != nil || i%5 == 0 {
				return // leaves before its answer
			}
			_ = nc.SetReadDeadline(time.Now().Add(waitFor))
			resp, err := http.ReadResponse(bufio.NewReader(nc), nil)
			if err != nil {
				t.Error(err)
				return
			}
			body := bufio.NewReader(resp.Body)
			line, _ := body.ReadString('\n')
			if !strings.HasPrefix(line, "id:") || i%5 == 1 {
				return // leaves after PB_CONNECT
			}
			line, _ = body.ReadString('\n') // event:PB_CONNECT
			line, _ = body.ReadString('\n')
			var connected struct {
				ClientID string `json:"clientId"`
			}
			_ = json.Unmarshal([]byte(strings.TrimPrefix(strings.TrimSpace(line), "data:")), &connected)
			topics := []string{"messages/*"}
			if i%2 == 0 {
				topics = append(topics, "devices/*")
			}
			// Subscribed or not (the connection may already be closed by
			// the cap), the client then leaves.
			if subscribeStatus(t, app, srv, connected.ClientID, hearthtest.Bob, topics...) == http.StatusNoContent {
				subscribed.Add(1)
			}
			for { // up to the next event's first line, or the end
				line, err := body.ReadString('\n')
				if err != nil {
					break
				}
				if strings.HasPrefix(line, "id:") {
					received.Add(1)
					break
				}
			}
			if i%5 == 3 {
				// Unsubscribes while deliveries to it are under way.
				subscribeStatus(t, app, srv, connected.ClientID, hearthtest.Bob)
			}
			if i%5 == 2 {
				_ = nc.(*net.TCPConn).CloseWrite()
				_, _ = io.Copy(io.Discard, body) // until the server closes
			}
		})
	}
	wg.Wait()
	close(stop)
	<-writing
	// The churn did what it says: connections subscribed, and were
	// delivered to before they left.
	if subscribed.Load() == 0 || received.Load() == 0 {
		t.Fatalf("%d subscribed, %d received a message: nothing churned", subscribed.Load(), received.Load())
	}
	waitUnregistered(t, app)
	t.Logf("%d subscribed, %d received a message", subscribed.Load(), received.Load())
}

// A connection whose socket filled receives, once it reads, everything in
// commit order: what waited behind the drain and what was sent while it
// ran; caught up, it keeps no buffer of the burst. Before, the drain kept
// its second-to-last buffer (8.9 MB here) for the connection's lifetime.
func TestDrainKeepsOrderThenFreesItsBuffers(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	realtime.SetClientBuffer(app, 100000) // the test's bursts, not the limit, are the subject
	slow := openRaw(t, srv, getRealtime)
	if code := subscribeStatus(t, app, srv, slow.id, hearthtest.Bob, "messages/*"); code != http.StatusNoContent {
		t.Fatalf("subscribe: %d", code)
	}
	body := strings.Repeat("z", 4000)
	var sent []string
	for !realtime.Draining(app, slow.id) {
		if len(sent) == 1000 {
			t.Fatal("no drain after 1000 messages of 4 KB")
		}
		sent = append(sent, message(t, app, hearthtest.Climbers, hearthtest.Alice, body).Id)
	}
	t.Logf("draining after %d messages", len(sent))
	var got []string
	read := func(n int) {
		for len(got) < n {
			var p payload
			if err := json.Unmarshal([]byte(slow.next(t).Data), &p); err != nil {
				t.Fatal(err)
			}
			got = append(got, p.Record["id"].(string))
		}
	}
	// Sent while the drain's first write waits: they wait in one buffer.
	// Then the client reads what came before them, so the drain writes
	// that buffer, which the socket (it took the first len(sent)
	// messages) cannot take whole; more are sent while it waits.
	first := len(sent)
	burst := 2 * first
	for range burst {
		sent = append(sent, message(t, app, hearthtest.Climbers, hearthtest.Alice, body).Id)
	}
	read(first)
	for range burst {
		sent = append(sent, message(t, app, hearthtest.Climbers, hearthtest.Alice, body).Id)
	}
	read(len(sent))
	if !slices.Equal(got, sent) {
		t.Errorf("received out of commit order:\n got %v\nsent %v", got, sent)
	}

	// Caught up, the connection keeps no buffer the size of the burst
	// (here at least the socket's few hundred KB): an idle client's
	// memory does not grow with the largest burst it once fell behind in.
	deadline := time.Now().Add(waitFor)
	for realtime.Draining(app, slow.id) {
		if time.Now().After(deadline) {
			t.Fatal("the drain did not end after the client read everything")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if kept := realtime.WireBuffers(app, slow.id); kept > 64<<10 {
		t.Errorf("after the drain the connection keeps %d KB of buffers", kept>>10)
	}
}

// The connect event's IdleTimeout and MaxTimeout end a hijacked
// connection as they end PocketBase's handler: here a hook shortens
// them for the connections that ask; the one that does not ask stays.
func TestTimeoutsEndHijackedConnections(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	app.OnRealtimeConnectRequest().BindFunc(func(e *core.RealtimeConnectRequestEvent) error {
		switch e.Request.Header.Get("X-Timeout") {
		case "idle":
			e.IdleTimeout = 50 * time.Millisecond
		case "max":
			e.MaxTimeout = 50 * time.Millisecond
		}
		return e.Next()
	})
	realtime.SetSweepEvery(app, 10*time.Millisecond)
	srv := hearthtest.Serve(t, app)
	kept := openRaw(t, srv, getRealtime)
	for _, which := range []string{"idle", "max"} {
		s := openRaw(t, srv, "GET /api/realtime HTTP/1.1\r\nHost: x\r\nX-Timeout: "+which+"\r\n\r\n")
		_ = s.nc.SetReadDeadline(time.Now().Add(waitFor))
		if _, err := io.Copy(io.Discard, s.body); err != nil {
			t.Errorf("%s timeout: the stream did not end: %v", which, err)
		}
		if realtime.Connected(app, s.id) {
			t.Errorf("%s timeout: still registered after the server closed it", which)
		}
	}
	if !realtime.Connected(app, kept.id) {
		t.Error("a connection with the default timeouts was closed")
	}
}
