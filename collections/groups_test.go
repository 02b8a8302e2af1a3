package collections_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/tests"
)

func TestCreateGroupMakesCreatorOwner(t *testing.T) {
	t.Parallel()
	(&tests.ApiScenario{
		Name:            "erin creates a group",
		Method:          http.MethodPost,
		URL:             "/api/collections/groups/records",
		Body:            strings.NewReader(`{"name":"Runners"}`),
		Headers:         map[string]string{"Authorization": hearthtest.Token(t, nil, hearthtest.Erin)},
		ExpectedStatus:  200,
		ExpectedContent: []string{`"name":"Runners"`, `"created_by":"` + hearthtest.Erin + `"`},
		ExpectedEvents:  map[string]int{"*": 0, "OnRecordCreateRequest": 1, "OnRecordCreate": 2, "OnRecordCreateExecute": 2, "OnRecordValidate": 2, "OnRecordAfterCreateSuccess": 2, "OnRecordEnrich": 1, "OnModelCreate": 2, "OnModelCreateExecute": 2, "OnModelValidate": 2, "OnModelAfterCreateSuccess": 2},
		TestAppFactory:  hearthtest.Factory,
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			g, err := app.FindFirstRecordByData(collections.Groups, "name", "Runners")
			if err != nil {
				t.Fatal(err)
			}
			m, err := collections.FindMembership(app, g.Id, hearthtest.Erin)
			if err != nil {
				t.Fatal(err)
			}
			if m.Role() != collections.RoleOwner {
				t.Fatalf("role = %q, want owner", m.Role())
			}
		},
	}).Test(t)
}

func TestCreateGroupRefusesCreatedBy(t *testing.T) {
	t.Parallel()
	(&tests.ApiScenario{
		Method:          http.MethodPost,
		URL:             "/api/collections/groups/records",
		Body:            strings.NewReader(`{"name":"Runners","created_by":"` + hearthtest.Alice + `"}`),
		Headers:         map[string]string{"Authorization": hearthtest.Token(t, nil, hearthtest.Erin)},
		ExpectedStatus:  400,
		ExpectedContent: []string{`"created_by":{"code":"validation_server_managed"`},
		ExpectedEvents:  map[string]int{"*": 0, "OnRecordCreateRequest": 1},
		TestAppFactory:  hearthtest.Factory,
	}).Test(t)
}

func TestSuperuserGroupNeedsCreator(t *testing.T) {
	t.Parallel()
	(&tests.ApiScenario{
		Method:          http.MethodPost,
		URL:             "/api/collections/groups/records",
		Body:            strings.NewReader(`{"name":"Ownerless"}`),
		Headers:         map[string]string{"Authorization": hearthtest.SuperuserToken(t, nil)},
		ExpectedStatus:  400,
		ExpectedContent: []string{`"created_by":{"code":"validation_required"`},
		ExpectedEvents:  map[string]int{"*": 0, "OnRecordCreateRequest": 1, "OnRecordCreate": 1, "OnModelCreate": 1, "OnModelAfterCreateError": 1, "OnRecordAfterCreateError": 1},
		TestAppFactory:  hearthtest.Factory,
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			if _, err := app.FindFirstRecordByData(collections.Groups, "name", "Ownerless"); err == nil {
				t.Fatal("a group without a creator was stored")
			}
		},
	}).Test(t)
}
