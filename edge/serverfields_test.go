package edge_test

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
)

// serverValueWriters is, per collection with server values, who may
// update which of its records, and who may create one with which fields
// besides the one under test: with an allowed value there ("going"),
// each write would pass, so a 400 is the server value's.
var serverValueWriters = map[string]struct {
	updater, id string
	creator     string
	create      map[string]string
}{
	collections.RSVPs: {
		updater: hearthtest.Carol, id: hearthtest.CarolRSVP,
		creator: hearthtest.Bob, create: map[string]string{"event": hearthtest.ClimbEvent},
	},
}

// modifierForms are the keys a client may send a value under: plain, and
// PocketBase's prepend, append and subtract modifiers.
var modifierForms = []func(field string) string{
	func(f string) string { return f },
	func(f string) string { return "+" + f },
	func(f string) string { return f + "+" },
	func(f string) string { return f + "-" },
}

// A valueEncoding turns a body's fields into a request body and its type.
type valueEncoding struct {
	name   string
	encode func(t *testing.T, fields map[string]string) ([]byte, string)
}

var valueEncodings = []valueEncoding{
	{"JSON", func(t *testing.T, fields map[string]string) ([]byte, string) {
		b, err := json.Marshal(fields)
		if err != nil {
			t.Fatal(err)
		}
		return b, "application/json"
	}},
	{"url-encoded", func(t *testing.T, fields map[string]string) ([]byte, string) {
		values := url.Values{}
		for k, v := range fields {
			values.Set(k, v)
		}
		return []byte(values.Encode()), "application/x-www-form-urlencoded"
	}},
	{"multipart", func(t *testing.T, fields map[string]string) ([]byte, string) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for k, v := range fields {
			if err := w.WriteField(k, v); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return b.Bytes(), w.FormDataContentType()
	}},
}

// TestServerValuesRefusedInEveryForm: a value only the server sets (an
// RSVP's "waitlisted") is refused in every modifier form as in the plain
// one, on create and update, as JSON and as either form, through the
// records API and a batch; nothing is stored. Before, "+status" with
// "waitlisted" was a 200 that changed nothing, where "status" was a 400.
func TestServerValuesRefusedInEveryForm(t *testing.T) {
	s := hearthtest.NewServer(t)
	hearthtest.EnableBatch(t, s.App, 10)
	n := 0
	for _, name := range collections.Names() {
		spec := collections.SpecOf(name)
		if spec == nil || len(spec.ServerValues) == 0 {
			continue
		}
		w, ok := serverValueWriters[name]
		if !ok {
			t.Fatalf("%s declares server values: add a record its user may write to serverValueWriters", name)
		}
		// A multipart body is taken only by a collection with files: give
		// it one, as an admin might in the dashboard.
		c, err := s.App.FindCollectionByNameOrId(name)
		if err != nil {
			t.Fatal(err)
		}
		if !hasFiles(c) {
			c.Fields.Add(&core.FileField{Name: "photo", MaxSelect: 1, MaxSize: 1 << 20})
			if err := s.App.Save(c); err != nil {
				t.Fatal(err)
			}
		}
		tokens := map[string]string{http.MethodPost: hearthtest.Token(t, s.App, w.creator), http.MethodPatch: hearthtest.Token(t, s.App, w.updater)}
		records := "/api/collections/" + name + "/records"
		for field, values := range spec.ServerValues {
			for _, value := range values {
				for _, form := range modifierForms {
					key := form(field)
					writes := []struct{ method, url string }{{http.MethodPost, records}, {http.MethodPatch, records + "/" + w.id}}
					for _, write := range writes {
						token := tokens[write.method]
						fields := map[string]string{key: value}
						if write.method == http.MethodPost {
							for k, v := range w.create {
								fields[k] = v
							}
						}
						for _, enc := range valueEncodings {
							what := strings.Join([]string{write.method, name, key, value, enc.name}, " ")
							before := hearthtest.Fingerprint(t, s.App)
							body, contentType := enc.encode(t, fields)
							res := s.Send(t, write.method, write.url, token, contentType, bytes.NewReader(body), int64(len(body)))
							if res.Status != http.StatusBadRequest || res.FieldCode(field) != "validation_server_managed" || !strings.Contains(res.Raw, value) {
								t.Errorf("%s: want a 400 naming %s and %q, got %d %s", what, field, value, res.Status, res.Raw)
							}
							if enc.name == "JSON" {
								batch := s.Do(t, http.MethodPost, "/api/batch", token,
									`{"requests":[{"method":"`+write.method+`","url":"`+write.url+`","body":`+string(body)+`}]}`)
								if inner := batchFailure(batch); batch.Status != http.StatusBadRequest || inner == nil || !strings.Contains(batch.Raw, "validation_server_managed") {
									t.Errorf("%s in a batch: want request 0 refused naming %s, got %d %s", what, field, batch.Status, batch.Raw)
								}
							}
							if after := hearthtest.Fingerprint(t, s.App); after != before {
								t.Errorf("%s changed the database:\n%s", what, after)
							}
							n++
						}
					}
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no spec declares server values")
	}
	t.Logf("%d refused writes", n)
}

// TestServerValuesAcceptEchoes: a waitlisted person sending their status
// back as stored, as SDK round trips do, is not refused.
func TestServerValuesAcceptEchoes(t *testing.T) {
	s := hearthtest.NewServer(t)
	rsvps := "/api/collections/rsvps/records"
	// Carol and Bob fill the event's two places: Alice waits.
	s.Do(t, http.MethodPost, rsvps, hearthtest.Token(t, s.App, hearthtest.Bob), map[string]string{"event": hearthtest.ClimbEvent, "status": "going"})
	alice := hearthtest.Token(t, s.App, hearthtest.Alice)
	res := s.Do(t, http.MethodPost, rsvps, alice, map[string]string{"event": hearthtest.ClimbEvent, "status": "going"})
	if res.Str("status") != collections.StatusWaitlisted {
		t.Fatalf("alice should wait: %d %s", res.Status, res.Raw)
	}
	res = s.Do(t, http.MethodPatch, rsvps+"/"+res.Str("id"), alice, `{"status":"waitlisted"}`)
	if res.Status != http.StatusOK || res.Str("status") != collections.StatusWaitlisted {
		t.Errorf("echo: %d %s", res.Status, res.Raw)
	}
}

// A declared server value must be a value of a select field of the
// collection: a typo would leave the real value open to clients.
func TestServerValuesAreSelectValues(t *testing.T) {
	t.Parallel()
	app := hearthtest.NewApp(t)
	for _, c := range hearthtest.Collections(t, app) {
		for field, values := range collections.SpecOf(c.Name).ServerValues {
			f, ok := c.Fields.GetByName(field).(*core.SelectField)
			if !ok {
				t.Errorf("%s.%s: server values of a field that is not a select", c.Name, field)
				continue
			}
			for _, v := range values {
				if !slices.Contains(f.Values, v) {
					t.Errorf("%s.%s: %q is not one of its values %v", c.Name, field, v, f.Values)
				}
			}
		}
	}
}

// Granting owner is a permission of the memberships update rule, not a
// server value: an admin cannot grant it in any modifier form either.
func TestRoleOwnerNotGrantedByModifiers(t *testing.T) {
	s := hearthtest.NewServer(t)
	bob := hearthtest.Token(t, s.App, hearthtest.Bob) // an admin of Climbers
	url := "/api/collections/memberships/records/" + hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Carol)
	for _, form := range modifierForms {
		key := form("role")
		res := s.Do(t, http.MethodPatch, url, bob, map[string]any{key: collections.RoleOwner})
		if res.Status >= 500 {
			t.Errorf("%s: %d %s", key, res.Status, res.Raw)
		}
		m, err := collections.FindMembership(s.App, hearthtest.Climbers, hearthtest.Carol)
		if err != nil {
			t.Fatal(err)
		}
		if m.Role() == collections.RoleOwner {
			t.Fatalf("%s: an admin made Carol owner (%d %s)", key, res.Status, res.Raw)
		}
	}
}
