package collections_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Noninterference: two worlds that differ only in rows an observer may not
// see must answer every list request of that observer identically, whatever
// filter or sort it carries; an answer that differs is a bit of a hidden row.
// PocketBase evaluates the operators that must hold for every related row
// (=, !=, !~, <, ...) on a to-many path in a subquery that skips the related
// collections' list rules, so that
//
//	users?filter=id="<Olga>" && memberships_via_user.group.invites_via_group.code !~ "48TV%"
//
// tells Dave, who owns Chess where Olga is a member, whether a crew Olga
// owns has an invite code starting with 48TV.
//
// The test builds the two worlds, derives a few thousand filters and sorts
// from the schema, with values taken from the rows in which the worlds
// differ, and compares every answer byte for byte, asked with GET and with
// HEAD (served by the GET handler; its status and headers are an answer
// too). TestNoninterferenceRealtime asks the same filters as realtime
// subscriptions. It asserts nothing about
// how a leak is closed: a refusal is as good as a 200, as long as both worlds
// give the same one.

// The hidden crew and the people around it. Olga owns the crew and is a
// plain member of Chess, so Chess members see her user row and nothing else
// of the crew. Pete and Quinn are its other members; Pete was in Chess too
// and left it after posting there. Carol was a member and was removed before
// the worlds part. Zed joins the crew in world B only.
const (
	hiddenCrew = "hiddencrew00001"
	olga       = "olga00000000001"
	pete       = "pete00000000001"
	quinn      = "quinn0000000001"
	zed        = "zed000000000001"

	carolHiddenMessage = "carolhiddenmsg1"
	carolHiddenEvent   = "carolhiddenevt1"

	// oracleCode is world A's first invite code to the hidden crew.
	oracleCode = "48TVK2M9QXRZ"
)

// observers are the users whose answers must not depend on the hidden crew.
var observers = []struct{ name, user string }{
	// Shares Climbers with Carol, whose back-relations reach into the crew.
	{"outsider Alice", hearthtest.Alice},
	{"removed member Carol", hearthtest.Carol},
	{"Chess owner Dave, with Olga as member", hearthtest.Dave},
	{"Chess member Erin, with Olga", hearthtest.Erin},
}

const (
	// maxHops bounds the relations a generated path goes through.
	maxHops = 3
	// Per observer: the oracles plus a fixed-seed sample of this many
	// filters and sorts from the (much larger) product of paths,
	// operators, values and targets.
	filtersPerObserver = 1000
	sortsPerObserver   = 200
	// minQueries is a floor that catches a generator broken into silence.
	minQueries = 500
	// perPage is above any observer's count of rows, so that one page
	// holds a whole answer.
	perPage = "200"
)

// filterOps are all of PocketBase's comparison operators.
var filterOps = []string{"=", "!=", ">", ">=", "<", "<=", "~", "!~", "?=", "?!=", "?>", "?>=", "?<", "?<=", "?~", "?!~"}

func TestNoninterference(t *testing.T) {
	t.Parallel()
	a := newWorld(t, hiddenA)
	b := newWorld(t, hiddenB)

	oracles := oracleQueries()
	checkWorldsDiffer(t, a, b, oracles)

	paths := schemaPaths(t, a.app)
	values := hiddenValues(t, a.app, b.app)
	for _, obs := range observers {
		t.Run(obs.name, func(t *testing.T) {
			authA, authB := hearthtest.Token(t, a.app, obs.user), hearthtest.Token(t, b.app, obs.user)
			visible := sameView(t, a, b, authA, authB, slices.Sorted(maps.Keys(paths)))
			rng := rand.New(rand.NewPCG(1, 2))
			queries := append(slices.Clone(oracles), sampleFilters(rng, paths, values, visible)...)
			queries = append(queries, sampleSorts(rng, paths, visible)...)
			if len(queries) < minQueries {
				t.Fatalf("only %d queries to run: the schema walk or the value collection is broken", len(queries))
			}

			var diffs []string
			byKind := map[pathKind]int{}
			for _, q := range queries {
				// HEAD is served by the GET handler: it must not be a
				// door of its own (issue 17: a HEAD list skipped the
				// policy, and its Content-Length told the answer).
				for _, method := range []string{http.MethodGet, http.MethodHead} {
					ansA, ansB := a.ask(method, authA, q), b.ask(method, authB, q)
					if ansA == ansB {
						continue
					}
					byKind[q.kind]++
					diffs = append(diffs, fmt.Sprintf("%s %s\n  world A: %s\n  world B: %s", method, strings.TrimPrefix(q.String(), "GET "), ansA, ansB))
				}
			}
			sorts := countWith(queries, "sort")
			t.Logf("%s: %d queries (%d oracles, %d filters, %d sorts) drawn from %d paths",
				obs.name, len(queries), len(oracles), len(queries)-len(oracles)-sorts, sorts, countPaths(paths))
			if len(diffs) > 0 {
				const shown = 20
				t.Errorf("%d of %d queries answered differently in the two worlds (own fields %d, to-one paths %d, to-many paths %d); the first %d:\n%s",
					len(diffs), len(queries), byKind[ownField], byKind[toOne], byKind[toMany],
					min(shown, len(diffs)), strings.Join(diffs[:min(shown, len(diffs))], "\n"))
			}
		})
	}
}

// A world is a test app with the shared rows and its own hidden content,
// behind the real router.
type world struct {
	app      core.App
	handler  http.Handler
	requests int
}

func newWorld(t *testing.T, hidden hiddenContent) *world {
	t.Helper()
	app := hearthtest.NewApp(t)
	buildShared(t, app)
	hide(t, app, hidden)
	return &world{app: app, handler: hearthtest.Handler(t, app)}
}

// A fixtureRow is a record to write: created, or edited when it exists.
type fixtureRow struct {
	collection, id string
	data           map[string]any
}

// sharedEpoch is when the shared rows are stamped as written (see stamp).
var sharedEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// buildShared writes the rows both worlds share, with the same ids and
// times: the people around the hidden crew, their memberships, and what
// they wrote in Chess and in the crew before Carol and Pete left.
func buildShared(t *testing.T, app core.App) {
	t.Helper()
	for _, u := range []person{{olga, "Olga"}, {pete, "Pete"}, {quinn, "Quinn"}} {
		saveUser(t, app, u)
	}
	hearthtest.Save(t, app, collections.Groups, hiddenCrew, map[string]any{"name": "Crew", "created_by": olga})
	// The group hook gives Olga's owner membership a random id; a fixed one
	// keeps the values drawn from the hidden rows, and so the queries, the
	// same from run to run.
	_, err := app.DB().NewQuery("UPDATE {{memberships}} SET [[id]] = 'memolgahidden01' WHERE [[group]] = {:group} AND [[user]] = {:user}").
		Bind(dbx.Params{"group": hiddenCrew, "user": olga}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	rows := []fixtureRow{
		{collections.Memberships, "memolgachess001", map[string]any{"group": hearthtest.Chess, "user": olga, "role": collections.RoleMember}},
		{collections.Memberships, "mempetechess001", map[string]any{"group": hearthtest.Chess, "user": pete, "role": collections.RoleMember}},
		{collections.Memberships, "mempetehidden01", map[string]any{"group": hiddenCrew, "user": pete, "role": collections.RoleMember}},
		{collections.Memberships, "memquinnhidden1", map[string]any{"group": hiddenCrew, "user": quinn, "role": collections.RoleMember}},
		{collections.Memberships, "memcarolhidden1", map[string]any{"group": hiddenCrew, "user": hearthtest.Carol, "role": collections.RoleMember}},
		{collections.Events, "hiddenevent0001", map[string]any{"group": hiddenCrew, "title": "Spring meet", "starts_at": "2026-03-14 09:00:00.000Z", "created_by": olga}},
		{collections.Events, "hiddenevent0002", map[string]any{"group": hiddenCrew, "title": "Summer meet", "starts_at": "2030-06-01 09:00:00.000Z", "created_by": olga}},
		{collections.RSVPs, "carolrsvppast01", map[string]any{"event": "hiddenevent0001", "user": hearthtest.Carol, "status": collections.StatusGoing}},
		// Deleted when Carol is removed: she is no longer coming.
		{collections.RSVPs, "carolrsvpnext01", map[string]any{"event": "hiddenevent0002", "user": hearthtest.Carol, "status": collections.StatusGoing}},
		{collections.Messages, carolHiddenMessage, map[string]any{"group": hiddenCrew, "author": hearthtest.Carol, "body": "See you at the spring meet"}},
		{collections.Messages, "petechessmsg001", map[string]any{"group": hearthtest.Chess, "author": pete, "body": "Anyone for a rematch?"}},
		{collections.Messages, "olgachessmsg001", map[string]any{"group": hearthtest.Chess, "author": olga, "body": "I will bring my own board."}},
		{collections.RSVPs, "olgachessrsvp01", map[string]any{"event": hearthtest.ChessEvent, "user": olga, "status": collections.StatusMaybe}},
		{collections.Events, "olgachessevent1", map[string]any{"group": hearthtest.Chess, "title": "Simultaneous exhibition", "starts_at": "2026-10-03 14:00:00.000Z", "created_by": olga}},
		{collections.RSVPs, "erinrsvpsimul01", map[string]any{"event": "olgachessevent1", "user": hearthtest.Erin, "status": collections.StatusGoing}},
		{collections.Events, carolHiddenEvent, map[string]any{"group": hiddenCrew, "title": "Bouldering trip", "starts_at": "2026-04-18 08:00:00.000Z", "created_by": hearthtest.Carol}},
	}
	for _, r := range rows {
		hearthtest.Save(t, app, r.collection, r.id, r.data)
	}
	for _, m := range []string{"memcarolhidden1", "mempetechess001"} {
		if err := app.Delete(hearthtest.Record(t, app, collections.Memberships, m)); err != nil {
			t.Fatalf("remove membership %s: %v", m, err)
		}
	}
	stamp(t, app, sharedEpoch)
}

type person struct{ id, name string }

// saveUser saves a user with Alice's password hash and a fixed token key,
// so that the row is the same in both worlds down to its hidden fields.
func saveUser(t *testing.T, app core.App, p person) {
	t.Helper()
	alice := hearthtest.Record(t, app, collections.Users, hearthtest.Alice)
	u := core.NewRecord(alice.Collection())
	u.Id = p.id
	u.Set("name", p.name)
	u.SetEmail(hearthtest.Email(p.id))
	u.SetRaw(core.FieldNamePassword, alice.GetRaw(core.FieldNamePassword))
	u.SetTokenKey(strings.Repeat(p.id, 4)[:50])
	u.SetVerified(true)
	if err := app.SaveNoValidate(u); err != nil {
		t.Fatalf("user %s: %v", p.id, err)
	}
}

// hiddenContent is what one world holds that no observer may see: edits of
// shared rows of the hidden crew and of people in no group with an
// observer, and rows only this world has.
type hiddenContent struct {
	epoch   time.Time // when this world's hidden writes are stamped
	users   []person  // users only this world has
	edits   []fixtureRow
	creates []fixtureRow
}

var hiddenA = hiddenContent{
	epoch: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
	edits: []fixtureRow{
		{collections.Groups, hiddenCrew, map[string]any{"name": "Quarry Crew", "description": "Dawn sessions at the north quarry"}},
		{collections.Memberships, "mempetehidden01", map[string]any{"role": collections.RoleAdmin}},
		{collections.Users, pete, map[string]any{"name": "Pete Quarry"}},
		{collections.Messages, carolHiddenMessage, map[string]any{"body": "Edited after Carol left: amber"}},
	},
	creates: []fixtureRow{
		{collections.Invites, "hiddeninvitea01", map[string]any{"group": hiddenCrew, "code": oracleCode, "created_by": olga}},
		{collections.Invites, "hiddeninvitea02", map[string]any{"group": hiddenCrew, "code": "PX7HB3NWD9EA", "created_by": pete, "max_uses": 5}},
		{collections.Messages, "hiddenmsga00001", map[string]any{"group": hiddenCrew, "author": olga, "body": "Quarry opens Saturday at dawn"}},
		{collections.Messages, "hiddenmsga00002", map[string]any{"group": hiddenCrew, "author": quinn, "body": "Bring the blue ropes"}},
		{collections.Events, "hiddeneventa001", map[string]any{"group": hiddenCrew, "title": "Quarry dawn session", "starts_at": "2026-12-05 06:00:00.000Z", "capacity": 4, "created_by": olga}},
		{collections.RSVPs, "hiddenrsvpa0001", map[string]any{"event": "hiddeneventa001", "user": olga, "status": collections.StatusGoing}},
		{collections.RSVPs, "hiddenrsvpa0002", map[string]any{"event": "hiddeneventa001", "user": quinn, "status": collections.StatusMaybe}},
	},
}

var hiddenB = hiddenContent{
	epoch: time.Date(2025, 4, 15, 0, 0, 0, 0, time.UTC),
	users: []person{{zed, "Zed"}},
	edits: []fixtureRow{
		{collections.Groups, hiddenCrew, map[string]any{"name": "Tidal Crew", "description": "Evening swims off the pier"}},
		{collections.Memberships, "memquinnhidden1", map[string]any{"role": collections.RoleAdmin}},
		{collections.Users, pete, map[string]any{"name": "Pete Tide"}},
		{collections.Messages, carolHiddenMessage, map[string]any{"body": "Edited after Carol left: cobalt"}},
		{collections.RSVPs, "carolrsvppast01", map[string]any{"status": collections.StatusDeclined}},
		{collections.Events, carolHiddenEvent, map[string]any{"title": "Bouldering trip, moved indoors", "capacity": 8}},
	},
	creates: []fixtureRow{
		{collections.Memberships, "memzedhidden001", map[string]any{"group": hiddenCrew, "user": zed, "role": collections.RoleMember}},
		{collections.Invites, "hiddeninviteb01", map[string]any{"group": hiddenCrew, "code": "7HQPW3N8DJCA", "created_by": olga, "uses": 2}},
		{collections.Messages, "hiddenmsgb00001", map[string]any{"group": hiddenCrew, "author": olga, "body": "Tide tables are pinned"}},
		{collections.Messages, "hiddenmsgb00002", map[string]any{"group": hiddenCrew, "author": zed, "body": "Wetsuits in the van"}},
		{collections.Messages, "hiddenmsgb00003", map[string]any{"group": hiddenCrew, "author": quinn, "body": "Pier at six sharp"}},
		{collections.Events, "hiddeneventb001", map[string]any{"group": hiddenCrew, "title": "Pier evening swim", "starts_at": "2027-01-09 18:00:00.000Z", "capacity": 12, "created_by": olga}},
		{collections.Events, "hiddeneventb002", map[string]any{"group": hiddenCrew, "title": "Harbour cleanup", "starts_at": "2026-12-20 10:00:00.000Z", "created_by": quinn}},
		{collections.RSVPs, "hiddenrsvpb0001", map[string]any{"event": "hiddeneventb001", "user": olga, "status": collections.StatusGoing}},
		{collections.RSVPs, "hiddenrsvpb0002", map[string]any{"event": "hiddeneventb002", "user": olga, "status": collections.StatusDeclined}},
		{collections.RSVPs, "hiddenrsvpb0003", map[string]any{"event": "hiddeneventb001", "user": zed, "status": collections.StatusGoing}},
	},
}

// hide writes a world's hidden content through the model API, hooks
// included, then stamps what it wrote.
func hide(t *testing.T, app core.App, h hiddenContent) {
	t.Helper()
	for _, u := range h.users {
		saveUser(t, app, u)
	}
	for _, r := range h.edits {
		hearthtest.Save(t, app, r.collection, r.id, r.data)
	}
	for _, r := range h.creates {
		hearthtest.Save(t, app, r.collection, r.id, r.data)
	}
	stamp(t, app, h.epoch)
}

// stamp sets the created and updated times of the rows written since the
// last stamp (those updated after epoch) to epoch plus one minute per row, in
// insertion order. The shared rows so carry the same times in both worlds,
// and no list order hangs on the millisecond a row was written in.
func stamp(t *testing.T, app core.App, epoch time.Time) {
	t.Helper()
	at := func(d time.Duration) string { return epoch.Add(d).UTC().Format("2006-01-02 15:04:05.000Z") }
	for _, c := range listable(t, app) {
		var ids []string
		err := app.DB().Select("id").From(c.Name).
			Where(dbx.NewExp("[[updated]] > {:epoch}", dbx.Params{"epoch": at(0)})).
			OrderBy("rowid").Column(&ids)
		if err != nil {
			t.Fatalf("stamp %s: %v", c.Name, err)
		}
		for i, id := range ids {
			_, err := app.DB().NewQuery("UPDATE {{" + c.Name + "}} SET " +
				"[[created]] = CASE WHEN [[created]] > {:epoch} THEN {:at} ELSE [[created]] END, [[updated]] = {:at} WHERE [[id]] = {:id}").
				Bind(dbx.Params{"epoch": at(0), "at": at(time.Duration(i+1) * time.Minute), "id": id}).Execute()
			if err != nil {
				t.Fatalf("stamp %s/%s: %v", c.Name, id, err)
			}
		}
	}
}

// listable returns the collections a signed-in user may send list requests
// to, sorted by name.
func listable(t *testing.T, app core.App) []*core.Collection {
	t.Helper()
	var out []*core.Collection
	for _, c := range hearthtest.Collections(t, app) {
		if c.ListRule != nil {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(x, y *core.Collection) int { return strings.Compare(x.Name, y.Name) })
	return out
}

// A query is one list request.
type query struct {
	collection string
	params     url.Values
	kind       pathKind
}

func (q query) String() string {
	s, err := url.QueryUnescape(q.params.Encode())
	if err != nil {
		s = q.params.Encode()
	}
	return "GET /api/collections/" + q.collection + "/records?" + s
}

func filterQuery(collection, filter string, kind pathKind) query {
	return query{collection: collection, params: url.Values{"filter": {filter}}, kind: kind}
}

// An answer is a response as a client sees it; equal answers are equal
// bytes: status, headers (but Date and the request id), items with their
// content and order, and totalItems.
type answer struct {
	status int
	header string
	body   string
}

func (a answer) String() string {
	const limit = 400
	if len(a.body) > limit {
		return fmt.Sprintf("%d [%s] %s... (%d bytes)", a.status, a.header, a.body[:limit], len(a.body))
	}
	return fmt.Sprintf("%d [%s] %s", a.status, a.header, a.body)
}

// list sends q with GET through the world's router, in process.
func (w *world) list(auth string, q query) answer {
	return w.ask(http.MethodGet, auth, q)
}

// ask sends q with method through the world's router, in process. The
// recorder keeps the body of a HEAD answer that a server would drop, and
// a server's Content-Length is that body's length: comparing the bodies
// compares what a HEAD tells.
func (w *world) ask(method, auth string, q query) answer {
	params := url.Values{"perPage": {perPage}}
	for k, v := range q.params {
		params[k] = v
	}
	req := httptest.NewRequest(method, "/api/collections/"+q.collection+"/records?"+params.Encode(), nil)
	req.Header.Set("Authorization", auth)
	// After a few filtered lists that find nothing from one address,
	// PocketBase sleeps up to half a second (a timing-attack damper). Each
	// request comes from its own address so that thousands run in seconds;
	// the sleep changes no answer.
	w.requests++
	req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:40000", w.requests>>16&255, w.requests>>8&255, w.requests&255)
	rec := httptest.NewRecorder()
	w.handler.ServeHTTP(rec, req)
	var header []string
	for _, k := range slices.Sorted(maps.Keys(rec.Header())) {
		if k != "Date" && k != "X-Request-Id" {
			header = append(header, k+": "+strings.Join(rec.Header()[k], ","))
		}
	}
	return answer{status: rec.Code, header: strings.Join(header, "; "), body: rec.Body.String()}
}

// oracleQueries are leaks reproduced by hand: each compares a hidden value
// through a to-many path from a visible user row.
func oracleQueries() []query {
	return []query{
		filterQuery(collections.Users, fmt.Sprintf(`id = "%s" && memberships_via_user.group.invites_via_group.code !~ "%s%%"`, olga, oracleCode[:4]), toMany),
		filterQuery(collections.Users, fmt.Sprintf(`id = "%s" && memberships_via_user.group.name != "Quarry Crew"`, olga), toMany),
		filterQuery(collections.Users, fmt.Sprintf(`id = "%s" && messages_via_author.body !~ "dawn"`, olga), toMany),
		filterQuery(collections.Users, fmt.Sprintf(`id = "%s" && memberships_via_user.group.events_via_group.title !~ "Quarry"`, olga), toMany),
		filterQuery(collections.Users, fmt.Sprintf(`id = "%s" && messages_via_author.body !~ "amber"`, hearthtest.Carol), toMany),
	}
}

// checkWorldsDiffer proves that the hidden content differs where the
// oracles look: the superuser, who sees everything, gets different answers.
func checkWorldsDiffer(t *testing.T, a, b *world, oracles []query) {
	t.Helper()
	authA, authB := hearthtest.SuperuserToken(t, a.app), hearthtest.SuperuserToken(t, b.app)
	for _, q := range oracles {
		if ansA, ansB := a.list(authA, q), b.list(authB, q); ansA == ansB {
			t.Fatalf("the superuser gets the same answer in both worlds, so the hidden content does not differ where the oracle looks:\n%s\n  both: %s", q, ansA)
		}
	}
}

// sameView fails the test unless the observer lists the same rows in both
// worlds when it sends no filter or sort: the worlds must differ only in
// what it may not see. It returns the ids it sees, by collection, in the
// order stamp wrote them: the fixture world has random ids, and this order
// keeps the draws of the sample the same from run to run.
func sameView(t *testing.T, a, b *world, authA, authB string, names []string) map[string][]string {
	t.Helper()
	visible := map[string][]string{}
	for _, name := range names {
		q := query{collection: name, params: url.Values{}}
		ansA, ansB := a.list(authA, q), b.list(authB, q)
		if ansA != ansB || ansA.status != http.StatusOK {
			t.Fatalf("the worlds differ in what the observer sees (the setup is wrong):\n%s\n  world A: %s\n  world B: %s", q, ansA, ansB)
		}
		type item struct{ ID, Created string }
		var page struct{ Items []item }
		if err := json.Unmarshal([]byte(ansA.body), &page); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		slices.SortFunc(page.Items, func(x, y item) int { return strings.Compare(x.Created, y.Created) })
		for _, it := range page.Items {
			visible[name] = append(visible[name], it.ID)
		}
	}
	return visible
}

// pathKind tells how a path reaches its field, for the failure summary.
type pathKind int

const (
	ownField pathKind = iota // a field of the listed collection
	toOne                    // through single relations only
	toMany                   // through a back-relation or a multiple relation
)

// A fieldPath is a field named from a collection, as a filter or sort names
// it: memberships_via_user.group.name from users.
type fieldPath struct {
	expr string
	leaf string // collection.field: the key of the values that fit
	kind pathKind
}

// A hop goes from a collection through one of its relation fields, or
// through another collection's relation field that points at it
// (<collection>_via_<field>).
type hop struct {
	name   string
	to     *core.Collection
	back   string // the field a back-relation goes through; "" for a forward hop
	toMany bool
}

// schemaPaths walks the schema from every listable collection through up
// to maxHops relations, and returns its field paths by collection and by
// number of hops.
func schemaPaths(t *testing.T, app core.App) map[string][][]fieldPath {
	t.Helper()
	all := listable(t, app)
	byID := map[string]*core.Collection{}
	for _, c := range all {
		byID[c.Id] = c
	}
	hopsFrom := func(c *core.Collection) []hop {
		var out []hop
		for _, f := range c.Fields {
			if r, ok := f.(*core.RelationField); ok && !r.Hidden && byID[r.CollectionId] != nil {
				out = append(out, hop{name: r.Name, to: byID[r.CollectionId], toMany: r.IsMultiple()})
			}
		}
		for _, other := range all {
			for _, f := range other.Fields {
				if r, ok := f.(*core.RelationField); ok && !r.Hidden && r.CollectionId == c.Id {
					out = append(out, hop{name: other.Name + "_via_" + r.Name, to: other, back: r.Name, toMany: true})
				}
			}
		}
		return out
	}

	paths := map[string][][]fieldPath{}
	var walk func(root, prefix string, c *core.Collection, depth int, last hop, kind pathKind)
	walk = func(root, prefix string, c *core.Collection, depth int, last hop, kind pathKind) {
		for len(paths[root]) <= depth {
			paths[root] = append(paths[root], nil)
		}
		for _, f := range c.Fields {
			if !f.GetHidden() {
				paths[root][depth] = append(paths[root][depth], fieldPath{expr: prefix + f.GetName(), leaf: c.Name + "." + f.GetName(), kind: kind})
			}
		}
		if depth == maxHops {
			return
		}
		for _, h := range hopsFrom(c) {
			if last.back != "" && h.back == "" && h.name == last.back {
				continue // straight back to the row the back-relation came from
			}
			next := max(kind, toOne)
			if h.toMany {
				next = toMany
			}
			walk(root, prefix+h.name+".", h.to, depth+1, h, next)
		}
	}
	for _, c := range all {
		walk(c.Name, "", c, 0, hop{}, ownField)
	}
	return paths
}

// hiddenValues collects, by collection.field, filter literals taken from the
// rows in which the worlds differ (a row only one has, or a field whose
// value differs), as a superuser reads them, plus the field's zero value.
func hiddenValues(t *testing.T, a, b core.App) map[string][]string {
	t.Helper()
	values := map[string][]string{}
	for _, c := range listable(t, a) {
		rowsA, rowsB := recordsByID(t, a, c.Name), recordsByID(t, b, c.Name)
		for _, f := range c.Fields {
			key := c.Name + "." + f.GetName()
			add := func(mine, theirs map[string]*core.Record) {
				for id, r := range mine {
					v := r.GetString(f.GetName())
					if other, ok := theirs[id]; ok && other.GetString(f.GetName()) == v {
						continue
					}
					values[key] = append(values[key], literals(f, v)...)
				}
			}
			add(rowsA, rowsB)
			add(rowsB, rowsA)
			values[key] = append(values[key], literals(f, "")...)
			slices.Sort(values[key])
			values[key] = slices.Compact(values[key])
		}
	}
	return values
}

func recordsByID(t *testing.T, app core.App, collection string) map[string]*core.Record {
	t.Helper()
	records, err := app.FindAllRecords(collection)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*core.Record{}
	for _, r := range records {
		out[r.Id] = r
	}
	return out
}

// literals turns a stored value into filter literals for its field: the
// value itself, and for text its 4-letter prefix with a % wildcard and its
// words, for dates the day.
func literals(f core.Field, v string) []string {
	switch f.(type) {
	case *core.NumberField:
		if v == "" {
			v = "0"
		}
		return []string{v}
	case *core.BoolField:
		if v == "" {
			v = "false"
		}
		return []string{v}
	case *core.DateField, *core.AutodateField:
		if len(v) < len("2006-01-02") {
			return []string{quote(v)}
		}
		return []string{quote(v), quote(v[:len("2006-01-02")])}
	case *core.TextField, *core.EditorField:
		out := []string{quote(v)}
		if len(v) > 4 {
			out = append(out, quote(v[:4]+"%"))
		}
		for _, w := range strings.FieldsFunc(v, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if len(w) >= 4 && w != v {
				out = append(out, quote(w))
			}
		}
		return out
	default:
		return []string{quote(v)}
	}
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// sampleFilters draws filters: a collection, a number of hops, a path, an
// operator, a value that fits the path's field, and, two times in three, a
// visible row the filter is narrowed to, so that the answer is yes or no.
func sampleFilters(rng *rand.Rand, paths map[string][][]fieldPath, values map[string][]string, visible map[string][]string) []query {
	names := slices.Sorted(maps.Keys(paths))
	seen := map[string]bool{}
	var out []query
	for tries := 0; len(out) < filtersPerObserver && tries < 20*filtersPerObserver; tries++ {
		name := names[rng.IntN(len(names))]
		p := pick(rng, pick(rng, paths[name]))
		filter := fmt.Sprintf("%s %s %s", p.expr, pick(rng, filterOps), pick(rng, values[p.leaf]))
		if ids := visible[name]; len(ids) > 0 && rng.IntN(3) > 0 {
			filter = fmt.Sprintf(`id = "%s" && (%s)`, pick(rng, ids), filter)
		}
		q := filterQuery(name, filter, p.kind)
		if !seen[q.String()] {
			seen[q.String()] = true
			out = append(out, q)
		}
	}
	return out
}

// sampleSorts draws sorts on a path, ascending or descending, over all the
// observer sees or all but one row.
func sampleSorts(rng *rand.Rand, paths map[string][][]fieldPath, visible map[string][]string) []query {
	names := slices.Sorted(maps.Keys(paths))
	seen := map[string]bool{}
	var out []query
	for tries := 0; len(out) < sortsPerObserver && tries < 20*sortsPerObserver; tries++ {
		name := names[rng.IntN(len(names))]
		p := pick(rng, pick(rng, paths[name]))
		expr := p.expr
		if rng.IntN(2) == 0 {
			expr = "-" + expr
		}
		q := query{collection: name, params: url.Values{"sort": {expr}}, kind: p.kind}
		if ids := visible[name]; len(ids) > 1 && rng.IntN(2) == 0 {
			q.params.Set("filter", fmt.Sprintf(`id != "%s"`, pick(rng, ids)))
		}
		if !seen[q.String()] {
			seen[q.String()] = true
			out = append(out, q)
		}
	}
	return out
}

func pick[T any](rng *rand.Rand, s []T) T {
	return s[rng.IntN(len(s))]
}

func countWith(queries []query, param string) int {
	n := 0
	for _, q := range queries {
		if q.params.Has(param) {
			n++
		}
	}
	return n
}

func countPaths(paths map[string][][]fieldPath) int {
	n := 0
	for _, byHops := range paths {
		for _, ps := range byHops {
			n += len(ps)
		}
	}
	return n
}
