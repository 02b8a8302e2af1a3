package push_test

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/push"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
)

func outboxRows(t testing.TB, app core.App) int {
	t.Helper()
	var n int
	if err := app.DB().Select("COUNT(*)").From("_hearth_push_outbox").Row(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// A write that rolls back takes its outbox row along: a batch request
// that fails, and a later hook of the same write that fails.
func TestRolledBackWritesSendNothing(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	app := pushApp(t, fake, nil)
	addDevice(t, app, hearthtest.Alice, alicePhone)
	before := outboxRows(t, app)
	settings := app.Settings()
	settings.Batch.Enabled = true
	if err := app.Save(settings); err != nil {
		t.Fatal(err)
	}
	// A hook that wraps the write in its transaction, as the domain's own
	// hooks do, and refuses it after everything inside has run: the
	// message, its change log row and its outbox row.
	failing := errors.New("refused after the write")
	app.OnRecordCreateExecute(collections.Messages).Bind(&hook.Handler[*core.RecordEvent]{
		Priority: -1,
		Func: func(e *core.RecordEvent) error {
			original := e.App
			defer func() { e.App = original }()
			return original.RunInTransaction(func(tx core.App) error {
				e.App = tx
				if err := e.Next(); err != nil {
					return err
				}
				if e.Record.GetString("body") == "boom" {
					if n := outboxRows(t, tx); n != before+1 {
						t.Errorf("inside the transaction the outbox has %d rows, want the new one", n)
					}
					return failing
				}
				return nil
			})
		},
	})
	base := hearthtest.Serve(t, app).URL

	message := func(body string) map[string]any {
		return map[string]any{"method": "POST", "url": "/api/collections/messages/records", "body": map[string]any{"group": hearthtest.Climbers, "body": body}}
	}
	api(t, app, base, http.MethodPost, "/api/batch", hearthtest.Bob, map[string]any{"requests": []any{message("kept?"), message("")}}).must(t, http.StatusBadRequest, "a batch whose second write fails")
	api(t, app, base, http.MethodPost, "/api/collections/messages/records", hearthtest.Bob, map[string]any{"group": hearthtest.Climbers, "body": "boom"}).must(t, http.StatusBadRequest, "a write whose later hook fails")
	if n, err := app.CountRecords(collections.Messages, dbx.HashExp{"author": hearthtest.Bob}); err != nil || n != 0 {
		t.Fatalf("%d of Bob's messages stored: %v", n, err)
	}
	if after := outboxRows(t, app); after != before {
		t.Fatalf("outbox rows %d -> %d after rolled-back writes", before, after)
	}

	// The same batch without the failing write asks for its pushes.
	api(t, app, base, http.MethodPost, "/api/batch", hearthtest.Bob, map[string]any{"requests": []any{message("one"), message("two")}}).must(t, http.StatusOK, "a batch that commits")
	if after := outboxRows(t, app); after != before+2 {
		t.Fatalf("outbox rows %d -> %d after a committed batch of two", before, after)
	}
	deliver(t, app)
	if got := bodies(fake.acceptedTo(alicePhone)); len(got) != 1 || got[0] != "2 new messages in Climbers" {
		t.Fatalf("Alice got %q", got)
	}
}

// A push waits (for its window, or for Expo to come back) and is checked
// again before it goes: a phone signed in by someone else since, a member
// who left or muted the group, a message deleted since, each drop it.
func TestPushesAreCheckedBeforeSending(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	app, clk := steppedApp(t, fake, nil)
	const (
		davePhone = "ExponentPushToken[dave-phone]"
		erinPhone = "ExponentPushToken[erin-phone]"
		bobPhone  = "ExponentPushToken[bob-phone]"
	)
	// Carol unmutes Climbers; Dave and Erin join it.
	if err := app.Delete(mustFind(t, app, collections.Mutes, hearthtest.CarolMute)); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{hearthtest.Dave, hearthtest.Erin} {
		if _, err := collections.AddMember(app, hearthtest.Climbers, u, collections.RoleMember); err != nil {
			t.Fatal(err)
		}
	}
	addDevice(t, app, hearthtest.Alice, alicePhone)
	addDevice(t, app, hearthtest.Dave, davePhone)
	addDevice(t, app, hearthtest.Erin, erinPhone)
	addDevice(t, app, hearthtest.Bob, bobPhone)

	// Expo is down when the first message goes out.
	fake.answer(status(http.StatusServiceUnavailable))
	post(t, app, hearthtest.Climbers, hearthtest.Bob, "Who's in?")
	flush(t, app)
	if got := len(pushRows(t, app, dbx.HashExp{"state": "pending"})); got != 4 {
		t.Fatalf("%d pending pushes, want Alice's, Carol's, Dave's and Erin's", got)
	}

	// Meanwhile: Bob signs in on Carol's phone, Dave leaves, Erin mutes.
	addDevice(t, app, hearthtest.Bob, hearthtest.CarolToken)
	if err := app.Delete(mustFind(t, app, collections.Memberships, hearthtest.MembershipID(t, app, hearthtest.Climbers, hearthtest.Dave))); err != nil {
		t.Fatal(err)
	}
	hearthtest.Save(t, app, collections.Mutes, "", map[string]any{"user": hearthtest.Erin, "group": hearthtest.Climbers})
	clk.advance(time.Minute)
	flush(t, app)

	for tok, want := range map[string]string{
		alicePhone:            "accepted",
		hearthtest.CarolToken: "dropped: the phone is no longer registered to the recipient",
		davePhone:             "dropped: the recipient is no longer a member of the group",
		erinPhone:             "dropped: the recipient muted the group",
	} {
		r := stateOf(t, app, tok)
		if got := r.State + map[bool]string{true: ": " + r.Error}[r.Error != ""]; got != want {
			t.Errorf("%s: %s, want %s", tok, got, want)
		}
	}
	// Bob never gets Carol's push on her old phone, nor his own message.
	if n := len(fake.acceptedTo(hearthtest.CarolToken)) + len(fake.acceptedTo(bobPhone)); n != 0 {
		t.Errorf("%d pushes to Bob's phones", n)
	}

	// A message deleted before its pushes go takes them along: Alice's,
	// and Bob's on both his phones.
	fake.answer(status(http.StatusServiceUnavailable))
	clk.advance(time.Hour)
	second := post(t, app, hearthtest.Climbers, hearthtest.Carol, "Me!")
	flush(t, app)
	if err := app.Delete(second); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Minute)
	flush(t, app)
	rows := pushRows(t, app, dbx.HashExp{"body": "Carol: Me!"})
	if len(rows) != 3 {
		t.Fatalf("%d pushes of the deleted message, want Alice's and Bob's two", len(rows))
	}
	for _, r := range rows {
		if r.State != "dropped" || r.Error != "the message was deleted" {
			t.Errorf("push of a deleted message: %+v", r)
		}
	}
	if s := stats(t, app); s.Dropped != 6 || len(pushRows(t, app, dbx.HashExp{"state": "dropped"})) != 6 {
		t.Errorf("stats: %+v", s)
	}
}

func mustFind(t testing.TB, app core.App, collection, id string) *core.Record {
	t.Helper()
	r, err := app.FindRecordById(collection, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Finished rows go after the retention window; waiting ones never do.
func TestPrune(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	app, clk := steppedApp(t, fake, nil)
	addDevice(t, app, hearthtest.Alice, alicePhone)
	addDevice(t, app, hearthtest.Alice, "ExponentPushToken[down]")
	post(t, app, hearthtest.Climbers, hearthtest.Bob, "Old news")
	fake.ticketErrors["ExponentPushToken[down]"] = "MessageRateExceeded"
	flush(t, app)
	clk.advance(16 * time.Minute)
	flush(t, app) // Alice's phone: delivered; the other still retrying

	n, err := push.Prune(app, 3*time.Hour, clk.now().Add(2*time.Hour))
	if err != nil || n != 0 {
		t.Fatalf("pruned %d rows inside the window: %v", n, err)
	}
	outbox := outboxRows(t, app) // this test's message and the fixture world's
	n, err = push.Prune(app, 3*time.Hour, clk.now().Add(4*time.Hour))
	if err != nil || n != int64(1+outbox) {
		t.Fatalf("pruned %d rows after the window, want the delivered push and %d expanded outbox rows: %v", n, outbox, err)
	}
	if rows := pushRows(t, app, nil); len(rows) != 1 || rows[0].State != "pending" {
		t.Fatalf("left: %+v", rows)
	}
	if left := outboxRows(t, app); left != 0 {
		t.Fatalf("%d outbox rows left", left)
	}
	// An outbox row not yet expanded stays, however old.
	post(t, app, hearthtest.Climbers, hearthtest.Bob, "Not expanded yet")
	if n, err := push.Prune(app, 3*time.Hour, clk.now().Add(24*time.Hour)); err != nil || n != 0 || outboxRows(t, app) != 1 {
		t.Fatalf("pruned %d rows, an unexpanded one among them: %v", n, err)
	}
}

// Messages posted at once, by several members, each write their outbox
// row, and the pushes a member gets account for every one of them.
func TestParallelMessagesLoseNothing(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	app := pushApp(t, fake, nil)
	addDevice(t, app, hearthtest.Alice, alicePhone)
	before := outboxRows(t, app)
	base := hearthtest.Serve(t, app).URL
	const n = 30
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			author := []string{hearthtest.Bob, hearthtest.Carol}[i%2]
			res := api(t, app, base, http.MethodPost, "/api/collections/messages/records", author, map[string]any{"group": hearthtest.Climbers, "body": fmt.Sprint("message ", i)})
			if res.status != http.StatusOK {
				t.Errorf("post %d: %d %v", i, res.status, res.body)
			}
		}()
	}
	wg.Wait()
	if got := outboxRows(t, app); got != before+n {
		t.Fatalf("%d outbox rows for %d messages", got-before, n)
	}
	deliver(t, app)
	total := 0
	for _, r := range pushRows(t, app, dbx.HashExp{"user": hearthtest.Alice}) {
		total += r.Count
	}
	if total != n {
		t.Fatalf("Alice's pushes stand for %d messages, want %d", total, n)
	}
	if got := bodies(fake.acceptedTo(alicePhone)); len(got) != 1 || got[0] != fmt.Sprintf("%d new messages in Climbers", n) {
		t.Errorf("Alice got %q", got)
	}
}
