package collections_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

const usersPath = "/api/collections/users/records/"

// deleteAccount sends what the SDK's pb.collection('users').delete(id)
// sends, as the user themselves; query is appended as it is.
func deleteAccount(t *testing.T, s *hearthtest.Server, user, query string) hearthtest.Response {
	t.Helper()
	return s.Do(t, http.MethodDelete, usersPath+user+query, hearthtest.Token(t, s.App, user), nil)
}

func role(t *testing.T, app core.App, group, user string) string {
	t.Helper()
	m, err := collections.FindMembership(app, group, user)
	if err != nil {
		t.Fatalf("membership of %s in %s: %v", user, group, err)
	}
	return m.Role()
}

// syncCursor returns the cursor of a full sync of token's user, from which
// a later sync lists only what changed after now.
func syncCursor(t *testing.T, s *hearthtest.Server, token string) string {
	t.Helper()
	cursor := "0"
	for {
		res := s.Do(t, http.MethodGet, "/api/sync?limit=1000&cursor="+cursor, token, nil)
		if res.Status != http.StatusOK {
			t.Fatalf("sync: %d %s", res.Status, res.Raw)
		}
		cursor = res.Str("cursor")
		if more, _ := res.Body["more"].(bool); !more {
			return cursor
		}
	}
}

// syncChanges returns the changes after cursor as "op collection id"
// mapped to the record, if any.
func syncChanges(t *testing.T, s *hearthtest.Server, token, cursor string) map[string]map[string]any {
	t.Helper()
	res := s.Do(t, http.MethodGet, "/api/sync?limit=1000&cursor="+cursor, token, nil)
	if res.Status != http.StatusOK {
		t.Fatalf("sync: %d %s", res.Status, res.Raw)
	}
	out := map[string]map[string]any{}
	changes, _ := res.Body["changes"].([]any)
	for _, c := range changes {
		c := c.(map[string]any)
		rec, _ := c["record"].(map[string]any)
		out[fmt.Sprintf("%s %s %s", c["op"], c["collection"], c["id"])] = rec
	}
	return out
}

// Alice, Climbers' only owner, deletes her account: Bob, its admin,
// inherits it; what she created forgets her; Bob's phone learns all of it
// through sync like any other change.
func TestAccountDeletionHandsGroupToAdmin(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	bob := hearthtest.Token(t, s.App, hearthtest.Bob)
	cursor := syncCursor(t, s, bob)
	aliceM := hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Alice)
	bobM := hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Bob)

	if res := deleteAccount(t, s, hearthtest.Alice, ""); res.Status != http.StatusNoContent {
		t.Fatalf("alice deletes her account: %d %s", res.Status, res.Raw)
	}
	if _, err := s.App.FindRecordById(collections.Users, hearthtest.Alice); err == nil {
		t.Fatal("alice's user remains")
	}
	if r := role(t, s.App, hearthtest.Climbers, hearthtest.Bob); r != collections.RoleOwner {
		t.Fatalf("bob is %s, want owner", r)
	}
	if r := role(t, s.App, hearthtest.Climbers, hearthtest.Carol); r != collections.RoleMember {
		t.Fatalf("carol is %s, want member", r)
	}
	if got := hearthtest.Record(t, s.App, collections.Groups, hearthtest.Climbers).GetString("created_by"); got != "" {
		t.Fatalf("group created_by = %q", got)
	}
	if got := hearthtest.Record(t, s.App, collections.Invites, hearthtest.ClimbInvite).GetString("created_by"); got != "" {
		t.Fatalf("invite created_by = %q", got)
	}

	changes := syncChanges(t, s, bob, cursor)
	if _, ok := changes["delete memberships "+aliceM]; !ok {
		t.Errorf("sync after the deletion lacks alice's membership's delete: %v", changes)
	}
	if m, ok := changes["upsert memberships "+bobM]; !ok || m["role"] != collections.RoleOwner {
		t.Errorf("sync after the deletion lacks bob's promotion: %v", changes)
	}
	if _, ok := changes["delete users "+hearthtest.Alice]; !ok {
		t.Errorf("sync after the deletion lacks alice's user's delete: %v", changes)
	}
}

// Without an admin the longest-standing member inherits the group, by when
// they joined, not by the order the rows were written.
func TestAccountDeletionHandsGroupToLongestStandingMember(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	bobM := hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Bob)
	carolM := hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Carol)
	hearthtest.Save(t, s.App, collections.Memberships, bobM, map[string]any{"role": collections.RoleMember})
	// Carol's row was written after Bob's; she joined first.
	if _, err := s.App.DB().NewQuery("UPDATE memberships SET created = '2020-01-01 00:00:00.000Z' WHERE id = {:id}").
		Bind(dbx.Params{"id": carolM}).Execute(); err != nil {
		t.Fatal(err)
	}

	if res := deleteAccount(t, s, hearthtest.Alice, ""); res.Status != http.StatusNoContent {
		t.Fatalf("alice deletes her account: %d %s", res.Status, res.Raw)
	}
	if r := role(t, s.App, hearthtest.Climbers, hearthtest.Carol); r != collections.RoleOwner {
		t.Fatalf("carol is %s, want owner", r)
	}
	if r := role(t, s.App, hearthtest.Climbers, hearthtest.Bob); r != collections.RoleMember {
		t.Fatalf("bob is %s, want member", r)
	}
}

// A group with another owner keeps its owners as they are.
func TestAccountDeletionWithCoOwnerPromotesNobody(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	carolM := hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Carol)
	hearthtest.Save(t, s.App, collections.Memberships, carolM, map[string]any{"role": collections.RoleOwner})

	if res := deleteAccount(t, s, hearthtest.Alice, ""); res.Status != http.StatusNoContent {
		t.Fatalf("alice deletes her account: %d %s", res.Status, res.Raw)
	}
	if r := role(t, s.App, hearthtest.Climbers, hearthtest.Bob); r != collections.RoleAdmin {
		t.Fatalf("bob is %s, want admin", r)
	}
}

// A group whose only member deletes their account goes with it.
func TestAccountDeletionDeletesGroupWithNobodyElse(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	solo := hearthtest.Save(t, s.App, collections.Groups, "", map[string]any{"name": "Solo", "created_by": hearthtest.Erin})
	ev := hearthtest.Save(t, s.App, collections.Events, "", map[string]any{"group": solo.Id, "title": "Alone", "starts_at": "2099-01-01 10:00:00.000Z"})
	hearthtest.Save(t, s.App, collections.Messages, "", map[string]any{"group": solo.Id, "author": hearthtest.Erin, "body": "hello?"})

	if res := deleteAccount(t, s, hearthtest.Erin, ""); res.Status != http.StatusNoContent {
		t.Fatalf("erin deletes her account: %d %s", res.Status, res.Raw)
	}
	if _, err := s.App.FindRecordById(collections.Groups, solo.Id); err == nil {
		t.Fatal("erin's solo group remains")
	}
	if _, err := s.App.FindRecordById(collections.Events, ev.Id); err == nil {
		t.Fatal("the solo group's event remains")
	}
	// Chess, where Erin was a member, stays with Dave.
	if r := role(t, s.App, hearthtest.Chess, hearthtest.Dave); r != collections.RoleOwner {
		t.Fatalf("dave is %s in chess", r)
	}
}

// Carol's RSVPs, phone and mute go; the waitlist behind her RSVP moves up;
// her message stays with no author.
func TestAccountDeletionRemovesRSVPsDevicesMutesKeepsMessages(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	// ClimbEvent holds 2: Carol and Bob go, Alice waits.
	hearthtest.Save(t, s.App, collections.RSVPs, "", map[string]any{"event": hearthtest.ClimbEvent, "user": hearthtest.Bob, "status": collections.StatusGoing})
	aliceRSVP := hearthtest.Save(t, s.App, collections.RSVPs, "", map[string]any{"event": hearthtest.ClimbEvent, "user": hearthtest.Alice, "status": collections.StatusGoing})
	if st := hearthtest.Record(t, s.App, collections.RSVPs, aliceRSVP.Id).GetString("status"); st != collections.StatusWaitlisted {
		t.Fatalf("alice is %s, want waitlisted", st)
	}

	if res := deleteAccount(t, s, hearthtest.Carol, ""); res.Status != http.StatusNoContent {
		t.Fatalf("carol deletes her account: %d %s", res.Status, res.Raw)
	}
	for _, c := range []struct{ collection, id string }{
		{collections.RSVPs, hearthtest.CarolRSVP},
		{collections.Devices, hearthtest.CarolDevice},
		{collections.Mutes, hearthtest.CarolMute},
	} {
		if _, err := s.App.FindRecordById(c.collection, c.id); err == nil {
			t.Errorf("carol's %s %s remains", c.collection, c.id)
		}
	}
	if st := hearthtest.Record(t, s.App, collections.RSVPs, aliceRSVP.Id).GetString("status"); st != collections.StatusGoing {
		t.Fatalf("alice is %s after carol left the event, want going", st)
	}
	if n := hearthtest.Record(t, s.App, collections.Events, hearthtest.ClimbEvent).GetInt("going_count"); n != 2 {
		t.Fatalf("going_count = %d, want 2", n)
	}
	msg := hearthtest.Record(t, s.App, collections.Messages, hearthtest.ClimbMessage)
	if msg.GetString("author") != "" || msg.GetString("body") != "Who brings the rope?" {
		t.Fatalf("carol's message: author %q body %q", msg.GetString("author"), msg.GetString("body"))
	}
}

// ?messages=delete takes the messages with the account; any other value is
// a 400 naming the parameter that deletes nothing.
func TestAccountDeletionMessagesParam(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	res := deleteAccount(t, s, hearthtest.Carol, "?messages=all")
	if res.Status != http.StatusBadRequest || res.FieldCode(collections.MessagesParam) != "validation_invalid_value" {
		t.Fatalf("messages=all: %d %s", res.Status, res.Raw)
	}
	hearthtest.Record(t, s.App, collections.Users, hearthtest.Carol)
	hearthtest.Record(t, s.App, collections.Messages, hearthtest.ClimbMessage)

	if res := deleteAccount(t, s, hearthtest.Carol, "?messages=delete"); res.Status != http.StatusNoContent {
		t.Fatalf("messages=delete: %d %s", res.Status, res.Raw)
	}
	if _, err := s.App.FindRecordById(collections.Messages, hearthtest.ClimbMessage); err == nil {
		t.Fatal("carol's message remains")
	}
	// Dave's message in Chess is not hers.
	hearthtest.Record(t, s.App, collections.Messages, hearthtest.ChessMessage)
}

// Nobody deletes another's account, not even an owner of their group.
func TestAccountDeletionOnlyOwnAccount(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	res := s.Do(t, http.MethodDelete, usersPath+hearthtest.Carol+"?messages=delete", hearthtest.Token(t, s.App, hearthtest.Alice), nil)
	if res.Status != http.StatusNotFound {
		t.Fatalf("alice deletes carol: %d %s", res.Status, res.Raw)
	}
	hearthtest.Record(t, s.App, collections.Users, hearthtest.Carol)
	hearthtest.Record(t, s.App, collections.Messages, hearthtest.ClimbMessage)
}

// Erin, the only member of her group, deletes her account while twenty
// people join it with her invite and Climbers' members answer a full
// event: whatever the order, the group ends with exactly one owner (the
// first joiner, if anyone got in before the deletion) or is gone with all
// of it, and the event's count and waitlist stay true.
func TestAccountDeletionRacesJoinsAndRSVPs(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	solo := hearthtest.Save(t, s.App, collections.Groups, "", map[string]any{"name": "Solo", "created_by": hearthtest.Erin})
	invite := hearthtest.Save(t, s.App, collections.Invites, "", map[string]any{"group": solo.Id, "created_by": hearthtest.Erin})
	code := inviteCode(t, s.App, invite.Id)
	joiners, joinTokens := hearthtest.NewUsers(t, s.App, "joiner", 20)
	answerers, answerTokens := hearthtest.NewUsers(t, s.App, "answerer", 10)
	hearthtest.AddMembers(t, s.App, hearthtest.Climbers, answerers)
	// Carol goes to ClimbEvent (capacity 2) and deletes her account too.

	var wg sync.WaitGroup
	start := make(chan struct{})
	joined := make([]hearthtest.Response, len(joiners))
	answered := make([]hearthtest.Response, len(answerers))
	var erinRes, carolRes hearthtest.Response
	erinTok, carolTok := hearthtest.Token(t, s.App, hearthtest.Erin), hearthtest.Token(t, s.App, hearthtest.Carol)
	run := func(f func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f()
		}()
	}
	for i, tok := range joinTokens {
		run(func() {
			joined[i] = s.Do(t, http.MethodPost, collections.JoinPath, tok, map[string]string{"code": code})
		})
	}
	for i, tok := range answerTokens {
		run(func() {
			answered[i] = s.Do(t, http.MethodPost, "/api/collections/rsvps/records", tok,
				map[string]string{"event": hearthtest.ClimbEvent, "status": collections.StatusGoing})
		})
	}
	run(func() { erinRes = s.Do(t, http.MethodDelete, usersPath+hearthtest.Erin, erinTok, nil) })
	run(func() { carolRes = s.Do(t, http.MethodDelete, usersPath+hearthtest.Carol, carolTok, nil) })
	close(start)
	wg.Wait()

	if erinRes.Status != http.StatusNoContent || carolRes.Status != http.StatusNoContent {
		t.Fatalf("account deletions: erin %d %s, carol %d %s", erinRes.Status, erinRes.Raw, carolRes.Status, carolRes.Raw)
	}

	// The joins: each is in, or found no invite any more (the group was
	// deleted before it).
	var in []string
	for i, res := range joined {
		switch {
		case res.Status == http.StatusOK:
			in = append(in, joiners[i])
		case res.Status == http.StatusNotFound:
		default:
			t.Errorf("joiner %d: %d %s", i, res.Status, res.Raw)
		}
	}
	_, err := s.App.FindRecordById(collections.Groups, solo.Id)
	switch {
	case len(in) == 0:
		if err == nil {
			t.Fatal("nobody joined, yet the group of the deleted account remains")
		}
	default:
		if err != nil {
			t.Fatalf("%d joined, yet the group is gone: %v", len(in), err)
		}
		var ms []*collections.Membership
		if err := s.App.RecordQuery(collections.Memberships).AndWhere(dbx.HashExp{"group": solo.Id}).
			OrderBy("created ASC", "rowid ASC").All(&ms); err != nil {
			t.Fatal(err)
		}
		if len(ms) != len(in) {
			t.Fatalf("%d memberships, %d joins answered 200", len(ms), len(in))
		}
		owners := 0
		for _, m := range ms {
			if m.Role() == collections.RoleOwner {
				owners++
			}
		}
		if owners != 1 || ms[0].Role() != collections.RoleOwner {
			t.Fatalf("%d owners; first joiner is %s", owners, ms[0].Role())
		}
	}
	// No membership points at a group that is gone.
	var orphans int
	if err := s.App.DB().NewQuery("SELECT COUNT(*) FROM memberships WHERE [[group]] NOT IN (SELECT id FROM groups)").Row(&orphans); err != nil || orphans != 0 {
		t.Fatalf("%d orphan memberships, err %v", orphans, err)
	}

	// The RSVPs: every answer stored, two going (Carol's place freed, the
	// waitlist served), the count true.
	for i, res := range answered {
		if res.Status != http.StatusOK {
			t.Errorf("answerer %d: %d %s", i, res.Status, res.Raw)
		}
	}
	going, err := s.App.CountRecords(collections.RSVPs, dbx.HashExp{"event": hearthtest.ClimbEvent, "status": collections.StatusGoing})
	if err != nil || going != 2 {
		t.Fatalf("%d going, err %v", going, err)
	}
	waiting, _ := s.App.CountRecords(collections.RSVPs, dbx.HashExp{"event": hearthtest.ClimbEvent, "status": collections.StatusWaitlisted})
	if waiting != int64(len(answerers))-2 {
		t.Fatalf("%d waitlisted, want %d", waiting, len(answerers)-2)
	}
	if n := hearthtest.Record(t, s.App, collections.Events, hearthtest.ClimbEvent).GetInt("going_count"); n != 2 {
		t.Fatalf("going_count = %d, want 2", n)
	}
	if _, err := s.App.FindRecordById(collections.RSVPs, hearthtest.CarolRSVP); err == nil {
		t.Fatal("carol's rsvp remains")
	}
}

// PocketBase removes what signs the account in (OAuth2 links, codes, MFA
// sessions, known devices) with it; docs/auth.md says so.
func TestAccountDeletionLeavesNoSignInRecords(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	carol := hearthtest.Record(t, s.App, collections.Users, hearthtest.Carol)
	ea := core.NewExternalAuth(s.App)
	ea.SetProvider("google")
	ea.SetProviderId("g-1")
	otp := core.NewOTP(s.App)
	otp.SetPassword("12345678")
	mfa := core.NewMFA(s.App)
	mfa.SetMethod(core.MFAMethodPassword)
	origin := core.NewAuthOrigin(s.App)
	origin.SetFingerprint("phone")
	for _, m := range []interface {
		core.Model
		SetCollectionRef(string)
		SetRecordRef(string)
	}{ea, otp, mfa, origin} {
		m.SetCollectionRef(carol.Collection().Id)
		m.SetRecordRef(carol.Id)
		if err := s.App.Save(m); err != nil {
			t.Fatal(err)
		}
	}

	if res := deleteAccount(t, s, hearthtest.Carol, ""); res.Status != http.StatusNoContent {
		t.Fatalf("carol deletes her account: %d %s", res.Status, res.Raw)
	}
	for _, c := range []string{core.CollectionNameExternalAuths, core.CollectionNameOTPs, core.CollectionNameMFAs, core.CollectionNameAuthOrigins} {
		if n, err := s.App.CountRecords(c, dbx.HashExp{"recordRef": hearthtest.Carol}); err != nil || n != 0 {
			t.Errorf("%s: %d of carol's left, err %v", c, n, err)
		}
	}
}
