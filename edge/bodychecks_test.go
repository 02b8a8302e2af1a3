package edge_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// A badBody is a write that the body checks refuse, naming field with
// code, the same way through the records API and through a batch.
type badBody struct {
	name        string
	as          string // fixture user
	method, url string
	// body is the JSON body, sent as is to the records API and as the
	// request's body in the batch.
	body string
	// form, when set, is what the records API gets instead: multipart
	// fields in order, a key possibly repeated. body is then its batch
	// equivalent (a batch carries JSON only, where a list is an array).
	form        [][2]string
	field, code string
}

func TestBodyChecksOnEveryWritePath(t *testing.T) {
	s := hearthtest.NewServer(t)
	hearthtest.EnableBatch(t, s.App, 10)
	mCarol := "/api/collections/memberships/records/" + hearthtest.MembershipID(t, s.App, hearthtest.Climbers, hearthtest.Carol)
	const (
		events   = "/api/collections/events/records"
		groups   = "/api/collections/groups/records"
		invites  = "/api/collections/invites/records"
		messages = "/api/collections/messages/records"
		rsvps    = "/api/collections/rsvps/records"
		users    = "/api/collections/users/records"
	)
	climbers := `"group":"` + hearthtest.Climbers + `"`
	event := func(extra string) string {
		return `{` + climbers + `,"title":"Crag day","starts_at":"2030-05-01 09:00:00.000Z"` + extra + `}`
	}
	message := func(extra string) string { return `{` + climbers + `,"body":"hi"` + extra + `}` }
	const (
		managed  = "validation_server_managed"
		tooLong  = "validation_max_text_constraint"
		carol    = hearthtest.Carol
		alice    = hearthtest.Alice
		bob      = hearthtest.Bob
		myRSVP   = rsvps + "/" + hearthtest.CarolRSVP
		myEvent  = events + "/" + hearthtest.ClimbEvent
		myMesage = messages + "/" + hearthtest.ClimbMessage
	)

	cases := []badBody{
		{name: "capacity not a number", as: carol, method: http.MethodPost, url: events, body: event(`,"capacity":"abc"`), field: "capacity", code: "validation_invalid_number"},
		{name: "capacity+ not a number", as: carol, method: http.MethodPatch, url: myEvent, body: `{"capacity+":"abc"}`, field: "capacity", code: "validation_invalid_number"},
		{name: "ends_at not a date", as: carol, method: http.MethodPost, url: events, body: event(`,"ends_at":"tomorrow"`), field: "ends_at", code: "validation_invalid_date"},
		{name: "group name a number", as: carol, method: http.MethodPost, url: groups, body: `{"name":123}`, field: "name", code: "validation_invalid_text"},
		{name: "group name too long", as: carol, method: http.MethodPost, url: groups, body: `{"name":"` + strings.Repeat("x", 81) + `"}`, field: "name", code: tooLong},
		{name: "message body too long", as: carol, method: http.MethodPost, url: messages, body: `{` + climbers + `,"body":"` + strings.Repeat("x", 4001) + `"}`, field: "body", code: tooLong},
		{name: "message body too long in emoji", as: carol, method: http.MethodPatch, url: myMesage, body: `{"body":"` + strings.Repeat(`\ud83e\uddd7`, 4001) + `"}`, field: "body", code: tooLong},
		{name: "message author", as: carol, method: http.MethodPost, url: messages, body: message(`,"author":"` + bob + `"`), field: "author", code: managed},
		{name: "message +author", as: carol, method: http.MethodPost, url: messages, body: message(`,"+author":"` + carol + `"`), field: "author", code: managed},
		{name: "message author+", as: carol, method: http.MethodPost, url: messages, body: message(`,"author+":"` + carol + `"`), field: "author", code: managed},
		{name: "message author echoed with +", as: carol, method: http.MethodPatch, url: myMesage, body: `{"+author":"` + carol + `"}`, field: "author", code: managed},
		{name: "message +group", as: carol, method: http.MethodPatch, url: myMesage, body: `{"+group":"` + hearthtest.Chess + `"}`, field: "group", code: managed},
		{name: "message moved to another group", as: carol, method: http.MethodPatch, url: myMesage, body: `{"group":"` + hearthtest.Chess + `"}`, field: "group", code: managed},
		{name: "group created_by", as: carol, method: http.MethodPost, url: groups, body: `{"name":"Runners","created_by":"` + carol + `"}`, field: "created_by", code: managed},
		{name: "event going_count", as: carol, method: http.MethodPost, url: events, body: event(`,"going_count":3`), field: "going_count", code: managed},
		{name: "event going_count+", as: carol, method: http.MethodPatch, url: myEvent, body: `{"going_count+":1}`, field: "going_count", code: managed},
		{name: "event moved to another group", as: carol, method: http.MethodPatch, url: myEvent, body: `{"group":"` + hearthtest.Chess + `"}`, field: "group", code: managed},
		{name: "invite uses+", as: bob, method: http.MethodPost, url: invites, body: `{` + climbers + `,"uses+":1}`, field: "uses", code: managed},
		{name: "invite code:autogenerate", as: bob, method: http.MethodPost, url: invites, body: `{` + climbers + `,"code:autogenerate":"AB"}`, field: "code", code: managed},
		{name: "rsvp +user", as: carol, method: http.MethodPatch, url: myRSVP, body: `{"+user":"` + bob + `"}`, field: "user", code: managed},
		{name: "rsvp moved to another event", as: carol, method: http.MethodPatch, url: myRSVP, body: `{"event":"` + hearthtest.ChessEvent + `"}`, field: "event", code: managed},
		{name: "rsvp waitlisted_at", as: carol, method: http.MethodPatch, url: myRSVP, body: `{"waitlisted_at":"2030-01-01 00:00:00.000Z"}`, field: "waitlisted_at", code: managed},
		{name: "rsvp waitlisted_at repeated", as: carol, method: http.MethodPatch, url: myRSVP, body: `{"waitlisted_at":["",""]}`,
			form: [][2]string{{"waitlisted_at", ""}, {"waitlisted_at", ""}}, field: "waitlisted_at", code: managed},
		{name: "membership moved to another group", as: alice, method: http.MethodPatch, url: mCarol, body: `{"group":"` + hearthtest.Chess + `"}`, field: "group", code: managed},
		{name: "membership +user", as: alice, method: http.MethodPatch, url: mCarol, body: `{"+user":"` + bob + `"}`, field: "user", code: managed},
		{name: "visible email", as: carol, method: http.MethodPatch, url: users + "/" + carol, body: `{"emailVisibility":true}`, field: "emailVisibility", code: "validation_email_private"},
	}

	tk := map[string]string{}
	for _, u := range []string{alice, bob, carol} {
		tk[u] = hearthtest.Token(t, s.App, u)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := hearthtest.Fingerprint(t, s.App)
			var direct hearthtest.Response
			if c.form != nil {
				body, contentType := formFields(t, c.form)
				direct = s.Send(t, c.method, c.url, tk[c.as], contentType, body, int64(body.Len()))
			} else {
				direct = s.Do(t, c.method, c.url, tk[c.as], c.body)
			}
			data, _ := direct.Body["data"].(map[string]any)
			if direct.Status != http.StatusBadRequest || len(data) != 1 || direct.FieldCode(c.field) != c.code {
				t.Fatalf("records API: want a 400 naming only %s with %s, got %d %s", c.field, c.code, direct.Status, direct.Raw)
			}

			batch := s.Do(t, http.MethodPost, "/api/batch", tk[c.as],
				`{"requests":[{"method":"`+c.method+`","url":"`+c.url+`","body":`+c.body+`}]}`)
			if got := batchFailure(batch); batch.Status != http.StatusBadRequest || !reflect.DeepEqual(got, direct.Body) {
				t.Errorf("batch: want request 0 to fail with the records API's answer\n%s\ngot %d %s", direct.Raw, batch.Status, batch.Raw)
			}
			if after := hearthtest.Fingerprint(t, s.App); after != before {
				t.Errorf("a refused body changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
	t.Logf("bad bodies: %d, each through the records API and a batch", len(cases))
}

// TestBodyChecksAcceptEchoes: sending a server-managed value back as
// stored, as SDK round trips do, passes on both paths.
func TestBodyChecksAcceptEchoes(t *testing.T) {
	s := hearthtest.NewServer(t)
	hearthtest.EnableBatch(t, s.App, 10)
	alice := hearthtest.Token(t, s.App, hearthtest.Alice)
	url := "/api/collections/groups/records/" + hearthtest.Climbers
	body := `{"created_by":"` + hearthtest.Alice + `","description":"echo"}`
	if res := s.Do(t, http.MethodPatch, url, alice, body); res.Status != http.StatusOK {
		t.Errorf("records API: %d %s", res.Status, res.Raw)
	}
	// A batch answers a JSON array, which server.do does not decode.
	req, err := http.NewRequest(http.MethodPost, s.URL+"/api/batch",
		strings.NewReader(`{"requests":[{"method":"PATCH","url":"`+url+`","body":`+body+`}]}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", alice)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if raw, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusOK {
		t.Errorf("batch: %d %s", res.StatusCode, raw)
	}
}

// TestTextLengthAnswerIsPocketBases: the length check answers exactly as
// PocketBase's own validation of the field would.
func TestTextLengthAnswerIsPocketBases(t *testing.T) {
	s := hearthtest.NewServer(t)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	messages, err := s.App.FindCollectionByNameOrId(collections.Messages)
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("🧗", 4001)
	want := router.NewBadRequestError("Failed to create record.", validation.Errors{
		"body": messages.Fields.GetByName("body").(*core.TextField).ValidatePlainValue(long),
	})
	wantJSON, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var wantBody map[string]any
	if err := json.Unmarshal(wantJSON, &wantBody); err != nil {
		t.Fatal(err)
	}
	res := s.Do(t, http.MethodPost, "/api/collections/messages/records", carol, map[string]any{"group": hearthtest.Climbers, "body": long})
	if !reflect.DeepEqual(res.Body, wantBody) {
		t.Errorf("got %s\nwant %s", res.Raw, wantJSON)
	}
}

// formFields is a url-encoded form of fields in order. (A form is
// multipart only with files, and a multipart body is taken only by the
// collections with file fields; the values read the same either way.)
func formFields(t *testing.T, fields [][2]string) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	for i, f := range fields {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(f[0]) + "=" + url.QueryEscape(f[1]))
	}
	return &b, "application/x-www-form-urlencoded"
}

// batchFailure returns the answer PocketBase wraps in a failed batch for
// its first request: data.requests.0.response, when data.requests.0 is a
// batch_request_failed.
func batchFailure(res hearthtest.Response) map[string]any {
	data, _ := res.Body["data"].(map[string]any)
	requests, _ := data["requests"].(map[string]any)
	first, _ := requests["0"].(map[string]any)
	if first["code"] != "batch_request_failed" {
		return nil
	}
	inner, _ := first["response"].(map[string]any)
	return inner
}
