package collections_test

import (
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

const rsvpsPath = "/api/collections/rsvps/records"

// rsvpOf returns user's RSVP to event.
func rsvpOf(t *testing.T, app core.App, event, user string) *core.Record {
	t.Helper()
	r, err := app.FindFirstRecordByFilter(collections.RSVPs, "event = {:e} && user = {:u}", dbx.Params{"e": event, "u": user})
	if err != nil {
		t.Fatalf("rsvp of %s to %s: %v", user, event, err)
	}
	return r
}

// checkCounts asserts the going and waitlisted RSVPs of event and that
// going_count equals the going ones.
func checkCounts(t *testing.T, app core.App, event string, going, waitlisted int) {
	t.Helper()
	for status, want := range map[string]int{collections.StatusGoing: going, collections.StatusWaitlisted: waitlisted} {
		n, err := app.CountRecords(collections.RSVPs, dbx.HashExp{"event": event, "status": status})
		if err != nil {
			t.Fatal(err)
		}
		if int(n) != want {
			t.Errorf("%d %s RSVPs, want %d", n, status, want)
		}
	}
	if gc := hearthtest.Record(t, app, collections.Events, event).GetInt("going_count"); gc != going {
		t.Errorf("going_count = %d, want %d", gc, going)
	}
}

// ClimbEvent: capacity 2, Carol going. Bob takes the last place; Alice is
// waitlisted; Carol cancels and Alice goes.
func TestWaitlistFlow(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	ev := hearthtest.ClimbEvent
	checkCounts(t, s.App, ev, 1, 0)

	bob := s.Do(t, http.MethodPost, rsvpsPath, hearthtest.Token(t, s.App, hearthtest.Bob), map[string]string{"event": ev, "status": "going"})
	if bob.Status != 200 || bob.Str("status") != "going" || bob.Str("waitlisted_at") != "" {
		t.Fatalf("bob: %d %s", bob.Status, bob.Raw)
	}
	alice := s.Do(t, http.MethodPost, rsvpsPath, hearthtest.Token(t, s.App, hearthtest.Alice), map[string]string{"event": ev, "status": "going"})
	if alice.Status != 200 || alice.Str("status") != "waitlisted" || alice.Str("waitlisted_at") == "" {
		t.Fatalf("alice should be waitlisted: %d %s", alice.Status, alice.Raw)
	}
	checkCounts(t, s.App, ev, 2, 1)

	// The event as clients read it carries the count.
	got := s.Do(t, http.MethodGet, "/api/collections/events/records/"+ev, hearthtest.Token(t, s.App, hearthtest.Bob), nil)
	if got.Body["going_count"] != float64(2) {
		t.Fatalf("event going_count over the API: %s", got.Raw)
	}

	del := s.Do(t, http.MethodDelete, rsvpsPath+"/"+hearthtest.CarolRSVP, hearthtest.Token(t, s.App, hearthtest.Carol), nil)
	if del.Status != http.StatusNoContent {
		t.Fatalf("carol cancels: %d %s", del.Status, del.Raw)
	}
	promoted := rsvpOf(t, s.App, ev, hearthtest.Alice)
	if promoted.GetString("status") != "going" || !promoted.GetDateTime("waitlisted_at").IsZero() {
		t.Fatalf("alice not promoted: %v", promoted)
	}
	checkCounts(t, s.App, ev, 2, 0)
}

func TestGoingChangedToMaybePromotes(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	ev := hearthtest.ClimbEvent
	s.Do(t, http.MethodPost, rsvpsPath, hearthtest.Token(t, s.App, hearthtest.Bob), map[string]string{"event": ev, "status": "going"})
	s.Do(t, http.MethodPost, rsvpsPath, hearthtest.Token(t, s.App, hearthtest.Alice), map[string]string{"event": ev, "status": "going"})

	res := s.Do(t, http.MethodPatch, rsvpsPath+"/"+hearthtest.CarolRSVP, hearthtest.Token(t, s.App, hearthtest.Carol), map[string]string{"status": "maybe"})
	if res.Status != 200 || res.Str("status") != "maybe" {
		t.Fatalf("carol maybe: %d %s", res.Status, res.Raw)
	}
	if st := rsvpOf(t, s.App, ev, hearthtest.Alice).GetString("status"); st != "going" {
		t.Fatalf("alice %s, want going", st)
	}
	checkCounts(t, s.App, ev, 2, 0)

	// Carol asks for going again: the event is full, so she waits.
	res = s.Do(t, http.MethodPatch, rsvpsPath+"/"+hearthtest.CarolRSVP, hearthtest.Token(t, s.App, hearthtest.Carol), map[string]string{"status": "going"})
	if res.Status != 200 || res.Str("status") != "waitlisted" {
		t.Fatalf("carol going again: %d %s", res.Status, res.Raw)
	}
	checkCounts(t, s.App, ev, 2, 1)
}

func TestClientCannotSetWaitlisted(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	ev := hearthtest.ClimbEvent
	res := s.Do(t, http.MethodPost, rsvpsPath, hearthtest.Token(t, s.App, hearthtest.Bob), map[string]string{"event": ev, "status": "waitlisted"})
	if res.Status != 400 || res.FieldCode("status") != "validation_server_managed" {
		t.Fatalf("create waitlisted: %d %s", res.Status, res.Raw)
	}
	res = s.Do(t, http.MethodPatch, rsvpsPath+"/"+hearthtest.CarolRSVP, hearthtest.Token(t, s.App, hearthtest.Carol), map[string]string{"status": "waitlisted"})
	if res.Status != 400 || res.FieldCode("status") != "validation_server_managed" {
		t.Fatalf("update to waitlisted: %d %s", res.Status, res.Raw)
	}
	res = s.Do(t, http.MethodPatch, rsvpsPath+"/"+hearthtest.CarolRSVP, hearthtest.Token(t, s.App, hearthtest.Carol), map[string]string{"waitlisted_at": "2030-01-01 00:00:00.000Z"})
	if res.Status != 400 || res.FieldCode("waitlisted_at") != "validation_server_managed" {
		t.Fatalf("set waitlisted_at: %d %s", res.Status, res.Raw)
	}
	if st := hearthtest.Record(t, s.App, collections.RSVPs, hearthtest.CarolRSVP).GetString("status"); st != "going" {
		t.Fatalf("carol's status changed to %s", st)
	}
	checkCounts(t, s.App, ev, 1, 0)

	res = s.Do(t, http.MethodPatch, "/api/collections/events/records/"+ev, hearthtest.Token(t, s.App, hearthtest.Carol), map[string]any{"going_count": 7})
	if res.Status != 400 || res.FieldCode("going_count") != "validation_server_managed" {
		t.Fatalf("set going_count: %d %s", res.Status, res.Raw)
	}
}

// A waitlisted person asking for going again, or echoing their record back,
// keeps their place in the line; answering maybe leaves it.
func TestWaitlistPlaceIsKept(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	ev := hearthtest.ClimbEvent
	s.Do(t, http.MethodPost, rsvpsPath, hearthtest.Token(t, s.App, hearthtest.Bob), map[string]string{"event": ev, "status": "going"})
	alice := s.Do(t, http.MethodPost, rsvpsPath, hearthtest.Token(t, s.App, hearthtest.Alice), map[string]string{"event": ev, "status": "going"})
	ids, tokens := hearthtest.NewUsers(t, s.App, "later", 1)
	hearthtest.AddMembers(t, s.App, hearthtest.Climbers, ids)
	hearthtest.SetNow(t, s.App, func() time.Time { return time.Now().Add(time.Minute) })
	later := s.Do(t, http.MethodPost, rsvpsPath, tokens[0], map[string]string{"event": ev, "status": "going"})
	if alice.Str("status") != "waitlisted" || later.Str("status") != "waitlisted" {
		t.Fatalf("setup: alice %s, later %s", alice.Raw, later.Raw)
	}

	for _, body := range []map[string]string{{"status": "going"}, {"status": "waitlisted"}} {
		res := s.Do(t, http.MethodPatch, rsvpsPath+"/"+alice.Str("id"), hearthtest.Token(t, s.App, hearthtest.Alice), body)
		if res.Status != 200 || res.Str("status") != "waitlisted" || res.Str("waitlisted_at") != alice.Str("waitlisted_at") {
			t.Fatalf("alice re-asks %v: %d %s", body, res.Status, res.Raw)
		}
	}

	// Carol cancels: Alice, first in line, goes; the later one still waits.
	s.Do(t, http.MethodDelete, rsvpsPath+"/"+hearthtest.CarolRSVP, hearthtest.Token(t, s.App, hearthtest.Carol), nil)
	if st := hearthtest.Record(t, s.App, collections.RSVPs, alice.Str("id")).GetString("status"); st != "going" {
		t.Fatalf("alice %s, want going", st)
	}
	if st := hearthtest.Record(t, s.App, collections.RSVPs, later.Str("id")).GetString("status"); st != "waitlisted" {
		t.Fatalf("later %s, want waitlisted", st)
	}

	res := s.Do(t, http.MethodPatch, rsvpsPath+"/"+later.Str("id"), tokens[0], map[string]string{"status": "maybe"})
	if res.Status != 200 || res.Str("status") != "maybe" || res.Str("waitlisted_at") != "" {
		t.Fatalf("later answers maybe: %d %s", res.Status, res.Raw)
	}
	checkCounts(t, s.App, ev, 2, 0)
}

func TestCapacityChanges(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	ev := hearthtest.ClimbEvent
	ids, tokens := hearthtest.NewUsers(t, s.App, "climber", 5)
	hearthtest.AddMembers(t, s.App, hearthtest.Climbers, ids)
	for _, tok := range tokens {
		if res := s.Do(t, http.MethodPost, rsvpsPath, tok, map[string]string{"event": ev, "status": "going"}); res.Status != 200 {
			t.Fatalf("rsvp: %d %s", res.Status, res.Raw)
		}
	}
	checkCounts(t, s.App, ev, 2, 4)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	patchEvent := func(body map[string]any) {
		t.Helper()
		if res := s.Do(t, http.MethodPatch, "/api/collections/events/records/"+ev, carol, body); res.Status != 200 {
			t.Fatalf("patch event %v: %d %s", body, res.Status, res.Raw)
		}
	}

	patchEvent(map[string]any{"capacity": 4})
	checkCounts(t, s.App, ev, 4, 2)
	for _, id := range ids[:3] {
		if st := rsvpOf(t, s.App, ev, id).GetString("status"); st != "going" {
			t.Errorf("first waitlisted %s is %s after raise", id, st)
		}
	}

	// Lowered below those going: they keep their places, newcomers wait.
	patchEvent(map[string]any{"capacity": 1})
	checkCounts(t, s.App, ev, 4, 2)
	if res := s.Do(t, http.MethodPost, rsvpsPath, hearthtest.Token(t, s.App, hearthtest.Bob), map[string]string{"event": ev, "status": "going"}); res.Str("status") != "waitlisted" {
		t.Fatalf("bob after lowering: %s", res.Raw)
	}
	// One going cancels: still over capacity, nobody is promoted.
	s.Do(t, http.MethodDelete, rsvpsPath+"/"+hearthtest.CarolRSVP, carol, nil)
	checkCounts(t, s.App, ev, 3, 3)

	patchEvent(map[string]any{"capacity": 0})
	checkCounts(t, s.App, ev, 6, 0)
}

// going_count is recounted inside every write, so an event saved from a
// copy read before RSVPs changed does not write an old count back.
func TestGoingCountIsRecountedOnStaleWrite(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	stale := hearthtest.Record(t, app, collections.Events, hearthtest.ClimbEvent)
	if _, err := app.FindRecordById(collections.RSVPs, hearthtest.CarolRSVP); err != nil {
		t.Fatal(err)
	}
	if err := app.Delete(hearthtest.Record(t, app, collections.RSVPs, hearthtest.CarolRSVP)); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, app, hearthtest.ClimbEvent, 0, 0)
	stale.Set("title", "Renamed")
	stale.Set("going_count", 5)
	if err := app.Save(stale); err != nil {
		t.Fatal(err)
	}
	checkCounts(t, app, hearthtest.ClimbEvent, 0, 0)
}

// The API rule admits only members; the hook checks again inside the
// write, and holds for Go and dashboard writes too.
func TestRSVPNeedsMembership(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	col, err := app.FindCachedCollectionByNameOrId(collections.RSVPs)
	if err != nil {
		t.Fatal(err)
	}
	r := core.NewRecord(col)
	r.Load(map[string]any{"event": hearthtest.ClimbEvent, "user": hearthtest.Erin, "status": "going"})
	err = app.Save(r)
	if collections.ErrorCode(err) != collections.EFORBIDDEN {
		t.Fatalf("outsider rsvp: %v", err)
	}
	checkCounts(t, app, hearthtest.ClimbEvent, 1, 0)
}

// A hundred members ask to go at once to an event for ten: ten go, ninety
// wait, going_count is ten. Then five of those going cancel at once: the
// five who waited longest go.
func TestConcurrentRSVPsFillCapacityThenPromote(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	evRec := hearthtest.Save(t, s.App, collections.Events, hearthtest.ClimbEvent, map[string]any{"capacity": 10})
	ev := evRec.Id
	if err := s.App.Delete(hearthtest.Record(t, s.App, collections.RSVPs, hearthtest.CarolRSVP)); err != nil {
		t.Fatal(err)
	}
	users, tokens := hearthtest.NewUsers(t, s.App, "rsvper", 100)
	hearthtest.AddMembers(t, s.App, hearthtest.Climbers, users)

	results := make([]hearthtest.Response, len(tokens))
	parallel(len(tokens), func(i int) {
		results[i] = s.Do(t, http.MethodPost, rsvpsPath, tokens[i], map[string]string{"event": ev, "status": "going"})
	})
	answered := map[string]int{}
	var going []int
	for i, res := range results {
		if res.Status != 200 {
			t.Fatalf("rsvp %d: %d %s", i, res.Status, res.Raw)
		}
		answered[res.Str("status")]++
		if res.Str("status") == "going" {
			going = append(going, i)
		}
		if stored := hearthtest.Record(t, s.App, collections.RSVPs, res.Str("id")).GetString("status"); stored != res.Str("status") {
			t.Errorf("rsvp %d answered %s, stored %s", i, res.Str("status"), stored)
		}
	}
	if answered["going"] != 10 || answered["waitlisted"] != 90 {
		t.Fatalf("answers: %v, want 10 going and 90 waitlisted", answered)
	}
	checkCounts(t, s.App, ev, 10, 90)

	waitlist := waitlistInOrder(t, s.App, ev)
	cancel := going[:5]
	parallel(len(cancel), func(i int) {
		u := cancel[i]
		if res := s.Do(t, http.MethodDelete, rsvpsPath+"/"+results[u].Str("id"), tokens[u], nil); res.Status != http.StatusNoContent {
			t.Errorf("cancel %d: %d %s", u, res.Status, res.Raw)
		}
	})
	checkCounts(t, s.App, ev, 10, 85)

	var latestPromoted, earliestWaiting types.DateTime
	for i, r := range waitlist {
		stored := hearthtest.Record(t, s.App, collections.RSVPs, r.Id)
		want := "waitlisted"
		if i < 5 {
			want = "going"
		}
		if stored.GetString("status") != want {
			t.Errorf("waitlist place %d is %s, want %s", i, stored.GetString("status"), want)
		}
		since := r.GetDateTime("waitlisted_at")
		if want == "going" && since.After(latestPromoted) {
			latestPromoted = since
		}
		if want == "waitlisted" && (earliestWaiting.IsZero() || since.Before(earliestWaiting)) {
			earliestWaiting = since
		}
	}
	if earliestWaiting.Before(latestPromoted) {
		t.Fatalf("someone who waited since %s was passed over for someone waiting since %s", earliestWaiting, latestPromoted)
	}
}

// waitlistInOrder lists event's waitlisted RSVPs in the order they joined
// the waitlist (insertion order within one millisecond).
func waitlistInOrder(t *testing.T, app core.App, event string) []*core.Record {
	t.Helper()
	type row struct {
		ID    string `db:"id"`
		Since string `db:"waitlisted_at"`
		Rowid int64  `db:"rowid"`
	}
	var rows []row
	err := app.DB().Select("id", "waitlisted_at", "rowid").From(collections.RSVPs).
		Where(dbx.HashExp{"event": event, "status": collections.StatusWaitlisted}).All(&rows)
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Since != rows[j].Since {
			return rows[i].Since < rows[j].Since
		}
		return rows[i].Rowid < rows[j].Rowid
	})
	out := make([]*core.Record, len(rows))
	for i, r := range rows {
		out[i] = hearthtest.Record(t, app, collections.RSVPs, r.ID)
	}
	return out
}

// parallel runs f(0..n-1) in n goroutines released at once.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f(i)
		}()
	}
	close(start)
	wg.Wait()
}
