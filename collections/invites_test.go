package collections_test

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
)

var codeShape = regexp.MustCompile(`^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{12}$`)

func TestInviteCodeIsGeneratedAndUnique(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	alice := hearthtest.Token(t, s.App, hearthtest.Alice)
	seen := map[string]bool{
		inviteCode(t, s.App, hearthtest.ClimbInvite): true,
		inviteCode(t, s.App, hearthtest.ChessInvite): true,
	}
	for range 20 {
		res := s.Do(t, http.MethodPost, "/api/collections/invites/records", alice, map[string]any{"group": hearthtest.Climbers, "max_uses": 5})
		code := res.Str("code")
		if res.Status != 200 || !codeShape.MatchString(code) {
			t.Fatalf("new invite: %d %s", res.Status, res.Raw)
		}
		if seen[code] {
			t.Fatalf("code %s issued twice", code)
		}
		seen[code] = true
	}
	res := s.Do(t, http.MethodPost, "/api/collections/invites/records", alice, map[string]any{"group": hearthtest.Climbers, "code": "ABCDEFGHJKMN"})
	if res.Status != 400 || res.FieldCode("code") != "validation_server_managed" {
		t.Fatalf("client-chosen code: %d %s", res.Status, res.Raw)
	}
}

// A code never changes once issued, whoever writes the invite.
func TestInviteCodeNeverChanges(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	code := inviteCode(t, s.App, hearthtest.ClimbInvite)

	res := s.Do(t, http.MethodPatch, "/api/collections/invites/records/"+hearthtest.ClimbInvite, hearthtest.SuperuserToken(t, s.App),
		map[string]any{"code": "ABCDEFGHJKMN", "max_uses": 9})
	if res.Status != 200 || res.Str("code") != code || res.Body["max_uses"] != float64(9) {
		t.Fatalf("superuser update: %d %s", res.Status, res.Raw)
	}

	inv := hearthtest.Save(t, s.App, collections.Invites, hearthtest.ClimbInvite, map[string]any{"code": "ABCDEFGHJKMN"})
	if inv.GetString("code") != code || inviteCode(t, s.App, hearthtest.ClimbInvite) != code {
		t.Fatalf("Go save changed the code to %s", inviteCode(t, s.App, hearthtest.ClimbInvite))
	}
	// Joining updates the invite (uses+1); the code stays.
	if res := s.Do(t, http.MethodPost, collections.JoinPath, hearthtest.Token(t, s.App, hearthtest.Erin), map[string]string{"code": code}); res.Status != 200 {
		t.Fatalf("join: %d %s", res.Status, res.Raw)
	}
	if got := inviteCode(t, s.App, hearthtest.ClimbInvite); got != code {
		t.Fatalf("code changed to %s", got)
	}
}
