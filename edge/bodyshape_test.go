package edge_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"testing"

	"github.com/crews/hearth/internal/hearthtest"
)

// payloads are @jsonPayload values that are not a JSON object. PocketBase
// panicked on null (a 500) and cast the others away.
var payloads = []string{`null`, `[]`, `[{"name":"x"}]`, `3`, `"Runners"`, `true`, `{"name":`, ``}

// formWith is a multipart body with payload as its @jsonPayload and, when
// field is set, a PNG under field: the shape of every SDK upload.
func formWith(t *testing.T, payload, field string) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	if err := w.WriteField("@jsonPayload", payload); err != nil {
		t.Fatal(err)
	}
	if field != "" {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+field+`"; filename="pic.png"`)
		h.Set("Content-Type", "image/png")
		part, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(hearthtest.PNG(t, 0))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return &b, w.FormDataContentType()
}

func TestJSONPayloadMustBeAnObject(t *testing.T) {
	s := hearthtest.NewServer(t)
	hearthtest.EnableBatch(t, s.App, 10)
	tk := map[string]string{}
	for _, u := range []string{hearthtest.Alice, hearthtest.Carol} {
		tk[u] = hearthtest.Token(t, s.App, u)
	}
	routes := []struct {
		name, as, method, url, file string
	}{
		{"sign-up with an avatar", "", http.MethodPost, "/api/collections/users/records", "avatar"},
		{"avatar update", hearthtest.Carol, http.MethodPatch, "/api/collections/users/records/" + hearthtest.Carol, "avatar"},
		{"group with a cover", hearthtest.Carol, http.MethodPost, "/api/collections/groups/records", "cover"},
		{"cover update", hearthtest.Alice, http.MethodPatch, "/api/collections/groups/records/" + hearthtest.Climbers, "cover"},
		{"message with an attachment", hearthtest.Carol, http.MethodPost, "/api/collections/messages/records", "attachments"},
		{"attachment added to a message", hearthtest.Carol, http.MethodPatch, "/api/collections/messages/records/" + hearthtest.ClimbMessage, "attachments+"},
		{"event without a file", hearthtest.Carol, http.MethodPost, "/api/collections/events/records", ""},
		{"sign-in", "", http.MethodPost, "/api/collections/users/auth-with-password", ""},
		{"join", hearthtest.Carol, http.MethodPost, "/api/crews/join", ""},
		{"batch", hearthtest.Carol, http.MethodPost, "/api/batch", "requests.0.attachments"},
	}
	before := hearthtest.Fingerprint(t, s.App)
	for _, r := range routes {
		for _, payload := range payloads {
			body, contentType := formWith(t, payload, r.file)
			res := s.Send(t, r.method, r.url, tk[r.as], contentType, body, int64(body.Len()))
			if r.file == "" {
				// No files: a multipart body is refused unread, and the
				// payload is checked in a url-encoded form.
				if res.Status != http.StatusUnsupportedMediaType {
					t.Errorf("%s, multipart: want a 415, got %d %s", r.name, res.Status, res.Raw)
				}
				form := "@jsonPayload=" + url.QueryEscape(payload)
				res = s.Send(t, r.method, r.url, tk[r.as], "application/x-www-form-urlencoded", strings.NewReader(form), int64(len(form)))
			}
			if res.Status != http.StatusBadRequest || res.FieldCode("@jsonPayload") != "validation_invalid_json_payload" {
				t.Errorf("%s, @jsonPayload %s: want a 400 naming @jsonPayload, got %d %s", r.name, payload, res.Status, res.Raw)
			}
		}
	}
	if after := hearthtest.Fingerprint(t, s.App); after != before {
		t.Errorf("a refused payload changed the database:\n%s", after)
	}
}

func TestRecordBodyMustBeAnObject(t *testing.T) {
	s := hearthtest.NewServer(t)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	before := hearthtest.Fingerprint(t, s.App)
	for _, url := range []string{"/api/collections/messages/records", "/api/collections/messages/records/" + hearthtest.ClimbMessage} {
		method := http.MethodPost
		if strings.Contains(url, hearthtest.ClimbMessage) {
			method = http.MethodPatch
		}
		for _, body := range []string{`null`, ` null `, `[]`, `[{"body":"hi"}]`, `3`, `"hi"`} {
			for _, l := range lengths {
				res := s.Send(t, method, url, carol, "application/json", strings.NewReader(body), length(int64(len(body)), l.chunked))
				if res.Status != http.StatusBadRequest {
					t.Errorf("%s %s with %s (%s): %d %s", method, url, body, l.name, res.Status, res.Raw)
				}
			}
		}
	}
	if after := hearthtest.Fingerprint(t, s.App); after != before {
		t.Errorf("a refused body changed the database:\n%s", after)
	}
}
