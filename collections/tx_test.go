package collections_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
)

// The hooks write in transactions, but the after-success hooks that follow
// (realtime broadcasts, other plugins) must get the app back, not the
// closed transaction: they query through it.
func TestAfterSuccessHooksGetTheApp(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	var mu sync.Mutex
	seen := map[string]int{}
	check := func(e *core.RecordEvent) error {
		mu.Lock()
		defer mu.Unlock()
		if e.App.IsTransactional() {
			t.Errorf("%s %s: after-success hook got a transaction", e.Record.Collection().Name, e.Record.Id)
		}
		if _, err := e.App.FindRecordById(e.Record.Collection(), e.Record.Id); err != nil {
			t.Errorf("%s %s: query after success: %v", e.Record.Collection().Name, e.Record.Id, err)
		}
		seen[e.Record.Collection().Name]++
		return e.Next()
	}
	for _, c := range []string{collections.Groups, collections.Memberships, collections.RSVPs, collections.Events, collections.Invites} {
		s.App.OnRecordAfterCreateSuccess(c).BindFunc(check)
		s.App.OnRecordAfterUpdateSuccess(c).BindFunc(check)
	}

	erin := hearthtest.Token(t, s.App, hearthtest.Erin)
	if res := s.Do(t, http.MethodPost, "/api/collections/groups/records", erin, map[string]string{"name": "Runners"}); res.Status != 200 {
		t.Fatalf("group: %d %s", res.Status, res.Raw)
	}
	if res := s.Do(t, http.MethodPost, collections.JoinPath, erin, map[string]string{"code": inviteCode(t, s.App, hearthtest.ClimbInvite)}); res.Status != 200 {
		t.Fatalf("join: %d %s", res.Status, res.Raw)
	}
	if res := s.Do(t, http.MethodPost, rsvpsPath, erin, map[string]string{"event": hearthtest.ClimbEvent, "status": "going"}); res.Status != 200 {
		t.Fatalf("rsvp: %d %s", res.Status, res.Raw)
	}
	// groups, memberships (owner + join), invites (uses), rsvps, events (going_count)
	for c, want := range map[string]int{collections.Groups: 1, collections.Memberships: 2, collections.Invites: 1, collections.RSVPs: 1, collections.Events: 1} {
		if seen[c] != want {
			t.Errorf("%d after-success calls for %s, want %d", seen[c], c, want)
		}
	}
}
