package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/plugins/jsvm"
	"github.com/pocketbase/pocketbase/tests"
)

// These tests load the shipped pb_hooks directory into a test app the way
// main.go does, so the JS hooks are tested as deployed. The e2e suite
// (e2e/hooks.test.mjs) covers the same hooks through the real binary,
// including a hot reload.

// hooksApp returns a TestAppFactory whose apps run the JS hooks in dir.
func hooksApp(dir string) func(testing.TB) *tests.TestApp {
	return func(t testing.TB) *tests.TestApp {
		app := hearthtest.Factory(t)
		if err := jsvm.Register(app, jsvm.Config{HooksDir: dir}); err != nil {
			t.Fatalf("jsvm: %v", err)
		}
		return app
	}
}

// noNewMessages fails t when a message other than the fixture ones exists.
func noNewMessages(t testing.TB, app *tests.TestApp, _ *http.Response) {
	t.Helper()
	n, err := app.CountRecords(collections.Messages)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("%d messages stored, want the 2 fixture ones", n)
	}
}

func createMessage(t *testing.T, user, body string) (string, *strings.Reader, map[string]string) {
	return "/api/collections/messages/records",
		strings.NewReader(`{"group":"` + hearthtest.Climbers + `","body":` + quote(body) + `}`),
		map[string]string{"Authorization": hearthtest.Token(t, nil, user)}
}

func quote(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}

func TestMessageGuardFromEnv(t *testing.T) {
	t.Setenv("HEARTH_BLOCKED_WORDS", " spam, Scam ,,")
	t.Setenv("HEARTH_MESSAGE_MAX_LENGTH", "20")
	factory := hooksApp("pb_hooks")

	scenarios := []struct {
		name    string
		body    string
		status  int
		content []string
	}{
		{"clean message", "See you at the wall", 200, []string{`"body":"See you at the wall"`}},
		{"blocked word in another case", "Buy SPAM now!", 400, []string{`"body":{"code":"validation_blocked_word"`, `spam`}},
		{"second listed word", "a scam.", 400, []string{`"body":{"code":"validation_blocked_word"`}},
		{"blocked word in Unicode quotes", "«spam»…", 400, []string{`"body":{"code":"validation_blocked_word"`}},
		{"word inside a longer word", "no spammers here", 200, []string{`"body":"no spammers here"`}},
		{"exactly the limit", strings.Repeat("é", 20), 200, []string{`"body":"` + strings.Repeat("é", 20) + `"`}},
		{"over the limit", strings.Repeat("a", 21), 400, []string{`"body":{"code":"validation_max_text_constraint"`, `20 character`}},
		// 🧗 is two UTF-16 units: 40 units are 20 characters, 42 are 21.
		{"the limit in emoji", strings.Repeat("🧗", 20), 200, []string{`"body":"` + strings.Repeat("🧗", 20) + `"`}},
		{"over the limit in emoji", strings.Repeat("🧗", 21), 400, []string{`"body":{"code":"validation_max_text_constraint"`, `20 character`}},
		{"far over the limit", strings.Repeat("a", 41), 400, []string{`"body":{"code":"validation_max_text_constraint"`, `20 character`}},
	}
	for _, s := range scenarios {
		url, body, headers := createMessage(t, hearthtest.Carol, s.body)
		scenario := tests.ApiScenario{
			Name:            s.name,
			Method:          http.MethodPost,
			URL:             url,
			Body:            body,
			Headers:         headers,
			ExpectedStatus:  s.status,
			ExpectedContent: s.content,
			TestAppFactory:  factory,
		}
		if s.status == 400 {
			scenario.ExpectedEvents = map[string]int{"*": 0, "OnRecordCreateRequest": 1}
			scenario.AfterTestFunc = noNewMessages
		}
		scenario.Test(t)
	}
}

func TestMessageGuardOnUpdate(t *testing.T) {
	t.Setenv("HEARTH_BLOCKED_WORDS", "rope")
	factory := hooksApp("pb_hooks")
	carol := map[string]string{"Authorization": hearthtest.Token(t, nil, hearthtest.Carol)}
	url := "/api/collections/messages/records/" + hearthtest.ClimbMessage

	// The fixture message says "Who brings the rope?", blocked now: editing
	// its body to another blocked text is refused, but a request that leaves
	// the body as it is passes (the policy does not lock old messages).
	(&tests.ApiScenario{
		Name:            "body changed to a blocked word",
		Method:          http.MethodPatch,
		URL:             url,
		Body:            strings.NewReader(`{"body":"Rope, anyone?"}`),
		Headers:         carol,
		ExpectedStatus:  400,
		ExpectedContent: []string{`"body":{"code":"validation_blocked_word"`},
		ExpectedEvents:  map[string]int{"*": 0, "OnRecordUpdateRequest": 1},
		TestAppFactory:  factory,
	}).Test(t)
	(&tests.ApiScenario{
		Name:            "body unchanged",
		Method:          http.MethodPatch,
		URL:             url,
		Body:            strings.NewReader(`{"body":"Who brings the rope?"}`),
		Headers:         carol,
		ExpectedStatus:  200,
		ExpectedContent: []string{`"body":"Who brings the rope?"`},
		TestAppFactory:  factory,
	}).Test(t)
}

func TestMessageGuardExemptsSuperusers(t *testing.T) {
	t.Setenv("HEARTH_BLOCKED_WORDS", "spam")
	(&tests.ApiScenario{
		Method:          http.MethodPost,
		URL:             "/api/collections/messages/records",
		Body:            strings.NewReader(`{"group":"` + hearthtest.Climbers + `","body":"spam, quoted by a moderator"}`),
		Headers:         map[string]string{"Authorization": hearthtest.SuperuserToken(t, nil)},
		ExpectedStatus:  200,
		ExpectedContent: []string{`"body":"spam, quoted by a moderator"`},
		TestAppFactory:  hooksApp("pb_hooks"),
	}).Test(t)
}

func TestMessageGuardFromFile(t *testing.T) {
	dir := copyHooks(t, `{"max_length": 8, "blocked_words": ["Heck"]}`)
	factory := hooksApp(dir)
	for _, s := range []struct {
		body, code string
	}{
		{"oh heck", "validation_blocked_word"},
		{"123456789", "validation_max_text_constraint"},
	} {
		url, body, headers := createMessage(t, hearthtest.Carol, s.body)
		(&tests.ApiScenario{
			Name:            s.body,
			Method:          http.MethodPost,
			URL:             url,
			Body:            body,
			Headers:         headers,
			ExpectedStatus:  400,
			ExpectedContent: []string{`"body":{"code":"` + s.code + `"`},
			TestAppFactory:  factory,
			AfterTestFunc:   noNewMessages,
		}).Test(t)
	}
}

func TestMessageGuardRefusesBadConfig(t *testing.T) {
	for _, s := range []struct {
		name, file, env, want string
	}{
		{"max length variable", `{}`, "ten", "HEARTH_MESSAGE_MAX_LENGTH"},
		{"negative max length", `{"max_length": -1}`, "", "max_length"},
		{"words not a list", `{"blocked_words": "spam"}`, "", "blocked_words"},
		{"not JSON", `{max_length: 1}`, "", "message_guard.json"},
	} {
		t.Run(s.name, func(t *testing.T) {
			t.Setenv("HEARTH_MESSAGE_MAX_LENGTH", s.env)
			dir := copyHooks(t, s.file)
			app := hearthtest.NewApp(t)
			defer func() {
				r := recover()
				if r == nil {
					t.Fatal("hooks loaded with a bad configuration")
				}
				if msg, _ := r.(error); msg == nil || !strings.Contains(msg.Error(), s.want) {
					t.Fatalf("error %v does not name %s", r, s.want)
				}
			}()
			_ = jsvm.Register(app, jsvm.Config{HooksDir: dir})
		})
	}
}

// copyHooks copies pb_hooks to a temporary dir with config as its
// message_guard.json, and returns the dir.
func copyHooks(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir("pb_hooks")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join("pb_hooks", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "message_guard.json" {
			data = []byte(config)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// BenchmarkMessageCreate measures a message create through the API without
// JS hooks and with the message guard at two JSVM pool sizes (0: a new VM
// per hook call, PocketBase's default; 15: main.go's setting).
func BenchmarkMessageCreate(b *testing.B) {
	b.Setenv("HEARTH_BLOCKED_WORDS", "spam")
	for _, c := range []struct {
		name string
		pool int // -1: no JS hooks
	}{{"no JS hooks", -1}, {"guard, pool 0", 0}, {"guard, pool 15", 15}} {
		b.Run(c.name, func(b *testing.B) {
			app := hearthtest.NewApp(b)
			if c.pool >= 0 {
				if err := jsvm.Register(app, jsvm.Config{HooksDir: "pb_hooks", HooksPoolSize: c.pool}); err != nil {
					b.Fatal(err)
				}
			}
			r, err := apis.NewRouter(app)
			if err != nil {
				b.Fatal(err)
			}
			serve := &core.ServeEvent{App: app, Router: r}
			if err := app.OnServe().Trigger(serve, func(e *core.ServeEvent) error { return nil }); err != nil {
				b.Fatal(err)
			}
			mux, err := r.BuildMux()
			if err != nil {
				b.Fatal(err)
			}
			token := hearthtest.Token(b, app, hearthtest.Carol)
			body := `{"group":"` + hearthtest.Climbers + `","body":"See you at the wall at six"}`
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest(http.MethodPost, "/api/collections/messages/records", strings.NewReader(body))
				req.Header.Set("Authorization", token)
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				mux.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
