package edge_test

import (
	"net/http"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
)

// PocketBase's routes take a collection's id where its name goes (the SDK's
// pb.collection(id) too): a create refused by its rule names the scope
// field either way. By id it answered a bare 400 (found by the review
// after issue 21).
func TestCreateDenialByCollectionID(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	erin := hearthtest.Token(t, s.App, hearthtest.Erin)
	for _, path := range []string{collections.Messages, collectionID(t, s.App, collections.Messages)} {
		res := s.Do(t, http.MethodPost, "/api/collections/"+path+"/records", erin, map[string]any{"group": hearthtest.Climbers, "body": "hi"})
		if res.Status != http.StatusBadRequest || res.FieldCode("group") != "validation_not_allowed" {
			t.Errorf("%s: want a 400 naming group, got %d %s", path, res.Status, res.Raw)
		}
	}
}
