package collections_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

func inviteCode(t *testing.T, app core.App, invite string) string {
	t.Helper()
	return hearthtest.Record(t, app, collections.Invites, invite).GetString("code")
}

func countMembers(t *testing.T, app core.App, group string) int {
	t.Helper()
	n, err := app.CountRecords(collections.Memberships, dbx.HashExp{"group": group})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

func TestJoinByCode(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	code := inviteCode(t, s.App, hearthtest.ClimbInvite)

	// Typed by hand: lower case, with spaces around.
	res := s.Do(t, http.MethodPost, collections.JoinPath, hearthtest.Token(t, s.App, hearthtest.Erin), map[string]string{"code": "  " + strings.ToLower(code) + " "})
	if res.Status != http.StatusOK {
		t.Fatalf("status %d: %s", res.Status, res.Raw)
	}
	if res.Str("collectionName") != collections.Memberships || res.Str("role") != collections.RoleMember ||
		res.Str("user") != hearthtest.Erin || res.Str("group") != hearthtest.Climbers || res.Str("id") == "" {
		t.Fatalf("not Erin's new member membership of Climbers: %s", res.Raw)
	}
	expand, _ := res.Body["expand"].(map[string]any)
	group, _ := expand["group"].(map[string]any)
	if group["id"] != hearthtest.Climbers || group["name"] != "Climbers" || group["collectionName"] != collections.Groups {
		t.Fatalf("expand.group is not the Climbers record: %s", res.Raw)
	}
	m, err := collections.FindMembership(s.App, hearthtest.Climbers, hearthtest.Erin)
	if err != nil || m.Id != res.Str("id") {
		t.Fatalf("stored membership %v, err %v; answered %s", m, err, res.Str("id"))
	}
	if uses := hearthtest.Record(t, s.App, collections.Invites, hearthtest.ClimbInvite).GetInt("uses"); uses != 1 {
		t.Fatalf("uses = %d, want 1", uses)
	}

	// As a member now, Erin sees the group's events.
	list := s.Do(t, http.MethodGet, "/api/collections/events/records?filter=group%3D%27"+hearthtest.Climbers+"%27", hearthtest.Token(t, s.App, hearthtest.Erin), nil)
	if list.Status != http.StatusOK || list.Body["totalItems"] != float64(1) {
		t.Fatalf("events of Climbers for Erin: %d %s", list.Status, list.Raw)
	}
}

func TestJoinWhenAlreadyMember(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	code := inviteCode(t, s.App, hearthtest.ClimbInvite)
	existing, err := collections.FindMembership(s.App, hearthtest.Climbers, hearthtest.Bob)
	if err != nil {
		t.Fatal(err)
	}
	res := s.Do(t, http.MethodPost, collections.JoinPath, hearthtest.Token(t, s.App, hearthtest.Bob), map[string]string{"code": code})
	if res.Status != http.StatusOK || res.Str("id") != existing.Id || res.Str("role") != collections.RoleAdmin {
		t.Fatalf("want Bob's existing admin membership %s: %d %s", existing.Id, res.Status, res.Raw)
	}
	expand, _ := res.Body["expand"].(map[string]any)
	if group, _ := expand["group"].(map[string]any); group["id"] != hearthtest.Climbers {
		t.Fatalf("expand.group missing: %s", res.Raw)
	}
	if uses := hearthtest.Record(t, s.App, collections.Invites, hearthtest.ClimbInvite).GetInt("uses"); uses != 0 {
		t.Fatalf("uses = %d, want 0", uses)
	}
}

func TestJoinRefusals(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	code := inviteCode(t, s.App, hearthtest.ClimbInvite)
	erin := hearthtest.Token(t, s.App, hearthtest.Erin)
	members := countMembers(t, s.App, hearthtest.Climbers)

	cases := []struct {
		name      string
		setup     map[string]any
		token     string
		body      any
		status    int
		fieldCode string
		message   string
	}{
		{name: "anonymous", body: map[string]string{"code": code}, status: 401},
		{name: "superuser", token: hearthtest.SuperuserToken(t, s.App), body: map[string]string{"code": code}, status: 403, message: "Only app users"},
		{name: "unknown code", token: erin, body: map[string]string{"code": "ZZZZZZZZZZZZ"}, status: 404},
		{name: "blank code", token: erin, body: map[string]string{"code": "   "}, status: 400, fieldCode: "validation_required"},
		{name: "missing code", token: erin, body: map[string]string{}, status: 400, fieldCode: "validation_required"},
		{name: "malformed JSON", token: erin, body: `{"code":`, status: 400, fieldCode: "validation_invalid_body"},
		{name: "wrong type", token: erin, body: `{"code":42}`, status: 400, fieldCode: "validation_invalid_body"},
		{name: "expired", setup: map[string]any{"expires": time.Now().Add(-time.Minute)}, token: erin, body: map[string]string{"code": code}, status: 400, fieldCode: "validation_invite_expired", message: "expired"},
		{name: "used up", setup: map[string]any{"expires": "", "max_uses": 3, "uses": 3}, token: erin, body: map[string]string{"code": code}, status: 400, fieldCode: "validation_invite_used_up", message: "used"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.setup != nil {
				hearthtest.Save(t, s.App, collections.Invites, hearthtest.ClimbInvite, c.setup)
			}
			res := s.Do(t, http.MethodPost, collections.JoinPath, c.token, c.body)
			if res.Status != c.status {
				t.Fatalf("status %d, want %d: %s", res.Status, c.status, res.Raw)
			}
			if c.fieldCode != "" && res.FieldCode("code") != c.fieldCode {
				t.Fatalf("data.code.code = %q, want %q: %s", res.FieldCode("code"), c.fieldCode, res.Raw)
			}
			if c.message != "" && !strings.Contains(res.Raw, c.message) {
				t.Fatalf("message does not say %q: %s", c.message, res.Raw)
			}
		})
	}
	if n := countMembers(t, s.App, hearthtest.Climbers); n != members {
		t.Fatalf("refused joins changed Climbers' members: %d, want %d", n, members)
	}
	if uses := hearthtest.Record(t, s.App, collections.Invites, hearthtest.ClimbInvite).GetInt("uses"); uses != 3 {
		t.Fatalf("refused joins changed uses: %d, want 3", uses)
	}
}

func TestJoinExpiryUsesTheClock(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	code := inviteCode(t, s.App, hearthtest.ClimbInvite)
	expires := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	hearthtest.Save(t, s.App, collections.Invites, hearthtest.ClimbInvite, map[string]any{"expires": expires})

	hearthtest.SetNow(t, s.App, func() time.Time { return expires })
	if res := s.Do(t, http.MethodPost, collections.JoinPath, hearthtest.Token(t, s.App, hearthtest.Erin), map[string]string{"code": code}); res.FieldCode("code") != "validation_invite_expired" {
		t.Fatalf("at expiry: %d %s", res.Status, res.Raw)
	}
	hearthtest.SetNow(t, s.App, func() time.Time { return expires.Add(-time.Millisecond) })
	if res := s.Do(t, http.MethodPost, collections.JoinPath, hearthtest.Token(t, s.App, hearthtest.Erin), map[string]string{"code": code}); res.Status != http.StatusOK {
		t.Fatalf("just before expiry: %d %s", res.Status, res.Raw)
	}
}

// Fifty people join at once with an invite that allows ten: exactly ten
// get in, every other one is told the invite is used up.
func TestConcurrentJoinsRespectMaxUses(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	code := inviteCode(t, s.App, hearthtest.ClimbInvite)
	hearthtest.Save(t, s.App, collections.Invites, hearthtest.ClimbInvite, map[string]any{"max_uses": 10})
	users, tokens := hearthtest.NewUsers(t, s.App, "joiner", 50)
	before := countMembers(t, s.App, hearthtest.Climbers)

	results := make([]hearthtest.Response, len(tokens))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, tok := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = s.Do(t, http.MethodPost, collections.JoinPath, tok, map[string]string{"code": code})
		}()
	}
	close(start)
	wg.Wait()

	var joined []string
	for i, res := range results {
		switch {
		case res.Status == http.StatusOK && res.Str("user") == users[i]:
			joined = append(joined, users[i])
		case res.Status == http.StatusBadRequest && res.FieldCode("code") == "validation_invite_used_up":
		default:
			t.Errorf("joiner %d: %d %s", i, res.Status, res.Raw)
		}
	}
	if len(joined) != 10 {
		t.Fatalf("%d joins succeeded, want 10", len(joined))
	}
	if n := countMembers(t, s.App, hearthtest.Climbers); n != before+10 {
		t.Fatalf("Climbers has %d members, want %d", n, before+10)
	}
	for _, u := range joined {
		if _, err := collections.FindMembership(s.App, hearthtest.Climbers, u); err != nil {
			t.Errorf("answered 200 but no membership: %v", err)
		}
	}
	if uses := hearthtest.Record(t, s.App, collections.Invites, hearthtest.ClimbInvite).GetInt("uses"); uses != 10 {
		t.Fatalf("uses = %d, want 10", uses)
	}
}

// One person's retries racing each other make one membership and count one
// use.
func TestConcurrentJoinsBySameUser(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	code := inviteCode(t, s.App, hearthtest.ClimbInvite)
	erin := hearthtest.Token(t, s.App, hearthtest.Erin)

	ids := make([]string, 10)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := s.Do(t, http.MethodPost, collections.JoinPath, erin, map[string]string{"code": code})
			if res.Status != http.StatusOK {
				t.Errorf("status %d: %s", res.Status, res.Raw)
			}
			ids[i] = res.Str("id")
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("different memberships answered: %v", ids)
		}
	}
	if uses := hearthtest.Record(t, s.App, collections.Invites, hearthtest.ClimbInvite).GetInt("uses"); uses != 1 {
		t.Fatalf("uses = %d, want 1", uses)
	}
}

// The documented rate-limit label matches the route.
func TestJoinRateLimitLabel(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	settings := s.App.Settings()
	settings.RateLimits.Enabled = true
	settings.RateLimits.Rules = []core.RateLimitRule{{Label: "POST " + collections.JoinPath, Audience: core.RateLimitRuleAudienceAuth, Duration: 60, MaxRequests: 2}}
	if err := s.App.Save(settings); err != nil {
		t.Fatal(err)
	}
	erin := hearthtest.Token(t, s.App, hearthtest.Erin)
	for i, want := range []int{404, 404, http.StatusTooManyRequests} {
		if res := s.Do(t, http.MethodPost, collections.JoinPath, erin, map[string]string{"code": "ZZZZZZZZZZZZ"}); res.Status != want {
			t.Fatalf("attempt %d: %d, want %d: %s", i+1, res.Status, want, res.Raw)
		}
	}
}
