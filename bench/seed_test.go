package main

import (
	"encoding/json/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crews/hearth/crews"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/tests"
)

// TestSeedIsAWorldHearthServes seeds a small world and checks it through
// Hearth's real router: the counts, the memberships the load generator
// assumes, tokens that sign users in, and the list rules answering as the
// scenarios expect.
func TestSeedIsAWorldHearthServes(t *testing.T) {
	d := Dataset{Users: 1000, Small: 100, Big: 2, Events: 300, RSVPs: 600, Messages: 1000}
	dir := t.TempDir()
	m, err := seed(dir, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Tokens) != d.Users || len(m.RSVPs) == 0 {
		t.Fatalf("manifest: %d tokens, %d rsvps", len(m.Tokens), len(m.RSVPs))
	}
	// seed closes its app; a test app with Hearth opens a clone of the dir.
	app, err := tests.NewTestApp(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Cleanup()
	crews.Register(app, crews.Config{})

	for table, want := range map[string]int{
		"users": d.Users, "groups": d.Small + d.Big, "memberships": d.Small*10 + d.Big*bigSize,
		"events": d.Events, "rsvps": d.RSVPs, "messages": d.Messages,
		"_hearth_changes": d.Users + d.Small + d.Big + d.Small*10 + d.Big*bigSize + d.Events + d.RSVPs + d.Messages,
	} {
		var n int
		if err := app.DB().NewQuery("SELECT count(*) FROM " + table).Row(&n); err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("%s: %d rows, want %d", table, n, want)
		}
	}
	var wrongGoing int
	err = app.DB().NewQuery(`SELECT count(*) FROM events e WHERE going_count !=
		(SELECT count(*) FROM rsvps r WHERE r.event = e.id AND r.status = 'going')`).Row(&wrongGoing)
	if err != nil || wrongGoing != 0 {
		t.Errorf("%d events whose going_count is not their going RSVPs (%v)", wrongGoing, err)
	}

	mux := hearthtest.Handler(t, app)
	get := func(user int, path string) map[string]any {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", m.Tokens[user])
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s as user %d: %d %s", path, user, rec.Code, rec.Body)
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// User 37 is in small group 3 (and big group 100 + 37 % 2).
	own := get(37, "/api/collections/events/records?perPage=500&filter="+strings.ReplaceAll("group='"+groupID(3)+"'", "'", "%27"))
	other := get(37, "/api/collections/events/records?perPage=500&filter="+strings.ReplaceAll("group='"+groupID(4)+"'", "'", "%27"))
	if own["totalItems"].(float64) != 3 || other["totalItems"].(float64) != 0 {
		t.Errorf("user 37 sees %v events of its group and %v of another, want 3 and 0", own["totalItems"], other["totalItems"])
	}
	groups := get(37, "/api/collections/groups/records")
	if groups["totalItems"].(float64) != 2 {
		t.Errorf("user 37 sees %v groups, want its small and big group", groups["totalItems"])
	}
}

// The generator's reading of a payload finds the record's body and group
// wherever PocketBase places them, and not a key named alike inside a
// string value (which JSON escapes).
func TestBodyAndGroup(t *testing.T) {
	data := []byte(`{"action":"create","record":{"note":"a \"body\":\"fake\" \"group\":\"g1\" inside","author":"u1","body":"r20-7","collectionId":"c","group":"g00000000000012","id":"m"}}`)
	body, group, ok := bodyAndGroup(data)
	if !ok || string(body) != "r20-7" || string(group) != "g00000000000012" {
		t.Errorf("got %q %q %v", body, group, ok)
	}
	if _, _, ok := bodyAndGroup([]byte(`{"action":"create","record":{"id":"m"}}`)); ok {
		t.Error("a payload without body and group was read")
	}
}
