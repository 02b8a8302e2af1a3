package realtime_test

import (
	"encoding/json/v2"
	"slices"
	"sync"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/realtime"
	"github.com/pocketbase/pocketbase/core"
)

func TestMembersReceiveOutsidersDoNot(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	bob := connect(t, app, srv, hearthtest.Bob, "messages/*")
	erin := connect(t, app, srv, hearthtest.Erin, "messages/*")

	climb := message(t, app, hearthtest.Climbers, hearthtest.Carol, "rope?")
	chess := message(t, app, hearthtest.Chess, hearthtest.Dave, "clocks")

	if got := ids(bob.until(climb.Id)); !slices.Equal(got, []string{climb.Id}) {
		t.Errorf("Bob received %v, want only %s", got, climb.Id)
	}
	// Erin's own group's message comes after the Climbers one: had the
	// Climbers one reached her, it would be first.
	if got := ids(erin.until(chess.Id)); !slices.Equal(got, []string{chess.Id}) {
		t.Errorf("Erin (not in Climbers) received %v, want only %s", got, chess.Id)
	}
}

func TestIndexFollowsJoinLeaveAndRemoval(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	erin := connect(t, app, srv, hearthtest.Erin, "messages/*")

	before := message(t, app, hearthtest.Climbers, hearthtest.Carol, "before")
	if _, err := collections.AddMember(app, hearthtest.Climbers, hearthtest.Erin, collections.RoleMember); err != nil {
		t.Fatal(err)
	}
	joined := message(t, app, hearthtest.Climbers, hearthtest.Carol, "welcome")
	got := erin.until(joined.Id)
	if slices.Contains(ids(got), before.Id) {
		t.Error("Erin received a message sent before she joined")
	}
	if !realtime.IsMember(app, hearthtest.Climbers, hearthtest.Erin) || !slices.Contains(realtime.SubscribedMembers(app, hearthtest.Climbers), hearthtest.Erin) {
		t.Error("the index does not hold Erin's join")
	}

	// Removed, then a message in the very next transaction: not hers.
	m, err := collections.FindMembership(app, hearthtest.Climbers, hearthtest.Erin)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Delete(m); err != nil {
		t.Fatal(err)
	}
	after := message(t, app, hearthtest.Climbers, hearthtest.Carol, "after she left")
	own := message(t, app, hearthtest.Chess, hearthtest.Dave, "chess")
	for _, p := range erin.until(own.Id) {
		if p.Record["id"] == after.Id {
			t.Error("Erin received a message of a group she was removed from just before")
		}
	}
	if realtime.IsMember(app, hearthtest.Climbers, hearthtest.Erin) {
		t.Error("the index still holds Erin in Climbers")
	}
}

func TestIndexFollowsRoleChanges(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	// Invites are visible to owners and admins only.
	carol := connect(t, app, srv, hearthtest.Carol, "invites/*", "messages/*")
	invite := func() *core.Record {
		return save(t, app, collections.Invites, map[string]any{"group": hearthtest.Climbers, "created_by": hearthtest.Alice})
	}
	hidden := invite()
	barrier := message(t, app, hearthtest.Climbers, hearthtest.Alice, "1")
	if slices.Contains(ids(carol.until(barrier.Id)), hidden.Id) {
		t.Error("Carol (member) received an invite")
	}
	setRole(t, app, hearthtest.Carol, collections.RoleAdmin)
	shown := invite()
	carol.until(shown.Id)
	setRole(t, app, hearthtest.Carol, collections.RoleMember)
	hiddenAgain := invite()
	barrier = message(t, app, hearthtest.Climbers, hearthtest.Alice, "2")
	if slices.Contains(ids(carol.until(barrier.Id)), hiddenAgain.Id) {
		t.Error("Carol, demoted, received an invite")
	}
}

func setRole(t *testing.T, app core.App, user, role string) {
	t.Helper()
	m, err := collections.FindMembership(app, hearthtest.Climbers, user)
	if err != nil {
		t.Fatal(err)
	}
	m.Set("role", role)
	if err := app.Save(m); err != nil {
		t.Fatal(err)
	}
}

func TestIndexFollowsGroupAndUserDeletion(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	erin := connect(t, app, srv, hearthtest.Erin, "messages/*", "groups/*")
	connect(t, app, srv, hearthtest.Dave, "messages/*")

	chess, err := app.FindRecordById(collections.Groups, hearthtest.Chess)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Delete(chess); err != nil {
		t.Fatal(err)
	}
	// Erin learns of the deletion (she was a member when it happened).
	erin.until(hearthtest.Chess)
	if realtime.IsMember(app, hearthtest.Chess, hearthtest.Erin) || realtime.IsMember(app, hearthtest.Chess, hearthtest.Dave) {
		t.Error("the index still holds members of a deleted group")
	}

	bob := connect(t, app, srv, hearthtest.Bob, "users/*")
	carol, err := app.FindRecordById(collections.Users, hearthtest.Carol)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Delete(carol); err != nil {
		t.Fatal(err)
	}
	bob.until(hearthtest.Carol)
	if len(realtime.GroupsOfUser(app, hearthtest.Carol)) != 0 || realtime.IsMember(app, hearthtest.Climbers, hearthtest.Carol) {
		t.Error("the index still holds a deleted user")
	}
}

func TestClearedAuthReceivesNothing(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	carol := connect(t, app, srv, hearthtest.Carol, "messages/*")
	bob := connect(t, app, srv, hearthtest.Bob, "messages/*")

	// A password change changes the token key: PocketBase's rule is that
	// the connection's auth is cleared.
	user, err := app.FindRecordById(collections.Users, hearthtest.Carol)
	if err != nil {
		t.Fatal(err)
	}
	user.SetPassword("another-password-123")
	if err := app.Save(user); err != nil {
		t.Fatal(err)
	}
	m := message(t, app, hearthtest.Climbers, hearthtest.Alice, "after the password change")
	bob.until(m.Id)
	// Carol's stream gets her own user update, then nothing of the group.
	sentinel := message(t, app, hearthtest.Climbers, hearthtest.Alice, "sentinel")
	bob.until(sentinel.Id)
	// Bob's copy says the sentinel was dispatched, not that Carol's task
	// for it has run: judged after her new subscription, it would be hers.
	realtime.WaitJudged(app)
	select {
	case ev := <-carol.events:
		t.Errorf("a connection whose auth was cleared received %s %s", ev.Name, ev.Data)
	default:
	}
	// As in PocketBase, a cleared connection may subscribe again with any
	// auth; delivery resumes for that user.
	if code := subscribeStatus(t, app, srv, carol.id, hearthtest.Carol, "messages/*"); code != 204 {
		t.Fatalf("resubscribe after clear: %d", code)
	}
	again := message(t, app, hearthtest.Climbers, hearthtest.Alice, "again")
	if got := ids(carol.until(again.Id)); !slices.Equal(got, []string{again.Id}) {
		t.Errorf("after subscribing again Carol received %v, want %s only", got, again.Id)
	}
}

func TestPerClientOrderIsCommitOrder(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	bob := connect(t, app, srv, hearthtest.Bob, "messages/*")

	const n = 60
	col, err := app.FindCachedCollectionByNameOrId(collections.Messages)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := core.NewRecord(col)
			r.Load(map[string]any{"group": hearthtest.Climbers, "author": hearthtest.Carol, "body": string(rune('a' + i%26))})
			errs <- app.Save(r)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var committed []string
	err = app.DB().Select("record").From("_hearth_changes").
		AndWhere(dbxCollection(collections.Messages)).OrderBy("seq").Column(&committed)
	if err != nil {
		t.Fatal(err)
	}
	committed = committed[len(committed)-n:]
	got := ids(bob.until(committed[n-1]))
	if !slices.Equal(got, committed) {
		t.Errorf("delivery order differs from commit order:\n got %v\nwant %v", got, committed)
	}
}

// A collection without a scope keeps PocketBase's own path: the same
// connection receives its events from PocketBase's broadcast and the
// group-scoped ones from Hearth's.
func TestUnscopedTopicsKeepPocketBasesPath(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	root := connect(t, app, srv, "superuser", "_superusers/*", "messages/*")

	col, err := app.FindCachedCollectionByNameOrId(core.CollectionNameSuperusers)
	if err != nil {
		t.Fatal(err)
	}
	other := core.NewRecord(col)
	other.SetEmail("second@hearth.test")
	other.SetPassword("password123456")
	if err := app.Save(other); err != nil {
		t.Fatal(err)
	}
	m := message(t, app, hearthtest.Chess, hearthtest.Dave, "both paths")
	seen := map[string]bool{}
	for !seen[other.Id] || !seen[m.Id] {
		ev := root.next()
		var p payload
		if err := json.Unmarshal([]byte(ev.Data), &p); err != nil {
			t.Fatal(err)
		}
		id, _ := p.Record["id"].(string)
		seen[id] = true
		if id == other.Id && ev.Name != "_superusers/*" || id == m.Id && ev.Name != "messages/*" {
			t.Errorf("record %s arrived as event %q", id, ev.Name)
		}
	}
}
