package realtime_test

import (
	"bufio"
	"bytes"
	"encoding/json/v2"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/realtime"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// serveWithCORS is hearthtest.Serve with PocketBase's CORS middleware
// bound, as `hearth serve` binds it, so that a response carries headers
// set by a middleware before the realtime handler.
func serveWithCORS(t *testing.T, app core.App) *httptest.Server {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.Bind(apis.CORS(apis.CORSConfig{AllowOrigins: []string{"*"}}))
		return se.Next()
	})
	return hearthtest.Serve(t, app)
}

// A hijacked connection sends the head net/http's path sends, every
// header set before it (CORS's) included, without the chunked encoding and
// with "Connection: close", then PB_CONNECT.
func TestHijackedHeadMatchesNetHTTP(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := serveWithCORS(t, app)

	head := func(hijack bool) (http.Header, []string, bool) {
		t.Helper()
		realtime.SetHijack(app, hijack)
		nc, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if _, err := nc.Write([]byte("GET /api/realtime HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		// The raw bytes too: ReadResponse drops "Connection: close"
		// from the header, and a body without length implies it.
		var raw bytes.Buffer
		r := bufio.NewReader(io.TeeReader(nc, &raw))
		req, _ := http.NewRequest(http.MethodGet, "/api/realtime", nil)
		resp, err := http.ReadResponse(r, req)
		if err != nil {
			t.Fatal(err)
		}
		rawHead, _, _ := strings.Cut(raw.String(), "\r\n\r\n")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
		var events []hearthtest.SSEEvent
		ch := make(chan hearthtest.SSEEvent, 1)
		go hearthtest.ReadSSE(resp.Body, ch)
		select {
		case ev := <-ch:
			events = append(events, ev)
		case <-time.After(waitFor):
			t.Fatal("no PB_CONNECT")
		}
		if events[0].Name != "PB_CONNECT" {
			t.Fatalf("first event %q", events[0].Name)
		}
		return resp.Header, resp.TransferEncoding, strings.Contains(rawHead+"\r\n", "\r\nConnection: close\r\n")
	}

	plain, plainTE, _ := head(false)
	hijacked, hijackedTE, closes := head(true)
	if !slices.Equal(plainTE, []string{"chunked"}) || hijackedTE != nil {
		t.Errorf("transfer encodings: net/http %v, hijacked %v; want chunked and none", plainTE, hijackedTE)
	}
	if !closes {
		t.Error(`the hijacked head lacks "Connection: close"`)
	}
	if hijacked.Get("Access-Control-Allow-Origin") != "*" || hijacked.Get("Content-Type") != "text/event-stream" {
		t.Errorf("hijacked head lacks CORS or the content type: %v", hijacked)
	}
	plain.Del("Date")
	hijacked.Del("Date")
	if !maps.EqualFunc(plain, hijacked, slices.Equal) {
		t.Errorf("headers differ:\nnet/http %v\nhijacked %v", plain, hijacked)
	}
}

// Over HTTP/2 a connection cannot be hijacked and takes net/http's path:
// PB_CONNECT, then a member's messages in order; one of another group
// does not reach them.
func TestHTTP2TakesNetHTTPPath(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := httptest.NewUnstartedServer(hearthtest.Handler(t, app))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)

	bob := connect(t, app, srv, hearthtest.Bob, "messages/*")
	if bob.resp.ProtoMajor != 2 || realtime.Hijacked(app, bob.id) {
		t.Fatalf("protocol %s, hijacked %v: want HTTP/2 on net/http's path", bob.resp.Proto, realtime.Hijacked(app, bob.id))
	}
	message(t, app, hearthtest.Chess, hearthtest.Dave, "not Bob's group")
	first := message(t, app, hearthtest.Climbers, hearthtest.Alice, "one")
	second := message(t, app, hearthtest.Climbers, hearthtest.Alice, "two")
	if got := ids(bob.until(second.Id)); !slices.Equal(got, []string{first.Id, second.Id}) {
		t.Errorf("Bob received %v, want %s then %s", got, first.Id, second.Id)
	}
}

// A client that goes away is noticed and its subscriptions freed, on
// both paths: a hijacked one by the sweep's read of its socket, net/http's
// by its request's end.
func TestClosedPeerIsUnregistered(t *testing.T) {
	t.Parallel()
	for _, hijack := range []bool{true, false} {
		app := hearthtest.NewApp(t)
		realtime.SetSweepEvery(app, 20*time.Millisecond)
		realtime.SetHijack(app, hijack)
		srv := hearthtest.Serve(t, app)
		bob := connect(t, app, srv, hearthtest.Bob, "messages/*")
		if realtime.Hijacked(app, bob.id) != hijack {
			t.Fatalf("hijacked %v, want %v", !hijack, hijack)
		}
		if got := realtime.SubscribedMembers(app, hearthtest.Climbers); !slices.Contains(got, hearthtest.Bob) {
			t.Fatalf("subscribed members %v lack Bob", got)
		}
		bob.resp.Body.Close()
		deadline := time.Now().Add(waitFor)
		for realtime.Connected(app, bob.id) {
			if time.Now().After(deadline) {
				t.Fatalf("hijack %v: a closed client is still connected", hijack)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got := realtime.SubscribedMembers(app, hearthtest.Climbers); slices.Contains(got, hearthtest.Bob) {
			t.Errorf("hijack %v: Bob is still a subscribed member after leaving: %v", hijack, got)
		}
	}
}

// A message through the OnRealtimeMessageSend hooks on a hijacked
// connection: a hook sees it and may change it, as on net/http's path.
func TestMessageSendHookOnHijackedConnection(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	app.OnRealtimeMessageSend().BindFunc(func(e *core.RealtimeMessageEvent) error {
		if strings.HasPrefix(e.Message.Name, "messages/") {
			e.Message.Name = "renamed"
		}
		return e.Next()
	})
	srv := hearthtest.Serve(t, app)
	bob := connect(t, app, srv, hearthtest.Bob, "messages/*")
	if !realtime.Hijacked(app, bob.id) {
		t.Fatal("not hijacked")
	}
	message(t, app, hearthtest.Climbers, hearthtest.Alice, "one")
	if ev := bob.next(); ev.Name != "renamed" {
		t.Errorf("event %q, want the hook's name", ev.Name)
	}
}

// A hijacked connection also subscribed to a collection on PocketBase's
// path (devices) receives what PocketBase's broadcast sends it, beside
// Hearth's deliveries: no handler reads its client's channel, a goroutine
// of its own does (wire.pump).
func TestPocketBasePathOnHijackedConnection(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	bob := connect(t, app, srv, hearthtest.Bob, "messages/*", "devices/*")
	if !realtime.Hijacked(app, bob.id) {
		t.Fatal("not hijacked")
	}
	device := hearthtest.Save(t, app, collections.Devices, "", map[string]any{
		"user": hearthtest.Bob, "token": "ExponentPushToken[bob-phone]", "platform": collections.PlatformIOS})
	if ev := bob.next(); ev.Name != "devices/*" || !strings.Contains(ev.Data, device.Id) {
		t.Errorf("event %s %s, want Bob's new device", ev.Name, ev.Data)
	}
	msg := message(t, app, hearthtest.Climbers, hearthtest.Alice, "after the device")
	if got := ids(bob.until(msg.Id)); !slices.Equal(got, []string{msg.Id}) {
		t.Errorf("Bob received %v, want %s", got, msg.Id)
	}
}

// The writer counts every message it writes once, whether it runs the
// OnRealtimeMessageSend hooks (a handler is bound) or writes the frame
// without them (none is: connect.go), on both paths, and both ways send
// the same event.
func TestMessageSendHookCountsOnce(t *testing.T) {
	t.Parallel()
	for _, hijack := range []bool{true, false} {
		for _, hooked := range []bool{false, true} {
			t.Run(fmt.Sprintf("hijack=%v/hooked=%v", hijack, hooked), func(t *testing.T) {
				t.Parallel()
				app := hearthtest.NewApp(t)
				realtime.SetHijack(app, hijack)
				// The test app binds a handler of its own (it records the
				// hooks called); without it the writer takes its way with
				// no hook event.
				app.OnRealtimeMessageSend().UnbindAll()
				if hooked {
					app.OnRealtimeMessageSend().BindFunc(func(e *core.RealtimeMessageEvent) error { return e.Next() })
				}
				srv := hearthtest.Serve(t, app)
				bob := connect(t, app, srv, hearthtest.Bob, "messages/*")
				if got := realtime.Hijacked(app, bob.id); got != hijack {
					t.Fatalf("hijacked = %v, want %v", got, hijack)
				}
				msg := message(t, app, hearthtest.Climbers, hearthtest.Alice, "counted")
				ev := bob.next()
				var p payload
				if err := json.Unmarshal([]byte(ev.Data), &p); err != nil {
					t.Fatal(err)
				}
				if ev.Name != "messages/*" || p.Action != "create" || p.Record["id"] != msg.Id || p.Record["body"] != "counted" {
					t.Errorf("event %s %s, want the create of %s", ev.Name, ev.Data, msg.Id)
				}
				// PB_CONNECT and the message: a message is counted as it is
				// framed, before its bytes leave, so Bob has read both only
				// once both are counted.
				if got := counterValue(t, app, "hearth_realtime_messages_total"); got != 2 {
					t.Errorf("hearth_realtime_messages_total = %v, want 2", got)
				}
			})
		}
	}
}
