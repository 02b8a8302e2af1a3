package changefeed_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
)

func TestLogRecordsEveryWriteOnce(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	start := head(t, app)

	ev := hearthtest.Save(t, app, collections.Events, "newevent0000001", map[string]any{
		"group": hearthtest.Climbers, "title": "Crag day", "starts_at": "2030-01-01 10:00:00.000Z", "created_by": hearthtest.Bob,
	})
	hearthtest.Save(t, app, collections.Events, ev.Id, map[string]any{"title": "Crag day (moved)"})
	hearthtest.Save(t, app, collections.Messages, hearthtest.ClimbMessage, map[string]any{"body": "I bring the rope."})
	remove(t, app, collections.RSVPs, hearthtest.CarolRSVP)
	remove(t, app, collections.Events, ev.Id)
	// Invites are not synced: no entry.
	hearthtest.Save(t, app, collections.Invites, hearthtest.ClimbInvite, map[string]any{"max_uses": 3})

	want := []string{
		"create events/newevent0000001",
		"update events/newevent0000001",
		"update messages/" + hearthtest.ClimbMessage,
		"delete rsvps/" + hearthtest.CarolRSVP,
		// Carol's place freed: the RSVP hook recounts going_count.
		"update events/" + hearthtest.ClimbEvent,
		"delete events/newevent0000001",
	}
	if got := logRows(t, app, start); !reflect.DeepEqual(got, want) {
		t.Fatalf("log rows\n got %q\nwant %q", got, want)
	}
}

func TestCascadeDeleteLogsOneTombstonePerRecord(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	start := head(t, app)

	remove(t, app, collections.Groups, hearthtest.Climbers)

	got := logRows(t, app, start)
	// Each row is written when its delete returns, after the deletes it
	// cascaded to: children first, the group last.
	ms := membershipIDs(t, got)
	want := []string{
		"delete rsvps/" + hearthtest.CarolRSVP,
		"delete events/" + hearthtest.ClimbEvent,
		"delete memberships/" + ms[0],
		"delete memberships/" + ms[1],
		"delete memberships/" + ms[2],
		"delete messages/" + hearthtest.ClimbMessage,
		"delete groups/" + hearthtest.Climbers,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("log rows\n got %q\nwant %q", got, want)
	}
	var groups []string
	if err := app.DB().NewQuery("SELECT groups FROM _hearth_changes WHERE seq > {:s}").Bind(map[string]any{"s": start}).Column(&groups); err != nil {
		t.Fatal(err)
	}
	for i, g := range groups {
		if g != hearthtest.Climbers {
			t.Errorf("tombstone %q names groups %q, want %q", got[i], g, hearthtest.Climbers)
		}
	}
}

func membershipIDs(t *testing.T, rows []string) []string {
	t.Helper()
	var ids []string
	for _, r := range rows {
		if len(r) > len("delete memberships/") && r[:len("delete memberships/")] == "delete memberships/" {
			ids = append(ids, r[len("delete memberships/"):])
		}
	}
	if len(ids) != 3 {
		t.Fatalf("want 3 membership tombstones (Alice, Bob, Carol), got %q", rows)
	}
	return ids
}

func TestFailedWriteLeavesNoLogRow(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	start := head(t, app)

	// A duplicate membership fails on the unique index, in the database.
	col, err := app.FindCollectionByNameOrId(collections.Memberships)
	if err != nil {
		t.Fatal(err)
	}
	dup := core.NewRecord(col)
	dup.Load(map[string]any{"group": hearthtest.Climbers, "user": hearthtest.Carol, "role": collections.RoleMember})
	if err := app.SaveNoValidate(dup); err == nil {
		t.Fatal("duplicate membership saved")
	}

	// A hook that wraps the write in a transaction, as the collections
	// package does, and fails after it: the write and its row roll back.
	boom := errors.New("boom")
	app.OnRecordUpdate(collections.Messages).BindFunc(func(e *core.RecordEvent) error {
		return e.App.RunInTransaction(func(tx core.App) error {
			e.App = tx
			if err := e.Next(); err != nil {
				return err
			}
			return boom
		})
	})
	msg, err := app.FindRecordById(collections.Messages, hearthtest.ClimbMessage)
	if err != nil {
		t.Fatal(err)
	}
	msg.Set("body", "never stored")
	if err := app.Save(msg); !errors.Is(err, boom) {
		t.Fatalf("save: %v, want boom", err)
	}

	// A caller's transaction that fails after a delete.
	err = app.RunInTransaction(func(tx core.App) error {
		ev, err := tx.FindRecordById(collections.Events, hearthtest.ClimbEvent)
		if err != nil {
			return err
		}
		if err := tx.Delete(ev); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("transaction: %v, want boom", err)
	}

	if rows := logRows(t, app, start); len(rows) != 0 {
		t.Fatalf("failed writes left log rows %q", rows)
	}
	if stored, _ := app.FindRecordById(collections.Messages, hearthtest.ClimbMessage); stored.GetString("body") == "never stored" {
		t.Fatal("failed update stored")
	}
	if _, err := app.FindRecordById(collections.RSVPs, hearthtest.CarolRSVP); err != nil {
		t.Fatalf("rolled back cascade lost the rsvp: %v", err)
	}
}

func TestLogStartsWithTheWorld(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	rows := logRows(t, app, 0)
	count := map[string]int{}
	for _, r := range rows {
		count[r]++
	}
	for _, name := range []string{"create users/" + hearthtest.Alice, "create groups/" + hearthtest.Chess, "create rsvps/" + hearthtest.ErinRSVP} {
		if count[name] != 1 {
			t.Errorf("%q appears %d times in the log, want once", name, count[name])
		}
	}
}

// TestMigrationBackfillsExistingRecords reruns the change log migration on
// a database that already holds records, as on a deploy that predates it:
// every record gets one entry and a full sync finds it.
func TestMigrationBackfillsExistingRecords(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	var changelog *core.Migration
	for _, m := range core.AppMigrations.Items() {
		if m.File == "1764115300_changelog.go" {
			changelog = m
		}
	}
	if changelog == nil {
		t.Fatal("changelog migration not registered")
	}
	remove(t, app, collections.Messages, hearthtest.ChessMessage) // a tombstone the backfill must not revive
	if err := changelog.Down(app); err != nil {
		t.Fatal(err)
	}
	if err := changelog.Up(app); err != nil {
		t.Fatal(err)
	}
	assertOneRowPerLiveRecord(t, app)
	var groups string
	if err := app.DB().NewQuery("SELECT groups FROM _hearth_changes WHERE record = {:id}").Bind(map[string]any{"id": hearthtest.CarolRSVP}).Row(&groups); err != nil {
		t.Fatal(err)
	}
	if groups != hearthtest.Climbers {
		t.Fatalf("backfilled rsvp names groups %q, want %q", groups, hearthtest.Climbers)
	}
	srv := serve(t, app)
	for _, user := range []string{hearthtest.Bob, hearthtest.Erin} {
		c := newClient(hearthtest.Token(t, app, user))
		c.mustSync(t, srv, 4)
		c.matchesListAPI(t, srv)
	}
}
