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
	s := newServer(t)
	aliceM := hearthtest.MembershipID(t, s.app, hearthtest.Climbers, hearthtest.Alice)
	alice := token(t, s.app, hearthtest.Alice)

	res := s.do(t, http.MethodDelete, membershipsPath+aliceM, alice, nil)
	if res.Status != 400 || res.fieldCode("user") != "validation_last_owner" {
		t.Fatalf("last owner leaves: %d %s", res.Status, res.Raw)
	}
	res = s.do(t, http.MethodPatch, membershipsPath+aliceM, alice, map[string]string{"role": "admin"})
	if res.Status != 400 || res.fieldCode("role") != "validation_last_owner" {
		t.Fatalf("last owner demotes herself: %d %s", res.Status, res.Raw)
	}
	// Superusers are held to it too: the rule lives below the API.
	res = s.do(t, http.MethodDelete, membershipsPath+aliceM, hearthtest.SuperuserToken(t, s.app), nil)
	if res.Status != 400 || res.fieldCode("user") != "validation_last_owner" {
		t.Fatalf("superuser removes last owner: %d %s", res.Status, res.Raw)
	}
	if m := record(t, s.app, collections.Memberships, aliceM); m.GetString("role") != collections.RoleOwner {
		t.Fatalf("alice is %s", m.GetString("role"))
	}
}

func TestOwnershipHandedOverThenLeave(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	alice := token(t, s.app, hearthtest.Alice)
	bobM := hearthtest.MembershipID(t, s.app, hearthtest.Climbers, hearthtest.Bob)
	if res := s.do(t, http.MethodPatch, membershipsPath+bobM, alice, map[string]string{"role": "owner"}); res.Status != 200 {
		t.Fatalf("alice makes bob owner: %d %s", res.Status, res.Raw)
	}
	// Bob, now the other owner, may demote Alice; she may then leave.
	aliceM := hearthtest.MembershipID(t, s.app, hearthtest.Climbers, hearthtest.Alice)
	if res := s.do(t, http.MethodPatch, membershipsPath+aliceM, token(t, s.app, hearthtest.Bob), map[string]string{"role": "member"}); res.Status != 200 {
		t.Fatalf("bob demotes alice: %d %s", res.Status, res.Raw)
	}
	if res := s.do(t, http.MethodDelete, membershipsPath+aliceM, alice, nil); res.Status != http.StatusNoContent {
		t.Fatalf("alice leaves: %d %s", res.Status, res.Raw)
	}
	// Bob is the last owner now.
	if res := s.do(t, http.MethodDelete, membershipsPath+bobM, token(t, s.app, hearthtest.Bob), nil); res.fieldCode("user") != "validation_last_owner" {
		t.Fatalf("bob, last owner, leaves: %d %s", res.Status, res.Raw)
	}
}

// Deleting the group is how a last owner ends it: the cascade removes the
// last owner's membership with everything else.
func TestLastOwnerDeletesGroup(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	res := s.do(t, http.MethodDelete, "/api/collections/groups/records/"+hearthtest.Climbers, token(t, s.app, hearthtest.Alice), nil)
	if res.Status != http.StatusNoContent {
		t.Fatalf("delete group: %d %s", res.Status, res.Raw)
	}
	for _, c := range []string{collections.Memberships, collections.Invites, collections.Events, collections.Messages} {
		n, err := s.app.CountRecords(c, dbx.HashExp{"group": hearthtest.Climbers})
		if err != nil || n != 0 {
			t.Errorf("%d %s left, err %v", n, c, err)
		}
	}
	if _, err := s.app.FindRecordById(collections.RSVPs, hearthtest.CarolRSVP); err == nil {
		t.Error("rsvp to the group's event survived")
	}
	// Chess is untouched.
	if n := countMembers(t, s.app, hearthtest.Chess); n != 2 {
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
	s := newServer(t)
	aliceM := hearthtest.MembershipID(t, s.app, hearthtest.Climbers, hearthtest.Alice)
	bobM := hearthtest.MembershipID(t, s.app, hearthtest.Climbers, hearthtest.Bob)
	alice, bob := token(t, s.app, hearthtest.Alice), token(t, s.app, hearthtest.Bob)
	refusedAs := map[int]int{}
	defer func() {
		t.Logf("losers refused: %d by the last-owner rule (400), %d by the API rules (404)", refusedAs[400], refusedAs[404])
	}()
	for round := range 50 {
		setFields(t, s.app, collections.Memberships, aliceM, map[string]any{"role": collections.RoleOwner})
		setFields(t, s.app, collections.Memberships, bobM, map[string]any{"role": collections.RoleOwner})
		results := make([]response, 2)
		parallel(2, func(i int) {
			if i == 0 {
				results[i] = s.do(t, http.MethodPatch, membershipsPath+bobM, alice, map[string]string{"role": "member"})
			} else {
				results[i] = s.do(t, http.MethodPatch, membershipsPath+aliceM, bob, map[string]string{"role": "member"})
			}
		})
		ok := 0
		for _, res := range results {
			switch {
			case res.Status == 200:
				ok++
			case res.Status == 400 && res.fieldCode("role") == "validation_last_owner", res.Status == 404:
				refusedAs[res.Status]++
			default:
				t.Fatalf("round %d: %d %s", round, res.Status, res.Raw)
			}
		}
		owners, err := s.app.CountRecords(collections.Memberships, dbx.HashExp{"group": hearthtest.Climbers, "role": collections.RoleOwner})
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
			s := newServer(t)
			ev := hearthtest.ClimbEvent
			// Capacity 2: Carol and Bob going, Alice waitlisted.
			s.do(t, http.MethodPost, rsvpsPath, token(t, s.app, hearthtest.Bob), map[string]string{"event": ev, "status": "going"})
			s.do(t, http.MethodPost, rsvpsPath, token(t, s.app, hearthtest.Alice), map[string]string{"event": ev, "status": "going"})
			checkCounts(t, s.app, ev, 2, 1)
			past := pastEventWithRSVP(t, s.app, hearthtest.Carol)

			actor := token(t, s.app, hearthtest.Carol)
			if by == "removal" {
				actor = token(t, s.app, hearthtest.Bob)
			}
			res := s.do(t, http.MethodDelete, membershipsPath+hearthtest.MembershipID(t, s.app, hearthtest.Climbers, hearthtest.Carol), actor, nil)
			if res.Status != http.StatusNoContent {
				t.Fatalf("%s: %d %s", by, res.Status, res.Raw)
			}
			if _, err := s.app.FindRecordById(collections.RSVPs, hearthtest.CarolRSVP); err == nil {
				t.Fatal("carol's rsvp to the coming event survived")
			}
			if st := rsvpOf(t, s.app, ev, hearthtest.Alice).GetString("status"); st != "going" {
				t.Fatalf("alice %s, want going", st)
			}
			checkCounts(t, s.app, ev, 2, 0)
			rsvpOf(t, s.app, past, hearthtest.Carol)
			// Other people's RSVPs to other groups are untouched.
			record(t, s.app, collections.RSVPs, hearthtest.ErinRSVP)
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

// An account whose owner is a group's last owner cannot be deleted until
// the group is handed over or deleted.
func TestLastOwnerAccountDeletion(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	bobM := hearthtest.MembershipID(t, s.app, hearthtest.Climbers, hearthtest.Bob)
	aliceM := hearthtest.MembershipID(t, s.app, hearthtest.Climbers, hearthtest.Alice)
	setFields(t, s.app, collections.Memberships, bobM, map[string]any{"role": collections.RoleOwner})
	setFields(t, s.app, collections.Memberships, aliceM, map[string]any{"role": collections.RoleMember})

	res := s.do(t, http.MethodDelete, "/api/collections/users/records/"+hearthtest.Bob, token(t, s.app, hearthtest.Bob), nil)
	if res.Status != 400 || res.fieldCode("user") != "validation_last_owner" {
		t.Fatalf("last owner deletes account: %d %s", res.Status, res.Raw)
	}
	record(t, s.app, collections.Users, hearthtest.Bob)
	record(t, s.app, collections.Memberships, bobM)
}

// A creator who handed their group over can delete their account: the group
// stays with its new owner and forgets its creator.
func TestCreatorDeletesAccountAfterHandover(t *testing.T) {
	t.Parallel()
	s := newServer(t)
	bobM := hearthtest.MembershipID(t, s.app, hearthtest.Climbers, hearthtest.Bob)
	setFields(t, s.app, collections.Memberships, bobM, map[string]any{"role": collections.RoleOwner})

	res := s.do(t, http.MethodDelete, "/api/collections/users/records/"+hearthtest.Alice, token(t, s.app, hearthtest.Alice), nil)
	if res.Status != 204 {
		t.Fatalf("creator deletes account after handover: %d %s", res.Status, res.Raw)
	}
	group := record(t, s.app, collections.Groups, hearthtest.Climbers)
	if got := group.GetString("created_by"); got != "" {
		t.Fatalf("created_by = %q, want empty once its user is gone", got)
	}
	if _, err := collections.FindMembership(s.app, hearthtest.Climbers, hearthtest.Alice); err == nil {
		t.Fatal("the deleted user's membership remains")
	}
}
