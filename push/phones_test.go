package push_test

import (
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/push"
	"github.com/pocketbase/pocketbase/core"
)

// A message or an event stores an outbox row, and wakes the worker once
// committed, only when its group has another member's phone that did not
// mute it: in the fixture, Carol's phone is the only one and she muted
// Climbers, so nothing is stored until Alice registers one. The author's
// own phone reaches nobody.
func TestOutboxRowOnlyWithAPhoneToReach(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	app := pushApp(t, fake, nil)
	// What PocketBase hands the after-success hooks, which wake the worker.
	woke := map[string]bool{}
	app.OnRecordAfterCreateSuccess(collections.Messages, collections.Events).BindFunc(func(e *core.RecordEvent) error {
		woke[e.Record.Id] = push.Enqueued(e.Context)
		return e.Next()
	})
	before := outboxRows(t, app)
	expect := func(what string, r *core.Record, rows int, wake bool) {
		t.Helper()
		if n := outboxRows(t, app); n != before+rows {
			t.Errorf("%s: %d outbox rows, want %d", what, n-before, rows)
		}
		if woke[r.Id] != wake {
			t.Errorf("%s: the worker woken %v, want %v", what, woke[r.Id], wake)
		}
	}

	expect("a message when only a muting member has a phone",
		post(t, app, hearthtest.Climbers, hearthtest.Bob, "anyone?"), 0, false)
	addDevice(t, app, hearthtest.Bob, "ExponentPushToken[bob-phone]")
	expect("a message whose author alone has a phone besides",
		post(t, app, hearthtest.Climbers, hearthtest.Bob, "still nobody"), 0, false)
	event := hearthtest.Save(t, app, collections.Events, "", map[string]any{"group": hearthtest.Climbers, "title": "Crag day", "starts_at": "2030-01-01 10:00:00.000Z", "created_by": hearthtest.Bob})
	expect("an event likewise", event, 0, false)

	addDevice(t, app, hearthtest.Alice, alicePhone)
	expect("a message once Alice has a phone",
		post(t, app, hearthtest.Climbers, hearthtest.Bob, "Alice?"), 1, true)
	event = hearthtest.Save(t, app, collections.Events, "", map[string]any{"group": hearthtest.Climbers, "title": "Gym night", "starts_at": "2030-01-02 19:00:00.000Z", "created_by": hearthtest.Bob})
	expect("an event once Alice has a phone", event, 2, true)
	expect("Alice's own message, with Bob's phone to reach",
		post(t, app, hearthtest.Climbers, hearthtest.Alice, "Bob!"), 3, true)

	deliver(t, app)
	if got := len(fake.acceptedTo(alicePhone)); got == 0 {
		t.Errorf("Alice got no push")
	}
}
