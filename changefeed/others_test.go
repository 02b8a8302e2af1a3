package changefeed_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/crews/hearth/changefeed"
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
)

// news syncs c to the end and returns the changes it received.
func (c *client) news(t *testing.T, srv *testServer) []change {
	t.Helper()
	before := len(c.seen)
	c.mustSync(t, srv.Server, 1000)
	c.matchesListAPI(t, srv.Server)
	return slices.Clone(c.seen[before:])
}

// TestOthersMembershipsOfGroupsYouAreNotIn: Alice and Bob share Climbers.
// Bob joining and leaving Chess, which Alice is not in, tells Alice
// nothing, not even Bob's unchanged user: its seq would date a change in
// a group she never belonged to. Nor does it once she has left Chess.
// While she is in Chess, other users' joining and leaving it do reach
// her: a newcomer is sent, a member who shares nothing else with her is
// revoked.
func TestOthersMembershipsOfGroupsYouAreNotIn(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := &testServer{serve(t, app), app}
	alice := newClient(hearthtest.Token(t, app, hearthtest.Alice))
	alice.mustSync(t, srv.Server, 1000)
	join := func(group, user string) {
		t.Helper()
		if _, err := collections.AddMember(app, group, user, collections.RoleMember); err != nil {
			t.Fatal(err)
		}
	}
	leave := func(group, user string) {
		t.Helper()
		remove(t, app, collections.Memberships, hearthtest.MembershipID(t, app, group, user))
	}
	nothing := func(step string) {
		t.Helper()
		if got := alice.news(t, srv); len(got) != 0 {
			t.Fatalf("after %s Alice's sync brought %v, want nothing", step, got)
		}
	}
	brings := func(step string, want change) {
		t.Helper()
		if got := alice.news(t, srv); !slices.Contains(got, want) {
			t.Fatalf("after %s Alice's sync brought %v, want %v among them", step, got, want)
		}
	}

	join(hearthtest.Chess, hearthtest.Bob)
	nothing("Bob joined Chess")
	leave(hearthtest.Chess, hearthtest.Bob)
	nothing("Bob left Chess")

	join(hearthtest.Chess, hearthtest.Alice)
	brings("Alice joined Chess", change{changefeed.OpUpsert, collections.Users, hearthtest.Erin})
	newcomer, _ := hearthtest.NewUsers(t, app, "newcomer", 1)
	join(hearthtest.Chess, newcomer[0])
	brings("a newcomer joined Chess", change{changefeed.OpUpsert, collections.Users, newcomer[0]})
	leave(hearthtest.Chess, hearthtest.Erin)
	brings("Erin left Chess", change{changefeed.OpRevoke, collections.Users, hearthtest.Erin})

	leave(hearthtest.Chess, hearthtest.Alice)
	alice.news(t, srv)
	join(hearthtest.Chess, hearthtest.Bob)
	nothing("Bob joined Chess after Alice left it")
	leave(hearthtest.Chess, hearthtest.Bob)
	nothing("Bob left Chess after Alice left it")
}

// TestJoinThenAMembersMembershipElsewhere: Alice joins Chess; before she
// syncs, Erin, a member of Chess, joins and leaves Go, a group Alice is
// not in. Those are no places of Erin's in Alice's feed, so the
// expansion of Alice's joining must still bring Erin, at any page size.
func TestJoinThenAMembersMembershipElsewhere(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := &testServer{serve(t, app), app}
	token := hearthtest.Token(t, app, hearthtest.Alice)
	go1, err := post(srv, hearthtest.Token(t, app, hearthtest.Dave), "/api/collections/groups/records", `{"name":"Go"}`)
	if err != nil {
		t.Fatal(err)
	}
	cursors := map[int]*client{1: newClient(token), 1000: newClient(token)}
	for limit, c := range cursors {
		c.mustSync(t, srv.Server, limit)
	}
	if _, err := collections.AddMember(app, hearthtest.Chess, hearthtest.Alice, collections.RoleMember); err != nil {
		t.Fatal(err)
	}
	if _, err := collections.AddMember(app, go1, hearthtest.Erin, collections.RoleMember); err != nil {
		t.Fatal(err)
	}
	for limit, c := range cursors {
		c.mustSync(t, srv.Server, limit)
		c.matchesListAPI(t, srv.Server)
		if c.store[collections.Users][hearthtest.Erin] == nil {
			t.Fatalf("limit %d: Alice's sync after joining Chess did not bring Erin", limit)
		}
	}
	remove(t, app, collections.Memberships, hearthtest.MembershipID(t, app, go1, hearthtest.Erin))
	for limit, c := range cursors {
		before := len(c.seen)
		c.mustSync(t, srv.Server, limit)
		if got := c.seen[before:]; len(got) != 0 {
			t.Fatalf("limit %d: after Erin left Go Alice's sync brought %v, want nothing", limit, got)
		}
	}
}

// TestLeavingAJoinThatHeldAUsersPlace: Erin is in Chess and Go. Carol
// joins Chess, then Go, and syncs page by page past her joining of Chess,
// where Erin is skipped: her place is then the later joining of Go. Carol
// leaves Go before she syncs again; Erin, whom she still sees through
// Chess, must come at that leaving, as her last place is now behind
// Carol's cursor.
func TestLeavingAJoinThatHeldAUsersPlace(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := &testServer{serve(t, app), app}
	dave := hearthtest.Token(t, app, hearthtest.Dave)
	go1, err := post(srv, dave, "/api/collections/groups/records", `{"name":"Go"}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := collections.AddMember(app, go1, hearthtest.Erin, collections.RoleMember); err != nil {
		t.Fatal(err)
	}
	carol := newClient(hearthtest.Token(t, app, hearthtest.Carol))
	carol.mustSync(t, srv.Server, 1000)
	if _, err := collections.AddMember(app, hearthtest.Chess, hearthtest.Carol, collections.RoleMember); err != nil {
		t.Fatal(err)
	}
	between, err := post(srv, dave, "/api/collections/messages/records", fmt.Sprintf(`{"group":%q,"body":"between"}`, hearthtest.Chess))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := collections.AddMember(app, go1, hearthtest.Carol, collections.RoleMember); err != nil {
		t.Fatal(err)
	}
	for carol.store[collections.Messages][between] == nil {
		p, err := carol.syncOnce(srv.Server, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !p.More {
			t.Fatal("the sync ended before the message written between Carol's joinings")
		}
	}
	if carol.store[collections.Users][hearthtest.Erin] != nil {
		t.Fatal("Erin came at Carol's joining of Chess; the test needs her place to be the joining of Go")
	}
	remove(t, app, collections.Memberships, hearthtest.MembershipID(t, app, go1, hearthtest.Carol))
	carol.mustSync(t, srv.Server, 1)
	carol.matchesListAPI(t, srv.Server)
}
