package collections_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
)

type upload struct {
	field, name, contentType string
	data                     []byte
}

// multipartBody builds a multipart/form-data request body from text
// fields and files, as the SDKs send uploads.
func multipartBody(t testing.TB, fields map[string]string, files ...upload) (io.Reader, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, f.field, f.name))
		h.Set("Content-Type", f.contentType)
		part, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(f.data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &b, w.FormDataContentType()
}

// formBody builds a url-encoded form body from text fields: a form
// without files (a multipart one is taken only by collections with file
// fields).
func formBody(t testing.TB, fields map[string]string) (io.Reader, string) {
	t.Helper()
	values := url.Values{}
	for k, v := range fields {
		values.Set(k, v)
	}
	return strings.NewReader(values.Encode()), "application/x-www-form-urlencoded"
}

// A badInput is a request that must fail with a 400 naming field (none for
// a body that is not JSON at all) and store nothing.
type badInput struct {
	name   string
	as     actor
	method string
	url    string
	json   string
	// multipart, when set, replaces json with a form body (multipart or
	// url-encoded)
	multipart func(t testing.TB) (io.Reader, string)
	setup     func(t testing.TB, app core.App)
	field     string
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	tk := newTokens(t)
	probe := hearthtest.NewApp(t)
	mCarol := "/api/collections/memberships/records/" + hearthtest.MembershipID(t, probe, hearthtest.Climbers, hearthtest.Carol)
	const (
		groups   = "/api/collections/groups/records"
		events   = "/api/collections/events/records"
		invites  = "/api/collections/invites/records"
		messages = "/api/collections/messages/records"
		rsvps    = "/api/collections/rsvps/records"
		users    = "/api/collections/users/records"
	)
	climbers := `"group":"` + hearthtest.Climbers + `"`
	carol := users + "/" + hearthtest.Carol
	event := func(extra string) string {
		return `{` + climbers + `,"title":"Crag day","starts_at":"2030-05-01 09:00:00.000Z"` + extra + `}`
	}
	long := func(n int) string { return strings.Repeat("x", n) }
	png := func(size int) func(testing.TB) (io.Reader, string) {
		return func(t testing.TB) (io.Reader, string) {
			return multipartBody(t, nil, upload{"avatar", "me.png", "image/png", hearthtest.PNG(t, size)})
		}
	}
	const mb = 1 << 20

	cases := []badInput{
		{name: "malformed JSON on create", as: member, method: http.MethodPost, url: groups, json: `{"name":"Runners"`},
		{name: "malformed JSON on update", as: member, method: http.MethodPatch, url: carol, json: `{"name":`},
		{name: "JSON array body", as: member, method: http.MethodPost, url: groups, json: `["Runners"]`},

		{name: "capacity not a number", as: member, method: http.MethodPost, url: events, json: event(`,"capacity":"abc"`), field: "capacity"},
		{name: "capacity not a number (form)", as: member, method: http.MethodPost, url: events, field: "capacity",
			multipart: func(t testing.TB) (io.Reader, string) {
				return formBody(t, map[string]string{"group": hearthtest.Climbers, "title": "Crag day", "starts_at": "2030-05-01 09:00:00.000Z", "capacity": "abc"})
			}},
		{name: "capacity not a number (@jsonPayload)", as: member, method: http.MethodPost, url: events, field: "capacity",
			multipart: func(t testing.TB) (io.Reader, string) {
				return formBody(t, map[string]string{"@jsonPayload": event(`,"capacity":"abc"`)})
			}},
		{name: "negative capacity", as: member, method: http.MethodPost, url: events, json: event(`,"capacity":-1`), field: "capacity"},
		{name: "fractional capacity", as: member, method: http.MethodPost, url: events, json: event(`,"capacity":2.5`), field: "capacity"},
		{name: "starts_at not a date", as: member, method: http.MethodPost, url: events, json: `{` + climbers + `,"title":"x","starts_at":"tomorrow"}`, field: "starts_at"},
		{name: "ends_at not a date", as: member, method: http.MethodPost, url: events, json: event(`,"ends_at":"soon"`), field: "ends_at"},
		{name: "ends_at before starts_at", as: member, method: http.MethodPost, url: events, json: event(`,"ends_at":"2030-05-01 08:59:59.000Z"`), field: "ends_at"},
		{name: "ends_at moved before starts_at", as: member, method: http.MethodPatch, url: events + "/" + hearthtest.ClimbEvent, json: `{"starts_at":"2030-05-01 09:00:00.000Z","ends_at":"2030-04-30 09:00:00.000Z"}`, field: "ends_at"},
		{name: "title missing", as: member, method: http.MethodPost, url: events, json: `{` + climbers + `,"starts_at":"2030-05-01 09:00:00.000Z"}`, field: "title"},
		{name: "starts_at missing", as: member, method: http.MethodPost, url: events, json: `{` + climbers + `,"title":"x"}`, field: "starts_at"},
		{name: "title too long", as: member, method: http.MethodPost, url: events, json: `{` + climbers + `,"title":"` + long(121) + `","starts_at":"2030-05-01 09:00:00.000Z"}`, field: "title"},
		{name: "place too long", as: member, method: http.MethodPost, url: events, json: event(`,"place":"` + long(201) + `"`), field: "place"},

		{name: "group name a number", as: member, method: http.MethodPost, url: groups, json: `{"name":123}`, field: "name"},
		{name: "group name an object", as: member, method: http.MethodPost, url: groups, json: `{"name":{"text":"Runners"}}`, field: "name"},
		{name: "group name missing", as: member, method: http.MethodPost, url: groups, json: `{"description":"no name"}`, field: "name"},
		{name: "group name empty", as: member, method: http.MethodPost, url: groups, json: `{"name":""}`, field: "name"},
		{name: "group name too long", as: member, method: http.MethodPost, url: groups, json: `{"name":"` + long(81) + `"}`, field: "name"},
		{name: "group description too long", as: owner, method: http.MethodPatch, url: groups + "/" + hearthtest.Climbers, json: `{"description":"` + long(2001) + `"}`, field: "description"},

		{name: "max_uses not an integer", as: admin, method: http.MethodPost, url: invites, json: `{` + climbers + `,"max_uses":1.5}`, field: "max_uses"},
		{name: "max_uses a word", as: admin, method: http.MethodPost, url: invites, json: `{` + climbers + `,"max_uses":"five"}`, field: "max_uses"},
		{name: "max_uses negative", as: admin, method: http.MethodPost, url: invites, json: `{` + climbers + `,"max_uses":-1}`, field: "max_uses"},
		{name: "expires not a date", as: admin, method: http.MethodPost, url: invites, json: `{` + climbers + `,"expires":"next week"}`, field: "expires"},

		{name: "unknown role", as: owner, method: http.MethodPatch, url: mCarol, json: `{"role":"king"}`, field: "role"},
		{name: "unknown rsvp status", as: admin, method: http.MethodPost, url: rsvps, json: `{"event":"` + hearthtest.ClimbEvent + `","status":"yes"}`, field: "status"},
		{name: "rsvp status missing", as: admin, method: http.MethodPost, url: rsvps, json: `{"event":"` + hearthtest.ClimbEvent + `"}`, field: "status"},

		{name: "message with neither body nor attachment", as: member, method: http.MethodPost, url: messages, json: `{` + climbers + `}`, field: "body"},
		{name: "message with a blank body", as: member, method: http.MethodPost, url: messages, json: `{` + climbers + `,"body":"   "}`, field: "body"},
		{name: "message emptied by an edit", as: member, method: http.MethodPatch, url: messages + "/" + hearthtest.ClimbMessage, json: `{"body":""}`, field: "body"},
		{name: "message body too long", as: member, method: http.MethodPost, url: messages, json: `{` + climbers + `,"body":"` + long(4001) + `"}`, field: "body"},
		{name: "message body an array", as: member, method: http.MethodPost, url: messages, json: `{` + climbers + `,"body":["hi"]}`, field: "body"},

		{name: "user name too long", as: member, method: http.MethodPatch, url: carol, json: `{"name":"` + long(81) + `"}`, field: "name"},
		{name: "sign-up without name", as: anonymous, method: http.MethodPost, url: users, json: `{"email":"zed@crews.test","password":"` + hearthtest.Password + `","passwordConfirm":"` + hearthtest.Password + `"}`, field: "name"},
		{name: "sign-up with a malformed email", as: anonymous, method: http.MethodPost, url: users, json: `{"name":"Zed","email":"zed","password":"` + hearthtest.Password + `","passwordConfirm":"` + hearthtest.Password + `"}`, field: "email"},

		{name: "avatar over 5 MB", as: member, method: http.MethodPatch, url: carol, multipart: png(5*mb + 1), field: "avatar"},
		{name: "text file as avatar", as: member, method: http.MethodPatch, url: carol, field: "avatar",
			multipart: func(t testing.TB) (io.Reader, string) {
				return multipartBody(t, nil, upload{"avatar", "me.png", "image/png", []byte("not an image, just text\n")})
			}},
		{name: "text file as cover", as: owner, method: http.MethodPatch, url: groups + "/" + hearthtest.Climbers, field: "cover",
			multipart: func(t testing.TB) (io.Reader, string) {
				return multipartBody(t, nil, upload{"cover", "cover.txt", "text/plain", []byte("hello\n")})
			}},
		{name: "attachment over 10 MB", as: member, method: http.MethodPost, url: messages, field: "attachments",
			multipart: func(t testing.TB) (io.Reader, string) {
				return multipartBody(t, map[string]string{"group": hearthtest.Climbers}, upload{"attachments", "big.png", "image/png", hearthtest.PNG(t, 10*mb+1)})
			}},
		{name: "five attachments", as: member, method: http.MethodPost, url: messages, field: "attachments",
			multipart: func(t testing.TB) (io.Reader, string) {
				var files []upload
				for i := range 5 {
					files = append(files, upload{"attachments", fmt.Sprintf("p%d.png", i), "image/png", hearthtest.PNG(t, 0)})
				}
				return multipartBody(t, map[string]string{"group": hearthtest.Climbers}, files...)
			}},

		{name: "unknown group for an event", as: member, method: http.MethodPost, url: events, json: `{"group":"nosuchgroup0000","title":"x","starts_at":"2030-05-01 09:00:00.000Z"}`, field: "group"},
		{name: "unknown group for a message", as: member, method: http.MethodPost, url: messages, json: `{"group":"nosuchgroup0000","body":"hi"}`, field: "group"},
		{name: "unknown group for an invite", as: admin, method: http.MethodPost, url: invites, json: `{"group":"nosuchgroup0000"}`, field: "group"},
		{name: "unknown event for an RSVP", as: member, method: http.MethodPost, url: rsvps, json: `{"event":"nosuchevent0000","status":"maybe"}`, field: "event"},
		{name: "missing group for a message", as: member, method: http.MethodPost, url: messages, json: `{"body":"hi"}`, field: "group"},
		{name: "unknown group (superuser)", as: superuser, method: http.MethodPost, url: events, json: `{"group":"nosuchgroup0000","title":"x","starts_at":"2030-05-01 09:00:00.000Z"}`, field: "group"},
		{name: "unknown creator (superuser)", as: superuser, method: http.MethodPost, url: groups, json: `{"name":"x","created_by":"nosuchuser0000"}`, field: "created_by"},
	}

	for _, c := range cases {
		var before string
		s := &tests.ApiScenario{
			Name:           c.name,
			Method:         c.method,
			URL:            c.url,
			Headers:        map[string]string{},
			ExpectedStatus: 400,
			TestAppFactory: hearthtest.Factory,
			BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
				if c.setup != nil {
					c.setup(t, app)
				}
				before = hearthtest.Fingerprint(t, app)
			},
			AfterTestFunc: unchanged(&before),
		}
		for k, v := range tk.headers(c.as) {
			s.Headers[k] = v
		}
		if c.multipart != nil {
			var contentType string
			s.Body, contentType = c.multipart(t)
			s.Headers["Content-Type"] = contentType
		} else {
			s.Body = strings.NewReader(c.json)
		}
		s.ExpectedContent = []string{`"status":400`}
		if c.field != "" {
			s.ExpectedContent = append(s.ExpectedContent, `"`+c.field+`":{"code":"`)
		}
		s.Test(t)
	}
	t.Logf("bad input: %d scenarios", len(cases))
}

// TestGoodInputControls shows that the limits above are limits: the same
// shapes within bounds are stored.
func TestGoodInputControls(t *testing.T) {
	t.Parallel()
	tk := newTokens(t)

	avatar, avatarType := multipartBody(t, nil, upload{"avatar", "me.png", "image/png", hearthtest.PNG(t, 5<<20)})
	(&tests.ApiScenario{
		Name:            "5 MB PNG avatar",
		Method:          http.MethodPatch,
		URL:             "/api/collections/users/records/" + hearthtest.Carol,
		Body:            avatar,
		Headers:         map[string]string{"Authorization": tk[member], "Content-Type": avatarType},
		ExpectedStatus:  200,
		ExpectedContent: []string{`"avatar":"me`},
		TestAppFactory:  hearthtest.Factory,
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
			u, err := app.FindRecordById(collections.Users, hearthtest.Carol)
			if err != nil {
				t.Fatal(err)
			}
			if u.GetString("avatar") == "" {
				t.Error("avatar not stored")
			}
		},
	}).Test(t)

	attachment, attachmentType := multipartBody(t, map[string]string{"group": hearthtest.Climbers}, upload{"attachments", "topo.png", "image/png", hearthtest.PNG(t, 0)})
	(&tests.ApiScenario{
		Name:            "message with only an attachment",
		Method:          http.MethodPost,
		URL:             "/api/collections/messages/records",
		Body:            attachment,
		Headers:         map[string]string{"Authorization": tk[member], "Content-Type": attachmentType},
		ExpectedStatus:  200,
		ExpectedContent: []string{`"attachments":["topo_`, `"author":"` + hearthtest.Carol + `"`},
		TestAppFactory:  hearthtest.Factory,
	}).Test(t)

	(&tests.ApiScenario{
		Name:            "event ending when it starts",
		Method:          http.MethodPost,
		URL:             "/api/collections/events/records",
		Body:            strings.NewReader(`{"group":"` + hearthtest.Climbers + `","title":"x","starts_at":"2030-05-01 09:00:00.000Z","ends_at":"2030-05-01 09:00:00.000Z","capacity":0}`),
		Headers:         map[string]string{"Authorization": tk[member]},
		ExpectedStatus:  200,
		ExpectedContent: []string{`"ends_at":"2030-05-01 09:00:00.000Z"`},
		TestAppFactory:  hearthtest.Factory,
	}).Test(t)

	numeric, numericType := multipartBody(t, map[string]string{"name": "123", "description": "true"})
	(&tests.ApiScenario{
		Name:            "group named 123 through multipart",
		Method:          http.MethodPost,
		URL:             "/api/collections/groups/records",
		Body:            numeric,
		Headers:         map[string]string{"Authorization": tk[member], "Content-Type": numericType},
		ExpectedStatus:  200,
		ExpectedContent: []string{`"name":"123"`, `"description":"true"`},
		TestAppFactory:  hearthtest.Factory,
	}).Test(t)

	capacity, capacityType := formBody(t, map[string]string{"group": hearthtest.Climbers, "title": "x", "starts_at": "2030-05-01 09:00:00.000Z", "capacity": "12"})
	(&tests.ApiScenario{
		Name:            "capacity as a form string",
		Method:          http.MethodPost,
		URL:             "/api/collections/events/records",
		Body:            capacity,
		Headers:         map[string]string{"Authorization": tk[member], "Content-Type": capacityType},
		ExpectedStatus:  200,
		ExpectedContent: []string{`"capacity":12`},
		TestAppFactory:  hearthtest.Factory,
	}).Test(t)
}

// TestSignUpThenSignIn is anonymous's whole reach: create an account through
// the API, then sign in with it.
func TestSignUpThenSignIn(t *testing.T) {
	t.Parallel()
	(&tests.ApiScenario{
		Name:   "sign up, then sign in",
		Method: http.MethodPost,
		URL:    "/api/collections/users/auth-with-password",
		Body:   strings.NewReader(`{"identity":"zed@crews.test","password":"` + hearthtest.Password + `"}`),
		BeforeTestFunc: func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
			mux, err := e.Router.BuildMux()
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodPost, "/api/collections/users/records", strings.NewReader(
				`{"name":"Zed","email":"zed@crews.test","password":"`+hearthtest.Password+`","passwordConfirm":"`+hearthtest.Password+`"}`))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != 200 {
				t.Fatalf("sign-up: %d %s", rec.Code, rec.Body)
			}
		},
		ExpectedStatus:  200,
		ExpectedContent: []string{`"token":`, `"email":"zed@crews.test"`},
		TestAppFactory:  hearthtest.Factory,
	}).Test(t)
}
