package edge_test

import (
	"net/http"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
)

// A client may choose a new record's id (the write queue of clients/js
// does, so that a create sent again after a lost answer cannot make a
// second record): PocketBase's own id rules hold (15 characters of
// [a-z0-9]), and an id that exists is refused, storing nothing.
func TestClientChosenRecordIds(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	bob := hearthtest.Token(t, s.App, hearthtest.Bob)
	path := "/api/collections/" + collections.Messages + "/records"
	body := map[string]any{"id": "queuedmessage01", "group": hearthtest.Climbers, "body": "sent from the queue"}

	r := s.Do(t, http.MethodPost, path, bob, body)
	if r.Status != http.StatusOK || r.Str("id") != "queuedmessage01" {
		t.Fatalf("create with a client id: %d %s", r.Status, r.Raw)
	}
	r = s.Do(t, http.MethodPost, path, bob, body)
	if r.Status != http.StatusBadRequest || r.FieldCode("id") != "validation_not_unique" {
		t.Errorf("the same create again: %d %s, want 400 validation_not_unique on id", r.Status, r.Raw)
	}
	for _, id := range []string{"QUEUEDMESSAGE02", "queuedmessage", "queued-message1", "queuedmessage0001"} {
		r := s.Do(t, http.MethodPost, path, bob, map[string]any{"id": id, "group": hearthtest.Climbers, "body": "x"})
		if r.Status != http.StatusBadRequest || r.FieldCode("id") == "" {
			t.Errorf("id %q: %d %s, want 400 naming id", id, r.Status, r.Raw)
		}
	}
	n, err := s.App.CountRecords(collections.Messages, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := n
	s.Do(t, http.MethodPost, path, bob, body)
	if n, _ = s.App.CountRecords(collections.Messages, nil); n != before {
		t.Errorf("a refused create stored a record: %d messages, was %d", n, before)
	}
}
