package changefeed_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
)

func TestFullSyncEqualsListAPI(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := serve(t, app)
	for _, user := range []string{hearthtest.Alice, hearthtest.Carol, hearthtest.Erin} {
		for _, limit := range []int{1, 3, 1000} {
			t.Run(fmt.Sprintf("%s limit %d", user, limit), func(t *testing.T) {
				c := newClient(hearthtest.Token(t, app, user))
				pages, err := c.syncAll(srv, limit)
				if err != nil {
					t.Fatal(err)
				}
				if held := c.held(); limit == 1 && pages < held {
					t.Fatalf("limit 1 took %d pages for %d records, want at least one page per change", pages, held)
				}
				c.matchesListAPI(t, srv)
			})
		}
	}
}

func TestEveryChangeOnceInOrder(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := serve(t, app)
	alice := newClient(hearthtest.Token(t, app, hearthtest.Alice))
	alice.mustSync(t, srv, 1000)

	ev := hearthtest.Save(t, app, collections.Events, "newevent0000001", map[string]any{
		"group": hearthtest.Climbers, "title": "Crag day", "starts_at": "2030-01-01 10:00:00.000Z", "created_by": hearthtest.Bob,
	})
	hearthtest.Save(t, app, collections.Messages, "newmessage00001", map[string]any{"group": hearthtest.Climbers, "author": hearthtest.Bob, "body": "hi"})
	hearthtest.Save(t, app, collections.Messages, hearthtest.ClimbMessage, map[string]any{"body": "edited"})
	remove(t, app, collections.RSVPs, hearthtest.CarolRSVP)
	hearthtest.Save(t, app, collections.Events, ev.Id, map[string]any{"title": "Crag day (moved)"})
	hearthtest.Save(t, app, collections.Users, hearthtest.Bob, map[string]any{"name": "Robert"})
	bobs := hearthtest.MembershipID(t, app, hearthtest.Climbers, hearthtest.Bob)
	hearthtest.Save(t, app, collections.Memberships, bobs, map[string]any{"role": collections.RoleMember})
	hearthtest.Save(t, app, collections.Groups, hearthtest.Climbers, map[string]any{"name": "Climbers club"})
	// Chess is not Alice's: none of it may appear.
	hearthtest.Save(t, app, collections.Messages, hearthtest.ChessMessage, map[string]any{"body": "edited"})
	remove(t, app, collections.Events, hearthtest.ChessEvent)

	p, err := alice.syncOnce(srv, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ch := range p.Changes {
		got = append(got, ch.Op+" "+ch.Collection+"/"+ch.ID)
	}
	// One change per record, at the position of its last entry, holding
	// its current state: the event's create and update are one upsert.
	want := []string{
		"upsert messages/newmessage00001",
		"upsert messages/" + hearthtest.ClimbMessage,
		"delete rsvps/" + hearthtest.CarolRSVP,
		// Carol's place freed: the RSVP hook recounted going_count.
		"upsert events/" + hearthtest.ClimbEvent,
		"upsert events/newevent0000001",
		"upsert users/" + hearthtest.Bob,
		"upsert memberships/" + bobs,
		"upsert groups/" + hearthtest.Climbers,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("changes\n got %q\nwant %q", got, want)
	}
	if title := p.Changes[4].Record["title"]; title != "Crag day (moved)" {
		t.Errorf("event title %v, want the current one", title)
	}
	if cur, err := changefeed.OpenCursor(app, p.Cursor); err != nil || p.More || cur.Seq != head(t, app) || cur.Item != nil {
		t.Errorf("cursor %+v (%v) more %v, want head %d and no more", cur, err, p.More, head(t, app))
	}
	alice.matchesListAPI(t, srv)

	// Nothing new: an empty page with the same cursor.
	before := alice.cursor
	p, err = alice.syncOnce(srv, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 0 || !reflect.DeepEqual(openCursor(t, app, p.Cursor), openCursor(t, app, before)) {
		t.Fatalf("idle sync: %d changes, cursor %s -> %s", len(p.Changes), before, p.Cursor)
	}
}

func TestCollectionsParameterFilters(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := serve(t, app)
	token := hearthtest.Token(t, app, hearthtest.Carol)
	p := &page{}
	status, body, err := get(srv, token, "/api/sync?cursor=0&collections=events,messages", p)
	if err != nil || status != http.StatusOK {
		t.Fatalf("%d %s %v", status, body, err)
	}
	got := map[string]bool{}
	for _, ch := range p.Changes {
		got[ch.Collection+"/"+ch.ID] = true
	}
	want := map[string]bool{"events/" + hearthtest.ClimbEvent: true, "messages/" + hearthtest.ClimbMessage: true}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestEmailVisibleOnlyToItsOwner(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := serve(t, app)
	// Bob asks PocketBase to show his email: Hearth still hides it.
	hearthtest.Save(t, app, collections.Users, hearthtest.Bob, map[string]any{"emailVisibility": true})
	alice := newClient(hearthtest.Token(t, app, hearthtest.Alice))
	alice.mustSync(t, srv, 1000)
	users := alice.store[collections.Users]
	if email := users[hearthtest.Alice]["email"]; email != hearthtest.Email(hearthtest.Alice) {
		t.Errorf("own email %v, want %s", email, hearthtest.Email(hearthtest.Alice))
	}
	for _, id := range []string{hearthtest.Bob, hearthtest.Carol} {
		if _, ok := users[id]; !ok {
			t.Fatalf("Alice's store lacks fellow member %s", id)
		}
		if _, ok := users[id]["email"]; ok {
			t.Errorf("Alice received %s's email", id)
		}
		for _, hidden := range []string{"password", "tokenKey"} {
			if _, ok := users[id][hidden]; ok {
				t.Errorf("Alice received %s's %s", id, hidden)
			}
		}
	}
	alice.matchesListAPI(t, srv)
}

func TestBadParameters(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := serve(t, app)
	token := hearthtest.Token(t, app, hearthtest.Alice)
	for _, tc := range []struct{ query, param string }{
		{"", "cursor"},
		{"cursor=", "cursor"},
		{"cursor=-1", "cursor"},
		{"cursor=1.5", "cursor"},
		{"cursor=abc", "cursor"},
		{"cursor=0&collections=invites", "collections"},
		{"cursor=0&collections=events,,messages", "collections"},
		{"cursor=0&collections=_superusers", "collections"},
		{"cursor=0&limit=0", "limit"},
		{"cursor=0&limit=1001", "limit"},
		{"cursor=0&limit=ten", "limit"},
	} {
		status, body, err := get(srv, token, "/api/sync?"+tc.query, nil)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusBadRequest || !containsJSONKey(body, tc.param) {
			t.Errorf("?%s: %d %s, want 400 naming %s", tc.query, status, body, tc.param)
		}
	}
}

func containsJSONKey(body, key string) bool {
	return strings.Contains(body, `"data":{"`+key+`":`)
}

func TestOnlySignedInUsers(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := serve(t, app)
	for _, tc := range []struct {
		name, token string
		status      int
	}{
		{"guest", "", http.StatusUnauthorized},
		{"superuser", hearthtest.SuperuserToken(t, app), http.StatusForbidden},
		{"bad token", "garbage", http.StatusUnauthorized},
	} {
		status, body, err := get(srv, tc.token, "/api/sync?cursor=0", nil)
		if err != nil {
			t.Fatal(err)
		}
		if status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, status, body, tc.status)
		}
	}
}

func TestCursorOutsideTheLogIsGone(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := serve(t, app)
	token := hearthtest.Token(t, app, hearthtest.Alice)
	h := head(t, app)
	ahead := changefeed.SealCursor(app, changefeed.Cursor{Seq: h + 1})
	status, body, _ := get(srv, token, "/api/sync?cursor="+ahead, nil)
	if status != http.StatusGone || !strings.Contains(body, "resync from cursor 0") {
		t.Fatalf("cursor ahead of the log: %d %s, want 410", status, body)
	}
	status, body, _ = get(srv, token, "/api/sync?cursor="+changefeed.SealCursor(app, changefeed.Cursor{Seq: h}), nil)
	if status != http.StatusOK {
		t.Fatalf("cursor at head: %d %s", status, body)
	}
	// A bare number is a cursor of the first protocol (which did not say
	// which collections it covered), whatever its value.
	for _, legacy := range []string{fmt.Sprint(h), fmt.Sprint(h + 1), "99999999999999999999999"} {
		status, body, _ = get(srv, token, "/api/sync?cursor="+legacy, nil)
		if status != http.StatusGone || !strings.Contains(body, "resync from cursor 0") {
			t.Fatalf("legacy cursor %s: %d %s, want 410", legacy, status, body)
		}
	}
}
