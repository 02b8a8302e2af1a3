package push_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/crews"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/push"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

func newEvent(t testing.TB, app core.App, title string, starts time.Time, going ...string) *core.Record {
	t.Helper()
	ev := hearthtest.Save(t, app, collections.Events, "", map[string]any{"group": hearthtest.Climbers, "title": title, "starts_at": starts, "created_by": hearthtest.Carol})
	for _, u := range going {
		hearthtest.Save(t, app, collections.RSVPs, "", map[string]any{"event": ev.Id, "user": u, "status": collections.StatusGoing})
	}
	return ev
}

func schedule(t testing.TB, app core.App, now time.Time) int64 {
	t.Helper()
	n, err := push.ScheduleReminders(app, now)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// reminders returns the reminder pushes Expo accepted for token.
func reminders(f *fakeExpo, token string) []string {
	var out []string
	for _, m := range f.acceptedTo(token) {
		if m.Data["type"] == "reminder" {
			out = append(out, m.Body)
		}
	}
	slices.Sort(out)
	return out
}

// Reminders go to going members an hour before the start, exactly once:
// across two runs of the job, a late run, and a restarted server; a moved
// event is reminded at its new time, a deleted one not at all.
func TestReminders(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	app, clk := steppedApp(t, fake, nil)
	const bobPhone = "ExponentPushToken[bob-phone]"
	addDevice(t, app, hearthtest.Alice, alicePhone)
	addDevice(t, app, hearthtest.Bob, bobPhone)
	now := clk.now()

	soon := newEvent(t, app, "Bouldering", now.Add(30*time.Minute), hearthtest.Bob)
	hearthtest.Save(t, app, collections.RSVPs, "", map[string]any{"event": soon.Id, "user": hearthtest.Alice, "status": collections.StatusMaybe})
	newEvent(t, app, "Crag day", now.Add(2*time.Hour), hearthtest.Alice, hearthtest.Bob)
	moved := newEvent(t, app, "Gym", now.Add(40*time.Minute), hearthtest.Alice)
	deleted := newEvent(t, app, "Cancelled", now.Add(20*time.Minute), hearthtest.Alice)
	newEvent(t, app, "Started", now.Add(-time.Minute), hearthtest.Alice)
	flush(t, app) // the new-event pushes

	// Two runs of the job, the second a minute late: one reminder each.
	if n := schedule(t, app, now); n != 3 {
		t.Fatalf("first run scheduled %d reminders, want Bouldering, Gym and Cancelled", n)
	}
	if n := schedule(t, app, now.Add(time.Minute)); n != 0 {
		t.Fatalf("second run scheduled %d more", n)
	}
	// Before they go out, Gym moves to later and Cancelled is deleted.
	setStart(t, app, moved, now.Add(3*time.Hour))
	if err := app.Delete(deleted); err != nil {
		t.Fatal(err)
	}
	flush(t, app)
	if got, want := reminders(fake, bobPhone), []string{"Bouldering starts in 30 minutes."}; !slices.Equal(got, want) {
		t.Fatalf("Bob's reminders %q, want %q", got, want)
	}
	if got := reminders(fake, alicePhone); len(got) != 0 {
		t.Fatalf("Alice (maybe, moved, deleted) got %q", got)
	}

	// A restarted server: a second app on the same database runs the job
	// and its worker from scratch. Nothing goes twice.
	restarted := reopen(t, app, fake, clk)
	if n := schedule(t, restarted, now.Add(2*time.Minute)); n != 0 {
		t.Fatalf("the restarted job scheduled %d reminders", n)
	}
	flush(t, restarted)
	if got := reminders(fake, bobPhone); len(got) != 1 {
		t.Fatalf("after the restart Bob has %d reminders", len(got))
	}

	// An hour and a quarter later the job (late by 5 minutes) reminds Crag
	// day; three hours on, Gym at its new time.
	clk.advance(65 * time.Minute)
	schedule(t, restarted, clk.now())
	flush(t, restarted)
	clk.advance(75 * time.Minute)
	schedule(t, restarted, clk.now())
	flush(t, restarted)
	want := map[string][]string{
		alicePhone: {"Crag day starts in 55 minutes.", "Gym starts in 40 minutes."},
		bobPhone:   {"Bouldering starts in 30 minutes.", "Crag day starts in 55 minutes."},
	}
	for tok, w := range want {
		if got := reminders(fake, tok); !slices.Equal(got, w) {
			t.Errorf("%s: reminders %q, want %q", tok, got, w)
		}
	}
	// And the job running on, through the starts and beyond, adds nothing.
	for range 5 {
		clk.advance(time.Hour)
		schedule(t, app, clk.now())
		flush(t, app)
	}
	for tok, w := range want {
		if got := reminders(fake, tok); !slices.Equal(got, w) {
			t.Errorf("later: %s: reminders %q, want %q", tok, got, w)
		}
	}
}

func setStart(t testing.TB, app core.App, ev *core.Record, at time.Time) {
	t.Helper()
	fresh := mustFind(t, app, collections.Events, ev.Id)
	dt, err := types.ParseDateTime(at)
	if err != nil {
		t.Fatal(err)
	}
	fresh.Set("starts_at", dt)
	if err := app.Save(fresh); err != nil {
		t.Fatal(err)
	}
}

// reopen starts a second app on app's data dir, with the domain and push
// registered as a restarted server would have them.
func reopen(t testing.TB, app core.App, fake *fakeExpo, clk *clock) core.App {
	t.Helper()
	other := core.NewBaseApp(core.BaseAppConfig{DataDir: app.DataDir(), EncryptionEnv: "pb_test_env"})
	if err := other.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.ResetBootstrapState() })
	crews.Register(other, crews.Config{Now: clk.now, Push: push.Config{URL: fake.URL()}})
	if err := push.Flush(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	return other
}

// A reminder that comes due while the server is down goes at the restart
// if the event has not started yet.
func TestLateReminder(t *testing.T) {
	t.Parallel()
	fake := newFakeExpo(t)
	app, clk := steppedApp(t, fake, nil)
	addDevice(t, app, hearthtest.Alice, alicePhone)
	newEvent(t, app, "Bouldering", clk.now().Add(50*time.Minute), hearthtest.Alice)
	clk.advance(45 * time.Minute) // the job did not run: the server was down
	schedule(t, app, clk.now())
	flush(t, app)
	if got := reminders(fake, alicePhone); fmt.Sprint(got) != "[Bouldering starts in 5 minutes.]" {
		t.Fatalf("reminders %q", got)
	}
}
