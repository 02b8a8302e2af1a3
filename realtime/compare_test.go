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
	"github.com/pocketbase/pocketbase/tools/types"
)

// pocketbaseClient is a client in PocketBase's own broker, so that
// PocketBase's broadcast (still bound in every app) delivers to it: the
// reference Hearth's path must match. user is a fixture id or "superuser".
func pocketbaseClient(t *testing.T, app core.App, user string, topics ...string) chan subscriptions.Message {
	t.Helper()
	client := subscriptions.NewDefaultClient()
	client.Set(apis.RealtimeClientAuthKey, authOf(t, app, user))
	client.Subscribe(topics...)
	app.SubscriptionsBroker().Register(client)
	// Unsubscribed, not unregistered: unregistering closes the client's
	// channel, which PocketBase's broadcast may still be sending to from
	// a goroutine of its own (a race the race detector reports).
	t.Cleanup(func() { client.Unsubscribe() })
	out := make(chan subscriptions.Message, 1000)
	go func() {
		for m := range client.Channel() {
			out <- m
		}
	}()
	return out
}

// superuserOnlyTopic filters on @request, which PocketBase lets only
// superusers use in a client filter: for anyone else the subscription
// receives nothing.
const superuserOnlyTopic = `messages/*?options={"query":{"filter":"@request.auth.id != ''"}}`

// TestPayloadsMatchPocketBase sends the same changes through Hearth's path
// and PocketBase's own broadcast, for two members and a superuser, and
// compares what each subscription receives. The app is configured the way
// a deployer may configure it in the dashboard or with hooks, so that every
// decision PocketBase's realtime code makes shows in a payload:
//
//   - messages and groups have a hidden field (note), which superusers see,
//     on the record and in expand;
//   - the messages view rule admits the author only, so a record topic
//     (messages/<id>) is judged by a rule other than the list rule;
//   - an enrich hook adds a field (badge) to every user, expanded ones
//     included, and Hearth's own hides emails from all but their owner;
//   - Frank left Climbers, so the members may not view him: his message's
//     expanded author is absent for them, present for the superuser;
//   - a subscribe hook adds superuserOnlyTopic to a superuser's
//     subscription request.
func TestPayloadsMatchPocketBase(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	configureForComparison(t, app)
	frankMessage := leftMembersMessage(t, app)
	// Hearth picks a change's candidates when it dispatches the change,
	// after the commit and in commit order; PocketBase when the write
	// commits. A client connected below before the setup's writes were
	// dispatched would receive them from Hearth only, so the last setup
	// write is awaited on a client of its own first.
	fence := connect(t, app, srv, hearthtest.Bob, "groups/*")
	climbers, err := app.FindRecordById(collections.Groups, hearthtest.Climbers)
	if err != nil {
		t.Fatal(err)
	}
	climbers.Set("note", "the crag's gate code")
	if err := app.Save(climbers); err != nil {
		t.Fatal(err)
	}
	for !strings.Contains(fence.next().Data, hearthtest.Climbers) {
	}

	recordTopic := "messages/" + hearthtest.ClimbMessage
	topics := []string{
		`messages/*`,
		`messages/*?options={"query":{"expand":"author,group"}}`,
		`messages/*?options={"query":{"fields":"id,body,expand.author.name","expand":"author"}}`,
		`messages/*?options={"query":{"filter":"body ~ 'rope'"}}`,
		`users/*`,
		`users/*?options={"query":{"fields":"id,name,email"}}`,
		`rsvps/*?options={"query":{"expand":"event,user"}}`,
		recordTopic,
		recordTopic + `?options={"query":{"expand":"author"}}`,
	}
	all := append(slices.Clone(topics), superuserOnlyTopic)
	for _, user := range []string{hearthtest.Bob, hearthtest.Carol, "superuser"} {
		hearth := connect(t, app, srv, user, topics...)
		reference := pocketbaseClient(t, app, user, all...)

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
		update := func(collection, id string, data map[string]any) {
			t.Helper()
			r, err := app.FindRecordById(collection, id)
			if err != nil {
				t.Fatal(err)
			}
			r.Load(data)
			if err := app.Save(r); err != nil {
				t.Fatal(err)
			}
			settle(id)
		}
		settle(message(t, app, hearthtest.Climbers, hearthtest.Carol, "who brings the rope?").Id)
		m2 := message(t, app, hearthtest.Climbers, hearthtest.Alice, "chalk")
		settle(m2.Id)
		update(collections.Users, hearthtest.Carol, map[string]any{"name": "Carol " + user})
		update(collections.RSVPs, hearthtest.CarolRSVP, map[string]any{"status": map[string]string{
			hearthtest.Bob: collections.StatusMaybe, hearthtest.Carol: collections.StatusGoing, "superuser": collections.StatusMaybe,
		}[user]})
		update(collections.Messages, hearthtest.ClimbMessage, map[string]any{"body": "Who brings the rope, " + user + "?", "note": "pinned by " + user})
		update(collections.Messages, frankMessage, map[string]any{"note": "seen by " + user})
		if err := app.Delete(m2); err != nil {
			t.Fatal(err)
		}
		settle(m2.Id)
		last := message(t, app, hearthtest.Climbers, hearthtest.Alice, "last")

		// "last" is the sentinel: once it arrived on every topic that takes
		// it, everything before it was sent.
		sentinelTopics := topics[:3]
		if user == "superuser" {
			sentinelTopics = append(slices.Clone(sentinelTopics), superuserOnlyTopic)
		}
		isLast := func(name, data string) bool {
			return strings.Contains(data, last.Id) && slices.Contains(sentinelTopics, name)
		}
		for seen := 0; seen < len(sentinelTopics); {
			ev := hearth.next()
			got[ev.Name] = append(got[ev.Name], ev.Data)
			if isLast(ev.Name, ev.Data) {
				seen++
			}
		}
		want := map[string][]string{}
		for seen := 0; seen < len(sentinelTopics); {
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
		// an earlier one may still be on its way: read on until a pause,
		// and while a topic has fewer than Hearth's (up to waitFor, after
		// which the comparison shows what is missing).
		caughtUp := func() bool {
			for topic, msgs := range got {
				if len(want[topic]) < len(msgs) {
					return false
				}
			}
			return true
		}
		deadline := time.Now().Add(waitFor)
	drain:
		for {
			select {
			case m := <-reference:
				want[m.Name] = append(want[m.Name], string(m.Data))
			case <-time.After(300 * time.Millisecond):
				if caughtUp() || time.Now().After(deadline) {
					break drain
				}
			}
		}
		// PocketBase sends each message from its own goroutine, so its
		// order is not kept: compare as sets per topic, decoded.
		for _, topic := range all {
			if !sameJSONSet(got[topic], want[topic]) {
				t.Errorf("%s, topic %s:\nHearth     %v\nPocketBase %v", user, topic, got[topic], want[topic])
			}
		}
		checkScenarios(t, user, got, topics, frankMessage)
	}
}

// checkScenarios checks that Hearth's payloads show what each scenario of
// TestPayloadsMatchPocketBase is there for, so that the comparison with
// PocketBase cannot pass by both paths sending nothing.
func checkScenarios(t *testing.T, user string, got map[string][]string, topics []string, frankMessage string) {
	t.Helper()
	superuser := user == "superuser"
	if n := len(got[topics[3]]); n != 2 {
		t.Errorf("%s: the filtered subscription received %d messages, want the 2 matching", user, n)
	}
	if len(got["messages/*"]) < 5 || len(got[topics[6]]) != 1 {
		t.Errorf("%s: messages %d, rsvps %d", user, len(got["messages/*"]), len(got[topics[6]]))
	}
	// The record topic is judged by the view rule: the author's only.
	if n, want := len(got[topics[7]]), map[bool]int{true: 1, false: 0}[user != hearthtest.Bob]; n != want {
		t.Errorf("%s: the record topic received %d messages, want %d", user, n, want)
	}
	if n := len(got[superuserOnlyTopic]); superuser != (n > 0) {
		t.Errorf("%s: the subscription filtering on @request received %d messages", user, n)
	}
	for _, data := range got[topics[1]] {
		var p payload
		if err := json.Unmarshal([]byte(data), &p); err != nil {
			t.Fatal(err)
		}
		expand, _ := p.Record["expand"].(map[string]any)
		author, _ := expand["author"].(map[string]any)
		group, _ := expand["group"].(map[string]any)
		_, note := p.Record["note"]
		_, groupNote := group["note"]
		if note != superuser || groupNote != superuser {
			t.Errorf("%s: hidden field shown on the record %v, on its expanded group %v", user, note, groupNote)
		}
		if p.Record["id"] == frankMessage {
			if (author != nil) != superuser {
				t.Errorf("%s: Frank, whom only the superuser may view, expanded: %v", user, author)
			}
			continue
		}
		if author == nil || author["badge"] == nil {
			t.Errorf("%s: expanded author without the enrich hook's badge: %v", user, author)
		}
		_, email := author["email"]
		if own := author["id"] == user; email != (own || superuser) {
			t.Errorf("%s: expanded author %v shows an email %v", user, author["id"], email)
		}
	}
}

// configureForComparison changes app as TestPayloadsMatchPocketBase's
// scenarios need (see there).
func configureForComparison(t *testing.T, app core.App) {
	t.Helper()
	for _, name := range []string{collections.Messages, collections.Groups} {
		c, err := app.FindCollectionByNameOrId(name)
		if err != nil {
			t.Fatal(err)
		}
		c.Fields.Add(&core.TextField{Name: "note", Hidden: true})
		if name == collections.Messages {
			c.ViewRule = types.Pointer(*c.ListRule + " && author = @request.auth.id")
		}
		if err := app.Save(c); err != nil {
			t.Fatal(err)
		}
	}
	app.OnRecordEnrich(collections.Users).BindFunc(func(e *core.RecordEnrichEvent) error {
		e.Record.WithCustomData(true)
		e.Record.Set("badge", "crew:"+e.Record.GetString("name"))
		return e.Next()
	})
	// For anyone else Hearth's policy refuses the @request filter before
	// the copy's own refusal could see it (the subscription is a 400), so
	// that refusal is guarded by TestCopiesMatchPocketBase alone.
	app.OnRealtimeSubscribeRequest().BindFunc(func(e *core.RealtimeSubscribeRequestEvent) error {
		if e.HasSuperuserAuth() {
			e.Subscriptions = append(e.Subscriptions, superuserOnlyTopic)
		}
		return e.Next()
	})
}

// leftMembersMessage returns the id of a message in Climbers by Frank, who
// has left the group since.
func leftMembersMessage(t *testing.T, app core.App) string {
	t.Helper()
	users, err := app.FindCollectionByNameOrId(collections.Users)
	if err != nil {
		t.Fatal(err)
	}
	frank := core.NewRecord(users)
	frank.Set("name", "Frank")
	frank.SetEmail("frank@crews.test")
	frank.SetPassword(hearthtest.Password)
	if err := app.Save(frank); err != nil {
		t.Fatal(err)
	}
	if _, err := collections.AddMember(app, hearthtest.Climbers, frank.Id, collections.RoleMember); err != nil {
		t.Fatal(err)
	}
	m := message(t, app, hearthtest.Climbers, frank.Id, "see you, I'm moving away")
	membership, err := collections.FindMembership(app, hearthtest.Climbers, frank.Id)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Delete(membership); err != nil {
		t.Fatal(err)
	}
	return m.Id
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
