package edge_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
)

// The expands the app and its client package send are answered, expanded;
// a back-relation, a chain past the listed paths or PocketBase's old
// syntax is a 400 naming expand and the path, on every route that answers
// a record, for anonymous callers too.
func TestExpandPolicy(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	root := hearthtest.SuperuserToken(t, s.App)
	code := hearthtest.Record(t, s.App, collections.Invites, hearthtest.ChessInvite).GetString("code")
	records := func(collection string) string { return "/api/collections/" + collection + "/records" }
	signIn := map[string]string{"identity": hearthtest.Email(hearthtest.Carol), "password": hearthtest.Password}

	for _, c := range []struct {
		name, method, url, as string
		body                  any
		expand                string
		refused               string // the path the 400 names; "" when answered
		expanded              string // for an answer: a key its (first) record's expand holds
	}{
		{name: "messages author,group", method: http.MethodGet, url: records(collections.Messages), expand: "author,group", expanded: "group"},
		{name: "events group,created_by", method: http.MethodGet, url: records(collections.Events), expand: "group,created_by", expanded: "created_by"},
		{name: "memberships user", method: http.MethodGet, url: records(collections.Memberships), expand: "user", expanded: "user"},
		{name: "rsvps user,event.group", method: http.MethodGet, url: records(collections.RSVPs), expand: " user, event.group. ", expanded: "event"},
		{name: "view", method: http.MethodGet, url: records(collections.Messages) + "/" + hearthtest.ClimbMessage, expand: "author", expanded: "author"},
		{name: "create", method: http.MethodPost, url: records(collections.Messages), body: map[string]any{"group": hearthtest.Climbers, "body": "hi"}, expand: "group", expanded: "group"},
		{name: "join answers its group", method: http.MethodPost, url: collections.JoinPath, as: "erin", body: map[string]string{"code": code}, expand: "user", expanded: "group"},
		{name: "superuser may expand anything", method: http.MethodGet, url: records(collections.Users) + "/" + hearthtest.Carol, as: "superuser", expand: "memberships_via_user.group", expanded: "memberships_via_user"},

		{name: "back-relation", method: http.MethodGet, url: records(collections.Users), expand: "memberships_via_user", refused: "memberships_via_user"},
		{name: "through a listed relation", method: http.MethodGet, url: records(collections.Messages), expand: "author,author.memberships_via_user.group", refused: "author.memberships_via_user.group"},
		{name: "past the listed chain", method: http.MethodGet, url: records(collections.RSVPs), expand: "event.group.created_by", refused: "event.group.created_by"},
		{name: "old syntax", method: http.MethodGet, url: records(collections.Groups), expand: "memberships(group)", refused: "memberships(group)"},
		{name: "to the devices", method: http.MethodGet, url: records(collections.Groups) + "/" + hearthtest.Climbers, expand: "memberships_via_group.user.devices_via_user", refused: "memberships_via_group.user.devices_via_user"},
		{name: "update", method: http.MethodPatch, url: records(collections.Messages) + "/" + hearthtest.ClimbMessage, body: map[string]any{"body": "edited"}, expand: "group.invites_via_group", refused: "group.invites_via_group"},
		{name: "sign-in, anonymous", method: http.MethodPost, url: "/api/collections/users/auth-with-password", as: "anonymous", body: signIn, expand: "memberships_via_user", refused: "memberships_via_user"},
		{name: "join", method: http.MethodPost, url: collections.JoinPath, as: "erin", body: map[string]string{"code": code}, expand: "group.memberships_via_group", refused: "group.memberships_via_group"},
	} {
		t.Run(c.name, func(t *testing.T) {
			token := carol
			switch c.as {
			case "anonymous":
				token = ""
			case "superuser":
				token = root
			case "erin":
				token = hearthtest.Token(t, s.App, hearthtest.Erin)
			}
			res := s.Do(t, c.method, c.url+"?expand="+url.QueryEscape(c.expand), token, c.body)
			if c.refused != "" {
				if res.Status != http.StatusBadRequest || res.FieldCode("expand") != "validation_path_not_allowed" {
					t.Fatalf("want 400 naming expand, got %d %s", res.Status, res.Raw)
				}
				if quoted, _ := json.Marshal(c.refused); !strings.Contains(res.Raw, strings.Trim(string(quoted), `"`)) {
					t.Errorf("the answer does not name %q: %s", c.refused, res.Raw)
				}
				return
			}
			if res.Status != http.StatusOK {
				t.Fatalf("want 200, got %d %s", res.Status, res.Raw)
			}
			record := res.Body
			if items, ok := res.Body["items"].([]any); ok && len(items) > 0 {
				record, _ = items[0].(map[string]any)
			}
			if expand, _ := record["expand"].(map[string]any); expand[c.expanded] == nil {
				t.Errorf("no expand.%s in %s", c.expanded, res.Raw)
			}
		})
	}
}

// fields needs no path policy (it picks from the answer the caller gets),
// but one PocketBase's picker cannot parse is a 400 naming it.
func TestFieldsIsParsed(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	list := "/api/collections/messages/records?fields="
	res := s.Do(t, http.MethodGet, list+url.QueryEscape("id,body:excerpt(3,true),expand.author.name")+"&expand=author", carol, nil)
	if res.Status != http.StatusOK || !strings.Contains(res.Raw, `"body":"Who..."`) || !strings.Contains(res.Raw, `"expand":{"author":{"name":"Carol"}}`) {
		t.Errorf("fields with a modifier and an expand: %d %s", res.Status, res.Raw)
	}
	for _, fields := range []string{"id:nope", "body:excerpt(", "body:excerpt(x)"} {
		res := s.Do(t, http.MethodGet, list+url.QueryEscape(fields), carol, nil)
		if res.Status != http.StatusBadRequest || res.FieldCode("fields") != "validation_invalid_fields" {
			t.Errorf("%s: want 400 naming fields, got %d %s", fields, res.Status, res.Raw)
		}
	}
}

// The requests of a batch do not pass the router's middlewares: their
// query is checked by the record request hooks, before anything is
// written.
func TestBatchQueryPolicy(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	hearthtest.EnableBatch(t, s.App, 10)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	create := func(query string) map[string]any {
		return map[string]any{"method": http.MethodPost, "url": "/api/collections/messages/records?" + query,
			"body": map[string]any{"group": hearthtest.Climbers, "body": "batched"}}
	}
	update := func(query string) map[string]any {
		return map[string]any{"method": http.MethodPatch, "url": "/api/collections/messages/records/" + hearthtest.ClimbMessage + "?" + query,
			"body": map[string]any{"body": "batched edit"}}
	}
	upsert := func(query string) map[string]any {
		return map[string]any{"method": http.MethodPut, "url": "/api/collections/messages/records?" + query,
			"body": map[string]any{"id": hearthtest.ClimbMessage, "body": "batched upsert"}}
	}
	remove := func(query string) map[string]any {
		return map[string]any{"method": http.MethodDelete, "url": "/api/collections/messages/records/" + hearthtest.ClimbMessage + "?" + query}
	}
	before := messageBodies(t, s)
	for _, c := range []struct {
		name    string
		request map[string]any
		param   string
	}{
		{"create, back-relation expand", create("expand=" + url.QueryEscape("author.memberships_via_user")), "expand"},
		{"create, fields that do not parse", create("fields=" + url.QueryEscape("id:nope")), "fields"},
		{"update, expand to invites", update("expand=" + url.QueryEscape("group.invites_via_group")), "expand"},
		{"upsert, expand", upsert("expand=" + url.QueryEscape("author.devices_via_user")), "expand"},
		{"delete, filter", remove("filter=" + url.QueryEscape(`group.invites_via_group.code ~ "A%"`)), "filter"},
	} {
		t.Run(c.name, func(t *testing.T) {
			// The failing request comes second, so that a write of the
			// first one would show if the batch were not rolled back.
			res := s.Do(t, http.MethodPost, "/api/batch", carol, map[string]any{"requests": []any{create(""), c.request}})
			data, _ := res.Body["data"].(map[string]any)
			requests, _ := data["requests"].(map[string]any)
			failed, _ := requests["1"].(map[string]any)
			response, _ := failed["response"].(map[string]any)
			fields, _ := response["data"].(map[string]any)
			if res.Status != http.StatusBadRequest || fields[c.param] == nil {
				t.Fatalf("want a batch 400 whose second response names %s, got %d %s", c.param, res.Status, res.Raw)
			}
			if after := messageBodies(t, s); after != before {
				t.Errorf("the refused batch wrote: %s -> %s", before, after)
			}
		})
	}

	// The expands the app uses pass through a batch.
	raw, _ := json.Marshal(map[string]any{"requests": []any{create("expand=author,group&fields=" + url.QueryEscape("id,expand.group.name"))}})
	req, err := http.NewRequest(http.MethodPost, s.URL+"/api/batch", strings.NewReader(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", carol)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if body, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"expand":{"group":{"name":"Climbers"}}`) {
		t.Errorf("allowed expand in a batch: %d %s", res.StatusCode, body)
	}
}

// messageBodies is every message's id and body, for comparing the table
// before and after.
func messageBodies(t *testing.T, s *hearthtest.Server) string {
	t.Helper()
	records, err := s.App.FindAllRecords(collections.Messages)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, r := range records {
		rows = append(rows, r.Id+"="+r.GetString("body"))
	}
	slices.Sort(rows)
	return strings.Join(rows, ", ")
}

// A sync page holds records of several collections: it is not expanded,
// whatever the method.
func TestSyncRefusesExpand(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	res := s.Do(t, http.MethodGet, "/api/sync?cursor=0&expand=user", carol, nil)
	if res.Status != http.StatusBadRequest || res.FieldCode("expand") != "validation_path_not_allowed" {
		t.Errorf("GET: want 400 naming expand, got %d %s", res.Status, res.Raw)
	}
	if head := send(t, s.URL, http.MethodHead, "/api/sync", url.Values{"cursor": {"0"}, "expand": {"user"}}, carol); head.status != http.StatusBadRequest {
		t.Errorf("HEAD: want 400, got %s", head)
	}
	if res := s.Do(t, http.MethodGet, "/api/sync?cursor=0&fields=changes", carol, nil); res.Status != http.StatusOK {
		t.Errorf("fields: want 200, got %d %s", res.Status, res.Raw)
	}
}
