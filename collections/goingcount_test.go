package collections_test

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// An RSVP's write stores its event's new going_count with one UPDATE of
// going_count and updated instead of a full save (storeGoingCount), and
// must keep what the save gave: the event's row changed in those two
// columns only, updated moved on; the Execute hooks of an event update
// run and see the new count (the change log writes its row, realtime
// captures the event); a member subscribed to events is delivered the
// new count over the real /api/realtime.
func TestGoingCountWriteIsAnUpdate(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	var seen []int
	app.OnRecordUpdateExecute(collections.Events).BindFunc(func(e *core.RecordEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		seen = append(seen, collections.As[collections.Event](e.Record).GoingCount())
		return nil
	})
	srv := hearthtest.Serve(t, app)
	bob := openStream(t, srv, hearthtest.Token(t, app, hearthtest.Bob))
	if res := bob.subscribe([]string{"events/*"}); res.status != http.StatusNoContent {
		t.Fatalf("subscription: %s", res)
	}
	row := func() dbx.NullStringMap {
		t.Helper()
		r := dbx.NullStringMap{}
		if err := app.DB().NewQuery("SELECT * FROM {{events}} WHERE [[id]] = {:id}").Bind(dbx.Params{"id": hearthtest.ClimbEvent}).One(&r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	logged := func() int {
		t.Helper()
		var n int
		err := app.DB().NewQuery("SELECT count(*) FROM {{_hearth_changes}} WHERE [[collection]] = 'events' AND [[record]] = {:id} AND [[op]] = 'update' AND [[groups]] = {:group}").
			Bind(dbx.Params{"id": hearthtest.ClimbEvent, "group": hearthtest.Climbers}).Row(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	before, logBefore := row(), logged()

	hearthtest.Save(t, app, collections.RSVPs, "", map[string]any{"event": hearthtest.ClimbEvent, "user": hearthtest.Alice, "status": collections.StatusGoing})

	after := row()
	if got := after["going_count"].String; got != "2" {
		t.Errorf("going_count %s, want 2", got)
	}
	if after["updated"].String <= before["updated"].String {
		t.Errorf("updated %s, want after %s", after["updated"].String, before["updated"].String)
	}
	rest := func(r dbx.NullStringMap) dbx.NullStringMap {
		c := maps.Clone(r)
		delete(c, "going_count")
		delete(c, "updated")
		return c
	}
	if !maps.Equal(rest(after), rest(before)) {
		t.Errorf("other columns changed:\n%v\nwant\n%v", rest(after), rest(before))
	}
	if len(seen) != 1 || seen[0] != 2 {
		t.Errorf("the event update's Execute hooks saw going_count %v, want [2]", seen)
	}
	if n := logged() - logBefore; n != 1 {
		t.Errorf("%d change-log rows for the event, want 1", n)
	}
	for {
		ev := bob.next(t)
		var p struct {
			Action string         `json:"action"`
			Record map[string]any `json:"record"`
		}
		if err := json.Unmarshal([]byte(ev.Data), &p); err != nil {
			t.Fatal(err)
		}
		if ev.Name != "events/*" || p.Record["id"] != hearthtest.ClimbEvent {
			continue
		}
		if p.Action != "update" || p.Record["going_count"] != float64(2) || p.Record["updated"] != after["updated"].String {
			t.Errorf("delivered %s %v, want update with going_count 2, updated %s", p.Action, p.Record, after["updated"].String)
		}
		break
	}
}

// A going_count write whose transaction rolls back (a later write of the
// same transaction fails) runs the event's after-error hooks, not its
// after-success ones, as a save's would, and leaves the row as it was.
func TestGoingCountWriteRolledBack(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	var succeeded, failed int
	app.OnRecordAfterUpdateSuccess(collections.Events).BindFunc(func(e *core.RecordEvent) error {
		succeeded++
		return e.Next()
	})
	app.OnRecordAfterUpdateError(collections.Events).BindFunc(func(e *core.RecordErrorEvent) error {
		failed++
		if e.App.IsTransactional() {
			t.Error("the after-error hook got the transaction")
		}
		return e.Next()
	})
	rollBack := errors.New("roll back")
	err := app.RunInTransaction(func(tx core.App) error {
		r := core.NewRecord(hearthtest.Record(t, tx, collections.RSVPs, hearthtest.CarolRSVP).Collection())
		r.Load(map[string]any{"event": hearthtest.ClimbEvent, "user": hearthtest.Alice, "status": collections.StatusGoing})
		if err := tx.Save(r); err != nil {
			return err
		}
		return rollBack
	})
	if !errors.Is(err, rollBack) {
		t.Fatalf("transaction: %v", err)
	}
	if succeeded != 0 || failed != 1 {
		t.Errorf("after-success %d, after-error %d, want 0 and 1", succeeded, failed)
	}
	if got := collections.As[collections.Event](hearthtest.Record(t, app, collections.Events, hearthtest.ClimbEvent)).GoingCount(); got != 1 {
		t.Errorf("going_count %d after the rollback, want 1", got)
	}
}
