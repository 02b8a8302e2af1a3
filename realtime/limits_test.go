package realtime_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/realtime"
	"github.com/pocketbase/pocketbase/core"
)

// The topic cap counts a user's topics over all of their connections,
// both paths; past it the subscription is refused and the connection
// keeps what it had.
func TestTopicCapPerUser(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	realtime.SetLimits(app, 4, 3, 16)
	phone := connect(t, app, srv, hearthtest.Bob, "messages/*", "devices/*")
	tablet := connect(t, app, srv, hearthtest.Bob)
	code, body := subscribeAnswer(t, app, srv, tablet.id, hearthtest.Bob, "messages/*", "events/*")
	if code != http.StatusBadRequest || fieldCode(t, body, "subscriptions") != "validation_too_many_topics" {
		t.Fatalf("a fourth topic: want 400 naming subscriptions, got %d %s", code, body)
	}
	tablet.subscribe(app, srv, hearthtest.Bob, "events/*")
	// Resubscribing replaces a connection's own topics: they do not count twice.
	phone.subscribe(app, srv, hearthtest.Bob, "messages/*", "memberships/*")
	// Another user has caps of their own.
	connect(t, app, srv, hearthtest.Alice, "messages/*", "events/*", "groups/*")

	// The refused subscription left the phone's topics in place.
	m := message(t, app, hearthtest.Climbers, hearthtest.Alice, "still subscribed")
	phone.until(m.Id)
}

// Guests count against their IP address.
func TestTopicCapPerGuestAddress(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	realtime.SetLimits(app, 4, 2, 16)
	connect(t, app, srv, "", "a", "b")
	other := connect(t, app, srv, "")
	if code, body := subscribeAnswer(t, app, srv, other.id, "", "c"); code != http.StatusBadRequest || fieldCode(t, body, "subscriptions") != "validation_too_many_topics" {
		t.Fatalf("a guest past the cap of its address: want 400, got %d %s", code, body)
	}
	// A signed-in user on the same address is not a guest.
	other.subscribe(app, srv, hearthtest.Carol, "messages/*")
}

// Past the connection cap the user's least recently subscribed connection
// is closed: a phone that changed networks has left connections behind
// that the server has not noticed yet, and the newest one is the live one.
func TestConnectionCapClosesTheOldest(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	realtime.SetLimits(app, 2, 100, 16)
	first := connect(t, app, srv, hearthtest.Carol, "messages/*")
	second := connect(t, app, srv, hearthtest.Carol, "messages/*")
	first.subscribe(app, srv, hearthtest.Carol, "messages/*", "events/*") // now second is the oldest
	third := connect(t, app, srv, hearthtest.Carol, "messages/*")

	second.closed()
	if realtime.Connected(app, second.id) {
		t.Error("the least recently subscribed connection is still registered")
	}
	m := message(t, app, hearthtest.Climbers, hearthtest.Alice, "to the two kept")
	first.until(m.Id)
	third.until(m.Id)
}

// Topics that read the same (collection, record, options) are one
// question: judged and encoded once per user and change, however many
// names and connections carry them, delivered under each name, and
// counted once against the per-change budget.
func TestIdenticalTopicsAreJudgedOnce(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	realtime.SetLimits(app, 8, 100, 1)
	var enriched atomic.Int64
	app.OnRecordEnrich(collections.Messages).BindFunc(func(e *core.RecordEnrichEvent) error {
		if e.RequestInfo.Auth != nil && e.RequestInfo.Auth.Id == hearthtest.Carol {
			enriched.Add(1)
		}
		return e.Next()
	})
	// Same options, keys in another order and another spelling of the
	// collection (by id): one question.
	options := func(raw string) string { return "?options=" + url.QueryEscape(raw) }
	a := "messages/*" + options(`{"query":{"expand":"author","filter":"body != ''"}}`)
	b := "messages/*" + options(`{ "query": { "filter": "body != ''", "expand": "author" } }`)
	messages, err := app.FindCachedCollectionByNameOrId(collections.Messages)
	if err != nil {
		t.Fatal(err)
	}
	c := messages.Id + "/*" + options(`{"query":{"filter":"body != ''","expand":"author"},"headers":{}}`)
	phone := connect(t, app, srv, hearthtest.Carol, a, b)
	tablet := connect(t, app, srv, hearthtest.Carol, c)

	// A second, different question about the same records is past the
	// budget of one.
	other := topicWith(t, "messages/*", map[string]any{"filter": `body = 'x'`})
	if code, body := subscribeAnswer(t, app, srv, tablet.id, hearthtest.Carol, c, other); code != http.StatusBadRequest || fieldCode(t, body, "subscriptions") != "validation_too_many_topics" {
		t.Fatalf("two questions with a budget of one: want 400, got %d %s", code, body)
	}

	m := message(t, app, hearthtest.Climbers, hearthtest.Alice, "once")
	var names []string
	var data []string
	for range 2 {
		ev := phone.next()
		names, data = append(names, ev.Name), append(data, ev.Data)
	}
	ev := tablet.next()
	names, data = append(names, ev.Name), append(data, ev.Data)
	slices.Sort(names)
	want := []string{a, b, c}
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Errorf("event names %v, want one per topic %v", names, want)
	}
	if data[0] != data[1] || data[1] != data[2] || !strings.Contains(data[0], m.Id) {
		t.Errorf("want three equal events of %s, got %v", m.Id, data)
	}
	if n := enriched.Load(); n != 1 {
		t.Errorf("Carol's payload was built %d times, want once", n)
	}
}
