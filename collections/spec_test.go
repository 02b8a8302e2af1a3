package collections_test

import (
	"testing"

	"github.com/crews/hearth/internal/hearthtest"
)

// Every collection of the schema that is not PocketBase's own has a spec,
// so none falls back to the default policy by omission.
func TestEveryCollectionHasASpec(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	if got, want := len(hearthtest.Collections(t, app)), len(crewsCollections)+len(pushViews); got != want {
		t.Fatalf("%d Crews collections, want %d", got, want)
	}
}
