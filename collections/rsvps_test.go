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
	if gc := record(t, app, collections.Events, event).GetInt("going_count"); gc != going {
		t.Errorf("going_count = %d, want %d", gc, going)
	}
}

// ClimbEvent: capacity 2, Carol going. Bob takes the last place; Alice is
// waitlisted; Carol cancels and Alice goes.
func TestWaitlistFlow(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ev := hearthtest.ClimbEvent
	checkCounts(t, s.app, ev, 1, 0)

	bob := s.do(t, http.MethodPost, rsvpsPath, token(t, s.app, hearthtest.Bob), map[string]string{"event": ev, "status": "going"})
	if bob.Status != 200 || bob.str("status") != "going" || bob.str("waitlisted_at") != "" {
		t.Fatalf("bob: %d %s", bob.Status, bob.Raw)
	}
	alice := s.do(t, http.MethodPost, rsvpsPath, token(t, s.app, hearthtest.Alice), map[string]string{"event": ev, "status": "going"})
	if alice.Status != 200 || alice.str("status") != "waitlisted" || alice.str("waitlisted_at") == "" {
		t.Fatalf("alice should be waitlisted: %d %s", alice.Status, alice.Raw)
	}
	checkCounts(t, s.app, ev, 2, 1)

	// The event as clients read it carries the count.
	got := s.do(t, http.MethodGet, "/api/collections/events/records/"+ev, token(t, s.app, hearthtest.Bob), nil)
	if got.Body["going_count"] != float64(2) {
		t.Fatalf("event going_count over the API: %s", got.Raw)
	}

	del := s.do(t, http.MethodDelete, rsvpsPath+"/"+hearthtest.CarolRSVP, token(t, s.app, hearthtest.Carol), nil)
	if del.Status != http.StatusNoContent {
		t.Fatalf("carol cancels: %d %s", del.Status, del.Raw)
	}
	promoted := rsvpOf(t, s.app, ev, hearthtest.Alice)
	if promoted.GetString("status") != "going" || !promoted.GetDateTime("waitlisted_at").IsZero() {
		t.Fatalf("alice not promoted: %v", promoted)
	}
	checkCounts(t, s.app, ev, 2, 0)
}

func TestGoingChangedToMaybePromotes(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ev := hearthtest.ClimbEvent
	s.do(t, http.MethodPost, rsvpsPath, token(t, s.app, hearthtest.Bob), map[string]string{"event": ev, "status": "going"})
	s.do(t, http.MethodPost, rsvpsPath, token(t, s.app, hearthtest.Alice), map[string]string{"event": ev, "status": "going"})

	res := s.do(t, http.MethodPatch, rsvpsPath+"/"+hearthtest.CarolRSVP, token(t, s.app, hearthtest.Carol), map[string]string{"status": "maybe"})
	if res.Status != 200 || res.str("status") != "maybe" {
		t.Fatalf("carol maybe: %d %s", res.Status, res.Raw)
	}
	if st := rsvpOf(t, s.app, ev, hearthtest.Alice).GetString("status"); st != "going" {
		t.Fatalf("alice %s, want going", st)
	}
	checkCounts(t, s.app, ev, 2, 0)

	// Carol asks for going again: the event is full, so she waits.
	res = s.do(t, http.MethodPatch, rsvpsPath+"/"+hearthtest.CarolRSVP, token(t, s.app, hearthtest.Carol), map[string]string{"status": "going"})
	if res.Status != 200 || res.str("status") != "waitlisted" {
		t.Fatalf("carol going again: %d %s", res.Status, res.Raw)
	}
	checkCounts(t, s.app, ev, 2, 1)
}

func TestClientCannotSetWaitlisted(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ev := hearthtest.ClimbEvent
	res := s.do(t, http.MethodPost, rsvpsPath, token(t, s.app, hearthtest.Bob), map[string]string{"event": ev, "status": "waitlisted"})
	if res.Status != 400 || res.fieldCode("status") != "validation_server_managed" {
		t.Fatalf("create waitlisted: %d %s", res.Status, res.Raw)
	}
	res = s.do(t, http.MethodPatch, rsvpsPath+"/"+hearthtest.CarolRSVP, token(t, s.app, hearthtest.Carol), map[string]string{"status": "waitlisted"})
	if res.Status != 400 || res.fieldCode("status") != "validation_server_managed" {
		t.Fatalf("update to waitlisted: %d %s", res.Status, res.Raw)
	}
	res = s.do(t, http.MethodPatch, rsvpsPath+"/"+hearthtest.CarolRSVP, token(t, s.app, hearthtest.Carol), map[string]string{"waitlisted_at": "2030-01-01 00:00:00.000Z"})
	if res.Status != 400 || res.fieldCode("waitlisted_at") != "validation_server_managed" {
		t.Fatalf("set waitlisted_at: %d %s", res.Status, res.Raw)
	}
	if st := record(t, s.app, collections.RSVPs, hearthtest.CarolRSVP).GetString("status"); st != "going" {
		t.Fatalf("carol's status changed to %s", st)
	}
	checkCounts(t, s.app, ev, 1, 0)

	res = s.do(t, http.MethodPatch, "/api/collections/events/records/"+ev, token(t, s.app, hearthtest.Carol), map[string]any{"going_count": 7})
	if res.Status != 400 || res.fieldCode("going_count") != "validation_server_managed" {
		t.Fatalf("set going_count: %d %s", res.Status, res.Raw)
	}
}

// A waitlisted person asking for going again, or echoing their record back,
// keeps their place in the line; answering maybe leaves it.
func TestWaitlistPlaceIsKept(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ev := hearthtest.ClimbEvent
	s.do(t, http.MethodPost, rsvpsPath, token(t, s.app, hearthtest.Bob), map[string]string{"event": ev, "status": "going"})
	alice := s.do(t, http.MethodPost, rsvpsPath, token(t, s.app, hearthtest.Alice), map[string]string{"event": ev, "status": "going"})
	ids, tokens := newUsers(t, s.app, "later", 1)
	addMembers(t, s.app, hearthtest.Climbers, ids)
	hearthtest.SetNow(t, s.app, func() time.Time { return time.Now().Add(time.Minute) })
	later := s.do(t, http.MethodPost, rsvpsPath, tokens[0], map[string]string{"event": ev, "status": "going"})
	if alice.str("status") != "waitlisted" || later.str("status") != "waitlisted" {
		t.Fatalf("setup: alice %s, later %s", alice.Raw, later.Raw)
	}

	for _, body := range []map[string]string{{"status": "going"}, {"status": "waitlisted"}} {
		res := s.do(t, http.MethodPatch, rsvpsPath+"/"+alice.str("id"), token(t, s.app, hearthtest.Alice), body)
		if res.Status != 200 || res.str("status") != "waitlisted" || res.str("waitlisted_at") != alice.str("waitlisted_at") {
			t.Fatalf("alice re-asks %v: %d %s", body, res.Status, res.Raw)
		}
	}

	// Carol cancels: Alice, first in line, goes; the later one still waits.
	s.do(t, http.MethodDelete, rsvpsPath+"/"+hearthtest.CarolRSVP, token(t, s.app, hearthtest.Carol), nil)
	if st := record(t, s.app, collections.RSVPs, alice.str("id")).GetString("status"); st != "going" {
		t.Fatalf("alice %s, want going", st)
	}
	if st := record(t, s.app, collections.RSVPs, later.str("id")).GetString("status"); st != "waitlisted" {
		t.Fatalf("later %s, want waitlisted", st)
	}

	res := s.do(t, http.MethodPatch, rsvpsPath+"/"+later.str("id"), tokens[0], map[string]string{"status": "maybe"})
	if res.Status != 200 || res.str("status") != "maybe" || res.str("waitlisted_at") != "" {
		t.Fatalf("later answers maybe: %d %s", res.Status, res.Raw)
	}
	checkCounts(t, s.app, ev, 2, 0)
}

func TestCapacityChanges(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	ev := hearthtest.ClimbEvent
	ids, tokens := newUsers(t, s.app, "climber", 5)
	addMembers(t, s.app, hearthtest.Climbers, ids)
	for _, tok := range tokens {
		if res := s.do(t, http.MethodPost, rsvpsPath, tok, map[string]string{"event": ev, "status": "going"}); res.Status != 200 {
			t.Fatalf("rsvp: %d %s", res.Status, res.Raw)
		}
	}
	checkCounts(t, s.app, ev, 2, 4)
	carol := token(t, s.app, hearthtest.Carol)
	patchEvent := func(body map[string]any) {
		t.Helper()
		if res := s.do(t, http.MethodPatch, "/api/collections/events/records/"+ev, carol, body); res.Status != 200 {
			t.Fatalf("patch event %v: %d %s", body, res.Status, res.Raw)
		}
	}

	patchEvent(map[string]any{"capacity": 4})
	checkCounts(t, s.app, ev, 4, 2)
	for _, id := range ids[:3] {
		if st := rsvpOf(t, s.app, ev, id).GetString("status"); st != "going" {
			t.Errorf("first waitlisted %s is %s after raise", id, st)
		}
	}

	// Lowered below those going: they keep their places, newcomers wait.
	patchEvent(map[string]any{"capacity": 1})
	checkCounts(t, s.app, ev, 4, 2)
	if res := s.do(t, http.MethodPost, rsvpsPath, token(t, s.app, hearthtest.Bob), map[string]string{"event": ev, "status": "going"}); res.str("status") != "waitlisted" {
		t.Fatalf("bob after lowering: %s", res.Raw)
	}
	// One going cancels: still over capacity, nobody is promoted.
	s.do(t, http.MethodDelete, rsvpsPath+"/"+hearthtest.CarolRSVP, carol, nil)
	checkCounts(t, s.app, ev, 3, 3)

	patchEvent(map[string]any{"capacity": 0})
	checkCounts(t, s.app, ev, 6, 0)
}

// going_count is recounted inside every write, so an event saved from a
// copy read before RSVPs changed does not write an old count back.
func TestGoingCountIsRecountedOnStaleWrite(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	stale := record(t, app, collections.Events, hearthtest.ClimbEvent)
	if _, err := app.FindRecordById(collections.RSVPs, hearthtest.CarolRSVP); err != nil {
		t.Fatal(err)
	}
	if err := app.Delete(record(t, app, collections.RSVPs, hearthtest.CarolRSVP)); err != nil {
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
	s := newServer(t)
	evRec := setFields(t, s.app, collections.Events, hearthtest.ClimbEvent, map[string]any{"capacity": 10})
	ev := evRec.Id
	if err := s.app.Delete(record(t, s.app, collections.RSVPs, hearthtest.CarolRSVP)); err != nil {
		t.Fatal(err)
	}
	users, tokens := newUsers(t, s.app, "rsvper", 100)
	addMembers(t, s.app, hearthtest.Climbers, users)

	results := make([]response, len(tokens))
	parallel(len(tokens), func(i int) {
		results[i] = s.do(t, http.MethodPost, rsvpsPath, tokens[i], map[string]string{"event": ev, "status": "going"})
	})
	answered := map[string]int{}
	var going []int
	for i, res := range results {
		if res.Status != 200 {
			t.Fatalf("rsvp %d: %d %s", i, res.Status, res.Raw)
		}
		answered[res.str("status")]++
		if res.str("status") == "going" {
			going = append(going, i)
		}
		if stored := record(t, s.app, collections.RSVPs, res.str("id")).GetString("status"); stored != res.str("status") {
			t.Errorf("rsvp %d answered %s, stored %s", i, res.str("status"), stored)
		}
	}
	if answered["going"] != 10 || answered["waitlisted"] != 90 {
		t.Fatalf("answers: %v, want 10 going and 90 waitlisted", answered)
	}
	checkCounts(t, s.app, ev, 10, 90)

	waitlist := waitlistInOrder(t, s.app, ev)
	cancel := going[:5]
	parallel(len(cancel), func(i int) {
		u := cancel[i]
		if res := s.do(t, http.MethodDelete, rsvpsPath+"/"+results[u].str("id"), tokens[u], nil); res.Status != http.StatusNoContent {
			t.Errorf("cancel %d: %d %s", u, res.Status, res.Raw)
		}
	})
	checkCounts(t, s.app, ev, 10, 85)

	var latestPromoted, earliestWaiting types.DateTime
	for i, r := range waitlist {
		stored := record(t, s.app, collections.RSVPs, r.Id)
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
		out[i] = record(t, app, collections.RSVPs, r.ID)
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
