package collections_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

const membershipsPath = "/api/collections/memberships/records/"

func TestLastOwnerCannotLeaveOrBeDemoted(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	aliceM := hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Alice)
	alice := hearthtest.Token(t, s.App, hearthtest.Alice)

	res := s.Do(t, http.MethodDelete, membershipsPath+aliceM, alice, nil)
	if res.Status != 400 || res.FieldCode("user") != "validation_last_owner" {
		t.Fatalf("last owner leaves: %d %s", res.Status, res.Raw)
	}
	res = s.Do(t, http.MethodPatch, membershipsPath+aliceM, alice, map[string]string{"role": "admin"})
	if res.Status != 400 || res.FieldCode("role") != "validation_last_owner" {
		t.Fatalf("last owner demotes herself: %d %s", res.Status, res.Raw)
	}
	// Superusers are held to it too: the rule lives below the API.
	res = s.Do(t, http.MethodDelete, membershipsPath+aliceM, hearthtest.SuperuserToken(t, s.App), nil)
	if res.Status != 400 || res.FieldCode("user") != "validation_last_owner" {
		t.Fatalf("superuser removes last owner: %d %s", res.Status, res.Raw)
	}
	if m := hearthtest.Record(t, s.App, collections.Memberships, aliceM); m.GetString("role") != collections.RoleOwner {
		t.Fatalf("alice is %s", m.GetString("role"))
	}
}

func TestOwnershipHandedOverThenLeave(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	alice := hearthtest.Token(t, s.App, hearthtest.Alice)
	bobM := hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Bob)
	if res := s.Do(t, http.MethodPatch, membershipsPath+bobM, alice, map[string]string{"role": "owner"}); res.Status != 200 {
		t.Fatalf("alice makes bob owner: %d %s", res.Status, res.Raw)
	}
	// Bob, now the other owner, may demote Alice; she may then leave.
	aliceM := hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Alice)
	if res := s.Do(t, http.MethodPatch, membershipsPath+aliceM, hearthtest.Token(t, s.App, hearthtest.Bob), map[string]string{"role": "member"}); res.Status != 200 {
		t.Fatalf("bob demotes alice: %d %s", res.Status, res.Raw)
	}
	if res := s.Do(t, http.MethodDelete, membershipsPath+aliceM, alice, nil); res.Status != http.StatusNoContent {
		t.Fatalf("alice leaves: %d %s", res.Status, res.Raw)
	}
	// Bob is the last owner now.
	if res := s.Do(t, http.MethodDelete, membershipsPath+bobM, hearthtest.Token(t, s.App, hearthtest.Bob), nil); res.FieldCode("user") != "validation_last_owner" {
		t.Fatalf("bob, last owner, leaves: %d %s", res.Status, res.Raw)
	}
}

// Deleting the group is how a last owner ends it: the cascade removes the
// last owner's membership with everything else.
func TestLastOwnerDeletesGroup(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	res := s.Do(t, http.MethodDelete, "/api/collections/groups/records/"+hearthtest.Climbers, hearthtest.Token(t, s.App, hearthtest.Alice), nil)
	if res.Status != http.StatusNoContent {
		t.Fatalf("delete group: %d %s", res.Status, res.Raw)
	}
	for _, c := range []string{collections.Memberships, collections.Invites, collections.Events, collections.Messages} {
		n, err := s.App.CountRecords(c, dbx.HashExp{"group": hearthtest.Climbers})
		if err != nil || n != 0 {
			t.Errorf("%d %s left, err %v", n, c, err)
		}
	}
	if _, err := s.App.FindRecordById(collections.RSVPs, hearthtest.CarolRSVP); err == nil {
		t.Error("rsvp to the group's event survived")
	}
	// Chess is untouched.
	if n := countMembers(t, s.App, hearthtest.Chess); n != 2 {
		t.Fatalf("chess has %d members", n)
	}
}

// Two owners demote each other at the same moment: one wins, the other is
// refused (as the last owner, or, when the winner's write committed before
// the loser's request was checked, by the API rules, since the loser is no
// longer an owner), and the group keeps an owner. Repeated, since one round could
// pass by luck of scheduling.
func TestConcurrentMutualDemotionKeepsAnOwner(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	aliceM := hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Alice)
	bobM := hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Bob)
	alice, bob := hearthtest.Token(t, s.App, hearthtest.Alice), hearthtest.Token(t, s.App, hearthtest.Bob)
	refusedAs := map[int]int{}
	defer func() {
		t.Logf("losers refused: %d by the last-owner rule (400), %d by the API rules (404)", refusedAs[400], refusedAs[404])
	}()
	for round := range 50 {
		hearthtest.Save(t, s.App, collections.Memberships, aliceM, map[string]any{"role": collections.RoleOwner})
		hearthtest.Save(t, s.App, collections.Memberships, bobM, map[string]any{"role": collections.RoleOwner})
		results := make([]hearthtest.Response, 2)
		parallel(2, func(i int) {
			if i == 0 {
				results[i] = s.Do(t, http.MethodPatch, membershipsPath+bobM, alice, map[string]string{"role": "member"})
			} else {
				results[i] = s.Do(t, http.MethodPatch, membershipsPath+aliceM, bob, map[string]string{"role": "member"})
			}
		})
		ok := 0
		for _, res := range results {
			switch {
			case res.Status == 200:
				ok++
			case res.Status == 400 && res.FieldCode("role") == "validation_last_owner", res.Status == 404:
				refusedAs[res.Status]++
			default:
				t.Fatalf("round %d: %d %s", round, res.Status, res.Raw)
			}
		}
		owners, err := s.App.CountRecords(collections.Memberships, dbx.HashExp{"group": hearthtest.Climbers, "role": collections.RoleOwner})
		if err != nil {
			t.Fatal(err)
		}
		if owners != 1 || ok != 1 {
			t.Fatalf("round %d: %d owners, %d demotions succeeded; want 1 and 1", round, owners, ok)
		}
	}
}

// Leaving, or being removed, drops the person's RSVPs to the group's
// future events, and their place goes to the waitlist; RSVPs to past
// events stay as history.
func TestLeavingRemovesFutureRSVPs(t *testing.T) {
	t.Parallel()
	for _, by := range []string{"leave", "removal"} {
		t.Run(by, func(t *testing.T) {
			s := hearthtest.NewServer(t)
			ev := hearthtest.ClimbEvent
			// Capacity 2: Carol and Bob going, Alice waitlisted.
			s.Do(t, http.MethodPost, rsvpsPath, hearthtest.Token(t, s.App, hearthtest.Bob), map[string]string{"event": ev, "status": "going"})
			s.Do(t, http.MethodPost, rsvpsPath, hearthtest.Token(t, s.App, hearthtest.Alice), map[string]string{"event": ev, "status": "going"})
			checkCounts(t, s.App, ev, 2, 1)
			past := pastEventWithRSVP(t, s.App, hearthtest.Carol)

			actor := hearthtest.Token(t, s.App, hearthtest.Carol)
			if by == "removal" {
				actor = hearthtest.Token(t, s.App, hearthtest.Bob)
			}
			res := s.Do(t, http.MethodDelete, membershipsPath+hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Carol), actor, nil)
			if res.Status != http.StatusNoContent {
				t.Fatalf("%s: %d %s", by, res.Status, res.Raw)
			}
			if _, err := s.App.FindRecordById(collections.RSVPs, hearthtest.CarolRSVP); err == nil {
				t.Fatal("carol's rsvp to the coming event survived")
			}
			if st := rsvpOf(t, s.App, ev, hearthtest.Alice).GetString("status"); st != "going" {
				t.Fatalf("alice %s, want going", st)
			}
			checkCounts(t, s.App, ev, 2, 0)
			rsvpOf(t, s.App, past, hearthtest.Carol)
			// Other people's RSVPs to other groups are untouched.
			hearthtest.Record(t, s.App, collections.RSVPs, hearthtest.ErinRSVP)
		})
	}
}

// pastEventWithRSVP makes a Climbers event that started yesterday with
// user going to it.
func pastEventWithRSVP(t *testing.T, app core.App, user string) string {
	t.Helper()
	events, err := app.FindCachedCollectionByNameOrId(collections.Events)
	if err != nil {
		t.Fatal(err)
	}
	ev := core.NewRecord(events)
	ev.Load(map[string]any{"group": hearthtest.Climbers, "title": "Last week", "starts_at": time.Now().Add(-24 * time.Hour), "created_by": user})
	if err := app.Save(ev); err != nil {
		t.Fatal(err)
	}
	rsvps, err := app.FindCachedCollectionByNameOrId(collections.RSVPs)
	if err != nil {
		t.Fatal(err)
	}
	r := core.NewRecord(rsvps)
	r.Load(map[string]any{"event": ev.Id, "user": user, "status": "going"})
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	return ev.Id
}

// A creator who handed their group over can delete their account: the group
// stays with its new owner and forgets its creator.
func TestCreatorDeletesAccountAfterHandover(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	bobM := hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Bob)
	hearthtest.Save(t, s.App, collections.Memberships, bobM, map[string]any{"role": collections.RoleOwner})

	res := s.Do(t, http.MethodDelete, "/api/collections/users/records/"+hearthtest.Alice, hearthtest.Token(t, s.App, hearthtest.Alice), nil)
	if res.Status != 204 {
		t.Fatalf("creator deletes account after handover: %d %s", res.Status, res.Raw)
	}
	group := hearthtest.Record(t, s.App, collections.Groups, hearthtest.Climbers)
	if got := group.GetString("created_by"); got != "" {
		t.Fatalf("created_by = %q, want empty once its user is gone", got)
	}
	if _, err := collections.FindMembership(s.App, hearthtest.Climbers, hearthtest.Alice); err == nil {
		t.Fatal("the deleted user's membership remains")
	}
}
