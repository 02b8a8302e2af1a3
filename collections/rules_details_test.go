package collections_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
)

// A detail is one of item 5's finer points that the matrix's single target
// per collection cannot show. A refused detail must leave the database as
// it was; an allowed one states what it changed.
type detail struct {
	name    string
	as      actor // a matrix actor, or a fixture user id as actor(id)
	method  string
	url     string
	body    string
	setup   func(t testing.TB, app core.App)
	status  int
	content []string
	absent  []string
	check   func(t testing.TB, app core.App, res *http.Response)
}

func setRole(t testing.TB, app core.App, group, user, role string) {
	t.Helper()
	m, err := collections.FindMembership(app, group, user)
	if err != nil {
		t.Fatal(err)
	}
	m.Set("role", role)
	if err := app.Save(m); err != nil {
		t.Fatal(err)
	}
}

func roleIs(group, user, role string) func(testing.TB, core.App, *http.Response) {
	return func(t testing.TB, app core.App, _ *http.Response) {
		if got := roleOf(t, app, group, user); got != role {
			t.Errorf("role of %s in %s = %q, want %q", user, group, got, role)
		}
	}
}

// twoOwners makes Bob a second owner of Climbers and Carol its admin, so
// that owner removal can be tried without meeting last-owner protection.
func twoOwners(t testing.TB, app core.App) {
	setRole(t, app, hearthtest.Climbers, hearthtest.Bob, collections.RoleOwner)
	setRole(t, app, hearthtest.Climbers, hearthtest.Carol, collections.RoleAdmin)
}

// daveJoinsClimbers makes Dave, owner of Chess, a plain member of Climbers:
// his memberships now hold an owner row and a Climbers row, and only a rule
// that checks group and role on one and the same row refuses him.
func daveJoinsClimbers(t testing.TB, app core.App) {
	if _, err := collections.AddMember(app, hearthtest.Climbers, hearthtest.Dave, collections.RoleMember); err != nil {
		t.Fatal(err)
	}
}

// bobJoinsChess puts Bob, admin of Climbers, in Chess too.
func bobJoinsChess(t testing.TB, app core.App) {
	if _, err := collections.AddMember(app, hearthtest.Chess, hearthtest.Bob, collections.RoleMember); err != nil {
		t.Fatal(err)
	}
}

func TestRuleDetails(t *testing.T) {
	t.Parallel()
	tk := newTokens(t)
	probe := hearthtest.NewApp(t)
	mAlice := "/api/collections/memberships/records/" + hearthtest.MembershipID(t, probe, hearthtest.Climbers, hearthtest.Alice)
	mBob := "/api/collections/memberships/records/" + hearthtest.MembershipID(t, probe, hearthtest.Climbers, hearthtest.Bob)
	mCarol := "/api/collections/memberships/records/" + hearthtest.MembershipID(t, probe, hearthtest.Climbers, hearthtest.Carol)
	carolEmail := hearthtest.Email(hearthtest.Carol)
	bobRSVP := "bobrsvp00000001"
	bobRSVPSetup := func(t testing.TB, app core.App) {
		hearthtest.Save(t, app, collections.RSVPs, bobRSVP, map[string]any{"event": hearthtest.ClimbEvent, "user": hearthtest.Bob, "status": "maybe"})
	}

	details := []detail{
		// memberships: only an owner grants or removes owner.
		{name: "admin cannot grant owner", as: admin, method: http.MethodPatch, url: mCarol, body: `{"role":"owner"}`, status: 404},
		{name: "owner grants owner", as: owner, method: http.MethodPatch, url: mCarol, body: `{"role":"owner"}`, status: 200,
			check: roleIs(hearthtest.Climbers, hearthtest.Carol, collections.RoleOwner)},
		{name: "admin cannot demote an owner", as: admin, method: http.MethodPatch, url: mAlice, body: `{"role":"member"}`, status: 404},
		{name: "admin cannot remove an owner", as: admin, method: http.MethodDelete, url: mAlice, status: 404},
		{name: "admin removes an admin", as: admin, method: http.MethodDelete, url: mCarol, status: 204,
			setup: func(t testing.TB, app core.App) {
				setRole(t, app, hearthtest.Climbers, hearthtest.Carol, collections.RoleAdmin)
			},
			check: roleIs(hearthtest.Climbers, hearthtest.Carol, "")},
		{name: "admin demotes an admin", as: admin, method: http.MethodPatch, url: mCarol, body: `{"role":"member"}`, status: 200,
			setup: func(t testing.TB, app core.App) {
				setRole(t, app, hearthtest.Climbers, hearthtest.Carol, collections.RoleAdmin)
			},
			check: roleIs(hearthtest.Climbers, hearthtest.Carol, collections.RoleMember)},
		{name: "owner removes a second owner", as: owner, method: http.MethodDelete, url: mBob, setup: twoOwners, status: 204,
			check: roleIs(hearthtest.Climbers, hearthtest.Bob, "")},
		{name: "owner demotes a second owner", as: owner, method: http.MethodPatch, url: mBob, body: `{"role":"admin"}`, setup: twoOwners, status: 200,
			check: roleIs(hearthtest.Climbers, hearthtest.Bob, collections.RoleAdmin)},
		{name: "admin cannot remove a second owner", as: actor(hearthtest.Carol), method: http.MethodDelete, url: mBob, setup: twoOwners, status: 404},
		{name: "admin cannot demote a second owner", as: actor(hearthtest.Carol), method: http.MethodPatch, url: mBob, body: `{"role":"member"}`, setup: twoOwners, status: 404},
		{name: "member cannot remove another member", as: member, method: http.MethodDelete, url: mBob, status: 404},
		{name: "owner leaves a group with another owner", as: owner, method: http.MethodDelete, url: mAlice, setup: twoOwners, status: 204,
			check: roleIs(hearthtest.Climbers, hearthtest.Alice, "")},
		{name: "membership cannot move to another user", as: owner, method: http.MethodPatch, url: mCarol, body: `{"user":"` + hearthtest.Erin + `"}`, status: 400,
			content: []string{`"user":{"code":"validation_server_managed"`}},
		{name: "membership cannot move to another group", as: owner, method: http.MethodPatch, url: mCarol, body: `{"group":"` + hearthtest.Chess + `"}`, status: 400,
			content: []string{`"group":{"code":"validation_server_managed"`}},

		// one membership row per condition: owner of Chess, member of Climbers.
		{name: "owner elsewhere cannot delete the group", as: outsider, method: http.MethodDelete, url: "/api/collections/groups/records/" + hearthtest.Climbers, setup: daveJoinsClimbers, status: 404},
		{name: "owner elsewhere cannot update the group", as: outsider, method: http.MethodPatch, url: "/api/collections/groups/records/" + hearthtest.Climbers, body: `{"name":"Mine"}`, setup: daveJoinsClimbers, status: 404},
		{name: "owner elsewhere cannot remove an owner", as: outsider, method: http.MethodDelete, url: mAlice, setup: daveJoinsClimbers, status: 404},
		{name: "owner elsewhere cannot promote", as: outsider, method: http.MethodPatch, url: mCarol, body: `{"role":"admin"}`, setup: daveJoinsClimbers, status: 404},
		{name: "owner elsewhere cannot list invites", as: outsider, method: http.MethodGet, url: "/api/collections/invites/records", setup: daveJoinsClimbers, status: 200,
			content: []string{`"id":"` + hearthtest.ChessInvite + `"`}, absent: []string{hearthtest.ClimbInvite}},
		{name: "owner elsewhere cannot create an invite", as: outsider, method: http.MethodPost, url: "/api/collections/invites/records", body: `{"group":"` + hearthtest.Climbers + `"}`, setup: daveJoinsClimbers, status: 400,
			content: []string{`"group":{"code":"validation_not_allowed"`}},
		{name: "owner elsewhere cannot edit another's event", as: outsider, method: http.MethodPatch, url: "/api/collections/events/records/" + hearthtest.ClimbEvent, body: `{"title":"Mine"}`, setup: daveJoinsClimbers, status: 404},
		{name: "owner elsewhere may read the group as a member", as: outsider, method: http.MethodGet, url: "/api/collections/groups/records/" + hearthtest.Climbers, setup: daveJoinsClimbers, status: 200,
			content: []string{`"id":"` + hearthtest.Climbers + `"`}},

		// users: own record and co-members' only; email only to its owner.
		{name: "co-member sees no email", as: owner, method: http.MethodGet, url: "/api/collections/users/records/" + hearthtest.Carol, status: 200,
			content: []string{`"name":"Carol"`}, absent: []string{carolEmail}},
		{name: "owner of the record sees its email", as: member, method: http.MethodGet, url: "/api/collections/users/records/" + hearthtest.Carol, status: 200,
			content: []string{`"email":"` + carolEmail + `"`}},
		{name: "emailVisibility stored true still hides the email", as: owner, method: http.MethodGet, url: "/api/collections/users/records/" + hearthtest.Carol, status: 200,
			setup: func(t testing.TB, app core.App) {
				// as a row written before the reset on save, or by raw SQL
				if _, err := app.DB().NewQuery("UPDATE users SET emailVisibility = TRUE WHERE id = {:id}").Bind(map[string]any{"id": hearthtest.Carol}).Execute(); err != nil {
					t.Fatal(err)
				}
			},
			content: []string{`"name":"Carol"`}, absent: []string{carolEmail}},
		{name: "expanded users show no email", as: owner, method: http.MethodGet, url: "/api/collections/memberships/records?expand=user", status: 200,
			content: []string{`"name":"Carol"`}, absent: []string{carolEmail}},
		{name: "user cannot turn emailVisibility on", as: member, method: http.MethodPatch, url: "/api/collections/users/records/" + hearthtest.Carol, body: `{"emailVisibility":true}`, status: 400,
			content: []string{`"emailVisibility":{"code":"validation_email_private"`}},
		{name: "sign-up cannot turn emailVisibility on", as: anonymous, method: http.MethodPost, url: "/api/collections/users/records", status: 400,
			body:    `{"name":"Zed","email":"zed@crews.test","password":"` + hearthtest.Password + `","passwordConfirm":"` + hearthtest.Password + `","emailVisibility":true}`,
			content: []string{`"emailVisibility":{"code":"validation_email_private"`}},
		{name: "superuser cannot turn emailVisibility on", as: superuser, method: http.MethodPatch, url: "/api/collections/users/records/" + hearthtest.Carol, body: `{"emailVisibility":true}`, status: 200,
			check: func(t testing.TB, app core.App, _ *http.Response) {
				u, err := app.FindRecordById(collections.Users, hearthtest.Carol)
				if err != nil {
					t.Fatal(err)
				}
				if u.EmailVisibility() {
					t.Error("emailVisibility stored true")
				}
			}},
		{name: "co-member cannot filter users by email", as: owner, method: http.MethodGet, url: "/api/collections/users/records?filter=" + url.QueryEscape(`email="`+carolEmail+`"`), status: 400,
			content: []string{`"filter":{"code":"validation_path_not_allowed"`, `\"email\"`}},
		{name: "superuser finds a user by email", as: superuser, method: http.MethodGet, url: "/api/collections/users/records?filter=" + url.QueryEscape(`email="`+carolEmail+`"`), status: 200,
			content: []string{`"totalItems":1`}},
		{name: "co-member cannot sort users by email", as: owner, method: http.MethodGet, url: "/api/collections/users/records?sort=-email", status: 400,
			content: []string{`"sort":{"code":"validation_email_private"`}},
		{name: "member cannot sort memberships by user email", as: owner, method: http.MethodGet, url: "/api/collections/memberships/records?sort=created,user.email", status: 400,
			content: []string{`"sort":{"code":"validation_email_private"`}},
		{name: "user cannot change their verified flag", as: member, method: http.MethodPatch, url: "/api/collections/users/records/" + hearthtest.Carol, body: `{"verified":false}`, status: 400,
			content: []string{`"verified":{"code":`}},
		{name: "sign-up cannot arrive verified", as: anonymous, method: http.MethodPost, url: "/api/collections/users/records", status: 400,
			body:    `{"name":"Zed","email":"zed@crews.test","password":"` + hearthtest.Password + `","passwordConfirm":"` + hearthtest.Password + `","verified":true}`,
			content: []string{`"verified":{"code":`}},
		{name: "user cannot change their email without the email-change flow", as: member, method: http.MethodPatch, url: "/api/collections/users/records/" + hearthtest.Carol, body: `{"email":"carol2@crews.test"}`, status: 400,
			content: []string{`"email":{"code":`}},
		{name: "user cannot change their password without the old one", as: member, method: http.MethodPatch, url: "/api/collections/users/records/" + hearthtest.Carol, body: `{"password":"new-password-123","passwordConfirm":"new-password-123"}`, status: 400,
			content: []string{`"oldPassword":{"code":`}},
		// a co-member's other groups stay hidden behind the memberships rules:
		// filters and expands may not follow back-relations at all
		// (edge/queries.go).
		{name: "filter cannot reveal a co-member's other group", as: owner, method: http.MethodGet, setup: bobJoinsChess,
			url:    "/api/collections/users/records?filter=" + url.QueryEscape(`memberships_via_user.group ?= "`+hearthtest.Chess+`" && id = "`+hearthtest.Bob+`"`),
			status: 400, content: []string{`"filter":{"code":"validation_path_not_allowed"`, `\"memberships_via_user.group\"`}},
		{name: "filter through the other group is refused even where it would be true", as: outsider, method: http.MethodGet, setup: bobJoinsChess,
			url:    "/api/collections/users/records?filter=" + url.QueryEscape(`memberships_via_user.group ?= "`+hearthtest.Chess+`" && id = "`+hearthtest.Bob+`"`),
			status: 400, content: []string{`"filter":{"code":"validation_path_not_allowed"`, `\"memberships_via_user.group\"`}},
		{name: "expand cannot reveal a co-member's other group", as: owner, method: http.MethodGet, setup: bobJoinsChess,
			url:    "/api/collections/users/records/" + hearthtest.Bob + "?expand=memberships_via_user",
			status: 400, content: []string{`"expand":{"code":"validation_path_not_allowed"`}, absent: []string{hearthtest.Chess}},
		{name: "outsider cannot view a user", as: outsider, method: http.MethodGet, url: "/api/collections/users/records/" + hearthtest.Carol, status: 404},
		{name: "co-member cannot update a user", as: owner, method: http.MethodPatch, url: "/api/collections/users/records/" + hearthtest.Carol, body: `{"name":"Mallory"}`, status: 404},
		{name: "anonymous lists no user", as: anonymous, method: http.MethodGet, url: "/api/collections/users/records", status: 200,
			content: []string{`"totalItems":0`}},
		{name: "anonymous cannot list superusers", as: anonymous, method: http.MethodGet, url: "/api/collections/_superusers/records", status: 403},

		// server-managed fields are refused, never stored.
		{name: "invite code is not client-settable", as: admin, method: http.MethodPost, url: "/api/collections/invites/records", body: `{"group":"` + hearthtest.Climbers + `","code":"ABCDEFGHJKMN"}`, status: 400,
			content: []string{`"code":{"code":"validation_server_managed"`}},
		{name: "invite code autogenerate modifier is refused", as: admin, method: http.MethodPost, url: "/api/collections/invites/records", body: `{"group":"` + hearthtest.Climbers + `","code:autogenerate":"AB"}`, status: 400,
			content: []string{`"code":{"code":"validation_server_managed"`}},
		{name: "invite uses is not client-settable", as: admin, method: http.MethodPost, url: "/api/collections/invites/records", body: `{"group":"` + hearthtest.Climbers + `","uses":3}`, status: 400,
			content: []string{`"uses":{"code":"validation_server_managed"`}},
		{name: "invite uses+ modifier is refused", as: admin, method: http.MethodPost, url: "/api/collections/invites/records", body: `{"group":"` + hearthtest.Climbers + `","uses+":1}`, status: 400,
			content: []string{`"uses":{"code":"validation_server_managed"`}},
		{name: "echoing a server-managed value unchanged is accepted", as: owner, method: http.MethodPatch, url: "/api/collections/groups/records/" + hearthtest.Climbers,
			body: `{"created_by":"` + hearthtest.Alice + `","description":"echo"}`, status: 200,
			check: func(t testing.TB, app core.App, _ *http.Response) {
				g, err := app.FindRecordById(collections.Groups, hearthtest.Climbers)
				if err != nil {
					t.Fatal(err)
				}
				if g.GetString("description") != "echo" || g.GetString("created_by") != hearthtest.Alice {
					t.Errorf("stored %v", g.FieldsData())
				}
			}},
		{name: "invite created_by is not client-settable", as: admin, method: http.MethodPost, url: "/api/collections/invites/records", body: `{"group":"` + hearthtest.Climbers + `","created_by":"` + hearthtest.Alice + `"}`, status: 400,
			content: []string{`"created_by":{"code":"validation_server_managed"`}},
		{name: "invite gets a server code", as: admin, method: http.MethodPost, url: "/api/collections/invites/records", body: `{"group":"` + hearthtest.Climbers + `"}`, status: 200,
			content: []string{`"uses":0`, `"created_by":"` + hearthtest.Bob + `"`},
			check: func(t testing.TB, app core.App, res *http.Response) {
				code, _ := body(t, res)["code"].(string)
				if len(code) != 12 || strings.ContainsAny(code, "01ILO") {
					t.Errorf("code %q is not 12 unambiguous characters", code)
				}
			}},
		{name: "message author is not client-settable", as: member, method: http.MethodPost, url: "/api/collections/messages/records", body: `{"group":"` + hearthtest.Climbers + `","body":"hi","author":"` + hearthtest.Bob + `"}`, status: 400,
			content: []string{`"author":{"code":"validation_server_managed"`}},
		{name: "message author cannot be changed", as: member, method: http.MethodPatch, url: "/api/collections/messages/records/" + hearthtest.ClimbMessage, body: `{"author":"` + hearthtest.Bob + `"}`, status: 400,
			content: []string{`"author":{"code":"validation_server_managed"`}},
		{name: "admin cannot edit another's message", as: admin, method: http.MethodPatch, url: "/api/collections/messages/records/" + hearthtest.ClimbMessage, body: `{"body":"edited"}`, status: 404},
		{name: "event created_by is not client-settable", as: member, method: http.MethodPost, url: "/api/collections/events/records", body: `{"group":"` + hearthtest.Climbers + `","title":"x","starts_at":"2030-05-01 09:00:00.000Z","created_by":"` + hearthtest.Alice + `"}`, status: 400,
			content: []string{`"created_by":{"code":"validation_server_managed"`}},
		{name: "event going_count is not client-settable", as: member, method: http.MethodPatch, url: "/api/collections/events/records/" + hearthtest.ClimbEvent, body: `{"going_count":5}`, status: 400,
			content: []string{`"going_count":{"code":"validation_server_managed"`}},
		{name: "member cannot edit another member's event", as: actor(hearthtest.Erin), method: http.MethodPatch, url: "/api/collections/events/records/" + hearthtest.ChessEvent, body: `{"title":"Mine"}`, status: 404},
		{name: "member cannot delete another member's event", as: actor(hearthtest.Erin), method: http.MethodDelete, url: "/api/collections/events/records/" + hearthtest.ChessEvent, status: 404},
		{name: "group created_by is not client-settable on update", as: owner, method: http.MethodPatch, url: "/api/collections/groups/records/" + hearthtest.Climbers, body: `{"created_by":"` + hearthtest.Bob + `"}`, status: 400,
			content: []string{`"created_by":{"code":"validation_server_managed"`}},

		// rsvps: only one's own.
		{name: "member cannot RSVP for another user", as: member, method: http.MethodPost, url: "/api/collections/rsvps/records", body: `{"event":"` + hearthtest.ClimbEvent + `","user":"` + hearthtest.Bob + `","status":"maybe"}`, status: 400},
		{name: "member cannot update another's RSVP", as: member, method: http.MethodPatch, url: "/api/collections/rsvps/records/" + bobRSVP, body: `{"status":"declined"}`, setup: bobRSVPSetup, status: 404},
		{name: "member cannot delete another's RSVP", as: member, method: http.MethodDelete, url: "/api/collections/rsvps/records/" + bobRSVP, setup: bobRSVPSetup, status: 404},
		{name: "RSVP cannot move to another user", as: member, method: http.MethodPatch, url: "/api/collections/rsvps/records/" + hearthtest.CarolRSVP, body: `{"user":"` + hearthtest.Bob + `"}`, status: 400,
			content: []string{`"user":{"code":"validation_server_managed"`}},
		{name: "outsider cannot RSVP", as: outsider, method: http.MethodPost, url: "/api/collections/rsvps/records", body: `{"event":"` + hearthtest.ClimbEvent + `","status":"maybe"}`, status: 400,
			content: []string{`"event":{"code":"validation_not_allowed"`}},

		// anonymous gets sign-in (sign-up is in the matrix and TestSignUpThenSignIn).
		{name: "anonymous signs in", as: anonymous, method: http.MethodPost, url: "/api/collections/users/auth-with-password", body: `{"identity":"` + carolEmail + `","password":"` + hearthtest.Password + `"}`, status: 200,
			content: []string{`"token":`}},
		{name: "wrong password is refused", as: anonymous, method: http.MethodPost, url: "/api/collections/users/auth-with-password", body: `{"identity":"` + carolEmail + `","password":"wrong-password"}`, status: 400},
	}

	for _, d := range details {
		var before string
		s := &tests.ApiScenario{
			Name:               d.name,
			Method:             d.method,
			URL:                d.url,
			Body:               strings.NewReader(d.body),
			Headers:            tk.headers(d.as),
			ExpectedStatus:     d.status,
			ExpectedContent:    d.content,
			NotExpectedContent: d.absent,
			TestAppFactory:     hearthtest.Factory,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				if d.setup != nil {
					d.setup(t, app)
				}
				before = hearthtest.Fingerprint(t, app)
			},
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				if d.status >= 400 {
					unchanged(&before)(t, app, res)
				} else if d.check != nil {
					d.check(t, app, res)
				}
			},
		}
		if len(s.ExpectedContent) == 0 && len(s.NotExpectedContent) == 0 && d.status != 204 {
			s.ExpectedContent = []string{fmt.Sprintf(`"status":%d`, d.status)}
			if d.status < 400 {
				s.ExpectedContent = []string{`"`}
			}
		}
		s.Test(t)
	}
	t.Logf("rule details: %d scenarios", len(details))
}
