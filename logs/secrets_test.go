package logs_test

import (
	"bufio"
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crews/hearth/internal/hearthbin"
	_ "modernc.org/sqlite"
)

var bin string

const (
	superuserEmail    = "ops.marker75@example.com"
	superuserPassword = "PwMarker-ops-1732"
)

func TestMain(m *testing.M) { hearthbin.Main(m, &bin) }

// TestNoSecretInAnyLog drives the real binary, in each format and level
// and in dev mode, with every kind of secret in the places clients send
// them, in requests that succeed and that fail, then looks for each
// secret in everything the process printed and in the _logs table.
func TestNoSecretInAnyLog(t *testing.T) {
	for _, run := range []struct {
		name string
		env  map[string]string
	}{
		{"json", map[string]string{"HEARTH_LOG_FORMAT": "json"}},
		{"text", map[string]string{"HEARTH_LOG_FORMAT": "text"}},
		{"json debug dev", map[string]string{"HEARTH_LOG_FORMAT": "json", "HEARTH_LOG_LEVEL": "debug", "HEARTH_DEV": "true"}},
		{"text debug dev", map[string]string{"HEARTH_LOG_FORMAT": "text", "HEARTH_LOG_LEVEL": "debug", "HEARTH_DEV": "true"}},
	} {
		t.Run(run.name, func(t *testing.T) {
			dir := t.TempDir()
			addr := hearthbin.FreeAddr(t)
			env := map[string]string{
				"HEARTH_HTTP":     addr,
				"HEARTH_DATA_DIR": dir,
				// Every request kept: successes carry secrets too.
				"HEARTH_LOG_REQUEST_SAMPLE": "1",
				// The sign-ins come faster than PocketBase's auth limit.
				"HEARTH_RATE_LIMITS": "false",
				// The superuser from the environment is logged at start.
				"HEARTH_SUPERUSER_EMAIL":    superuserEmail,
				"HEARTH_SUPERUSER_PASSWORD": superuserPassword,
			}
			for k, v := range run.env {
				env[k] = v
			}
			srv := hearthbin.Serve(t, bin, addr, env)
			c := &client{t: t, base: srv.URL}
			secrets := drive(c)
			secrets["superuser's email"], secrets["superuser's password"] = superuserEmail, superuserPassword
			// Stopping flushes PocketBase's log batch: every entry is
			// stored, and written to stdout, before the process exits.
			srv.Stop()

			// JSON escapes & (in the table's data); the checks below
			// read the URLs as the lines mean them.
			unescape := strings.NewReplacer(`\u0026`, "&").Replace
			logs := map[string]string{"the output": unescape(srv.Output()), "the _logs table": unescape(storedLogs(t, dir))}
			for where, text := range logs {
				for kind, secret := range secrets {
					// An email is looked for by its local part, which
					// stays as it is in a URL (where @ is %40).
					needle, _, _ := strings.Cut(secret, "@")
					if strings.Contains(text, needle) {
						t.Errorf("%s holds the %s %q:\n%s", where, kind, secret, linesWith(text, needle))
					}
				}
			}

			// The lines still say what happened: routes, statuses and
			// parameter names, in the output and in the table.
			for where, text := range logs {
				for _, want := range []string{
					"/api/files/{collection}/{recordId}/{filename}",
					"/api/files/users/" + c.aliceID + "/{filename}?token=[redacted]",
					"/api/collections/invites/records?filter=[redacted]&perPage=5",
					"/api/collections/groups/records?token=[redacted]",
					"/api/crews/join",
					"No invite has this code.",
				} {
					if !strings.Contains(text, want) {
						t.Errorf("%s does not hold %q", where, want)
					}
				}
			}
			out := srv.Output()
			status := `"status":404`
			if run.env["HEARTH_LOG_FORMAT"] == "text" {
				status = "status=404"
			}
			if !strings.Contains(out, status) {
				t.Errorf("no line in the output has %s", status)
			}
			if run.env["HEARTH_LOG_LEVEL"] == "debug" {
				if !strings.Contains(out, "Realtime subscriptions updated") {
					t.Error("the realtime debug line is missing")
				}
			}
			if !strings.Contains(out, "superuser configured from environment") {
				t.Error("the superuser's line is missing")
			}
			if run.env["HEARTH_DEV"] == "true" && !strings.Contains(out, "SELECT") {
				t.Error("dev mode printed no SQL statement")
			}
		})
	}
}

// drive sends each secret where a client sends it, and returns them by
// kind. The markers are unique to this test, so that one found in a log
// came from these requests.
func drive(c *client) map[string]string {
	secrets := map[string]string{
		"email":                   "alice.marker71@example.com",
		"second email":            "bob.marker72@example.com",
		"failed sign-up's email":  "carol.marker73@example.com",
		"filtered email":          "dave.marker74@example.com",
		"password":                "PwMarker-alice-3141",
		"second password":         "PwMarker-bob-2718",
		"wrong password":          "PwMarker-wrong-1618",
		"failed sign-up password": "PwMarker-carol-1414",
		"failed join's code":      "ZZMARKERZZ77",
		"push token":              "markerpush9q8w7e6r",
	}

	// Sign-ups, one failing (the passwords differ), and sign-ins, one
	// failing (a wrong password).
	c.signUp(secrets["email"], secrets["password"], secrets["password"], http.StatusOK)
	c.signUp(secrets["second email"], secrets["second password"], secrets["second password"], http.StatusOK)
	c.signUp(secrets["failed sign-up's email"], secrets["failed sign-up password"], "different", http.StatusBadRequest)
	c.signUp(secrets["email"], secrets["password"], secrets["password"], http.StatusBadRequest) // taken
	alice := c.signIn(secrets["email"], secrets["password"], http.StatusOK)
	c.signIn(secrets["email"], secrets["wrong password"], http.StatusBadRequest)
	bob := c.signIn(secrets["second email"], secrets["second password"], http.StatusOK)
	secrets["auth token"], secrets["second auth token"] = alice["token"].(string), bob["token"].(string)
	c.aliceID = alice["record"].(map[string]any)["id"].(string)

	// An invite's code in a list filter, in a join, and a failing join.
	group := c.do(http.MethodPost, "/api/collections/groups/records", alice, map[string]any{"name": "Climbers"}, http.StatusOK)
	invite := c.do(http.MethodPost, "/api/collections/invites/records", alice, map[string]any{"group": group["id"]}, http.StatusOK)
	secrets["invite code"] = invite["code"].(string)
	c.do(http.MethodGet, "/api/collections/invites/records?filter="+url.QueryEscape(`code = "`+secrets["invite code"]+`"`)+"&perPage=5", alice, nil, http.StatusOK)
	c.do(http.MethodGet, "/api/collections/invites/records?filter="+url.QueryEscape(`code = "`+secrets["invite code"]+`" && nosuchfield = 1`), alice, nil, http.StatusBadRequest)
	c.do(http.MethodPost, "/api/crews/join", bob, map[string]any{"code": secrets["invite code"]}, http.StatusOK)
	c.do(http.MethodPost, "/api/crews/join", bob, map[string]any{"code": secrets["failed join's code"]}, http.StatusNotFound)

	// A push token registering a device, in a filter, and refused.
	pushToken := "ExponentPushToken[" + secrets["push token"] + "]"
	c.do(http.MethodPost, "/api/collections/devices/records", alice, map[string]any{"token": pushToken, "platform": "ios"}, http.StatusOK)
	c.do(http.MethodGet, "/api/collections/devices/records?filter="+url.QueryEscape(`token = "`+pushToken+`"`), alice, nil, http.StatusOK)
	c.do(http.MethodPost, "/api/collections/devices/records", bob, map[string]any{"token": pushToken, "platform": "windows"}, http.StatusBadRequest)

	// An email in a filter (refused: emails are private), an auth token as
	// a query parameter, and a referer whose URL holds a token.
	c.do(http.MethodGet, "/api/collections/users/records?filter="+url.QueryEscape(`email = "`+secrets["filtered email"]+`"`), alice, nil, http.StatusBadRequest)
	c.do(http.MethodGet, "/api/collections/groups/records?token="+secrets["auth token"], nil, nil, http.StatusOK)
	c.referer = "https://app.example/join?code=" + secrets["invite code"] + "&token=" + secrets["second auth token"]
	c.do(http.MethodGet, "/api/collections/nosuchcollection/records", bob, nil, http.StatusNotFound)
	c.referer = ""

	// A file token, used to fetch a protected file and one that is not there.
	avatar := c.upload(alice)
	secrets["file token"] = c.do(http.MethodPost, "/api/files/token", alice, nil, http.StatusOK)["token"].(string)
	c.get("/api/files/users/"+c.aliceID+"/"+avatar+"?token="+secrets["file token"], http.StatusOK)
	c.get("/api/files/users/"+c.aliceID+"/missing.png?token="+secrets["file token"], http.StatusNotFound)

	// Realtime subscriptions whose filters hold a code and a push token.
	c.subscribe(alice, map[string]string{
		"invites": `code = "` + secrets["invite code"] + `"`,
		"devices": `token = "` + pushToken + `"`,
	})
	return secrets
}

type client struct {
	t       *testing.T
	base    string
	referer string
	aliceID string
}

// do sends body as JSON with the auth of the answer auth (if any) and
// returns the decoded answer, failing the test on another status.
func (c *client) do(method, path string, auth map[string]any, body any, want int) map[string]any {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return c.send(req, auth, want)
}

func (c *client) send(req *http.Request, auth map[string]any, want int) map[string]any {
	c.t.Helper()
	if auth != nil {
		req.Header.Set("Authorization", auth["token"].(string))
	}
	if c.referer != "" {
		req.Header.Set("Referer", c.referer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		c.t.Fatalf("%s %s: %d, want %d: %s", req.Method, req.URL.Path, res.StatusCode, want, raw)
	}
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return out
}

func (c *client) get(path string, want int) {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	c.send(req, nil, want)
}

func (c *client) signUp(email, password, confirm string, want int) {
	c.t.Helper()
	c.do(http.MethodPost, "/api/collections/users/records", nil,
		map[string]any{"email": email, "password": password, "passwordConfirm": confirm, "name": "Marker"}, want)
}

func (c *client) signIn(email, password string, want int) map[string]any {
	c.t.Helper()
	return c.do(http.MethodPost, "/api/collections/users/auth-with-password", nil,
		map[string]any{"identity": email, "password": password}, want)
}

// upload sets a small PNG as the user's (protected) avatar and returns its
// stored name.
func (c *client) upload(auth map[string]any) string {
	c.t.Helper()
	var img bytes.Buffer
	if err := png.Encode(&img, image.NewRGBA(image.Rect(0, 0, 2, 2))); err != nil {
		c.t.Fatal(err)
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	part, _ := w.CreateFormFile("avatar", "me.png")
	part.Write(img.Bytes())
	w.Close()
	req, _ := http.NewRequest(http.MethodPatch, c.base+"/api/collections/users/records/"+c.aliceID, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.send(req, auth, http.StatusOK)["avatar"].(string)
}

// subscribe opens a realtime connection and subscribes it to each
// collection with a filter, as the SDK does.
func (c *client) subscribe(auth map[string]any, filters map[string]string) {
	c.t.Helper()
	res, err := http.Get(c.base + "/api/realtime")
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var clientID string
	lines := bufio.NewScanner(res.Body)
	for clientID == "" && lines.Scan() {
		if data, ok := strings.CutPrefix(lines.Text(), "data:"); ok {
			var connect struct{ ClientID string }
			if err := json.Unmarshal([]byte(data), &connect); err != nil {
				c.t.Fatalf("PB_CONNECT: %v", err)
			}
			clientID = connect.ClientID
		}
	}
	var topics []string
	for collection, filter := range filters {
		options, _ := json.Marshal(map[string]any{"query": map[string]string{"filter": filter}})
		topics = append(topics, collection+"/*?options="+url.QueryEscape(string(options)))
	}
	b, _ := json.Marshal(map[string]any{"clientId": clientID, "subscriptions": topics})
	req, _ := http.NewRequest(http.MethodPost, c.base+"/api/realtime", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	c.send(req, auth, http.StatusNoContent)
}

// storedLogs is every entry of the _logs table, message and data, as text.
func storedLogs(t *testing.T, dataDir string) string {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(dataDir, "auxiliary.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query("SELECT message, data FROM _logs")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	n := 0
	for rows.Next() {
		var message, data string
		if err := rows.Scan(&message, &data); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s\n", message, data)
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("the _logs table is empty")
	}
	return b.String()
}

// linesWith is the lines of text that hold s, for a failure message.
func linesWith(text, s string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
