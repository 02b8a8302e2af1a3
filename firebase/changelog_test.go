package firebase_test

import (
	"testing"

	"github.com/crews/hearth/firebase"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
)

// TestChangeLogIndexesDeferredByName: the change log's indexes a large
// run drops while it appends (changesScattered in relations.go) are
// named as the migrations name them; a renamed one would silently stay
// during the append and make it slower.
func TestChangeLogIndexesDeferredByName(t *testing.T) {
	app := hearthtest.NewApp(t)
	for _, name := range firebase.ChangesScattered {
		var n int
		err := app.DB().NewQuery("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = '_hearth_changes' AND name = {:n}").
			Bind(dbx.Params{"n": name}).Row(&n)
		if err != nil || n != 1 {
			t.Errorf("no index %s on _hearth_changes (%d, %v)", name, n, err)
		}
	}
}
