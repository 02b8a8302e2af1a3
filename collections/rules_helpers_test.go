package collections_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
)

// An actor is who sends a request, named by their relation to the Climbers
// group that every matrix target belongs to.
type actor string

const (
	anonymous actor = "anonymous"
	outsider  actor = "outsider"
	member    actor = "member"
	admin     actor = "admin"
	owner     actor = "owner"
	superuser actor = "superuser"
)

var actors = []actor{anonymous, outsider, member, admin, owner, superuser}

// actorUser is the fixture user playing each role in Climbers. The outsider
// is Dave, who owns Chess: a rule that mixed up groups or membership rows
// would let an owner of some other group through.
var actorUser = map[actor]string{
	outsider: hearthtest.Dave,
	member:   hearthtest.Carol,
	admin:    hearthtest.Bob,
	owner:    hearthtest.Alice,
}

// tokens holds an Authorization header per actor (none for anonymous),
// signed once per test: every clone of the fixture world shares the secrets.
type tokens map[actor]string

func newTokens(t *testing.T) tokens {
	app := hearthtest.NewApp(t)
	tk := tokens{superuser: hearthtest.SuperuserToken(t, app)}
	for a, id := range actorUser {
		tk[a] = hearthtest.Token(t, app, id)
	}
	for _, id := range []string{hearthtest.Alice, hearthtest.Bob, hearthtest.Carol, hearthtest.Dave, hearthtest.Erin} {
		tk[actor(id)] = hearthtest.Token(t, app, id)
	}
	return tk
}

func (tk tokens) headers(a actor) map[string]string {
	if a == anonymous {
		return nil
	}
	v, ok := tk[a]
	if !ok {
		panic("no token for " + string(a))
	}
	return map[string]string{"Authorization": v}
}

func count(t testing.TB, app core.App, collection string) int {
	t.Helper()
	n, err := app.CountRecords(collection)
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// body decodes a JSON response.
func body(t testing.TB, res *http.Response) map[string]any {
	t.Helper()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, raw)
	}
	return m
}

// unchanged is an AfterTestFunc check that the database equals the snapshot
// taken before the request.
func unchanged(before *string) func(testing.TB, *tests.TestApp, *http.Response) {
	return func(t testing.TB, app *tests.TestApp, _ *http.Response) {
		if after := hearthtest.Fingerprint(t, app); after != *before {
			t.Errorf("a refused request changed the database:\nbefore:\n%s\nafter:\n%s", *before, after)
		}
	}
}

// roleOf is the Go restatement of the membership lookup the rules do: the
// role of user in group, or "" when there is none. The tests use it as an
// oracle independent of the rule strings.
func roleOf(t testing.TB, app core.App, group, user string) string {
	t.Helper()
	m, err := collections.FindMembership(app, group, user)
	if err != nil {
		return ""
	}
	return m.Role()
}

// mayList is the oracle of item 5 for list and view: may user see rec?
func mayList(t testing.TB, app core.App, user string, rec *core.Record) bool {
	t.Helper()
	switch rec.Collection().Name {
	case collections.Users:
		if rec.Id == user {
			return true
		}
		var n int
		err := app.DB().NewQuery("SELECT COUNT(*) FROM memberships a JOIN memberships b ON a.[[group]] = b.[[group]] WHERE a.user = {:me} AND b.user = {:them}").
			Bind(dbx.Params{"me": user, "them": rec.Id}).Row(&n)
		if err != nil {
			t.Fatal(err)
		}
		return n > 0
	case collections.Groups:
		return roleOf(t, app, rec.Id, user) != ""
	case collections.Invites:
		r := roleOf(t, app, rec.GetString("group"), user)
		return r == collections.RoleOwner || r == collections.RoleAdmin
	case collections.Devices, collections.Mutes:
		return rec.GetString("user") == user
	case collections.RSVPs:
		event, err := app.FindRecordById(collections.Events, rec.GetString("event"))
		if err != nil {
			t.Fatal(err)
		}
		return roleOf(t, app, event.GetString("group"), user) != ""
	default:
		return roleOf(t, app, rec.GetString("group"), user) != ""
	}
}
