package edge_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
)

// Every entrance, read from the router: each route (and HEAD for a GET
// route, which Go's ServeMux serves with the GET handler) is sent a
// forbidden filter, sort and expand in two variants that a route reading
// them would answer differently (a true and a false guess of a hidden
// value; opposite orders; two expands). A route that docs/access-rules.md
// lists as guarded by the query policy must refuse both with a 400 naming
// the parameter; any other route must give both the same answer
// (status, headers but Date, body), so whatever it does with the
// parameter, it tells nothing.
func TestEveryRouteAppliesTheQueryPolicy(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	// Bob, whom Alice sees in Climbers, also belongs to Chess, whose invite
	// code Alice may not see; Carol, whom Alice sees too, has a phone.
	if _, err := collections.AddMember(s.App, hearthtest.Chess, hearthtest.Bob, collections.RoleMember); err != nil {
		t.Fatal(err)
	}
	code := hearthtest.Record(t, s.App, collections.Invites, hearthtest.ChessInvite).GetString("code")
	alice := hearthtest.Token(t, s.App, hearthtest.Alice)
	root := hearthtest.SuperuserToken(t, s.App)
	guards := entranceGuards(t)
	cases := forbiddenQueries(code)

	// The variants are questions with answers: the records list, asked by
	// a superuser (who may ask anything), answers them differently.
	for _, c := range cases {
		for _, p := range c.params {
			list := "/api/collections/" + c.collection + "/records"
			a, b := send(t, s.URL, http.MethodGet, list, p.variants[0], root), send(t, s.URL, http.MethodGet, list, p.variants[1], root)
			if a.status != http.StatusOK || a.String() == b.String() {
				t.Fatalf("%s %s: the superuser's answers to the two variants do not differ, so this test proves nothing:\n%s\n%s", c.collection, p.name, a, b)
			}
		}
	}

	refused, unaffected := 0, 0
	for _, r := range hearthtest.Routes(t, s.App) {
		methods := []string{r.Method}
		switch r.Method {
		case "":
			methods = []string{http.MethodGet, http.MethodPost}
		case http.MethodGet:
			methods = append(methods, http.MethodHead)
		}
		route := routeName(r)
		guard, ok := guards[route]
		if !ok {
			continue // TestAccessRulesDocListsEveryRoute names it
		}
		for _, c := range cases {
			if !strings.Contains(r.Path, "{collection}") && c.collection != collections.Users {
				continue // the collection cases differ only in the path
			}
			path := fillPath(r.Path, c)
			for _, method := range methods {
				for _, p := range c.params {
					name := fmt.Sprintf("%s %s?%s", method, path, p.name)
					a := send(t, s.URL, method, path, p.variants[0], alice)
					b := send(t, s.URL, method, path, p.variants[1], alice)
					if refuses(guard, p.name) {
						for _, x := range []exchange{a, b} {
							if x.status != http.StatusBadRequest || (method != http.MethodHead && x.fieldCode(p.name) == "") {
								t.Errorf("%s: want the 400 naming %s (%s), got %s", name, p.name, guard, x)
							}
						}
						refused++
						continue
					}
					if a.String() != b.String() || a.status >= 500 {
						t.Errorf("%s: the two variants answer differently, or fail:\n%s\n%s", name, a, b)
					}
					unaffected++
				}
			}
		}
	}
	t.Logf("%d refusals, %d answers that do not depend on the parameter", refused, unaffected)
	if refused < 100 {
		t.Errorf("only %d refusals: is the guard table of docs/access-rules.md read?", refused)
	}
}

// A forbiddenQuery is a collection to substitute for {collection} and the
// questions its policy refuses, each in two variants.
type forbiddenQuery struct {
	collection string
	id         string // a record of it that Alice sees, for {id}
	params     []forbiddenParam
}

type forbiddenParam struct {
	name     string // filter, sort, expand
	variants [2]url.Values
}

func forbiddenQueries(code string) []forbiddenQuery {
	q := func(name string, a, b string) forbiddenParam {
		return forbiddenParam{name: name, variants: [2]url.Values{{name: {a}}, {name: {b}}}}
	}
	return []forbiddenQuery{{
		// Finding 1: Chess's invite code through Bob's memberships.
		collection: collections.Users, id: hearthtest.Bob,
		params: []forbiddenParam{
			q("filter", `id = "`+hearthtest.Bob+`" && memberships_via_user.group.invites_via_group.code !~ "`+code[:4]+`%"`,
				`id = "`+hearthtest.Bob+`" && memberships_via_user.group.invites_via_group.code !~ "`+wrongPrefix(code[:4])+`%"`),
			q("sort", "email", "-email"),
			q("expand", "memberships_via_user.group", "memberships_via_user"),
		},
	}, {
		// Finding 2: Carol's push token through Climbers' memberships.
		collection: collections.Groups, id: hearthtest.Climbers,
		params: []forbiddenParam{
			q("filter", `id = "`+hearthtest.Climbers+`" && memberships_via_group.user.devices_via_user.token >= "`+hearthtest.CarolToken[:20]+`"`,
				`id = "`+hearthtest.Climbers+`" && memberships_via_group.user.devices_via_user.token >= "ExponentPushToken[zz"`),
			q("sort", "memberships_via_group.user.email", "-memberships_via_group.user.email"),
			q("expand", "memberships_via_group.user", "memberships_via_group"),
		},
	}, {
		collection: collections.Messages, id: hearthtest.ClimbMessage,
		params: []forbiddenParam{
			q("filter", `author.memberships_via_user.group.invites_via_group.code ~ "`+code[:4]+`%"`,
				`author.memberships_via_user.group.invites_via_group.code ~ "`+wrongPrefix(code[:4])+`%"`),
			q("sort", "author.email", "-author.email"),
			q("expand", "author.memberships_via_user", "group.memberships_via_group"),
		},
	}}
}

// wrongPrefix is a prefix of the same length that code does not start with.
func wrongPrefix(prefix string) string {
	if strings.HasPrefix(prefix, "Z") {
		return strings.Repeat("Y", len(prefix))
	}
	return strings.Repeat("Z", len(prefix))
}

// refuses reports whether a route with guard (a list of "; "-separated
// guards) must refuse a forbidden param itself.
func refuses(guard, param string) bool {
	for _, g := range strings.Split(guard, "; ") {
		if strings.HasPrefix(g, "query policy") || (param == "expand" && strings.HasPrefix(g, "expand refused")) {
			return true
		}
	}
	return false
}

var pathParam = regexp.MustCompile(`\{([^}.]+)(\.\.\.)?\}`)

// fillPath puts real values in a route's path parameters: the case's
// collection and record, the invite's group for anything else named id,
// "x" for names nobody has.
func fillPath(path string, c forbiddenQuery) string {
	return pathParam.ReplaceAllStringFunc(path, func(p string) string {
		switch pathParam.FindStringSubmatch(p)[1] {
		case "collection":
			return c.collection
		case "id", "recordId":
			return c.id
		case "filename":
			return "x.png"
		default:
			return "x"
		}
	})
}

// routeName is a route as docs/access-rules.md writes it: "GET /api/sync".
func routeName(r hearthtest.Route) string {
	method := r.Method
	if method == "" {
		method = "ANY"
	}
	return method + " " + r.Path
}

// An exchange is what a client sees of an answer.
type exchange struct {
	status int
	header http.Header
	body   string
}

func (x exchange) fieldCode(field string) string {
	m := regexp.MustCompile(`"` + regexp.QuoteMeta(field) + `":\{"code":"([^"]+)"`).FindStringSubmatch(x.body)
	if m == nil {
		return ""
	}
	return m[1]
}

// volatile are the parts of an answer that differ between two identical
// requests: tokens (they carry their issue time) and realtime client ids.
var volatile = regexp.MustCompile(`eyJ[\w-]+\.[\w-]+\.[\w-]+|"clientId":"\w+"|id:\w+`)

func (x exchange) String() string {
	var h []string
	for _, k := range slices.Sorted(maps.Keys(x.header)) {
		if k != "Date" {
			h = append(h, k+": "+strings.Join(x.header[k], ","))
		}
	}
	body := volatile.ReplaceAllString(x.body, "<volatile>")
	if len(body) > 600 {
		body = body[:600] + "..."
	}
	return fmt.Sprintf("%d [%s] %s", x.status, strings.Join(h, "; "), body)
}

// send makes one request. An event stream (GET /api/realtime) is read up
// to its first event, then the request is cancelled.
func send(t *testing.T, base, method, path string, params url.Values, token string) exchange {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// An empty JSON object where a body is taken; none where the body
	// policy refuses any (GET, HEAD, DELETE), so that the answer is the
	// query policy's.
	var sent io.Reader
	switch method {
	case http.MethodPost, http.MethodPatch, http.MethodPut:
		sent = strings.NewReader("{}")
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path+"?"+params.Encode(), sent)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var body string
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		lines := bufio.NewScanner(res.Body)
		for lines.Scan() && lines.Text() != "" {
			body += lines.Text() + "\n"
		}
	} else {
		raw, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		body = string(raw)
	}
	return exchange{status: res.StatusCode, header: res.Header, body: body}
}

// entranceGuards reads the table of entrances of docs/access-rules.md:
// route -> what guards it.
func entranceGuards(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("../docs/access-rules.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(raw), "\n## Entrances\n")
	if !ok {
		t.Fatal("docs/access-rules.md has no section Entrances")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	guards := map[string]string{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, " | ")
		if !strings.HasPrefix(line, "| `") || len(cells) < 2 {
			continue
		}
		for _, route := range regexp.MustCompile("`([A-Z]+ /[^`]*)`").FindAllStringSubmatch(cells[0], -1) {
			guards[route[1]] = strings.TrimSuffix(strings.Join(cells[1:], " | "), " |")
		}
	}
	return guards
}

// docs/access-rules.md lists every entrance and what guards it: a route the
// router serves and the table lacks (one a PocketBase upgrade or a new
// package adds) fails here until its guard is written down.
func TestAccessRulesDocListsEveryRoute(t *testing.T) {
	t.Parallel()
	guards := entranceGuards(t)
	served := map[string]bool{}
	for _, r := range hearthtest.Routes(t, hearthtest.NewApp(t)) {
		served[routeName(r)] = true
		if _, ok := guards[routeName(r)]; !ok {
			t.Errorf("docs/access-rules.md, Entrances: no row for `%s`", routeName(r))
		}
	}
	for route := range guards {
		if !served[route] {
			t.Errorf("docs/access-rules.md, Entrances: `%s` is not a route of the router", route)
		}
	}
}
