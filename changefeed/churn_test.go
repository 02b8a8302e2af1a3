package changefeed_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
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
