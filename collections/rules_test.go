package collections_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
)

type action string

const (
	list   action = "list"
	view   action = "view"
	create action = "create"
	update action = "update"
	del    action = "delete"
)

var actions = []action{list, view, create, update, del}

// who is the set of actors allowed an action; everybody else is denied.
type who []actor

var (
	everyone  = who{anonymous, outsider, member, admin, owner, superuser}
	signedIn  = who{outsider, member, admin, owner, superuser}
	members   = who{member, admin, owner, superuser}
	managers  = who{admin, owner, superuser}
	owners    = who{owner, superuser}
	theMember = who{member, superuser} // the member is the target's own user, creator or author
	nobody    = who{superuser}
)

// A matrixRow is one collection of item 5. Its target is a Climbers record
// (the member's own, where ownership matters) that view, update and delete
// act on and that list must show exactly to the actors allowed to view it.
type matrixRow struct {
	collection string
	target     func(t testing.TB, app core.App) string
	setup      func(t testing.TB, app core.App) // extra records a create needs
	createBody func(a actor) string
	// updateBody is sent by update; updated checks the stored record took it.
	updateBody string
	updated    func(r *core.Record) bool
	allow      map[action]who
}

func fixed(id string) func(testing.TB, core.App) string {
	return func(testing.TB, core.App) string { return id }
}

// secondClimbEvent is an event with no RSVP yet, so that every actor may
// create one without meeting the (event, user) unique index.
const secondClimbEvent = "climbevent00002"

var matrix = []matrixRow{
	{
		collection: collections.Users,
		target:     fixed(hearthtest.Carol),
		createBody: func(a actor) string {
			return fmt.Sprintf(`{"name":"New","email":"new-%s@crews.test","password":%q,"passwordConfirm":%q}`, a, hearthtest.Password, hearthtest.Password)
		},
		updateBody: `{"name":"Caroline"}`,
		updated:    func(r *core.Record) bool { return r.GetString("name") == "Caroline" },
		allow: map[action]who{
			list: members, view: members, create: everyone, update: theMember, del: theMember,
		},
	},
	{
		collection: collections.Groups,
		target:     fixed(hearthtest.Climbers),
		createBody: func(a actor) string {
			if a == superuser {
				return `{"name":"Runners","created_by":"` + hearthtest.Erin + `"}`
			}
			return `{"name":"Runners"}`
		},
		updateBody: `{"description":"Indoor and out"}`,
		updated:    func(r *core.Record) bool { return r.GetString("description") == "Indoor and out" },
		allow: map[action]who{
			list: members, view: members, create: signedIn, update: managers, del: owners,
		},
	},
	{
		collection: collections.Memberships,
		target: func(t testing.TB, app core.App) string {
			return hearthtest.MembershipID(t, app, hearthtest.Climbers, hearthtest.Carol)
		},
		createBody: func(actor) string {
			return `{"group":"` + hearthtest.Climbers + `","user":"` + hearthtest.Erin + `","role":"member"}`
		},
		updateBody: `{"role":"admin"}`,
		updated:    func(r *core.Record) bool { return r.GetString("role") == collections.RoleAdmin },
		allow: map[action]who{
			// delete: the member leaves, or a manager removes them.
			list: members, view: members, create: nobody, update: managers, del: members,
		},
	},
	{
		collection: collections.Invites,
		target:     fixed(hearthtest.ClimbInvite),
		createBody: func(actor) string { return `{"group":"` + hearthtest.Climbers + `","max_uses":5}` },
		updateBody: `{"max_uses":3}`,
		updated:    func(r *core.Record) bool { return r.GetInt("max_uses") == 3 },
		allow: map[action]who{
			list: managers, view: managers, create: managers, update: nobody, del: managers,
		},
	},
	{
		collection: collections.Events,
		target:     fixed(hearthtest.ClimbEvent), // Carol's
		createBody: func(actor) string {
			return `{"group":"` + hearthtest.Climbers + `","title":"Crag day","starts_at":"2030-05-01 09:00:00.000Z"}`
		},
		updateBody: `{"title":"Crag night"}`,
		updated:    func(r *core.Record) bool { return r.GetString("title") == "Crag night" },
		allow: map[action]who{
			list: members, view: members, create: members, update: members, del: members,
		},
	},
	{
		collection: collections.RSVPs,
		target:     fixed(hearthtest.CarolRSVP),
		setup: func(t testing.TB, app core.App) {
			hearthtest.Save(t, app, collections.Events, secondClimbEvent, map[string]any{
				"group": hearthtest.Climbers, "title": "Crag day", "starts_at": "2030-05-01 09:00:00.000Z", "created_by": hearthtest.Alice,
			})
		},
		createBody: func(a actor) string {
			if a == superuser {
				return `{"event":"` + secondClimbEvent + `","user":"` + hearthtest.Bob + `","status":"maybe"}`
			}
			return `{"event":"` + secondClimbEvent + `","status":"maybe"}`
		},
		updateBody: `{"status":"declined"}`,
		updated:    func(r *core.Record) bool { return r.GetString("status") == collections.StatusDeclined },
		allow: map[action]who{
			list: members, view: members, create: members, update: theMember, del: theMember,
		},
	},
	{
		collection: collections.Devices,
		target:     fixed(hearthtest.CarolDevice), // Carol's
		createBody: func(a actor) string {
			if a == superuser {
				return `{"user":"` + hearthtest.Erin + `","token":"ExponentPushToken[new-superuser]","platform":"android"}`
			}
			return `{"token":"ExpoPushToken[new-` + string(a) + `]","platform":"android"}`
		},
		updateBody: `{"platform":"android"}`,
		updated:    func(r *core.Record) bool { return r.GetString("platform") == collections.PlatformAndroid },
		allow: map[action]who{
			list: theMember, view: theMember, create: signedIn, update: nobody, del: theMember,
		},
	},
	{
		collection: collections.Mutes,
		target:     fixed(hearthtest.CarolMute), // Carol's, of Climbers
		setup: func(t testing.TB, app core.App) {
			// Carol may mute Climbers once: the fixture mute goes, so that
			// her create meets no unique index.
			rec, err := app.FindRecordById(collections.Mutes, hearthtest.CarolMute)
			if err != nil {
				t.Fatal(err)
			}
			if err := app.Delete(rec); err != nil {
				t.Fatal(err)
			}
		},
		createBody: func(a actor) string {
			if a == superuser {
				return `{"user":"` + hearthtest.Bob + `","group":"` + hearthtest.Climbers + `"}`
			}
			return `{"group":"` + hearthtest.Climbers + `"}`
		},
		updateBody: `{"user":"` + hearthtest.Bob + `"}`,
		updated:    func(r *core.Record) bool { return r.GetString("user") == hearthtest.Bob },
		allow: map[action]who{
			list: theMember, view: theMember, create: members, update: nobody, del: theMember,
		},
	},
	{
		collection: collections.Messages,
		target:     fixed(hearthtest.ClimbMessage), // Carol's
		createBody: func(actor) string { return `{"group":"` + hearthtest.Climbers + `","body":"On my way"}` },
		updateBody: `{"body":"Who brings the quickdraws?"}`,
		updated:    func(r *core.Record) bool { return r.GetString("body") == "Who brings the quickdraws?" },
		allow: map[action]who{
			list: members, view: members, create: members, update: theMember, del: members,
		},
	},
}

// ownerFieldOf is the field a create fills with the caller.
var ownerFieldOf = map[string]string{
	collections.Groups: "created_by", collections.Invites: "created_by", collections.Events: "created_by",
	collections.Messages: "author", collections.RSVPs: "user", collections.Devices: "user", collections.Mutes: "user",
}

// superuserOnly lists the actions whose rule is nil (superusers only):
// PocketBase refuses them with 403 instead of the rule's 400/404.
var superuserOnly = map[string]action{
	collections.Memberships: create,
	collections.Invites:     update,
	collections.Devices:     update,
	collections.Mutes:       update,
}

func deniedStatus(collection string, a action) int {
	switch {
	case superuserOnly[collection] == a:
		return http.StatusForbidden
	case a == create:
		return http.StatusBadRequest
	default:
		return http.StatusNotFound
	}
}

// TestRuleMatrix runs every collection x action x actor of item 5 against
// the real API, asserting allowed and denied outcomes alike.
func TestRuleMatrix(t *testing.T) {
	t.Parallel()
	tk := newTokens(t)
	probe := hearthtest.NewApp(t)
	cells := 0
	for _, row := range matrix {
		target := row.target(t, probe)
		for _, act := range actions {
			for _, a := range actors {
				allowed := slices.Contains(row.allow[act], a)
				s := row.scenario(t, tk, target, act, a, allowed)
				s.Name = fmt.Sprintf("%s/%s/%s/%s", row.collection, act, a, map[bool]string{true: "allowed", false: "denied"}[allowed])
				s.TestAppFactory = hearthtest.Factory
				s.Headers = tk.headers(a)
				s.Test(t)
				cells++
			}
		}
	}
	want := len(actors) * len(matrix) * len(actions)
	t.Logf("rule matrix: %d actors x %d collections x %d actions = %d cells", len(actors), len(matrix), len(actions), cells)
	if cells != want {
		t.Fatalf("ran %d cells, want %d", cells, want)
	}
	// Every table of the schema has its row: a collection added by a
	// migration without one fails here.
	var rows []string
	for _, row := range matrix {
		rows = append(rows, row.collection)
	}
	slices.Sort(rows)
	if tables := hearthtest.Tables(t, probe); !slices.Equal(rows, tables) {
		t.Fatalf("matrix rows %v, schema tables %v: add the missing rows", rows, tables)
	}
}

func (row matrixRow) scenario(t *testing.T, tk tokens, target string, act action, a actor, allowed bool) *tests.ApiScenario {
	base := "/api/collections/" + row.collection + "/records"
	s := &tests.ApiScenario{}
	var before string
	var beforeCount int
	s.BeforeTestFunc = func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
		if row.setup != nil && act == create {
			row.setup(t, app)
		}
		before = hearthtest.Fingerprint(t, app)
		beforeCount = count(t, app, row.collection)
	}
	deny := func() {
		s.ExpectedStatus = deniedStatus(row.collection, act)
		s.ExpectedContent = []string{fmt.Sprintf(`"status":%d`, s.ExpectedStatus)}
		s.AfterTestFunc = unchanged(&before)
	}

	switch act {
	case list:
		s.Method, s.URL = http.MethodGet, base+"?perPage=500"
		s.ExpectedStatus = 200
		s.ExpectedContent = []string{`"items":`}
		s.AfterTestFunc = func(t testing.TB, app *tests.TestApp, res *http.Response) {
			checkList(t, app, res, row.collection, a, target, allowed)
		}
	case view:
		s.Method, s.URL = http.MethodGet, base+"/"+target
		if !allowed {
			deny()
			break
		}
		s.ExpectedStatus = 200
		s.ExpectedContent = []string{`"id":"` + target + `"`}
	case create:
		s.Method, s.URL = http.MethodPost, base
		s.Body = strings.NewReader(row.createBody(a))
		if !allowed {
			deny()
			break
		}
		s.ExpectedStatus = 200
		s.ExpectedContent = []string{`"id":`}
		s.AfterTestFunc = func(t testing.TB, app *tests.TestApp, res *http.Response) {
			id, _ := body(t, res)["id"].(string)
			rec, err := app.FindRecordById(row.collection, id)
			if err != nil {
				t.Fatalf("created record %q not stored: %v", id, err)
			}
			if n := count(t, app, row.collection); n != beforeCount+1 {
				t.Errorf("%s count %d -> %d, want one more", row.collection, beforeCount, n)
			}
			if f, ok := ownerFieldOf[row.collection]; ok && a != superuser && rec.GetString(f) != actorUser[a] {
				t.Errorf("%s = %q, want the caller %q", f, rec.GetString(f), actorUser[a])
			}
		}
	case update:
		s.Method, s.URL = http.MethodPatch, base+"/"+target
		s.Body = strings.NewReader(row.updateBody)
		if !allowed {
			deny()
			break
		}
		s.ExpectedStatus = 200
		s.ExpectedContent = []string{`"id":"` + target + `"`}
		s.AfterTestFunc = func(t testing.TB, app *tests.TestApp, _ *http.Response) {
			rec, err := app.FindRecordById(row.collection, target)
			if err != nil {
				t.Fatal(err)
			}
			if !row.updated(rec) {
				t.Errorf("update %s not stored: %v", row.updateBody, rec.FieldsData())
			}
		}
	case del:
		s.Method, s.URL = http.MethodDelete, base+"/"+target
		if !allowed {
			deny()
			break
		}
		s.ExpectedStatus = 204
		s.AfterTestFunc = func(t testing.TB, app *tests.TestApp, _ *http.Response) {
			if _, err := app.FindRecordById(row.collection, target); err == nil {
				t.Errorf("%s/%s still stored after an allowed delete", row.collection, target)
			}
		}
	}
	return s
}

// checkList asserts that a list response holds exactly the records the
// oracle lets the actor see: the target iff allowed, no foreign rows, none
// missing.
func checkList(t testing.TB, app core.App, res *http.Response, collection string, a actor, target string, allowed bool) {
	t.Helper()
	got := map[string]bool{}
	page := body(t, res)
	items, _ := page["items"].([]any)
	if total, _ := page["totalItems"].(float64); int(total) != len(items) {
		t.Errorf("totalItems %v, %d items listed", page["totalItems"], len(items))
	}
	for _, it := range items {
		id, _ := it.(map[string]any)["id"].(string)
		got[id] = true
	}
	if got[target] != allowed {
		t.Errorf("target %s listed = %v, want %v", target, got[target], allowed)
	}
	all, err := app.FindAllRecords(collection)
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range all {
		want := a == superuser || (a != anonymous && mayList(t, app, actorUser[a], rec))
		if got[rec.Id] != want {
			t.Errorf("%s %s listed = %v, want %v", collection, rec.Id, got[rec.Id], want)
		}
		delete(got, rec.Id)
	}
	if len(got) > 0 {
		t.Errorf("listed ids not in the database: %v", got)
	}
}
