package collections_test

import (
	"net/http"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/filesystem"
)

// TestFileAccess extends the matrix's view column to files: an avatar, a
// group cover and a message attachment in Climbers are served only to
// those who may view their record, with a file token, never anonymously.
func TestFileAccess(t *testing.T) {
	t.Parallel()
	files := []struct{ collection, id, field string }{
		{collections.Users, hearthtest.Carol, "avatar"},
		{collections.Groups, hearthtest.Climbers, "cover"},
		{collections.Messages, hearthtest.ClimbMessage, "attachments"},
	}
	cells := 0
	for _, f := range files {
		for _, a := range actors {
			allowed := a != anonymous && a != outsider
			s := &tests.ApiScenario{
				Name:           f.collection + "/" + f.field + "/" + string(a),
				Method:         http.MethodGet,
				TestAppFactory: hearthtest.Factory,
			}
			s.BeforeTestFunc = func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				rec, err := app.FindRecordById(f.collection, f.id)
				if err != nil {
					t.Fatal(err)
				}
				file, err := filesystem.NewFileFromBytes(hearthtest.PNG(t, 0), "picture.png")
				if err != nil {
					t.Fatal(err)
				}
				rec.Set(f.field, file)
				if err := app.Save(rec); err != nil {
					t.Fatal(err)
				}
				s.URL = "/api/files/" + f.collection + "/" + f.id + "/" + rec.GetStringSlice(f.field)[0]
				if a != anonymous {
					s.URL += "?token=" + fileToken(t, app, a)
				}
			}
			if allowed {
				s.ExpectedStatus = 200
				s.ExpectedContent = []string{"PNG"}
			} else {
				s.ExpectedStatus = 404
				s.ExpectedContent = []string{`"status":404`}
			}
			s.Test(t)
			cells++
		}
	}
	t.Logf("file access: %d scenarios", cells)
}

func fileToken(t testing.TB, app core.App, a actor) string {
	t.Helper()
	var rec *core.Record
	var err error
	if a == superuser {
		rec, err = app.FindAuthRecordByEmail(core.CollectionNameSuperusers, hearthtest.SuperuserEmail)
	} else {
		rec, err = app.FindRecordById(collections.Users, actorUser[a])
	}
	if err != nil {
		t.Fatal(err)
	}
	token, err := rec.NewFileToken()
	if err != nil {
		t.Fatal(err)
	}
	return token
}
