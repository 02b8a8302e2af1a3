package edge_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crews/hearth/auth"
	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
)

// The adversarial probes of the batch API (/api/batch) left open by the
// review of issue 17: each request of a batch must meet the rules, body
// checks and field visibility a single request meets. PocketBase runs a
// batch's requests through the records API's handlers without the
// router, so each probe sends, inside a batch, what the single-request
// tests guard.

// hiddenFields lists the users' fields PocketBase hides from every answer
// and drops from every client write (core.Field.GetHidden; read from the
// schema, so a hidden field added later is probed too). The password is
// PocketBase's exception: it is written (with its confirmation), never
// answered.
func hiddenFields(t *testing.T, app core.App) []core.Field {
	t.Helper()
	users, err := app.FindCachedCollectionByNameOrId(collections.Users)
	if err != nil {
		t.Fatal(err)
	}
	var out []core.Field
	for _, f := range users.Fields {
		if f.GetHidden() && f.GetName() != core.FieldNamePassword {
			out = append(out, f)
		}
	}
	if len(out) < 5 { // tokenKey and the four of the Firebase import
		t.Fatalf("users' hidden fields: %d, the schema changed", len(out))
	}
	return out
}

// ownerOnly are the users' fields answered to their owner alone: the email
// (collections/users.go) and the MFA switch (auth/register.go).
var ownerOnly = []string{core.FieldNameEmail, auth.MFAField}

// probeValue is a value of f's type that differs from anything the fixture
// stores, so that a write of it shows.
func probeValue(f core.Field) any {
	switch f.Type() {
	case core.FieldTypeBool:
		return true
	case core.FieldTypeJSON:
		return map[string]any{"admin": true}
	default:
		return "probe" + f.GetName()
	}
}

// batch sends requests as one JSON batch. A passed batch answers a JSON
// array (read it with batchBodies), a refused one an object.
func batch(t *testing.T, s *hearthtest.Server, token string, requests ...map[string]any) hearthtest.Response {
	t.Helper()
	body, err := json.Marshal(map[string]any{"requests": requests})
	if err != nil {
		t.Fatal(err)
	}
	return sendBatch(t, s, token, "application/json", bytes.NewReader(body))
}

func sendBatch(t *testing.T, s *hearthtest.Server, token, contentType string, body io.Reader) hearthtest.Response {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, s.URL+"/api/batch", body)
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Content-Type", contentType)
	if token != "" {
		r.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := hearthtest.Response{Status: res.StatusCode, Header: res.Header, Raw: string(raw)}
	json.Unmarshal(raw, &out.Body) // an object when refused; batchBodies reads the array
	return out
}

// multipartBatch sends requests as one multipart batch, the form the SDK
// uses when a request carries a file: the requests as JSON in
// @jsonPayload, and a picture under requests.0.<file>.
func multipartBatch(t *testing.T, s *hearthtest.Server, token, file string, requests ...map[string]any) hearthtest.Response {
	t.Helper()
	payload, err := json.Marshal(map[string]any{"requests": requests})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if err := w.WriteField("@jsonPayload", string(payload)); err != nil {
		t.Fatal(err)
	}
	part, err := w.CreateFormFile("requests.0."+file, "pic.png")
	if err != nil {
		t.Fatal(err)
	}
	part.Write(hearthtest.PNG(t, 0))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return sendBatch(t, s, token, w.FormDataContentType(), &b)
}

func req(method, path string, body map[string]any) map[string]any {
	r := map[string]any{"method": method, "url": path}
	if body != nil {
		r["body"] = body
	}
	return r
}

// failedAt returns the index and the wrapped answer of a failed batch's
// request (data.requests.<i>.response of PocketBase's wrapper).
func failedAt(res hearthtest.Response) (int, map[string]any) {
	data, _ := res.Body["data"].(map[string]any)
	requests, _ := data["requests"].(map[string]any)
	for k, v := range requests {
		failed, _ := v.(map[string]any)
		if failed["code"] != "batch_request_failed" {
			continue
		}
		i, err := strconv.Atoi(k)
		if err != nil {
			return -1, nil
		}
		inner, _ := failed["response"].(map[string]any)
		return i, inner
	}
	return -1, nil
}

// A client cannot set a hidden field of its own account through a batch,
// in JSON or in a multipart batch's @jsonPayload, on an update, an upsert
// or a sign-up: PocketBase drops them from the write, which otherwise
// happens (the name changes).
func TestBatchCannotSetHiddenUserFields(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	hearthtest.EnableBatch(t, s.App, 10)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	hidden := hiddenFields(t, s.App)
	with := func(body map[string]any) map[string]any {
		for _, f := range hidden {
			body[f.GetName()] = probeValue(f)
		}
		return body
	}
	self := "/api/collections/users/records/" + hearthtest.Carol
	cases := []struct {
		name string
		send func(name string) hearthtest.Response
		user string // the account written
	}{
		{"update, JSON", func(name string) hearthtest.Response {
			return batch(t, s, carol, req(http.MethodPatch, self, with(map[string]any{"name": name})))
		}, hearthtest.Carol},
		{"upsert, JSON", func(name string) hearthtest.Response {
			return batch(t, s, carol, req(http.MethodPut, "/api/collections/users/records", with(map[string]any{"id": hearthtest.Carol, "name": name})))
		}, hearthtest.Carol},
		{"update with an avatar, multipart", func(name string) hearthtest.Response {
			return multipartBatch(t, s, carol, "avatar", req(http.MethodPatch, self, with(map[string]any{"name": name})))
		}, hearthtest.Carol},
		{"sign-up, JSON", func(name string) hearthtest.Response {
			return batch(t, s, "", req(http.MethodPost, "/api/collections/users/records", with(map[string]any{
				"id": "batchsignup0001", "name": name, "email": "batch1@crews.test",
				"password": hearthtest.Password, "passwordConfirm": hearthtest.Password,
			})))
		}, "batchsignup0001"},
		{"sign-up with an avatar, multipart", func(name string) hearthtest.Response {
			return multipartBatch(t, s, "", "avatar", req(http.MethodPost, "/api/collections/users/records", with(map[string]any{
				"id": "batchsignup0002", "name": name, "email": "batch2@crews.test",
				"password": hearthtest.Password, "passwordConfirm": hearthtest.Password,
			})))
		}, "batchsignup0002"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var keyBefore string
			if old, err := s.App.FindRecordById(collections.Users, c.user); err == nil {
				keyBefore = old.TokenKey()
			}
			name := "Probe " + c.name
			res := c.send(name)
			if res.Status != http.StatusOK {
				t.Fatalf("want the batch to pass with the hidden fields dropped, got %d %s", res.Status, res.Raw)
			}
			u := hearthtest.Record(t, s.App, collections.Users, c.user)
			if u.GetString("name") != name {
				t.Fatalf("the write did not happen: name %q", u.GetString("name"))
			}
			if keyBefore != "" && u.TokenKey() != keyBefore {
				t.Errorf("the token key changed")
			}
			for _, f := range hidden {
				stored, _ := json.Marshal(u.Get(f.GetName()))
				sent, _ := json.Marshal(probeValue(f))
				if bytes.Equal(stored, sent) {
					t.Errorf("%s was stored: %s", f.GetName(), stored)
				}
			}
			for _, f := range hidden {
				if strings.Contains(res.Raw, `"`+f.GetName()+`"`) {
					t.Errorf("%s is answered: %s", f.GetName(), res.Raw)
				}
			}
		})
	}
}

// A batch's answers show a user's hidden and owner-only fields to nobody
// else, whatever its expand and fields ask: Alice's update of Carol's
// membership and Bob's of Carol's event, both expanded to Carol, answer
// none of Carol's; Alice's own message, expanded to her, answers her email
// and MFA switch (so the probe can see them when they are answered).
func TestBatchAnswersHideOwnerOnlyFields(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	hearthtest.EnableBatch(t, s.App, 10)
	hidden := hiddenFields(t, s.App)
	secrets := map[string]any{auth.MFAField: true}
	for _, f := range hidden {
		if f.GetName() != core.FieldNameTokenKey {
			secrets[f.GetName()] = probeValue(f)
		}
	}
	hearthtest.Save(t, s.App, collections.Users, hearthtest.Carol, secrets)
	hearthtest.Save(t, s.App, collections.Users, hearthtest.Alice, map[string]any{auth.MFAField: true})
	carolRecord := hearthtest.Record(t, s.App, collections.Users, hearthtest.Carol)
	membership := hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Carol)

	var names []string
	for _, f := range hidden {
		names = append(names, f.GetName())
	}
	names = append(names, ownerOnly...)
	var asked []string
	for _, n := range names {
		asked = append(asked, "expand.user."+n, "expand.created_by."+n, "expand.author."+n)
	}
	for _, fields := range []string{"", "*,expand.*", strings.Join(append([]string{"*", "expand.user.*", "expand.created_by.*", "expand.author.*"}, asked...), ",")} {
		query := "?expand=user"
		eventQuery := "?expand=created_by"
		messageQuery := "?expand=author"
		if fields != "" {
			f := "&fields=" + url.QueryEscape(fields)
			query, eventQuery, messageQuery = query+f, eventQuery+f, messageQuery+f
		}
		t.Run("fields="+fields, func(t *testing.T) {
			alice := hearthtest.Token(t, s.App, hearthtest.Alice)
			bob := hearthtest.Token(t, s.App, hearthtest.Bob)
			res := batch(t, s, alice,
				req(http.MethodPatch, "/api/collections/memberships/records/"+membership+query, map[string]any{"role": collections.RoleMember}),
				req(http.MethodPost, "/api/collections/messages/records"+messageQuery, map[string]any{"group": hearthtest.Climbers, "body": "mine"}),
			)
			if res.Status != http.StatusOK {
				t.Fatalf("alice's batch: %d %s", res.Status, res.Raw)
			}
			if !strings.Contains(res.Raw, `"`+carolRecord.GetString("name")+`"`) {
				t.Fatalf("carol is not expanded: %s", res.Raw)
			}
			if !strings.Contains(res.Raw, hearthtest.Email(hearthtest.Alice)) || !strings.Contains(res.Raw, `"`+auth.MFAField+`":true`) {
				t.Errorf("alice's own record lacks her email or MFA switch: %s", res.Raw)
			}
			res2 := batch(t, s, bob, req(http.MethodPatch, "/api/collections/events/records/"+hearthtest.ClimbEvent+eventQuery, map[string]any{"title": "Bouldering night"}))
			if res2.Status != http.StatusOK || !strings.Contains(res2.Raw, `"`+carolRecord.GetString("name")+`"`) {
				t.Fatalf("bob's batch: %d %s", res2.Status, res2.Raw)
			}
			for _, raw := range []string{res.Raw, res2.Raw} {
				if strings.Contains(raw, hearthtest.Email(hearthtest.Carol)) {
					t.Errorf("carol's email is answered: %s", raw)
				}
				for name, v := range secrets {
					if s, isText := v.(string); isText && strings.Contains(raw, s) {
						t.Errorf("carol's %s is answered: %s", name, raw)
					}
				}
				for _, item := range batchBodies(t, raw) {
					for _, path := range []string{"user", "created_by"} {
						expanded, _ := item["expand"].(map[string]any)
						carol, _ := expanded[path].(map[string]any)
						for _, n := range names {
							if _, shown := carol[n]; shown {
								t.Errorf("carol's %s is answered through %s: %s", n, path, raw)
							}
						}
					}
				}
			}
		})
	}
}

// batchBodies decodes a passed batch's answers.
func batchBodies(t *testing.T, raw string) []map[string]any {
	t.Helper()
	var results []struct {
		Body map[string]any `json:"body"`
	}
	if err := json.Unmarshal([]byte(raw), &results); err != nil {
		t.Fatalf("batch answer: %v: %s", err, raw)
	}
	var out []map[string]any
	for _, r := range results {
		out = append(out, r.Body)
	}
	return out
}

// A filter or sort naming a hidden or owner-only field, on users or
// through a relation to a user, is refused in a batch as on the records
// API (the query policy: Spec.Query lists none of them), though no batch
// handler lists: a 400 naming the parameter, nothing stored. A list in a
// batch is not a batch action at all.
func TestBatchQueryOraclesOnHiddenFields(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	hearthtest.EnableBatch(t, s.App, 10)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	alice := hearthtest.Token(t, s.App, hearthtest.Alice)
	var names []string
	for _, f := range hiddenFields(t, s.App) {
		names = append(names, f.GetName())
	}
	names = append(names, ownerOnly...)
	first := req(http.MethodPost, "/api/collections/messages/records", map[string]any{"group": hearthtest.Climbers, "body": "first"})
	before := hearthtest.Fingerprint(t, s.App)
	probes := 0
	for _, n := range names {
		for _, q := range []struct{ param, value string }{{"filter", n + ` != ""`}, {"sort", n}} {
			// Each target is one its caller may write: a write refused by
			// its rule is a 404 before the query is read, whatever it asks.
			for _, target := range []struct{ token, method, path, prefix string }{
				{carol, http.MethodPatch, "/api/collections/users/records/" + hearthtest.Carol, ""},
				{carol, http.MethodPatch, "/api/collections/messages/records/" + hearthtest.ClimbMessage, "author."},
				{carol, http.MethodDelete, "/api/collections/rsvps/records/" + hearthtest.CarolRSVP, "user."},
				{alice, http.MethodPut, "/api/collections/memberships/records", "user."},
			} {
				body := map[string]any{}
				if target.method == http.MethodPut {
					body["id"] = hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Carol)
				}
				path := target.path + "?" + q.param + "=" + url.QueryEscape(target.prefix+q.value)
				res := batch(t, s, target.token, first, req(target.method, path, body))
				i, inner := failedAt(res)
				data, _ := inner["data"].(map[string]any)
				if res.Status != http.StatusBadRequest || i != 1 || data[q.param] == nil {
					t.Errorf("%s %s: want the batch's 400 naming %s at request 1, got %d %s", target.method, path, q.param, res.Status, res.Raw)
				}
				probes++
			}
		}
	}
	list := batch(t, s, carol, req(http.MethodGet, "/api/collections/users/records?filter="+url.QueryEscape(auth.MFAField+" = true"), nil))
	if list.Status != http.StatusBadRequest || strings.Contains(list.Raw, "items") {
		t.Errorf("a list in a batch: %d %s", list.Status, list.Raw)
	}
	if after := hearthtest.Fingerprint(t, s.App); after != before {
		t.Errorf("a refused batch wrote")
	}
	t.Logf("%d probes", probes)
}

// Another crew's records are out of reach inside a batch as outside it,
// and a refusal anywhere stores nothing of the batch: each probe follows
// a request the caller may make, which must be rolled back.
func TestBatchAcrossCrews(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	hearthtest.EnableBatch(t, s.App, 10)
	erin := hearthtest.Token(t, s.App, hearthtest.Erin)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	carolMembership := hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Carol)
	own := req(http.MethodPost, "/api/collections/messages/records", map[string]any{"id": "erinbatchmsg001", "group": hearthtest.Chess, "body": "mine"})
	cases := []struct {
		name    string
		token   string
		request map[string]any
		status  float64
		field   string // the field the refusal names, "" for a 404
	}{
		{"a message in a crew one is not in", erin, req(http.MethodPost, "/api/collections/messages/records", map[string]any{"group": hearthtest.Climbers, "body": "hi"}), 400, "group"},
		{"a message in a crew that does not exist", erin, req(http.MethodPost, "/api/collections/messages/records", map[string]any{"group": "nosuchgroup0001", "body": "hi"}), 400, "group"},
		{"a message in a crew one is not in, the collection named by id", erin, req(http.MethodPost, "/api/collections/"+collectionID(t, s.App, collections.Messages)+"/records", map[string]any{"group": hearthtest.Climbers, "body": "hi"}), 400, "group"},
		{"an upsert that creates in a crew one is not in", erin, req(http.MethodPut, "/api/collections/messages/records", map[string]any{"id": "erinupsertmsg01", "group": hearthtest.Climbers, "body": "hi"}), 400, "group"},
		{"an event in a crew one is not in", erin, req(http.MethodPost, "/api/collections/events/records", map[string]any{"group": hearthtest.Climbers, "title": "x", "starts_at": "2030-01-01 10:00:00.000Z"}), 400, "group"},
		{"an invite to a crew one is not in", erin, req(http.MethodPost, "/api/collections/invites/records", map[string]any{"group": hearthtest.Climbers}), 400, "group"},
		{"an RSVP to another crew's event", erin, req(http.MethodPost, "/api/collections/rsvps/records", map[string]any{"event": hearthtest.ClimbEvent, "status": collections.StatusGoing}), 400, "event"},
		{"an upsert of another crew's RSVP", erin, req(http.MethodPut, "/api/collections/rsvps/records", map[string]any{"id": hearthtest.CarolRSVP, "status": collections.StatusGoing}), 404, ""},
		{"a role change in another crew", erin, req(http.MethodPatch, "/api/collections/memberships/records/"+carolMembership, map[string]any{"role": collections.RoleAdmin}), 404, ""},
		{"a removal from another crew", erin, req(http.MethodDelete, "/api/collections/memberships/records/"+carolMembership, nil), 404, ""},
		{"a delete of another crew's message", erin, req(http.MethodDelete, "/api/collections/messages/records/"+hearthtest.ClimbMessage, nil), 404, ""},
		{"a mute of another crew", erin, req(http.MethodPost, "/api/collections/mutes/records", map[string]any{"group": hearthtest.Climbers}), 400, "group"},
		{"one's own new message moved to another crew", erin, req(http.MethodPatch, "/api/collections/messages/records/erinbatchmsg001", map[string]any{"group": hearthtest.Climbers}), 400, "group"},
		{"another user's token in the request's headers", erin, map[string]any{"method": http.MethodPost, "url": "/api/collections/messages/records",
			"headers": map[string]string{"Authorization": carol}, "body": map[string]any{"group": hearthtest.Climbers, "body": "as carol"}}, 400, "group"},
		{"another user's MFA switch", carol, req(http.MethodPatch, "/api/collections/users/records/"+hearthtest.Alice, map[string]any{auth.MFAField: false}), 404, ""},
		{"another user's account deleted", erin, req(http.MethodDelete, "/api/collections/users/records/"+hearthtest.Carol, nil), 404, ""},
		{"one's own account deleted with a bad messages parameter", carol, req(http.MethodDelete, "/api/collections/users/records/"+hearthtest.Carol+"?"+collections.MessagesParam+"=bogus", nil), 400, collections.MessagesParam},
		{"one's own promotion", carol, req(http.MethodPatch, "/api/collections/memberships/records/"+carolMembership, map[string]any{"role": collections.RoleAdmin}), 404, ""},
	}
	before := hearthtest.Fingerprint(t, s.App)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			first := own
			if c.token == carol {
				first = req(http.MethodPost, "/api/collections/messages/records", map[string]any{"group": hearthtest.Climbers, "body": "mine"})
			}
			res := batch(t, s, c.token, first, c.request)
			i, inner := failedAt(res)
			data, _ := inner["data"].(map[string]any)
			if res.Status != http.StatusBadRequest || i != 1 || inner["status"] != c.status || (c.field != "" && data[c.field] == nil) {
				t.Errorf("want the batch's 400 with a %v at request 1 naming %q, got %d %s", c.status, c.field, res.Status, res.Raw)
			}
			if after := hearthtest.Fingerprint(t, s.App); after != before {
				t.Errorf("the refused batch wrote")
			}
		})
	}
}

// A batch holds at most the settings' maxRequests requests: one more is
// refused whole, naming requests, before any runs.
func TestBatchMaxRequests(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	const max = 3
	hearthtest.EnableBatch(t, s.App, max)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	message := req(http.MethodPost, "/api/collections/messages/records", map[string]any{"group": hearthtest.Climbers, "body": "one of many"})
	before := hearthtest.Fingerprint(t, s.App)
	res := batch(t, s, carol, slices.Repeat([]map[string]any{message}, max+1)...)
	if res.Status != http.StatusBadRequest || res.FieldCode("requests") == "" {
		t.Errorf("%d requests: want a 400 naming requests, got %d %s", max+1, res.Status, res.Raw)
	}
	if after := hearthtest.Fingerprint(t, s.App); after != before {
		t.Errorf("the refused batch wrote")
	}
	if res := batch(t, s, carol, slices.Repeat([]map[string]any{message}, max)...); res.Status != http.StatusOK || len(batchBodies(t, res.Raw)) != max {
		t.Errorf("%d requests: %d %s", max, res.Status, res.Raw)
	}
}

// A multipart batch carries files into another crew no more than JSON
// does: an attachment with a message in a crew one is not in, or added to
// another crew's message, is refused and stores nothing.
func TestBatchFilesAcrossCrews(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	hearthtest.EnableBatch(t, s.App, 10)
	erin := hearthtest.Token(t, s.App, hearthtest.Erin)
	before := hearthtest.Fingerprint(t, s.App)
	for _, c := range []struct {
		name, file string
		request    map[string]any
		status     float64
	}{
		{"a message with an attachment in a crew one is not in", "attachments",
			req(http.MethodPost, "/api/collections/messages/records", map[string]any{"group": hearthtest.Climbers, "body": "look"}), 400},
		{"an attachment added to another crew's message", "attachments+",
			req(http.MethodPatch, "/api/collections/messages/records/"+hearthtest.ClimbMessage, map[string]any{}), 404},
		{"a cover on another crew", "cover",
			req(http.MethodPatch, "/api/collections/groups/records/"+hearthtest.Climbers, map[string]any{}), 404},
		{"an avatar on another user", "avatar",
			req(http.MethodPatch, "/api/collections/users/records/"+hearthtest.Carol, map[string]any{}), 404},
	} {
		res := multipartBatch(t, s, erin, c.file, c.request)
		i, inner := failedAt(res)
		data, _ := inner["data"].(map[string]any)
		if res.Status != http.StatusBadRequest || i != 0 || inner["status"] != c.status || (c.status == 400 && data["group"] == nil) {
			t.Errorf("%s: want the batch's 400 with a %v, got %d %s", c.name, c.status, res.Status, res.Raw)
		}
	}
	if after := hearthtest.Fingerprint(t, s.App); after != before {
		t.Errorf("a refused batch wrote")
	}
}

// A batch reaches PocketBase's own collections (superusers, OTPs, MFAs,
// external auths, auth origins) no more than the records API does: a
// create, update or delete by an app user in each is refused and stores
// nothing, and a request to any route but the records API's writes is
// not a batch action.
func TestBatchSystemCollections(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	hearthtest.EnableBatch(t, s.App, 10)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	all, err := s.App.FindAllCollections()
	if err != nil {
		t.Fatal(err)
	}
	// Fingerprint reads the Crews tables; the system ones are counted.
	counts := func() string {
		var out []string
		for _, c := range all {
			if c.System && !c.IsView() {
				n, err := s.App.CountRecords(c)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, c.Name+"="+strconv.FormatInt(n, 10))
			}
		}
		return strings.Join(out, " ")
	}
	before, beforeCounts := hearthtest.Fingerprint(t, s.App), counts()
	probes := 0
	for _, c := range all {
		if collections.SpecOf(c.Name) != nil || !c.System {
			continue
		}
		records := "/api/collections/" + c.Name + "/records"
		for _, r := range []map[string]any{
			req(http.MethodPost, records, map[string]any{"recordRef": hearthtest.Carol, "collectionRef": "_pb_users_auth_", "email": "x@crews.test", "password": hearthtest.Password, "passwordConfirm": hearthtest.Password}),
			req(http.MethodPut, records, map[string]any{"id": "probe0000000001"}),
			req(http.MethodPatch, records+"/probe0000000001", map[string]any{}),
			req(http.MethodDelete, records+"/probe0000000001", nil),
		} {
			res := batch(t, s, carol, r)
			if i, inner := failedAt(res); res.Status != http.StatusBadRequest || i != 0 || inner["status"] == float64(http.StatusOK) {
				t.Errorf("%s %s: want the batch refused, got %d %s", r["method"], r["url"], res.Status, res.Raw)
			}
			probes++
		}
	}
	for _, url := range []string{"/api/collections/users/auth-with-password", "/api/files/token", "/api/crews/join", "/api/sync", "/api/settings"} {
		res := batch(t, s, carol, req(http.MethodPost, url, map[string]any{"identity": hearthtest.Email(hearthtest.Carol), "password": hearthtest.Password}))
		if res.Status != http.StatusBadRequest || strings.Contains(res.Raw, "token") {
			t.Errorf("POST %s in a batch: %d %s", url, res.Status, res.Raw)
		}
		probes++
	}
	if probes < 20 {
		t.Errorf("%d probes: the system collections are not found", probes)
	}
	if after, afterCounts := hearthtest.Fingerprint(t, s.App), counts(); after != before || afterCounts != beforeCounts {
		t.Errorf("a refused batch wrote: %s -> %s", beforeCounts, afterCounts)
	}
}

// Fixed fields (Spec.Fixed) cannot change through a multipart batch's
// @jsonPayload either: for every collection whose records a client may
// update, each fixed field moved to another crew's record (or another
// user) is a 400 naming it, nothing stored. The JSON form is
// TestBodyChecksOnEveryWritePath's.
func TestBatchFixedFieldsInMultipart(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	hearthtest.EnableBatch(t, s.App, 10)
	// A record each caller may update, by collection.
	writable := map[string]struct{ user, id string }{
		collections.Messages:    {hearthtest.Carol, hearthtest.ClimbMessage},
		collections.Events:      {hearthtest.Carol, hearthtest.ClimbEvent},
		collections.RSVPs:       {hearthtest.Carol, hearthtest.CarolRSVP},
		collections.Memberships: {hearthtest.Alice, hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Carol)},
	}
	// Another crew's record of each relation's target.
	elsewhere := map[string]string{collections.Groups: hearthtest.Chess, collections.Events: hearthtest.ChessEvent, collections.Users: hearthtest.Erin}
	before := hearthtest.Fingerprint(t, s.App)
	probes := 0
	for _, name := range collections.Names() {
		spec := collections.SpecOf(name)
		c, err := s.App.FindCachedCollectionByNameOrId(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(spec.Fixed) == 0 || c.UpdateRule == nil {
			continue // nobody but a superuser updates it
		}
		w, ok := writable[name]
		if !ok {
			t.Errorf("%s: fixed fields and an update rule, but no record to probe: add one", name)
			continue
		}
		for _, field := range spec.Fixed {
			rel, _ := c.Fields.GetByName(field).(*core.RelationField)
			if rel == nil {
				t.Fatalf("%s.%s: not a relation", name, field)
			}
			target, err := s.App.FindCachedCollectionByNameOrId(rel.CollectionId)
			if err != nil {
				t.Fatal(err)
			}
			res := multipartBatch(t, s, hearthtest.Token(t, s.App, w.user), "file",
				req(http.MethodPatch, "/api/collections/"+name+"/records/"+w.id, map[string]any{field: elsewhere[target.Name]}))
			i, inner := failedAt(res)
			data, _ := inner["data"].(map[string]any)
			code, _ := data[field].(map[string]any)
			if res.Status != http.StatusBadRequest || i != 0 || code["code"] != "validation_server_managed" {
				t.Errorf("%s.%s: want the batch's 400 naming it, got %d %s", name, field, res.Status, res.Raw)
			}
			probes++
		}
	}
	if after := hearthtest.Fingerprint(t, s.App); after != before {
		t.Errorf("a refused batch wrote")
	}
	t.Logf("%d fixed fields probed", probes)
}
