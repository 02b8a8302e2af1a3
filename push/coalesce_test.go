package push_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
)

const alicePhone = "ExponentPushToken[alice-phone]"

func bodies(msgs []expoMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.Body
	}
	return out
}

// A burst of messages: the first goes at once, the rest wait for the end
// of the window and go as one summary; each group has its own window.
func TestCoalescing(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	app, clk := steppedApp(t, fake, nil)
	addDevice(t, app, hearthtest.Alice, alicePhone)
	if _, err := collections.AddMember(app, hearthtest.Chess, hearthtest.Alice, collections.RoleMember); err != nil {
		t.Fatal(err)
	}
	expect := func(step string, want ...string) {
		t.Helper()
		flush(t, app)
		if got := bodies(fake.acceptedTo(alicePhone)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: Alice got %q, want %q", step, got, want)
		}
	}

	post(t, app, hearthtest.Climbers, hearthtest.Bob, "first")
	expect("first message", "Bob: first")
	var last string
	for i := 2; i <= 5; i++ {
		clk.advance(time.Second)
		last = post(t, app, hearthtest.Climbers, hearthtest.Bob, fmt.Sprintf("message %d", i)).Id
		expect(fmt.Sprintf("message %d in the window", i), "Bob: first")
	}
	post(t, app, hearthtest.Chess, hearthtest.Dave, "Clocks?")
	expect("another group's window", "Bob: first", "Dave: Clocks?")

	clk.advance(55*time.Second + 999*time.Millisecond) // 59.999 s after the first push
	expect("just before the window ends", "Bob: first", "Dave: Clocks?")
	clk.advance(time.Millisecond)
	expect("the window ends", "Bob: first", "Dave: Clocks?", "4 new messages in Climbers")
	summary := fake.acceptedTo(alicePhone)[2]
	if summary.Title != "Climbers" || summary.Data["count"] != float64(4) || summary.Data["message"] != last {
		t.Errorf("summary: %+v", summary)
	}
	// The dashboard shows it as sent.
	var shown string
	if err := app.DB().NewQuery("SELECT body FROM pushes WHERE count = 4").Row(&shown); err != nil || shown != "4 new messages in Climbers" {
		t.Errorf("the pushes view shows %q: %v", shown, err)
	}

	// One message in the next window waits for it, and shows itself.
	clk.advance(time.Second)
	post(t, app, hearthtest.Climbers, hearthtest.Bob, "sixth")
	expect("a message right after the summary", "Bob: first", "Dave: Clocks?", "4 new messages in Climbers")
	clk.advance(59 * time.Second)
	expect("the next window ends", "Bob: first", "Dave: Clocks?", "4 new messages in Climbers", "Bob: sixth")

	// After a quiet window a message goes at once.
	clk.advance(5 * time.Minute)
	post(t, app, hearthtest.Climbers, hearthtest.Bob, "seventh")
	expect("after a quiet spell", "Bob: first", "Dave: Clocks?", "4 new messages in Climbers", "Bob: sixth", "Bob: seventh")
}

// Messages written before the worker gets to them are one push.
func TestBurstBeforeTheFirstSendIsOnePush(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	app, _ := steppedApp(t, fake, nil)
	addDevice(t, app, hearthtest.Alice, alicePhone)
	for i := range 10 {
		post(t, app, hearthtest.Climbers, hearthtest.Bob, fmt.Sprintf("message %d", i))
	}
	flush(t, app)
	if got := bodies(fake.acceptedTo(alicePhone)); len(got) != 1 || got[0] != "10 new messages in Climbers" {
		t.Fatalf("Alice got %q", got)
	}
}

// Whatever the rhythm of a conversation, each member gets at most one
// message push per group per window, and the pushes account for every
// message.
func TestCoalescingKeepsTheWindowAndLosesNothing(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	app, clk := steppedApp(t, fake, nil)
	rng := rand.New(rand.NewPCG(7, 11))
	addDevice(t, app, hearthtest.Alice, alicePhone)
	start := clk.now()
	const messages = 120
	for i := range messages {
		clk.advance(time.Duration(rng.IntN(20_000)) * time.Millisecond)
		author := []string{hearthtest.Bob, hearthtest.Carol}[rng.IntN(2)]
		post(t, app, hearthtest.Climbers, author, fmt.Sprintf("message %d", i))
		if rng.IntN(3) > 0 {
			flush(t, app)
		}
	}
	clk.advance(time.Hour)
	flush(t, app)

	rows := pushRows(t, app, dbx.HashExp{"user": hearthtest.Alice, "kind": "message"})
	total := 0
	for i, r := range rows {
		if r.State != "delivered" {
			t.Fatalf("push %d is %s", r.ID, r.State)
		}
		total += r.Count
		if i > 0 && r.Sent-rows[i-1].Sent < time.Minute.Milliseconds() {
			t.Errorf("pushes %d and %d went %d ms apart, inside the window", rows[i-1].ID, r.ID, r.Sent-rows[i-1].Sent)
		}
	}
	if total != messages {
		t.Errorf("the pushes stand for %d messages, want %d", total, messages)
	}
	if n := len(fake.acceptedTo(alicePhone)); n != len(rows) {
		t.Errorf("Expo accepted %d pushes for %d rows", n, len(rows))
	}
	t.Logf("%d messages over %s: %d pushes", messages, clk.now().Add(-time.Hour).Sub(start).Round(time.Second), len(rows))
}
