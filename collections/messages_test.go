package collections_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
)

const messagesPath = "/api/collections/messages/records/"

func TestCanEditMessage(t *testing.T) {
	t.Parallel()
	posted := time.Date(2030, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		after time.Duration
		want  bool
	}{
		{0, true},
		{14 * time.Minute, true},
		{collections.EditWindow, true},
		{collections.EditWindow + time.Millisecond, false},
		{24 * time.Hour, false},
	} {
		if got := collections.CanEditMessage(posted, posted.Add(c.after)); got != c.want {
			t.Errorf("edit %s after posting: %v, want %v", c.after, got, c.want)
		}
	}
}

func TestMessageEditWindow(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	msg := hearthtest.ClimbMessage
	posted := hearthtest.Record(t, s.App, collections.Messages, msg).GetDateTime("created").Time()
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)

	hearthtest.SetNow(t, s.App, func() time.Time { return posted.Add(14 * time.Minute) })
	if res := s.Do(t, http.MethodPatch, messagesPath+msg, carol, map[string]string{"body": "Who brings the ropes?"}); res.Status != 200 || res.Str("body") != "Who brings the ropes?" {
		t.Fatalf("edit within the window: %d %s", res.Status, res.Raw)
	}

	hearthtest.SetNow(t, s.App, func() time.Time { return posted.Add(16 * time.Minute) })
	res := s.Do(t, http.MethodPatch, messagesPath+msg, carol, map[string]string{"body": "Too late"})
	if res.Status != http.StatusForbidden || !strings.Contains(res.Str("message"), "15 minutes") {
		t.Fatalf("edit after the window: %d %s", res.Status, res.Raw)
	}
	if body := hearthtest.Record(t, s.App, collections.Messages, msg).GetString("body"); body != "Who brings the ropes?" {
		t.Fatalf("body changed to %q", body)
	}

	// Superusers moderate at any time.
	if res := s.Do(t, http.MethodPatch, messagesPath+msg, hearthtest.SuperuserToken(t, s.App), map[string]string{"body": "[removed]"}); res.Status != 200 {
		t.Fatalf("superuser edit: %d %s", res.Status, res.Raw)
	}
	// Others still cannot edit, in or out of the window (the API rules).
	hearthtest.SetNow(t, s.App, func() time.Time { return posted })
	if res := s.Do(t, http.MethodPatch, messagesPath+msg, hearthtest.Token(t, s.App, hearthtest.Alice), map[string]string{"body": "owner edit"}); res.Status != http.StatusNotFound {
		t.Fatalf("owner edits someone's message: %d %s", res.Status, res.Raw)
	}
}

func TestMessageDeleteAfterWindow(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	posted := hearthtest.Record(t, s.App, collections.Messages, hearthtest.ClimbMessage).GetDateTime("created").Time()
	hearthtest.SetNow(t, s.App, func() time.Time { return posted.Add(time.Hour) })

	if res := s.Do(t, http.MethodDelete, messagesPath+hearthtest.ClimbMessage, hearthtest.Token(t, s.App, hearthtest.Carol), nil); res.Status != http.StatusNoContent {
		t.Fatalf("author deletes: %d %s", res.Status, res.Raw)
	}
	posted = hearthtest.Record(t, s.App, collections.Messages, hearthtest.ChessMessage).GetDateTime("created").Time()
	hearthtest.SetNow(t, s.App, func() time.Time { return posted.Add(time.Hour) })
	// Erin is a plain member: no.
	if res := s.Do(t, http.MethodDelete, messagesPath+hearthtest.ChessMessage, hearthtest.Token(t, s.App, hearthtest.Erin), nil); res.Status != http.StatusNotFound {
		t.Fatalf("member deletes another's message: %d %s", res.Status, res.Raw)
	}
	if res := s.Do(t, http.MethodDelete, messagesPath+hearthtest.ChessMessage, hearthtest.Token(t, s.App, hearthtest.Dave), nil); res.Status != http.StatusNoContent {
		t.Fatalf("owner deletes: %d %s", res.Status, res.Raw)
	}
}

func TestMessageNeedsContent(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	res := s.Do(t, http.MethodPost, "/api/collections/messages/records", hearthtest.Token(t, s.App, hearthtest.Carol), map[string]string{"group": hearthtest.Climbers, "body": "   "})
	if res.Status != 400 || res.FieldCode("body") != "validation_required" {
		t.Fatalf("empty message: %d %s", res.Status, res.Raw)
	}
}
