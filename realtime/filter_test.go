package realtime_test

import (
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/realtime"
)

// A subscription filter through a relation the policy lists (an event's
// group.name) is evaluated like one on the record's own fields: each
// matching change is delivered, a change it excludes is not.
func TestFilterThroughRelation(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	through := topicWith(t, "events/*", map[string]any{"filter": `group.name != "Nobody"`})
	excluded := topicWith(t, "events/*", map[string]any{"filter": `group.name = "Nobody"`})
	own := topicWith(t, "events/*", map[string]any{"filter": `title != "Nobody"`})
	carol := connect(t, app, srv, hearthtest.Carol, through, excluded, own, "events/*")
	hearthtest.Save(t, app, collections.Events, hearthtest.ClimbEvent, map[string]any{"title": "Moved"})
	// A second change, read up to its unfiltered event: a connection
	// receives in commit order, so anything the first change sent on any
	// topic has been read by then.
	hearthtest.Save(t, app, collections.Events, hearthtest.ClimbEvent, map[string]any{"title": "Moved again"})
	got := map[string]int{}
	for got["events/*"] < 2 {
		got[carol.next().Name]++
	}
	if got[through] < 1 || got[own] < 1 || got[excluded] != 0 {
		t.Fatalf("events by topic: %v", got)
	}
}

// The copy of a written user that realtime encodes never holds the plain
// password, which PocketBase clears from the record only after the save:
// a superuser's payload shows every field.
func TestSnapshotHoldsNoPlainPassword(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	carol := hearthtest.Record(t, app, collections.Users, hearthtest.Carol)
	carol.SetPassword("a-new-password-123")
	copied := realtime.Snapshot(carol)
	if got := copied.GetString("password"); got != "" {
		t.Fatalf("the copy holds the plain password %q", got)
	}
	if copied.GetString("password:hash") == "" || copied.GetString("password:hash") != carol.GetString("password:hash") {
		t.Fatalf("the copy lost the hash: %q", copied.GetString("password:hash"))
	}
	// PocketBase clearing the original's plain text later touches the
	// original only.
	carol.SetPassword("another-password-456")
	if got := copied.GetString("password"); got != "" {
		t.Fatalf("the copy follows the original: %q", got)
	}
}
