package changefeed_test

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
)

// seedGroup has owner create a group with the fixture users Alice, Carol
// and Dave as members, and fills it with events (four RSVPs each) and
// messages up to about records records in all. Everything is saved with
// app.Save in one transaction, so the change log is written by its hooks
// as for any write.
func seedGroup(t testing.TB, app core.App, owner string, records int) string {
	t.Helper()
	var group string
	members := []string{owner, hearthtest.Alice, hearthtest.Carol, hearthtest.Dave}
	err := app.RunInTransaction(func(tx core.App) error {
		g := hearthtest.Save(t, tx, collections.Groups, "", map[string]any{"name": "Big", "created_by": owner})
		group = g.Id
		for _, u := range members[1:] {
			if _, err := collections.AddMember(tx, group, u, collections.RoleMember); err != nil {
				return err
			}
		}
		events := records / 25
		for i := range events {
			ev := hearthtest.Save(t, tx, collections.Events, "", map[string]any{
				"group": group, "title": fmt.Sprintf("Event %d", i), "starts_at": "2030-01-01 10:00:00.000Z", "created_by": owner,
			})
			for _, u := range members {
				hearthtest.Save(t, tx, collections.RSVPs, "", map[string]any{"event": ev.Id, "user": u, "status": collections.StatusGoing})
			}
		}
		for i := range records - 1 - 2*len(members) - events*(1+len(members)) {
			hearthtest.Save(t, tx, collections.Messages, "", map[string]any{"group": group, "author": members[i%len(members)], "body": fmt.Sprintf("Message %d", i)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return group
}

// fetch gets one page without applying it.
func fetch(t testing.TB, srv *testServer, token, cursor, query string) *page {
	t.Helper()
	p := &page{}
	path := "/api/sync?cursor=" + url.QueryEscape(cursor) + query
	status, body, err := get(srv.Server, token, path, p)
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET %s: %d %s %v", path, status, body, err)
	}
	return p
}

// syncInterrupted syncs c page by page with limit, and loses every 7th
// page (the phone died before storing it): the client resumes from its
// stored cursor, and the page it gets again must be the lost one. It
// returns how many times each record was delivered to the store and the
// number of pages stored.
func syncInterrupted(t *testing.T, srv *testServer, c *client, limit int) (map[string]int, int) {
	t.Helper()
	delivered := map[string]int{}
	pages := 0
	for n := 1; ; n++ {
		var lost *page
		if n%7 == 0 {
			lost = fetch(t, srv, c.token, c.cursor, fmt.Sprintf("&limit=%d", limit))
		}
		p, err := c.syncOnce(srv.Server, limit)
		if err != nil {
			t.Fatal(err)
		}
		// Tokens of one cursor differ (each is sealed with its own nonce):
		// the positions they hold must not.
		if lost != nil && (!reflect.DeepEqual(lost.Changes, p.Changes) || lost.More != p.More ||
			!reflect.DeepEqual(openCursor(t, srv.app, lost.Cursor), openCursor(t, srv.app, p.Cursor))) {
			t.Fatalf("page %d read again from cursor differs from the lost one:\n%d changes, cursor %s\n%d changes, cursor %s",
				n, len(lost.Changes), lost.Cursor, len(p.Changes), p.Cursor)
		}
		pages++
		for _, ch := range p.Changes {
			delivered[ch.Collection+"/"+ch.ID]++
		}
		if !p.More {
			return delivered, pages
		}
	}
}

func onceEach(t *testing.T, delivered map[string]int) {
	t.Helper()
	for id, n := range delivered {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
}

// TestJoinAndLeaveBigGroupPaged: Erin joins a group of 5,000 records by
// invite code; her next sync, with limit 100, brings all of it in pages of
// at most 100 changes, resumable at any page (every 7th is lost and read
// again), each record once. Leaving it pages the revocations the same
// way. A member's full sync delivers each record once too, and a page
// without limit holds the default 200.
func TestJoinAndLeaveBigGroupPaged(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := &testServer{serve(t, app), app}
	group := seedGroup(t, app, hearthtest.Bob, 5000)
	var inGroup int
	for _, name := range changefeed.Synced {
		ids, err := collections.GroupRecordIDs(app, name, group)
		if err != nil {
			t.Fatal(err)
		}
		inGroup += len(ids)
	}
	if inGroup < 5000 {
		t.Fatalf("seeded group holds %d records, want 5,000", inGroup)
	}

	erin := newClient(hearthtest.Token(t, app, hearthtest.Erin))
	erin.mustSync(t, srv.Server, 1000)
	invite := hearthtest.Save(t, app, collections.Invites, "", map[string]any{"group": group, "created_by": hearthtest.Bob})
	if _, err := send(srv.Server, erin.token, http.MethodPost, collections.JoinPath, `{"code":"`+invite.GetString("code")+`"}`); err != nil {
		t.Fatal(err)
	}
	delivered, pages := syncInterrupted(t, srv, erin, 100)
	if pages < inGroup/100 {
		t.Errorf("the join took %d pages of at most 100 changes for %d records", pages, inGroup)
	}
	onceEach(t, delivered)
	// Her new membership and the group's records; not her own user.
	if len(delivered) != inGroup+1 {
		t.Errorf("the join delivered %d records, want the group's %d and her membership", len(delivered), inGroup)
	}
	erin.matchesListAPI(t, srv.Server)

	t.Run("full sync of a member", func(t *testing.T) {
		carol := newClient(hearthtest.Token(t, app, hearthtest.Carol))
		delivered, _ := syncInterrupted(t, srv, carol, 100)
		onceEach(t, delivered)
		carol.matchesListAPI(t, srv.Server)
	})

	t.Run("default limit", func(t *testing.T) {
		p := fetch(t, srv, hearthtest.Token(t, app, hearthtest.Carol), "0", "")
		if len(p.Changes) != changefeed.DefaultLimit || !p.More {
			t.Errorf("a page without limit holds %d changes (more %v), want %d and more", len(p.Changes), p.More, changefeed.DefaultLimit)
		}
	})

	t.Run("leave", func(t *testing.T) {
		srv.mustDo(t, hearthtest.Erin, http.MethodDelete, "/api/collections/memberships/records/"+hearthtest.MembershipID(t, app, group, hearthtest.Erin))
		erin.seen = nil
		delivered, pages := syncInterrupted(t, srv, erin, 100)
		if pages < inGroup/100 {
			t.Errorf("leaving took %d pages of at most 100 changes for %d records", pages, inGroup)
		}
		onceEach(t, delivered)
		erin.matchesListAPI(t, srv.Server)
		// Nothing of the group, but the users she still sees through
		// Chess (Dave), sent again as at the joining.
		for _, ch := range erin.seen {
			if ch.op == changefeed.OpUpsert && (ch.collection != collections.Users || erin.store[collections.Users][ch.id] == nil) {
				t.Errorf("leaving sent %s %s/%s", ch.op, ch.collection, ch.id)
			}
		}
	})
}

// TestPagesResumeInsideAnExpansion checks the cursor inside an
// expansion: each page ends where the next starts, and writes made
// between pages (new records, edits, deletions in the group) neither
// shift the expansion nor are lost.
func TestPagesResumeInsideAnExpansion(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := &testServer{serve(t, app), app}
	group := seedGroup(t, app, hearthtest.Bob, 300)
	erin := newClient(hearthtest.Token(t, app, hearthtest.Erin))
	erin.mustSync(t, srv.Server, 1000)
	root := hearthtest.SuperuserToken(t, app)
	if _, err := send(srv.Server, root, http.MethodPost, "/api/collections/memberships/records",
		`{"group":"`+group+`","user":"`+hearthtest.Erin+`","role":"member"}`); err != nil {
		t.Fatal(err)
	}
	messages, err := collections.GroupRecordIDs(app, collections.Messages, group)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; ; n++ {
		p, err := erin.syncOnce(srv.Server, 10)
		if err != nil {
			t.Fatal(err)
		}
		cur, err := changefeed.OpenCursor(app, p.Cursor)
		if err != nil {
			t.Fatal(err)
		}
		if n == 3 && cur.Item == nil {
			t.Fatalf("page 4 of the expansion ends outside it: %+v", cur)
		}
		if !p.More {
			break
		}
		// Meanwhile the group lives on: a new message, an edit and a
		// deletion on each side of the expansion's place.
		srv.mustDo(t, hearthtest.Bob, http.MethodPost, "/api/collections/messages/records", fmt.Sprintf(`{"group":%q,"body":"during %d"}`, group, n))
		for _, req := range []struct{ method, id, body string }{
			{http.MethodPatch, messages[len(messages)-1-n], `{"body":"edited"}`},
			{http.MethodDelete, messages[n*2], ""},
		} {
			if _, err := send(srv.Server, root, req.method, "/api/collections/messages/records/"+req.id, req.body); err != nil {
				t.Fatal(err)
			}
		}
	}
	erin.matchesListAPI(t, srv.Server)
}
