package changefeed_test

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
)

// TestOtherMembersChurnBetweenPages: Alice holds Erin (they shared
// Climbers); Erin is removed, added back and removed again while Alice is
// offline, and Alice's sync ends a page between the first removal and
// the re-adding. Erin's user is reported at her last membership change,
// a later page, which must still revoke it: Alice held it at the page's
// start even though the log says she could not at that cursor.
func TestOtherMembersChurnBetweenPages(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := &testServer{serve(t, app), app}
	root := hearthtest.SuperuserToken(t, app)
	alice := newClient(hearthtest.Token(t, app, hearthtest.Alice))
	add := func() string {
		id, err := post(srv, root, "/api/collections/memberships/records",
			fmt.Sprintf(`{"group":%q,"user":%q,"role":"member"}`, hearthtest.Climbers, hearthtest.Erin))
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	drop := func(id string) {
		if _, err := send(srv.Server, root, http.MethodDelete, "/api/collections/memberships/records/"+id, ""); err != nil {
			t.Fatal(err)
		}
	}

	first := add()
	alice.mustSync(t, srv.Server, 1000)
	if alice.store[collections.Users][hearthtest.Erin] == nil {
		t.Fatal("Alice does not hold Erin while they share Climbers")
	}
	drop(first)
	// A change for Alice between the removal and the re-adding, so that
	// a page of two changes ends there: the membership's tombstone, then
	// this message.
	srv.mustDo(t, hearthtest.Bob, http.MethodPost, "/api/collections/messages/records",
		fmt.Sprintf(`{"group":%q,"body":"between"}`, hearthtest.Climbers))
	drop(add())
	alice.mustSync(t, srv.Server, 2)
	alice.matchesListAPI(t, srv.Server)
}

// TestRejoinInsideTheLeavingsItems: Erin is removed from Chess and her
// sync stops inside the revocations of that leaving; a message of Chess
// is deleted, and she is added back. Her joining brings what is in Chess
// then, so the deleted message, which she still holds, must come from
// the rest of the leaving's items.
func TestRejoinInsideTheLeavingsItems(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := &testServer{serve(t, app), app}
	erin := newClient(hearthtest.Token(t, app, hearthtest.Erin))
	erin.mustSync(t, srv.Server, 1000)
	remove(t, app, collections.Memberships, hearthtest.MembershipID(t, app, hearthtest.Chess, hearthtest.Erin))
	if _, err := erin.syncOnce(srv.Server, 1); err != nil {
		t.Fatal(err)
	}
	if erin.store[collections.Messages][hearthtest.ChessMessage] == nil {
		t.Fatal("the first page of the leaving dropped the message already; the test needs it later")
	}
	remove(t, app, collections.Messages, hearthtest.ChessMessage)
	if _, err := collections.AddMember(app, hearthtest.Chess, hearthtest.Erin, collections.RoleMember); err != nil {
		t.Fatal(err)
	}
	erin.mustSync(t, srv.Server, 1)
	erin.matchesListAPI(t, srv.Server)
}

// TestMemberWhoLeftBeforeYouHasALaterEntry (seed 450 of
// TestSyncUnderChurnAndPruning): Carol holds Bob (they share Climbers
// only). Bob is removed from Climbers, then Carol is, then Bob's user
// gets a later entry of its own: pruning carries it over, or Bob edits
// his name. That entry is Bob's last place, so his removal skips him;
// Carol's leaving does not list him, as he had left before her. Carol
// syncs page by page, so she reads his last place after her leaving:
// it must still revoke him.
func TestMemberWhoLeftBeforeYouHasALaterEntry(t *testing.T) {
	t.Parallel()
	for name, laterEntry := range map[string]func(t *testing.T, app core.App, now time.Time){
		"pruning carries him over": func(t *testing.T, app core.App, now time.Time) {
			// The window ends between Carol's last sync and the removals:
			// her cursor stays at the horizon, served.
			if _, err := changefeed.Prune(app, 5*time.Minute, now); err != nil {
				t.Fatal(err)
			}
		},
		"he edits his name": func(t *testing.T, app core.App, _ time.Time) {
			hearthtest.Save(t, app, collections.Users, hearthtest.Bob, map[string]any{"name": "Robert"})
		},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			app := hearthtest.NewApp(t)
			// The app's clock, read by the server's goroutines too.
			var now atomic.Int64
			now.Store(time.Now().UnixMilli())
			hearthtest.SetNow(t, app, func() time.Time { return time.UnixMilli(now.Load()) })
			srv := &testServer{serve(t, app), app}
			carol := newClient(hearthtest.Token(t, app, hearthtest.Carol))
			carol.mustSync(t, srv.Server, 1000)
			if carol.store[collections.Users][hearthtest.Bob] == nil {
				t.Fatal("Carol does not hold Bob while they share Climbers")
			}

			now.Add((10 * time.Minute).Milliseconds())
			remove(t, app, collections.Memberships, hearthtest.MembershipID(t, app, hearthtest.Climbers, hearthtest.Bob))
			remove(t, app, collections.Memberships, hearthtest.MembershipID(t, app, hearthtest.Climbers, hearthtest.Carol))
			laterEntry(t, app, time.UnixMilli(now.Load()))
			var last int64
			err := app.DB().NewQuery("SELECT MAX(seq) FROM _hearth_changes WHERE collection = 'users' AND record = {:bob}").
				Bind(map[string]any{"bob": hearthtest.Bob}).Row(&last)
			if err != nil {
				t.Fatal(err)
			}
			var left int64
			err = app.DB().NewQuery("SELECT seq FROM _hearth_changes WHERE op = 'delete' AND member = {:carol}").
				Bind(map[string]any{"carol": hearthtest.Carol}).Row(&left)
			if err != nil {
				t.Fatal(err)
			}
			if last <= left {
				t.Fatalf("Bob's last entry %d is not after Carol's leaving %d: the test proves nothing", last, left)
			}

			carol.mustSync(t, srv.Server, 1)
			if carol.store[collections.Users][hearthtest.Bob] != nil {
				t.Errorf("Carol still holds Bob; she was told %v", carol.seen)
			}
			carol.matchesListAPI(t, srv.Server)
		})
	}
}
