package realtime_test

import (
	"encoding/json/v2"
	"net"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/realtime"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// pocketbaseClient is a client in PocketBase's own broker, so that
// PocketBase's broadcast (still bound in every app) delivers to it: the
// reference Hearth's path must match.
func pocketbaseClient(t *testing.T, app core.App, user string, topics ...string) chan subscriptions.Message {
	t.Helper()
	auth, err := app.FindRecordById(collections.Users, user)
	if err != nil {
		t.Fatal(err)
	}
	client := subscriptions.NewDefaultClient()
	client.Set(apis.RealtimeClientAuthKey, auth)
	client.Subscribe(topics...)
	app.SubscriptionsBroker().Register(client)
	t.Cleanup(func() { app.SubscriptionsBroker().Unregister(client.Id()) })
	out := make(chan subscriptions.Message, 1000)
	go func() {
		for m := range client.Channel() {
			out <- m
		}
	}()
	return out
}

func TestPayloadsMatchPocketBase(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	topics := []string{
		`messages/*`,
		`messages/*?options={"query":{"expand":"author,group"}}`,
		`messages/*?options={"query":{"fields":"id,body,expand.author.name","expand":"author"}}`,
		`messages/*?options={"query":{"filter":"body ~ 'rope'"}}`,
		`users/*`,
		`users/*?options={"query":{"fields":"id,name,email"}}`,
		`rsvps/*?options={"query":{"expand":"event,user"}}`,
	}
	for _, user := range []string{hearthtest.Bob, hearthtest.Carol} {
		hearth := connect(t, app, srv, user, topics...)
		reference := pocketbaseClient(t, app, user, topics...)

		// Each change is let through Hearth's dispatcher before the next:
		// Hearth decides and expands when it delivers, PocketBase when the
		// write commits, so a relation changed in between would differ
		// (docs/architecture.md, "Realtime").
		got := map[string][]string{}
		settle := func(id string) {
			t.Helper()
			for {
				ev := hearth.next()
				got[ev.Name] = append(got[ev.Name], ev.Data)
				if strings.Contains(ev.Data, id) {
					return
				}
			}
		}
		settle(message(t, app, hearthtest.Climbers, hearthtest.Carol, "who brings the rope?").Id)
		m2 := message(t, app, hearthtest.Climbers, hearthtest.Alice, "chalk")
		settle(m2.Id)
		carol, err := app.FindRecordById(collections.Users, hearthtest.Carol)
		if err != nil {
			t.Fatal(err)
		}
		carol.Set("name", "Carol "+user)
		if err := app.Save(carol); err != nil {
			t.Fatal(err)
		}
		settle(carol.Id)
		rsvp, err := app.FindRecordById(collections.RSVPs, hearthtest.CarolRSVP)
		if err != nil {
			t.Fatal(err)
		}
		rsvp.Set("status", map[string]string{hearthtest.Bob: collections.StatusMaybe, hearthtest.Carol: collections.StatusGoing}[user])
		if err := app.Save(rsvp); err != nil {
			t.Fatal(err)
		}
		settle(rsvp.Id)
		if err := app.Delete(m2); err != nil {
			t.Fatal(err)
		}
		settle(m2.Id)
		last := message(t, app, hearthtest.Climbers, hearthtest.Alice, "last")

		// "last" is the sentinel: once it arrived on the three topics that
		// take it, everything before it was sent.
		isLast := func(name, data string) bool {
			return strings.Contains(data, last.Id) && slices.Contains(topics[:3], name)
		}
		want := map[string][]string{}
		for seen := 0; seen < 3; {
			select {
			case m := <-reference:
				want[m.Name] = append(want[m.Name], string(m.Data))
				if isLast(m.Name, string(m.Data)) {
					seen++
				}
			case <-time.After(waitFor):
				t.Fatalf("PocketBase's path stopped: %v", want)
			}
		}
		// PocketBase sends each message from a goroutine of its own, so
		// an earlier one may still be on its way.
	drain:
		for {
			select {
			case m := <-reference:
				want[m.Name] = append(want[m.Name], string(m.Data))
			case <-time.After(300 * time.Millisecond):
				break drain
			}
		}
		for seen := 0; seen < 3; {
			ev := hearth.next()
			got[ev.Name] = append(got[ev.Name], ev.Data)
			if isLast(ev.Name, ev.Data) {
				seen++
			}
		}
		// PocketBase sends each message from its own goroutine, so its
		// order is not kept: compare as sets per topic, decoded.
		for _, topic := range topics {
			if !sameJSONSet(got[topic], want[topic]) {
				t.Errorf("%s, topic %s:\nHearth     %v\nPocketBase %v", user, topic, got[topic], want[topic])
			}
		}
		if len(got[topics[3]]) != 1 {
			t.Errorf("the filtered subscription received %d messages, want the one matching", len(got[topics[3]]))
		}
		if len(got["messages/*"]) < 3 || len(got[topics[6]]) != 1 {
			t.Errorf("%s: messages %d, rsvps %d", user, len(got["messages/*"]), len(got[topics[6]]))
		}
	}
}

func sameJSONSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	decode := func(s string) any {
		var v any
		_ = json.Unmarshal([]byte(s), &v)
		return v
	}
	used := make([]bool, len(b))
outer:
	for _, x := range a {
		for i, y := range b {
			if !used[i] && reflect.DeepEqual(decode(x), decode(y)) {
				used[i] = true
				continue outer
			}
		}
		return false
	}
	return true
}

func TestNeverReadingClientDelaysNoOne(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	realtime.SetClientBuffer(app, 4)

	// Carol's connection reads its PB_CONNECT and subscribes, then never
	// reads again, with the smallest receive buffer the kernel allows.
	dialer := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) {
			_ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1)
		})
	}}
	stalledTransport := &http.Transport{DialContext: dialer.DialContext}
	t.Cleanup(stalledTransport.CloseIdleConnections)
	resp, err := (&http.Client{Transport: stalledTransport}).Get(srv.URL + "/api/realtime")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 256)
	n, _ := resp.Body.Read(buf)
	first := string(buf[:n])
	i := strings.Index(first, `"clientId":"`)
	if i < 0 {
		t.Fatalf("no PB_CONNECT in %q", first)
	}
	stalled := first[i+len(`"clientId":"`) : i+len(`"clientId":"`)+40]
	if code := subscribeStatus(t, app, srv, stalled, hearthtest.Carol, "messages/*"); code != http.StatusNoContent {
		t.Fatalf("subscribe: %d", code)
	}
	realtime.SetClientBuffer(app, 1024)
	bob := connect(t, app, srv, hearthtest.Bob, "messages/*")

	body := strings.Repeat("x", 3900)
	var last *core.Record
	for range 400 {
		last = message(t, app, hearthtest.Climbers, hearthtest.Alice, body)
	}
	if got := bob.until(last.Id); len(got) != 400 {
		t.Errorf("Bob received %d of 400 messages", len(got))
	}
	deadline := time.Now().Add(waitFor)
	for realtime.Connected(app, stalled) {
		if time.Now().After(deadline) {
			t.Fatal("the client that never reads is still connected after its queue overflowed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
