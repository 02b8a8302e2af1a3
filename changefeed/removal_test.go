package changefeed_test

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
)

// TestRemovedMemberLearnsNoLaterIDs: while Alice and Bob post events and
// messages in Climbers, Bob removes Carol, who keeps syncing page by page
// throughout. Carol is told to drop what she may hold, and is never told
// any id of a record created after her removal: not as an upsert, not as
// a revocation, not as a tombstone.
func TestRemovedMemberLearnsNoLaterIDs(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := &testServer{serve(t, app), app}
	carol := newClient(hearthtest.Token(t, app, hearthtest.Carol))
	carol.mustSync(t, srv.Server, 1000)
	tokens := map[string]string{}
	for _, u := range []string{hearthtest.Alice, hearthtest.Bob} {
		tokens[u] = hearthtest.Token(t, app, u)
	}

	const writes = 30
	// Bob removes Carol once half the writes are in.
	var written atomic.Int64
	half, removed := make(chan struct{}), make(chan struct{})
	errs := make(chan error, 8)
	var writers sync.WaitGroup
	for _, u := range []string{hearthtest.Alice, hearthtest.Bob} {
		writers.Add(1)
		go func() {
			defer writers.Done()
			for i := range writes {
				path, body := "/api/collections/messages/records", fmt.Sprintf(`{"group":%q,"body":"%s %d"}`, hearthtest.Climbers, u, i)
				if i%5 == 0 {
					path, body = "/api/collections/events/records", fmt.Sprintf(`{"group":%q,"title":"%s %d","starts_at":"2030-01-01 10:00:00.000Z"}`, hearthtest.Climbers, u, i)
				}
				if _, err := post(srv, tokens[u], path, body); err != nil {
					errs <- err
					return
				}
				if written.Add(1) == writes {
					close(half)
				}
			}
		}()
	}
	go func() {
		defer close(removed)
		<-half
		if _, err := send(srv.Server, tokens[hearthtest.Bob], http.MethodDelete,
			"/api/collections/memberships/records/"+hearthtest.MembershipID(t, app, hearthtest.Climbers, hearthtest.Carol), ""); err != nil {
			errs <- err
		}
	}()
	done := make(chan struct{})
	var syncing sync.WaitGroup
	syncing.Add(1)
	go func() {
		defer syncing.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			if _, err := carol.syncOnce(srv.Server, 3); err != nil {
				errs <- err
				return
			}
		}
	}()
	writers.Wait()
	<-removed
	close(done)
	syncing.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	carol.mustSync(t, srv.Server, 3)
	carol.matchesListAPI(t, srv.Server)

	// The removal's place in the log, and every record created after it.
	var removal int64
	err := app.DB().NewQuery("SELECT seq FROM _hearth_changes WHERE collection = 'memberships' AND op = 'delete' AND member = {:m}").
		Bind(map[string]any{"m": hearthtest.Carol}).Row(&removal)
	if err != nil {
		t.Fatal(err)
	}
	var later []string
	err = app.DB().NewQuery("SELECT record FROM _hearth_changes WHERE op = 'create' AND seq > {:s}").
		Bind(map[string]any{"s": removal}).Column(&later)
	if err != nil {
		t.Fatal(err)
	}
	if len(later) == 0 {
		t.Fatal("no record was created after the removal: the test proves nothing")
	}
	after := map[string]bool{}
	for _, id := range later {
		after[id] = true
	}
	for _, ch := range carol.seen {
		if after[ch.id] {
			t.Errorf("Carol was told %s %s/%s, created after her removal", ch.op, ch.collection, ch.id)
		}
	}
	for _, name := range []string{collections.Events, collections.Messages, collections.Memberships, collections.Groups} {
		for id, r := range carol.store[name] {
			if r["group"] == hearthtest.Climbers || id == hearthtest.Climbers {
				t.Errorf("Carol still holds %s/%s", name, id)
			}
		}
	}
	if len(carol.store[collections.Users]) != 1 {
		t.Errorf("Carol still holds users %v", keys(carol.store[collections.Users]))
	}
	var revoked int
	for _, ch := range carol.seen {
		if ch.op == changefeed.OpRevoke {
			revoked++
		}
	}
	if revoked == 0 {
		t.Error("Carol was told to drop nothing")
	}
}

// TestNothingAfterTheLeavingPage: once a client's cursor is past its
// removal from a group, even exactly at it, nothing more of that group
// reaches it, not even the group's deletion.
func TestNothingAfterTheLeavingPage(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := &testServer{serve(t, app), app}
	bob := newClient(hearthtest.Token(t, app, hearthtest.Bob))
	bob.mustSync(t, srv.Server, 1000)
	srv.mustDo(t, hearthtest.Alice, http.MethodDelete, "/api/collections/memberships/records/"+hearthtest.MembershipID(t, app, hearthtest.Climbers, hearthtest.Bob))
	bob.mustSync(t, srv.Server, 1000)
	if cur, err := changefeed.OpenCursor(app, bob.cursor); err != nil || cur.Seq != head(t, app) || cur.Item != nil {
		t.Fatalf("Bob's cursor %+v (%v), want the removal, the last entry (%d)", cur, err, head(t, app))
	}
	bob.matchesListAPI(t, srv.Server)

	srv.mustDo(t, hearthtest.Alice, http.MethodDelete, "/api/collections/groups/records/"+hearthtest.Climbers)
	bob.seen = nil
	bob.mustSync(t, srv.Server, 1)
	for _, ch := range bob.seen {
		t.Errorf("Bob was told %s %s/%s after the page that told him he left", ch.op, ch.collection, ch.id)
	}
}
