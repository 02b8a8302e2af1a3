package changefeed_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
)

// climbersIDs returns every id of the Climbers world as collection/id.
func climbersIDs(t *testing.T, app core.App) map[string]bool {
	t.Helper()
	ids := map[string]bool{"groups/" + hearthtest.Climbers: true}
	for _, name := range []string{collections.Memberships, collections.Events, collections.Messages} {
		records, err := app.FindAllRecords(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range records {
			if r.GetString("group") == hearthtest.Climbers {
				ids[name+"/"+r.Id] = true
			}
		}
	}
	ids["rsvps/"+hearthtest.CarolRSVP] = true
	return ids
}

func TestLostAccess(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		// lose makes Carol lose Climbers, through the records API.
		lose func(t *testing.T, app core.App, srv *testServer)
		// op is what Carol must be told of her copies of Climbers' records.
		op string
	}{
		{"leave", func(t *testing.T, app core.App, srv *testServer) {
			srv.mustDo(t, hearthtest.Carol, http.MethodDelete, "/api/collections/memberships/records/"+hearthtest.MembershipID(t, app, hearthtest.Climbers, hearthtest.Carol))
		}, "revoke"},
		{"removal by an admin", func(t *testing.T, app core.App, srv *testServer) {
			srv.mustDo(t, hearthtest.Bob, http.MethodDelete, "/api/collections/memberships/records/"+hearthtest.MembershipID(t, app, hearthtest.Climbers, hearthtest.Carol))
		}, "revoke"},
		{"group deletion", func(t *testing.T, app core.App, srv *testServer) {
			srv.mustDo(t, hearthtest.Alice, http.MethodDelete, "/api/collections/groups/records/"+hearthtest.Climbers)
		}, "delete"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, limit := range []int{1, 2, 1000} {
				app := hearthtest.NewApp(t)
				srv := &testServer{serve(t, app), app}
				carol := newClient(hearthtest.Token(t, app, hearthtest.Carol))
				carol.mustSync(t, srv.Server, 1000)
				held := map[string]bool{}
				for name, byID := range carol.store {
					for id := range byID {
						held[name+"/"+id] = true
					}
				}
				climbers := climbersIDs(t, app)

				// While Carol is offline: new records in Climbers (which she
				// never held), an edit, and a deletion after she is gone.
				srv.mustDo(t, hearthtest.Bob, http.MethodPost, "/api/collections/messages/records", `{"group":"`+hearthtest.Climbers+`","body":"before"}`)
				tc.lose(t, app, srv)
				if tc.op != "delete" {
					srv.mustDo(t, hearthtest.Bob, http.MethodPatch, "/api/collections/events/records/"+hearthtest.ClimbEvent, `{"title":"after"}`)
					srv.mustDo(t, hearthtest.Alice, http.MethodDelete, "/api/collections/messages/records/"+hearthtest.ClimbMessage, "")
				}

				carol.seen = nil
				carol.mustSync(t, srv.Server, limit)
				carol.matchesListAPI(t, srv.Server)

				told := map[string]string{}
				for _, ch := range carol.seen {
					told[ch.collection+"/"+ch.id] = ch.op
				}
				for id := range climbers {
					if !held[id] {
						continue
					}
					if op := told[id]; op != "revoke" && op != "delete" {
						t.Errorf("limit %d: held %s, told %q, want it dropped", limit, id, op)
					} else if tc.op == "delete" && op != "delete" {
						t.Errorf("limit %d: %s: told %q, want a tombstone", limit, id, op)
					}
				}
				for _, u := range []string{hearthtest.Alice, hearthtest.Bob} {
					if told["users/"+u] != "revoke" {
						t.Errorf("limit %d: user %s: told %q, want revoke", limit, u, told["users/"+u])
					}
				}
				if len(carol.store[collections.Users]) != 1 {
					t.Errorf("limit %d: Carol still holds users %v", limit, keys(carol.store[collections.Users]))
				}
			}
		})
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestNeverLeaks runs a busy life in Climbers, including removing Carol and
// deleting the group, and checks that Erin and Dave (Chess) never hear of
// any of it, while Alice's and Carol's stores stay equal to the list API.
func TestNeverLeaks(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := &testServer{serve(t, app), app}
	erin := newClient(hearthtest.Token(t, app, hearthtest.Erin))
	dave := newClient(hearthtest.Token(t, app, hearthtest.Dave))
	carol := newClient(hearthtest.Token(t, app, hearthtest.Carol))
	for _, c := range []*client{erin, dave, carol} {
		c.mustSync(t, srv.Server, 1000)
	}
	foreign := climbersIDs(t, app)
	for _, u := range []string{hearthtest.Alice, hearthtest.Bob, hearthtest.Carol} {
		foreign["users/"+u] = true
	}

	// Erin in Chess, Carol in Climbers; they share nothing.
	srv.mustDo(t, hearthtest.Carol, http.MethodPost, "/api/collections/events/records", `{"group":"`+hearthtest.Climbers+`","title":"Secret","starts_at":"2030-01-01 10:00:00.000Z"}`)
	srv.mustDo(t, hearthtest.Carol, http.MethodPost, "/api/collections/messages/records", `{"group":"`+hearthtest.Climbers+`","body":"secret"}`)
	srv.mustDo(t, hearthtest.Carol, http.MethodPatch, "/api/collections/rsvps/records/"+hearthtest.CarolRSVP, `{"status":"maybe"}`)
	srv.mustDo(t, hearthtest.Carol, http.MethodPatch, "/api/collections/users/records/"+hearthtest.Carol, `{"name":"Caroline"}`)
	srv.mustDo(t, hearthtest.Bob, http.MethodDelete, "/api/collections/memberships/records/"+hearthtest.MembershipID(t, app, hearthtest.Climbers, hearthtest.Carol), "")
	for _, c := range []*client{erin, dave, carol} {
		c.mustSync(t, srv.Server, 2)
	}
	// Newly created Climbers records are foreign too.
	for id := range climbersIDs(t, app) {
		foreign[id] = true
	}
	srv.mustDo(t, hearthtest.Alice, http.MethodDelete, "/api/collections/groups/records/"+hearthtest.Climbers, "")
	carolBefore := len(carol.seen)
	for _, c := range []*client{erin, dave, carol} {
		c.mustSync(t, srv.Server, 1)
		c.matchesListAPI(t, srv.Server)
	}
	for name, c := range map[string]*client{"Erin": erin, "Dave": dave} {
		for _, ch := range c.seen {
			if foreign[ch.collection+"/"+ch.id] {
				t.Errorf("%s was told %s %s/%s", name, ch.op, ch.collection, ch.id)
			}
		}
	}
	// Carol left before the group was deleted: its deletion is not hers to know.
	for _, ch := range carol.seen[carolBefore:] {
		t.Errorf("Carol was told %s %s/%s after she left", ch.op, ch.collection, ch.id)
	}
}

type testServer struct {
	*httptest.Server
	app core.App
}

// mustDo sends a records API request as user and fails t unless it succeeds.
func (s *testServer) mustDo(t *testing.T, user, method, path string, body ...string) {
	t.Helper()
	if _, err := send(s.Server, hearthtest.Token(t, s.app, user), method, path, strings.Join(body, "")); err != nil {
		t.Fatalf("as %s: %v", user, err)
	}
}

// TestGainedAccess: when Erin is added to Climbers, her next sync brings
// every current record of it, though none of them changed; and when she
// is removed and added back while offline, she ends with it all again.
func TestGainedAccess(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := &testServer{serve(t, app), app}
	erin := newClient(hearthtest.Token(t, app, hearthtest.Erin))
	erin.mustSync(t, srv.Server, 1000)

	root := hearthtest.SuperuserToken(t, app)
	add := func() {
		if _, err := send(srv.Server, root, http.MethodPost, "/api/collections/memberships/records",
			`{"group":"`+hearthtest.Climbers+`","user":"`+hearthtest.Erin+`","role":"member"}`); err != nil {
			t.Fatal(err)
		}
	}
	add()
	erin.mustSync(t, srv.Server, 1)
	erin.matchesListAPI(t, srv.Server)
	for collection, id := range map[string]string{
		collections.Groups:   hearthtest.Climbers,
		collections.Events:   hearthtest.ClimbEvent,
		collections.RSVPs:    hearthtest.CarolRSVP,
		collections.Messages: hearthtest.ClimbMessage,
		collections.Users:    hearthtest.Alice,
	} {
		if _, ok := erin.store[collection][id]; !ok {
			t.Errorf("Erin lacks %s/%s after joining", collection, id)
		}
	}

	srv.mustDo(t, hearthtest.Alice, http.MethodDelete, "/api/collections/memberships/records/"+hearthtest.MembershipID(t, app, hearthtest.Climbers, hearthtest.Erin))
	srv.mustDo(t, hearthtest.Bob, http.MethodPost, "/api/collections/messages/records", `{"group":"`+hearthtest.Climbers+`","body":"while Erin was out"}`)
	add()
	erin.mustSync(t, srv.Server, 2)
	erin.matchesListAPI(t, srv.Server)
}
