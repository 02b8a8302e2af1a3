package changefeed_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
)

// syncSet pages c through the feed of one collection set (the collections
// parameter as given; "" for none).
func (c *client) syncSet(t *testing.T, srv *testServer, set string, limit int) {
	t.Helper()
	for {
		p := &page{}
		path := fmt.Sprintf("/api/sync?cursor=%s&limit=%d", url.QueryEscape(c.cursor), limit)
		if set != "" {
			path += "&collections=" + url.QueryEscape(set)
		}
		status, body, err := get(srv.Server, c.token, path, p)
		if err != nil || status != http.StatusOK {
			t.Fatalf("GET %s: %d %s %v", path, status, body, err)
		}
		for _, ch := range p.Changes {
			byID := c.store[ch.Collection]
			if byID == nil {
				byID = map[string]map[string]any{}
				c.store[ch.Collection] = byID
			}
			if ch.Op == changefeed.OpUpsert {
				byID[ch.ID] = ch.Record
			} else {
				delete(byID, ch.ID)
			}
		}
		c.cursor = p.Cursor
		if !p.More {
			return
		}
	}
}

// TestFilteredCursorIsRefusedForAnotherSet is the probe of issue 12: a
// client syncs only events, the world changes in every collection, and
// the client then continues with its cursor for more collections. That
// cursor never covered the other collections' changes, so the server
// refuses it (400 naming collections, saying why) instead of silently
// skipping them; the documented way on, a sync of the new set from cursor
// 0, converges to the list API.
func TestFilteredCursorIsRefusedForAnotherSet(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := &testServer{serve(t, app), app}
	carol := newClient(hearthtest.Token(t, app, hearthtest.Carol))
	carol.syncSet(t, srv, "events", 2)

	// The world moves on in every collection.
	root := hearthtest.SuperuserToken(t, app)
	if _, err := send(srv.Server, root, http.MethodPost, "/api/collections/memberships/records",
		`{"group":"`+hearthtest.Climbers+`","user":"`+hearthtest.Erin+`","role":"member"}`); err != nil {
		t.Fatal(err)
	}
	srv.mustDo(t, hearthtest.Bob, http.MethodPost, "/api/collections/messages/records", `{"group":"`+hearthtest.Climbers+`","body":"new"}`)
	srv.mustDo(t, hearthtest.Alice, http.MethodPatch, "/api/collections/groups/records/"+hearthtest.Climbers, `{"name":"Climbers club"}`)
	srv.mustDo(t, hearthtest.Bob, http.MethodPatch, "/api/collections/users/records/"+hearthtest.Bob, `{"name":"Robert"}`)
	srv.mustDo(t, hearthtest.Carol, http.MethodPatch, "/api/collections/rsvps/records/"+hearthtest.CarolRSVP, `{"status":"maybe"}`)
	srv.mustDo(t, hearthtest.Bob, http.MethodPost, "/api/collections/events/records", `{"group":"`+hearthtest.Climbers+`","title":"Crag","starts_at":"2030-01-01 10:00:00.000Z"}`)

	for _, set := range []string{"", "events,messages", "messages", collections.Events + "," + strings.Join(changefeed.Synced, ",")} {
		path := "/api/sync?cursor=" + url.QueryEscape(carol.cursor)
		if set != "" {
			path += "&collections=" + set
		}
		status, body, err := get(srv.Server, carol.token, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusBadRequest || !containsJSONKey(body, "collections") ||
			!strings.Contains(body, "sync_cursor_collections") || !strings.Contains(body, "issued for collections=events") {
			t.Errorf("events cursor with collections=%q: %d %s, want 400 naming collections and why", set, status, body)
		}
	}

	// The same set, however it is spelled, continues.
	events := carol.cursor
	carol.syncSet(t, srv, " events,events ", 2)
	if _, ok := carol.store[collections.Events][hearthtest.ClimbEvent]; !ok {
		t.Fatal("the events sync lost the event")
	}
	if len(carol.store) != 1 {
		t.Errorf("an events sync stored %d collections", len(carol.store))
	}

	// The documented way to widen a sync: the new set from cursor 0.
	all := newClient(carol.token)
	all.syncSet(t, srv, "", 2)
	all.matchesListAPI(t, srv.Server)

	// A cursor of every collection (listed or not) serves every
	// collection, and nothing narrower.
	listed := strings.Join(changefeed.Synced, ",")
	for set, want := range map[string]int{"": http.StatusOK, listed: http.StatusOK, "events": http.StatusBadRequest} {
		path := "/api/sync?cursor=" + url.QueryEscape(all.cursor)
		if set != "" {
			path += "&collections=" + set
		}
		if status, body, _ := get(srv.Server, carol.token, path, nil); status != want {
			t.Errorf("cursor of every collection with collections=%q: %d %s, want %d", set, status, body, want)
		}
	}
	if events == all.cursor {
		t.Error("cursors of different sets are equal")
	}
}
