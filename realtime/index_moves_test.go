package realtime_test

import (
	"slices"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
)

// TestMovedMembershipLeavesTheIndex: a superuser may change a
// membership's group or user (the fixed fields bind everyone else; the
// dashboard repairs data). The index followed creations and deletions
// only, so the pair a membership left stayed in it, and since the index
// answers the migration's rules, the member who left went on receiving
// the group's messages until the server restarted.
func TestMovedMembershipLeavesTheIndex(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	carol := connect(t, app, srv, hearthtest.Carol, "messages/*")
	bob := connect(t, app, srv, hearthtest.Bob, "messages/*", "users/"+hearthtest.Bob)

	membership := func(user string) string {
		m := &collections.Membership{}
		if err := app.RecordQuery(collections.Memberships).AndWhere(dbx.HashExp{"group": hearthtest.Climbers, "user": user}).One(m); err != nil {
			t.Fatal(err)
		}
		return m.Id
	}
	// Carol's membership moves to Chess; Bob's is given to Erin.
	hearthtest.Save(t, app, collections.Memberships, membership(hearthtest.Carol), map[string]any{"group": hearthtest.Chess})
	hearthtest.Save(t, app, collections.Memberships, membership(hearthtest.Bob), map[string]any{"user": hearthtest.Erin})

	climb := message(t, app, hearthtest.Climbers, hearthtest.Alice, "after the moves")
	chess := message(t, app, hearthtest.Chess, hearthtest.Dave, "after the moves")
	me := hearthtest.Save(t, app, collections.Users, hearthtest.Bob, map[string]any{"name": "Bob, after the moves"})

	if got := ids(carol.until(chess.Id)); slices.Contains(got, climb.Id) {
		t.Errorf("Carol, moved out of Climbers, received its message: %v", got)
	}
	if got := ids(bob.until(me.Id)); slices.Contains(got, climb.Id) {
		t.Errorf("Bob, whose membership went to Erin, received Climbers' message: %v", got)
	}
}
