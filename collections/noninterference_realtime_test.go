package collections_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
)

// Noninterference through realtime: the filters TestNoninterference asks
// of lists are asked again as subscription filters, by the same observers
// of the same two worlds, through the real /api/realtime. A subscription
// must be accepted or refused alike in both worlds, and after the same
// writes in both (in a crew each observer sees, in the hidden crew, to a
// user some of them see) each connection must be delivered the same
// events: a delivery that happens in one world only is a bit of a hidden
// row, as a list answer is.

const (
	// realtimeFilters per observer, besides the oracles: a connection
	// holds them all, and PocketBase caps a connection's topics at 1000.
	realtimeFilters = 200
	// sentinelMark is in the name of the users written last: every
	// connection waits for its own user's event, then all earlier commits
	// have been delivered to it (a client's events come in commit order).
	sentinelMark = " (issue 17 sentinel)"
	// deliveryGuard only bounds a broken run; nothing is measured.
	deliveryGuard = 30 * time.Second
)

func TestNoninterferenceRealtime(t *testing.T) {
	t.Parallel()
	a, b := newWorld(t, hiddenA), newWorld(t, hiddenB)
	srvA, srvB := serveWorld(t, a), serveWorld(t, b)
	paths := schemaPaths(t, a.app)
	values := hiddenValues(t, a.app, b.app)

	// The question has an answer through realtime too: a superuser, whose
	// filters are not refused, is delivered different events in the two
	// worlds for the oracles.
	oracles := realtimeOracles()
	var oracleTopics []string
	for _, q := range oracles {
		oracleTopics = append(oracleTopics, filterTopic(q))
	}
	rootA := openStream(t, srvA, hearthtest.SuperuserToken(t, a.app))
	rootB := openStream(t, srvB, hearthtest.SuperuserToken(t, b.app))
	for _, s := range []*stream{rootA, rootB} {
		if res := s.subscribe(append(slices.Clone(oracleTopics), "users/"+hearthtest.Alice)); res.status != http.StatusNoContent {
			t.Fatalf("superuser subscription: %s", res)
		}
	}

	type connection struct {
		name   string
		user   string
		a, b   *stream
		topics int
	}
	var conns []*connection
	for _, obs := range observers {
		authA, authB := hearthtest.Token(t, a.app, obs.user), hearthtest.Token(t, b.app, obs.user)
		visible := sameView(t, a, b, authA, authB, slices.Sorted(maps.Keys(paths)))
		rng := rand.New(rand.NewPCG(3, 4))
		queries := append(slices.Clone(oracles), sampleFilters(rng, paths, values, visible)[:realtimeFilters]...)
		c := &connection{name: obs.name, user: obs.user, a: openStream(t, srvA, authA), b: openStream(t, srvB, authB)}
		// Each topic alone first: one refused topic refuses the whole
		// set, and a refusal must be the same in both worlds.
		topics := []string{"users/" + obs.user, "messages/*", "users/*"}
		var diffs []string
		for _, q := range queries {
			topic := filterTopic(q)
			resA, resB := c.a.subscribe([]string{topic}), c.b.subscribe([]string{topic})
			switch {
			case resA != resB:
				diffs = append(diffs, fmt.Sprintf("%s\n  world A: %s\n  world B: %s", topic, resA, resB))
			case resA.status == http.StatusNoContent:
				topics = append(topics, topic)
			}
		}
		if len(diffs) > 0 {
			t.Errorf("%s: %d of %d subscriptions answered differently in the two worlds; the first:\n%s", obs.name, len(diffs), len(queries), diffs[0])
		}
		for _, s := range []*stream{c.a, c.b} {
			if res := s.subscribe(topics); res.status != http.StatusNoContent {
				t.Fatalf("%s: subscribing the accepted topics: %s", obs.name, res)
			}
		}
		c.topics = len(topics)
		conns = append(conns, c)
	}

	for _, w := range []*world{a, b} {
		realtimeWrites(t, w.app)
	}

	if delA, delB := rootA.until(t, hearthtest.Alice), rootB.until(t, hearthtest.Alice); slices.Equal(delA, delB) {
		t.Fatalf("the superuser is delivered the same events for the oracles in both worlds, so the writes do not reach what they ask about:\n%s", strings.Join(delA, "\n"))
	}
	for _, c := range conns {
		delA, delB := c.a.until(t, c.user), c.b.until(t, c.user)
		t.Logf("%s: %d topics, %d events delivered", c.name, c.topics, len(delA))
		if !slices.Equal(delA, delB) {
			t.Errorf("%s: the two worlds delivered different events:\n  world A:\n%s\n  world B:\n%s", c.name, strings.Join(delA, "\n"), strings.Join(delB, "\n"))
		}
		if len(delA) == 0 {
			t.Errorf("%s: nothing delivered, not even the message in its own crew: the subscriptions are broken", c.name)
		}
	}
}

// realtimeOracles are the list oracles, and a filter on a field of the
// hidden crew that the worlds hold differently and realtimeWrites leaves
// alone. (A subscription filter through a relation matches nothing in
// this realtime, for a superuser too: the list oracles deliver nothing in
// either world, so they cannot show the worlds differ.)
func realtimeOracles() []query {
	return append(oracleQueries(), filterQuery(collections.Groups, `name = "Quarry Crew"`, ownField))
}

// serveWorld serves the world's router on a loopback server, for the
// realtime connections.
func serveWorld(t *testing.T, w *world) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(w.handler)
	t.Cleanup(srv.Close)
	return srv
}

// filterTopic is q's filter as a subscription to q's collection.
func filterTopic(q query) string {
	options, err := json.Marshal(map[string]any{"query": map[string]string{"filter": q.params.Get("filter")}})
	if err != nil {
		panic(err) // a map of strings always encodes
	}
	return q.collection + "/*?options=" + url.QueryEscape(string(options))
}

// realtimeWrites makes the same writes in a world: a message in Climbers
// (seen by Alice and Carol), one in Chess (Dave and Erin), and in the
// hidden crew a message, an event and a new description; Olga, whom Chess
// sees, changes her name. Last, in one transaction, every observer's name
// gets the sentinel mark.
func realtimeWrites(t *testing.T, app core.App) {
	t.Helper()
	for _, r := range []fixtureRow{
		{collections.Messages, "rtclimbers00001", map[string]any{"group": hearthtest.Climbers, "author": hearthtest.Alice, "body": "Realtime at the crag"}},
		{collections.Messages, "rtchess00000001", map[string]any{"group": hearthtest.Chess, "author": hearthtest.Dave, "body": "Realtime at the board"}},
		{collections.Messages, "rthidden0000001", map[string]any{"group": hiddenCrew, "author": olga, "body": "Realtime in the crew"}},
		{collections.Events, "rthiddenevent01", map[string]any{"group": hiddenCrew, "title": "Realtime meet", "starts_at": "2031-01-01 10:00:00.000Z", "created_by": olga}},
		{collections.Groups, hiddenCrew, map[string]any{"description": "Realtime description"}},
		{collections.Users, olga, map[string]any{"name": "Olga Realtime"}},
	} {
		hearthtest.Save(t, app, r.collection, r.id, r.data)
	}
	err := app.RunInTransaction(func(tx core.App) error {
		for _, obs := range observers {
			u, err := tx.FindRecordById(collections.Users, obs.user)
			if err != nil {
				return err
			}
			u.Set("name", u.GetString("name")+sentinelMark)
			if err := tx.Save(u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// stream is a realtime connection read in the background.
type stream struct {
	base, auth, id string
	events         chan sseEvent
}

type sseEvent = hearthtest.SSEEvent

// subscribed is the answer to a subscription request.
type subscribed struct {
	status int
	body   string
}

func (s subscribed) String() string { return fmt.Sprintf("%d %s", s.status, s.body) }

func openStream(t *testing.T, srv *httptest.Server, auth string) *stream {
	t.Helper()
	res, err := http.Get(srv.URL + "/api/realtime")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	s := &stream{base: srv.URL, auth: auth, events: make(chan sseEvent, 4096)}
	go hearthtest.ReadSSE(res.Body, s.events)
	first := s.next(t)
	var connect struct {
		ClientID string `json:"clientId"`
	}
	if err := json.Unmarshal([]byte(first.Data), &connect); first.Name != "PB_CONNECT" || err != nil {
		t.Fatalf("realtime: first event %q %q", first.Name, first.Data)
	}
	s.id = connect.ClientID
	return s
}

func (s *stream) next(t *testing.T) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal("realtime: the stream closed")
		}
		return ev
	case <-time.After(deliveryGuard):
		t.Fatal("realtime: no event within the guard; the sentinel was not delivered")
	}
	return sseEvent{}
}

// subscribe sets the connection's topics.
func (s *stream) subscribe(topics []string) subscribed {
	body, err := json.Marshal(map[string]any{"clientId": s.id, "subscriptions": topics})
	if err != nil {
		panic(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.base+"/api/realtime", bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", s.auth)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return subscribed{status: -1, body: err.Error()}
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return subscribed{status: res.StatusCode, body: string(raw)}
}

// writeTimes are the parts of a payload that differ between worlds for
// the same write: the moment it was saved.
var writeTimes = regexp.MustCompile(`"(created|updated)":"[^"]*"`)

// until returns the events delivered before the sentinel of the user stop,
// sorted: the order of the topics one change matches is not part of the
// protocol. The sentinel transaction's own events are left out: a
// connection stops at the first of them.
func (s *stream) until(t *testing.T, stop string) []string {
	t.Helper()
	var out []string
	for {
		ev := s.next(t)
		var p struct {
			Record map[string]any `json:"record"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &p); err != nil {
			t.Fatalf("realtime event %q: %v", ev.Name, err)
		}
		name, _ := p.Record["name"].(string)
		if !strings.HasSuffix(name, sentinelMark) {
			out = append(out, ev.Name+" "+writeTimes.ReplaceAllString(ev.Data, `"$1":"<time>"`))
			continue
		}
		if p.Record["id"] == stop {
			slices.Sort(out)
			return out
		}
	}
}
