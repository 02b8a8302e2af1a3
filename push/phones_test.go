package push_test

import (
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/crews"
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

// The phones question is asked before the write's transaction opens:
// before PocketBase validates the message (its relation checks, on the
// read pool like the question, come after it), so the writer connection
// that every write waits for is not held while it is asked.
func TestPhonesQuestionBeforeTheWriteTransaction(t *testing.T) {
	t.Parallel()
	app := pushApp(t, newFakeExpo(t), nil)
	statements := hearthtest.StatementLog(t, app.ConcurrentDB())
	post(t, app, hearthtest.Climbers, hearthtest.Bob, "who climbs?")
	log := statements()
	question, validation := -1, -1
	for i, s := range log {
		switch {
		case question < 0 && isPhonesQuestion(s):
			question = i
		case validation < 0 && strings.HasPrefix(s, "SELECT count(*) FROM `groups`"):
			validation = i
		}
	}
	if question < 0 || validation < 0 || question > validation {
		t.Errorf("the phones question at %d, the group's validation at %d, want the question first:\n%q", question, validation, log)
	}
}

// A hook that moves a message to another group after the question was
// asked (between the create stage and the write) gets the answer for the
// group the message is written to: Bob's message to Climbers, where no
// phone is reachable, moved to Chess, where Erin has one.
func TestPhonesQuestionFollowsAMovedMessage(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewAppWith(t, func(app core.App, cfg crews.Config) {
		crews.Register(app, cfg)
		// Bound after crews.Register: runs after push's question.
		app.OnRecordCreate(collections.Messages).BindFunc(func(e *core.RecordEvent) error {
			if e.Record.GetString("body") == "move me" {
				e.Record.Set("group", hearthtest.Chess)
			}
			return e.Next()
		})
	})
	addDevice(t, app, hearthtest.Erin, "ExponentPushToken[erin-phone]")
	before := outboxRows(t, app)
	msg := post(t, app, hearthtest.Climbers, hearthtest.Bob, "move me")
	if g := msg.GetString("group"); g != hearthtest.Chess {
		t.Fatalf("the message is in %s, want Chess", g)
	}
	if n := outboxRows(t, app) - before; n != 1 {
		t.Errorf("%d outbox rows for the moved message, want 1", n)
	}
}
