package edge_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"
)

// The oracle an adversarial test used to rebuild another crew's invite
// code: Alice sees Bob (they share Climbers), Bob also belongs to Chess, and
// a filter through Bob's memberships asked about Chess's invite code.
func TestQueryOracleIsRefused(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	if _, err := collections.AddMember(s.App, hearthtest.Chess, hearthtest.Bob, collections.RoleMember); err != nil {
		t.Fatal(err)
	}
	code := hearthtest.Record(t, s.App, collections.Invites, hearthtest.ChessInvite).GetString("code")
	guess := func(prefix string) string {
		return "/api/collections/users/records?filter=" + url.QueryEscape(
			`id="`+hearthtest.Bob+`" && memberships_via_user.group.invites_via_group.code !~ "`+prefix+`%"`)
	}
	right, wrong := guess(code[:4]), guess(strings.Repeat("Z", 4))
	if code[:4] == "ZZZZ" {
		wrong = guess("YYYY")
	}

	// The question has an answer: a superuser, who may see everything, gets
	// different lists for a right and a wrong guess.
	root := hearthtest.SuperuserToken(t, s.App)
	if a, b := s.Do(t, http.MethodGet, right, root, nil), s.Do(t, http.MethodGet, wrong, root, nil); a.Raw == b.Raw {
		t.Fatalf("superuser: right and wrong guesses answer the same, so this test proves nothing: %s", a.Raw)
	}

	alice := hearthtest.Token(t, s.App, hearthtest.Alice)
	a, b := s.Do(t, http.MethodGet, right, alice, nil), s.Do(t, http.MethodGet, wrong, alice, nil)
	if a.Status != http.StatusBadRequest || a.FieldCode("filter") != "validation_path_not_allowed" {
		t.Fatalf("right guess: want 400 naming the filter path, got %d %s", a.Status, a.Raw)
	}
	if a.Raw != b.Raw {
		t.Fatalf("right and wrong guesses answer differently:\n%s\n%s", a.Raw, b.Raw)
	}
	if !strings.Contains(a.Raw, `memberships_via_user.group.invites_via_group.code`) {
		t.Errorf("the answer does not name the refused path: %s", a.Raw)
	}
}

func TestQueryPaths(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	root := hearthtest.SuperuserToken(t, s.App)
	list := func(collection, params string) string {
		return "/api/collections/" + collection + "/records?" + params
	}
	q := func(filter string) string { return "filter=" + url.QueryEscape(filter) }

	for _, c := range []struct {
		name, url, as string
		status        int
		refused       string // the path the 400 names
		param         string // the parameter it names, when not the filter
		items         int    // for 200: totalItems
	}{
		{name: "own field", url: list("events", q(`title:lower ~ "boulder"`)), items: 1},
		{name: "relation id", url: list("memberships", q(`group = "`+hearthtest.Climbers+`"`)+"&sort=user.name"), items: 3},
		{name: "single relation whose target is always visible", url: list("rsvps", q(`event.group = "`+hearthtest.Climbers+`"`)+"&sort=-event.starts_at"), items: 1},
		{name: "the caller's id", url: list("messages", q(`author = @request.auth.id`)), refused: "@request.auth.id"},
		{name: "date macro", url: list("events", q(`starts_at > @now`)), items: 1},
		{name: "literals", url: list("events", q(`ends_at = null && capacity != 0 && title != true`)), items: 1},
		{name: "random and rowid sorts", url: list("events", "sort=@random,-@rowid"), items: 1},
		{name: "back-relation", url: list("groups", q(`memberships_via_group.role = "owner"`)), refused: "memberships_via_group.role"},
		{name: "back-relation with an any-operator", url: list("groups", q(`memberships_via_group.role ?= "owner"`)), refused: "memberships_via_group.role"},
		{name: "relation then back-relation", url: list("events", q(`group.invites_via_group.code ~ "A"`)), refused: "group.invites_via_group.code"},
		{name: "another collection", url: list("events", q(`@collection.invites.code ~ "A"`)), refused: "@collection.invites.code"},
		{name: "the caller's relations", url: list("events", q(`@request.auth.memberships_via_user.group.name = "Chess"`)), refused: "@request.auth.memberships_via_user.group.name"},
		{name: "request body", url: list("events", q(`@request.body.x = 1`)), refused: "@request.body.x"},
		{name: "inside a function", url: list("events", q(`strftime("%Y", group.invites_via_group.expires) = "2030"`)), refused: "group.invites_via_group.expires"},
		{name: "unlisted own path in a sort", url: list("messages", "sort=group.name"), refused: "group.name", param: "sort"},
		{name: "unlisted relation chain in a sort", url: list("rsvps", "sort=event.group.name"), refused: "event.group.name", param: "sort"},
		{name: "modifier other than lower", url: list("messages", q(`attachments:length > 0`)), refused: "attachments:length"},
		{name: "anonymous", as: "anonymous", url: list("users", q(`memberships_via_user.group.name = "Chess"`)), refused: "memberships_via_user.group.name"},
		{name: "a filter PocketBase cannot parse is its own 400", url: list("events", q(`title = `)), status: http.StatusBadRequest},
		{name: "superuser may follow back-relations", as: "superuser", url: list("users", q(`memberships_via_user.group.invites_via_group.code != ""`)), items: 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			tok := carol
			switch c.as {
			case "anonymous":
				tok = ""
			case "superuser":
				tok = root
			}
			res := s.Do(t, http.MethodGet, c.url, tok, nil)
			switch {
			case c.refused != "":
				param := c.param
				if param == "" {
					param = "filter"
				}
				if res.Status != http.StatusBadRequest || res.FieldCode(param) != "validation_path_not_allowed" {
					t.Fatalf("want 400 naming %s, got %d %s", param, res.Status, res.Raw)
				}
				quoted, _ := json.Marshal(`"` + c.refused + `"`)
				if !strings.Contains(res.Raw, strings.Trim(string(quoted), `"`)) {
					t.Errorf("the answer does not name %q: %s", c.refused, res.Raw)
				}
			case c.status != 0:
				if res.Status != c.status || res.FieldCode("filter") == "validation_path_not_allowed" {
					t.Fatalf("want PocketBase's %d, got %d %s", c.status, res.Status, res.Raw)
				}
			default:
				if res.Status != http.StatusOK {
					t.Fatalf("want 200, got %d %s", res.Status, res.Raw)
				}
				if got, _ := res.Body["totalItems"].(float64); int(got) != c.items {
					t.Errorf("totalItems = %v, want %d: %s", got, c.items, res.Raw)
				}
			}
		})
	}
}

// A typo in a Spec would silently refuse a path the app needs: every
// declared path must resolve in PocketBase, in a filter and in a sort.
func TestDeclaredQueryPathsResolve(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	alice := hearthtest.Token(t, s.App, hearthtest.Alice)
	n := 0
	for _, c := range hearthtest.Collections(t, s.App) {
		for _, path := range collections.SpecOf(c.Name).Query {
			for _, params := range []string{"filter=" + url.QueryEscape(path+" != null || "+path+" = null"), "sort=-" + path} {
				res := s.Do(t, http.MethodGet, "/api/collections/"+c.Name+"/records?"+params, alice, nil)
				if res.Status != http.StatusOK {
					t.Errorf("%s?%s: %d %s", c.Name, params, res.Status, res.Raw)
				}
				n++
			}
		}
	}
	if n < 50 {
		t.Fatalf("only %d declared paths checked", n)
	}
}

// A collection an admin adds in the dashboard has no spec: its own fields
// are filterable, paths into other collections are not.
func TestUndeclaredCollectionAllowsOwnFields(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	groups, err := s.App.FindCollectionByNameOrId(collections.Groups)
	if err != nil {
		t.Fatal(err)
	}
	notes := core.NewBaseCollection("notes")
	notes.ListRule = types.Pointer(`@request.auth.id != ""`)
	notes.Fields.Add(&core.TextField{Name: "title"}, &core.RelationField{Name: "group", CollectionId: groups.Id, MaxSelect: 1})
	if err := s.App.Save(notes); err != nil {
		t.Fatal(err)
	}
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	if res := s.Do(t, http.MethodGet, "/api/collections/notes/records?sort=-title&filter="+url.QueryEscape(`title = "x" || group = "y"`), carol, nil); res.Status != http.StatusOK {
		t.Errorf("own fields: %d %s", res.Status, res.Raw)
	}
	for _, params := range []string{"filter=" + url.QueryEscape(`group.name = "Chess"`), "sort=group.name"} {
		res := s.Do(t, http.MethodGet, "/api/collections/notes/records?"+params, carol, nil)
		if res.Status != http.StatusBadRequest || !strings.Contains(res.Raw, "validation_path_not_allowed") {
			t.Errorf("%s: want 400 naming the path, got %d %s", params, res.Status, res.Raw)
		}
	}
}

// A realtime subscription's filter is the same question as a list's, asked
// of every change, and its expand and fields shape each delivery as they
// shape an answer: the same queries are refused when subscribing.
func TestRealtimeFilterPaths(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	clientID := realtimeClient(t, s.URL)
	topic := func(collection string, options any) string {
		raw, err := json.Marshal(options)
		if err != nil {
			t.Fatal(err)
		}
		return collection + "/*?options=" + url.QueryEscape(string(raw))
	}
	filter := func(f string) any { return map[string]any{"query": map[string]any{"filter": f}} }
	for _, c := range []struct {
		name  string
		sub   string
		field string // "" when accepted
	}{
		{"allowed path", topic("messages", filter(`group = "`+hearthtest.Climbers+`"`)), ""},
		{"no filter", "events/*", ""},
		{"back-relation", topic("users", filter(`memberships_via_user.group.invites_via_group.code ~ "A%"`)), "filter"},
		{"by collection id", topic(collectionID(t, s.App, collections.Users), filter(`memberships_via_user.role = "owner"`)), "filter"},
		{"options that do not decode", "users/*?options=" + url.QueryEscape(`{"query":{"filter":"id != ''"}`), "subscriptions"},
		{"the app's expand", topic("messages", map[string]any{"query": map[string]any{"expand": "author,group", "fields": "id,expand.author.name"}}), ""},
		{"back-relation expand", topic("groups", map[string]any{"query": map[string]any{"expand": "memberships_via_group.user"}}), "expand"},
		{"fields that do not parse", topic("messages", map[string]any{"query": map[string]any{"fields": "body:nope"}}), "fields"},
		{"email sort", topic("users", map[string]any{"query": map[string]any{"sort": "email"}}), "sort"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := s.Do(t, http.MethodPost, "/api/realtime", carol, map[string]any{"clientId": clientID, "subscriptions": []string{c.sub}})
			if c.field == "" {
				if res.Status != http.StatusNoContent {
					t.Fatalf("want 204, got %d %s", res.Status, res.Raw)
				}
				return
			}
			if res.Status != http.StatusBadRequest || res.FieldCode(c.field) == "" {
				t.Fatalf("want 400 naming %s, got %d %s", c.field, res.Status, res.Raw)
			}
		})
	}
}

func collectionID(t *testing.T, app core.App, name string) string {
	t.Helper()
	c, err := app.FindCachedCollectionByNameOrId(name)
	if err != nil {
		t.Fatal(err)
	}
	return c.Id
}

// realtimeClient opens an SSE connection, closed when t ends, and returns
// the client id PocketBase announces on it.
func realtimeClient(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/api/realtime")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	lines := bufio.NewScanner(res.Body)
	for lines.Scan() {
		data, ok := strings.CutPrefix(lines.Text(), "data:")
		if !ok {
			continue
		}
		var connect struct {
			ClientID string `json:"clientId"`
		}
		if err := json.Unmarshal([]byte(data), &connect); err != nil || connect.ClientID == "" {
			t.Fatalf("PB_CONNECT: %q", data)
		}
		return connect.ClientID
	}
	t.Fatalf("realtime: no PB_CONNECT event: %v", lines.Err())
	return ""
}

// docs/access-rules.md lists every collection's paths for app developers;
// it must say what the specs say.
func TestAccessRulesDocListsQueryPaths(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../docs/access-rules.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, name := range hearthtest.Tables(t, hearthtest.NewApp(t)) {
		var paths []string
		for _, p := range collections.SpecOf(name).Query {
			paths = append(paths, "`"+p+"`")
		}
		row := "| " + name + " | " + strings.Join(paths, ", ") + " |"
		if !strings.Contains(doc, row) {
			t.Errorf("docs/access-rules.md lacks the row\n%s", row)
		}
	}
}
