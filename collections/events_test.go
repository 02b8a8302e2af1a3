package collections_test

import (
	"net/http"
	"testing"

	"github.com/crews/hearth/internal/hearthtest"
)

func TestEventEndsNotBeforeStart(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	res := s.Do(t, http.MethodPost, "/api/collections/events/records", carol, map[string]any{
		"group": hearthtest.Climbers, "title": "Backwards", "starts_at": "2030-01-02 10:00:00.000Z", "ends_at": "2030-01-02 09:00:00.000Z"})
	if res.Status != 400 || res.FieldCode("ends_at") != "validation_ends_before_start" {
		t.Fatalf("ends before start: %d %s", res.Status, res.Raw)
	}
	res = s.Do(t, http.MethodPost, "/api/collections/events/records", carol, map[string]any{
		"group": hearthtest.Climbers, "title": "Forwards", "starts_at": "2030-01-02 10:00:00.000Z", "ends_at": "2030-01-02 10:00:00.000Z", "capacity": 3})
	if res.Status != 200 || res.Body["going_count"] != float64(0) {
		t.Fatalf("valid event: %d %s", res.Status, res.Raw)
	}
}
