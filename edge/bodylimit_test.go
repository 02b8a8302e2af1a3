package edge_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/edge"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
)

// fill is an endless reader of one byte, so that a test sends a body of
// tens of MB without holding it.
type fill byte

func (f fill) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(f)
	}
	return len(p), nil
}

// padded is prefix, then 'a' up to size bytes, then suffix.
func padded(prefix string, size int64, suffix string) io.Reader {
	n := size - int64(len(prefix)+len(suffix))
	return io.MultiReader(strings.NewReader(prefix), io.LimitReader(fill('a'), n), strings.NewReader(suffix))
}

// bigUpload is a multipart body of size bytes: the text fields, then a part
// named field filled to size, a file when filename is set.
func bigUpload(t *testing.T, fields map[string]string, field, filename string, size int64) (io.Reader, string) {
	t.Helper()
	var head bytes.Buffer
	w := multipart.NewWriter(&head)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if filename != "" {
		_, err = w.CreateFormFile(field, filename)
	} else {
		_, err = w.CreateFormField(field)
	}
	if err != nil {
		t.Fatal(err)
	}
	prefix := head.String()
	head.Reset()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return padded(prefix, size, head.String()), w.FormDataContentType()
}

// lengths are the two ways a body's size reaches the server: announced in
// Content-Length, or learnt by reading a chunked body.
var lengths = []struct {
	name    string
	chunked bool
}{{"Content-Length", false}, {"chunked", true}}

func length(size int64, chunked bool) int64 {
	if chunked {
		return -1
	}
	return size
}

// tooLarge fails t unless res is the 413 naming limit.
func tooLarge(t *testing.T, res hearthtest.Response, limit int64) {
	t.Helper()
	if res.Status != http.StatusRequestEntityTooLarge || !strings.Contains(res.Str("message"), fmt.Sprintf("at most %d bytes", limit)) {
		t.Errorf("want a 413 naming %d bytes, got %d %s", limit, res.Status, res.Raw)
	}
}

// unsupported fails t unless res is the 415 of a multipart body where no
// files are taken, naming the JSON limit.
func unsupported(t *testing.T, res hearthtest.Response, jsonLimit int64) {
	t.Helper()
	if res.Status != http.StatusUnsupportedMediaType || !strings.Contains(res.Str("message"), fmt.Sprintf("send JSON of at most %d bytes", jsonLimit)) {
		t.Errorf("want a 415 naming %d bytes of JSON, got %d %s", jsonLimit, res.Status, res.Raw)
	}
}

func hasFiles(c *core.Collection) bool {
	for _, f := range c.Fields {
		if f.Type() == core.FieldTypeFile {
			return true
		}
	}
	return false
}

func TestBodyLimitsPerCollection(t *testing.T) {
	s := hearthtest.NewServer(t)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	for _, name := range hearthtest.Tables(t, s.App) {
		t.Run(name, func(t *testing.T) {
			c, err := s.App.FindCollectionByNameOrId(name)
			if err != nil {
				t.Fatal(err)
			}
			jsonLimit, multipartLimit := edge.BodyLimits(c)
			t.Logf("limits: JSON %d bytes, multipart %d bytes", jsonLimit, multipartLimit)
			url := "/api/collections/" + name + "/records"
			before := hearthtest.Fingerprint(t, s.App)
			for _, l := range lengths {
				res := s.Send(t, http.MethodPost, url, carol, "application/json",
					padded(`{"name":"`, jsonLimit+1, `"}`), length(jsonLimit+1, l.chunked))
				tooLarge(t, res, jsonLimit)

				// One byte less passes the limit, to what the rules and the
				// schema say of it.
				res = s.Send(t, http.MethodPost, url, carol, "application/json",
					padded(`{"name":"`, jsonLimit, `"}`), length(jsonLimit, l.chunked))
				if res.Status != http.StatusBadRequest && res.Status != http.StatusForbidden {
					t.Errorf("JSON at the limit (%s): %d %s", l.name, res.Status, res.Raw)
				}

				upload, contentType := bigUpload(t, map[string]string{"name": "x"}, "file", "big.bin", multipartLimit+1)
				res = s.Send(t, http.MethodPost, url, carol, contentType, upload, length(multipartLimit+1, l.chunked))
				if hasFiles(c) {
					tooLarge(t, res, multipartLimit)
				} else {
					unsupported(t, res, jsonLimit)
				}
			}
			if after := hearthtest.Fingerprint(t, s.App); after != before {
				t.Errorf("an oversized body changed the database:\n%s", after)
			}
		})
	}
}

func TestBodyLimitsOnUpdatesAndAuth(t *testing.T) {
	s := hearthtest.NewServer(t)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	messages, err := s.App.FindCollectionByNameOrId(collections.Messages)
	if err != nil {
		t.Fatal(err)
	}
	users, err := s.App.FindCollectionByNameOrId(collections.Users)
	if err != nil {
		t.Fatal(err)
	}
	messageJSON, _ := edge.BodyLimits(messages)
	userJSON, _ := edge.BodyLimits(users)
	before := hearthtest.Fingerprint(t, s.App)
	for _, l := range lengths {
		tooLarge(t, s.Send(t, http.MethodPatch, "/api/collections/messages/records/"+hearthtest.ClimbMessage, carol, "application/json",
			padded(`{"body":"`, messageJSON+1, `"}`), length(messageJSON+1, l.chunked)), messageJSON)
		tooLarge(t, s.Send(t, http.MethodPost, "/api/collections/users/auth-with-password", "", "application/json",
			padded(`{"identity":"carol@crews.test","password":"`, userJSON+1, `"}`), length(userJSON+1, l.chunked)), userJSON)
		res := s.Send(t, http.MethodPost, collections.JoinPath, carol, "application/json",
			padded(`{"code":"`, 5<<10, `"}`), length(5<<10, l.chunked))
		if res.Status != http.StatusRequestEntityTooLarge {
			t.Errorf("join with a 5 KB body (%s): %d %s", l.name, res.Status, res.Raw)
		}
	}
	if after := hearthtest.Fingerprint(t, s.App); after != before {
		t.Errorf("an oversized body changed the database:\n%s", after)
	}
}

// TestBodyLimitFollowsSchema: a field added in the dashboard raises the
// limit at once.
func TestBodyLimitFollowsSchema(t *testing.T) {
	s := hearthtest.NewServer(t)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	body := `{"group":"` + hearthtest.Climbers + `","body":"hi","notes":"` + strings.Repeat("a", 100_000) + `"}`
	if res := s.Do(t, http.MethodPost, "/api/collections/messages/records", carol, body); res.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("before the field: %d %.300s", res.Status, res.Raw)
	}
	messages, err := s.App.FindCollectionByNameOrId(collections.Messages)
	if err != nil {
		t.Fatal(err)
	}
	messages.Fields.Add(&core.TextField{Name: "notes", Max: 100_000})
	if err := s.App.Save(messages); err != nil {
		t.Fatal(err)
	}
	if res := s.Do(t, http.MethodPost, "/api/collections/messages/records", carol, body); res.Status != http.StatusOK {
		t.Errorf("after the field: %d %.300s", res.Status, res.Raw)
	}
}

// TestBodyLimitsFormFields: within a collection's multipart limit (40 MB of
// attachments for a message), the fields besides the files may hold no
// more than the same record as JSON, and crossing that is a 413 too.
func TestBodyLimitsFormFields(t *testing.T) {
	t.Parallel()
	s := hearthtest.NewServer(t)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	messages, err := s.App.FindCollectionByNameOrId(collections.Messages)
	if err != nil {
		t.Fatal(err)
	}
	fieldsLimit, _ := edge.BodyLimits(messages)
	before := hearthtest.Fingerprint(t, s.App)
	for _, size := range []int64{fieldsLimit + 4<<10, 12 << 20} {
		for _, l := range lengths {
			upload, contentType := bigUpload(t, map[string]string{"group": hearthtest.Climbers}, "body", "", size)
			res := s.Send(t, http.MethodPost, "/api/collections/messages/records", carol, contentType, upload, length(size, l.chunked))
			if res.Status != http.StatusRequestEntityTooLarge || !strings.Contains(res.Str("message"), fmt.Sprintf("besides its files may have at most %d bytes", fieldsLimit)) {
				t.Errorf("a %d-byte form field (%s): %d %.300s", size, l.name, res.Status, res.Raw)
			}
		}
	}
	if after := hearthtest.Fingerprint(t, s.App); after != before {
		t.Errorf("an oversized form changed the database:\n%s", after)
	}
}

// TestLargestMessageAccepted: the limit is above the largest valid record,
// written the longest way JSON allows (every character an escaped
// surrogate pair), as a create and as an edit.
func TestLargestMessageAccepted(t *testing.T) {
	s := hearthtest.NewServer(t)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	climber := strings.Repeat(`\ud83e\uddd7`, 4000) // 🧗
	res := s.Do(t, http.MethodPost, "/api/collections/messages/records", carol,
		`{"group":"`+hearthtest.Climbers+`","body":"`+climber+`","attachments":[]}`)
	if res.Status != http.StatusOK {
		t.Fatalf("create: %d %.300s", res.Status, res.Raw)
	}
	res = s.Do(t, http.MethodPatch, "/api/collections/messages/records/"+res.Str("id"), carol,
		`{"group":"`+hearthtest.Climbers+`","body":"`+climber+`"}`)
	if res.Status != http.StatusOK {
		t.Fatalf("update: %d %.300s", res.Status, res.Raw)
	}
	if n := utf8.RuneCountInString(res.Str("body")); n != 4000 {
		t.Errorf("stored %d characters, want 4000", n)
	}
}

func TestBatchBodyLimit(t *testing.T) {
	s := hearthtest.NewServer(t)
	hearthtest.EnableBatch(t, s.App, 5)
	carol := hearthtest.Token(t, s.App, hearthtest.Carol)
	limit, err := edge.BatchBodyLimit(s.App, false)
	if err != nil {
		t.Fatal(err)
	}
	before := hearthtest.Fingerprint(t, s.App)
	for _, l := range lengths {
		body := padded(`{"requests":[{"method":"POST","url":"/api/collections/messages/records","body":{"group":"`+hearthtest.Climbers+`","body":"`,
			limit+1, `"}}]}`)
		tooLarge(t, s.Send(t, http.MethodPost, "/api/batch", carol, "application/json", body, length(limit+1, l.chunked)), limit)
	}
	if after := hearthtest.Fingerprint(t, s.App); after != before {
		t.Errorf("an oversized batch changed the database:\n%s", after)
	}
}
