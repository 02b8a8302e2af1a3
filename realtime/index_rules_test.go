package realtime_test

import (
	"encoding/json/v2"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/crews/hearth/realtime"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// TestIndexRuleMatchesSQL judges every record of generated worlds for
// every user and a superuser, on every kind of topic (list and record
// topics, filters, expands, fields), once with the membership index
// answering the rules it knows (index_rules.go) and once with PocketBase's
// SQL alone, and requires the same messages. The worlds hold members of
// one group, of both, of none, members removed again, roles changed, and
// in every other world a list rule changed from the migration's, which
// the index must not answer.
func TestIndexRuleMatchesSQL(t *testing.T) {
	t.Parallel()
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			checkIndexRuleWorld(t, seed)
		})
	}
}

func checkIndexRuleWorld(t *testing.T, seed uint64) {
	app := hearthtest.NewApp(t)
	rng := rand.New(rand.NewPCG(seed, 21))
	if seed%2 == 1 {
		events, err := app.FindCollectionByNameOrId(collections.Events)
		if err != nil {
			t.Fatal(err)
		}
		events.ListRule = types.Pointer(*events.ListRule + ` && title != "secret"`)
		if err := app.Save(events); err != nil {
			t.Fatal(err)
		}
	}
	users := generateWorld(t, app, rng)

	checker, err := realtime.NewIndexChecker(app)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(checker.Stop)
	for _, u := range append(users, "superuser") {
		if err := checker.Subscribe(authOf(t, app, u), everyKindOfTopic); err != nil {
			t.Fatal(err)
		}
	}

	var byIndex, bySQL, refused int
	for _, name := range collections.Names() {
		if !collections.SpecOf(name).Scope.Grouped() {
			continue
		}
		records, err := app.FindAllRecords(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range records {
			judgements, err := checker.Judge(r)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range judgements {
				if !sameMessages(j.IndexMessages, j.SQLMessages) {
					t.Errorf("%s %s for %s (admitted by the index %v): index path %s, SQL path %s",
						name, r.Id, j.Owner, j.Admitted, show(j.IndexMessages), show(j.SQLMessages))
				}
				switch {
				case j.ByIndex:
					byIndex++
				case len(j.SQLMessages) == 0:
					refused++
				default:
					bySQL++
				}
			}
		}
	}
	// Each path must have been taken, or the comparison proves nothing.
	if byIndex == 0 || bySQL == 0 || refused == 0 {
		t.Fatalf("answered by the index %d, by SQL %d, refused %d: a path was never taken", byIndex, bySQL, refused)
	}
}

// everyKindOfTopic is what each connection of the worlds subscribes to.
var everyKindOfTopic = []string{
	"messages/*",
	`messages/*?options={"query":{"filter":"body ~ 'r'"}}`,
	// Whom this filter admits depends on the viewer (the users rule decides
	// whether the author's name can be read: an author who left the group
	// is seen by those who share another group with them), while the
	// options are the same for every member: one member's payload must not
	// stand for another's decision (judgeTopic's shortcut).
	`messages/*?options={"query":{"filter":"author.name != ''"}}`,
	`messages/*?options={"query":{"expand":"author,group"}}`,
	`messages/*?options={"query":{"fields":"id,body"}}`,
	"messages/" + hearthtest.ClimbMessage,
	"events/*",
	`rsvps/*?options={"query":{"expand":"event,user"}}`,
	"memberships/*",
	"groups/*",
	"groups/" + hearthtest.Chess,
	"invites/*",
	"users/*",
}

// generateWorld adds to the fixture world eight users in random groups
// with random roles, removes some of them again, changes roles, and writes
// messages, events, RSVPs and invites by members. It returns every user.
func generateWorld(t *testing.T, app core.App, rng *rand.Rand) []string {
	t.Helper()
	fresh, _ := hearthtest.NewUsers(t, app, "gen", 8)
	groups := []string{hearthtest.Climbers, hearthtest.Chess}
	roles := []string{collections.RoleMember, collections.RoleAdmin}
	for _, u := range fresh {
		for _, g := range groups {
			if rng.IntN(3) == 0 {
				continue // not a member
			}
			m, err := collections.AddMember(app, g, u, roles[rng.IntN(2)])
			if err != nil {
				t.Fatal(err)
			}
			switch rng.IntN(4) {
			case 0: // wrote something, then left
				hearthtest.Save(t, app, collections.Messages, "", map[string]any{"group": g, "author": u, "body": "bye from " + u})
				if err := app.Delete(m); err != nil {
					t.Fatal(err)
				}
			case 1: // role changed
				m.Set("role", roles[1-rng.IntN(2)])
				if err := app.Save(m); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	members, err := app.FindAllRecords(collections.Memberships)
	if err != nil {
		t.Fatal(err)
	}
	soon := time.Now().Add(24 * time.Hour).UTC().Format("2006-01-02 15:04:05.000Z")
	for i := range 12 {
		m := collections.As[collections.Membership](members[rng.IntN(len(members))])
		g, u := m.Group(), m.User()
		body := []string{"rope", "chalk", "a knight", "secret"}[rng.IntN(4)]
		if i == 0 {
			body = "secret" // an event the changed events rule hides
		}
		hearthtest.Save(t, app, collections.Messages, "", map[string]any{"group": g, "author": u, "body": body})
		if i%3 == 0 {
			ev := hearthtest.Save(t, app, collections.Events, "", map[string]any{"group": g, "title": body, "starts_at": soon, "created_by": u})
			hearthtest.Save(t, app, collections.RSVPs, "", map[string]any{"event": ev.Id, "user": u, "status": collections.StatusGoing})
		}
		if i%4 == 0 {
			hearthtest.Save(t, app, collections.Invites, "", map[string]any{"group": g, "created_by": u})
		}
	}
	return append([]string{hearthtest.Alice, hearthtest.Bob, hearthtest.Carol, hearthtest.Dave, hearthtest.Erin}, fresh...)
}

func sameMessages(a, b []realtime.Message) bool {
	if len(a) != len(b) {
		return false
	}
	for i, m := range a {
		var x, y any
		if m.Name != b[i].Name || json.Unmarshal(m.Data, &x) != nil || json.Unmarshal(b[i].Data, &y) != nil || !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

func show(msgs []realtime.Message) string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.Name+" "+string(m.Data))
	}
	return fmt.Sprint(out)
}

// TestMovedRecordReachesItsNewGroupOnly moves a message to another group
// (as a superuser may, in the dashboard): the members of the group it left
// are candidates for its update, but the index admits only members of the
// group it is in now, and the rule's SQL refuses the others.
func TestMovedRecordReachesItsNewGroupOnly(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	srv := hearthtest.Serve(t, app)
	carol := connect(t, app, srv, hearthtest.Carol, "messages/*")
	erin := connect(t, app, srv, hearthtest.Erin, "messages/*")

	moved := hearthtest.Save(t, app, collections.Messages, hearthtest.ClimbMessage, map[string]any{"group": hearthtest.Chess})
	climb := message(t, app, hearthtest.Climbers, hearthtest.Alice, "after the move")
	chess := message(t, app, hearthtest.Chess, hearthtest.Dave, "after the move")

	if got := ids(carol.until(climb.Id)); slices.Contains(got, moved.Id) {
		t.Errorf("Carol, in the group the message left, received it: %v", got)
	}
	if got := ids(erin.until(chess.Id)); !slices.Contains(got, moved.Id) {
		t.Errorf("Erin, in the group the message moved to, did not receive it: %v", got)
	}
}
