package push_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/crews"
	"github.com/crews/hearth/internal/hearthbin"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/core"
)

// These tests run the real hearth binary, so that a crash is a crash: the
// process is killed with SIGKILL and started again on the same data dir.

var (
	binOnce sync.Once
	binDir  string
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// hearthBinary builds bin/hearth once per test binary, for the tests that
// need it.
func hearthBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if binDir, binErr = os.MkdirTemp("", "hearth_push_bin_"); binErr == nil {
			binPath, binErr = hearthbin.Build(binDir)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

const (
	rootEmail    = "root@crews.test"
	rootPassword = "root-password-123"
	userPassword = "password-123456"
)

// crew is a group written into a data dir before the server starts.
type crew struct {
	group         string
	poster, other string // the poster signs in by email; other is a member
	tokens        []string
	users         map[string]string // token -> user
}

// seedCrew migrates dir with the binary and writes a group of the poster
// and n members, each member with a phone, through the domain's own code.
// Users share one password hash: hashing one per user would cost seconds.
func seedCrew(t *testing.T, bin, dir string, n int) crew {
	t.Helper()
	if res := hearthbin.Run(t, bin, nil, "migrate", "--dir", dir); res.ExitCode != 0 {
		t.Fatalf("migrate: %s", res.Output)
	}
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dir})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	defer app.ResetBootstrapState()
	crews.Register(app, crews.Config{})

	users, err := app.FindCollectionByNameOrId(collections.Users)
	if err != nil {
		t.Fatal(err)
	}
	poster := core.NewRecord(users)
	poster.Load(map[string]any{"name": "Poster", "email": "poster@crews.test", "verified": true})
	poster.SetPassword(userPassword)
	if err := app.Save(poster); err != nil {
		t.Fatal(err)
	}
	group := hearthtest.Save(t, app, collections.Groups, "", map[string]any{"name": "Climbers", "created_by": poster.Id})
	c := crew{group: group.Id, poster: poster.Id, users: map[string]string{}}
	for i := range n {
		u := core.NewRecord(users)
		u.Load(map[string]any{"name": fmt.Sprintf("Member %d", i), "email": fmt.Sprintf("member%d@crews.test", i), "verified": true})
		u.SetRaw(core.FieldNamePassword, poster.GetRaw(core.FieldNamePassword))
		if err := app.SaveNoValidate(u); err != nil {
			t.Fatal(err)
		}
		if _, err := collections.AddMember(app, group.Id, u.Id, collections.RoleMember); err != nil {
			t.Fatal(err)
		}
		tok := fmt.Sprintf("ExponentPushToken[member-%03d]", i)
		addDevice(t, app, u.Id, tok)
		c.tokens = append(c.tokens, tok)
		c.users[tok] = u.Id
		c.other = u.Id
	}
	return c
}

// serve starts the binary on dir with its pushes going to fake, and the
// extra variables env.
func serve(t *testing.T, bin, dir string, fake *fakeExpo, env ...string) *hearthbin.Server {
	t.Helper()
	addr := hearthbin.FreeAddr(t)
	vars := map[string]string{
		"HEARTH_HTTP": addr, "HEARTH_DATA_DIR": dir, "HEARTH_PUSH_URL": fake.URL(),
		"HEARTH_SUPERUSER_EMAIL": rootEmail, "HEARTH_SUPERUSER_PASSWORD": rootPassword,
	}
	for i := 0; i+1 < len(env); i += 2 {
		vars[env[i]] = env[i+1]
	}
	return hearthbin.Serve(t, bin, addr, vars)
}

// signIn returns an auth token for the user with email.
func signIn(t *testing.T, base, collection, email, password string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	res, err := http.Post(base+"/api/collections/"+collection+"/auth-with-password", "application/json",
		strings.NewReader(fmt.Sprintf(`{"identity":%q,"password":%q}`, email, password)))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || out.Token == "" {
		t.Fatalf("sign in %s: %d %v", email, res.StatusCode, err)
	}
	return out.Token
}

func postMessage(t *testing.T, base, token, group, body string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/api/collections/messages/records",
		strings.NewReader(fmt.Sprintf(`{"group":%q,"body":%q}`, group, body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("post message: %d", res.StatusCode)
	}
}

// waitFor polls cond every 20 ms until it holds, failing t after limit.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countPushes asks the dashboard's pushes view, as a superuser, how many
// pushes match filter.
func countPushes(t *testing.T, base, root, filter string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/api/collections/pushes/records?perPage=1&filter="+url.QueryEscape(filter), nil)
	req.Header.Set("Authorization", root)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var page struct {
		TotalItems int `json:"totalItems"`
	}
	if err := json.NewDecoder(res.Body).Decode(&page); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("pushes view: %d %v", res.StatusCode, err)
	}
	return page.TotalItems
}

// SIGKILL while Expo holds the second of three requests, then a restart:
// every phone gets the message, the first request's pushes (accepted
// before the kill) never go again, and only the unanswered request's go
// twice.
func TestKillMidBatchAndRestart(t *testing.T) {
	t.Parallel()
	bin := hearthBinary(t)
	dir := t.TempDir()
	const members = 250
	c := seedCrew(t, bin, dir, members)

	fake := newFakeExpo(t)
	held, release := make(chan []expoMessage, 1), make(chan struct{})
	fake.answer(
		func(http.ResponseWriter, []expoMessage) bool { return false },
		func(_ http.ResponseWriter, msgs []expoMessage) bool {
			held <- msgs
			<-release
			return true // the server is gone; nobody reads an answer
		},
	)
	first := serve(t, bin, dir, fake)
	postMessage(t, first.URL, signIn(t, first.URL, "users", "poster@crews.test", userPassword), c.group, "Crag day is on!")

	var inFlight []expoMessage
	select {
	case inFlight = <-held:
	case <-time.After(60 * time.Second):
		t.Fatalf("the second request never came:\n%s", first.Output())
	}
	first.Kill()
	close(release)
	_, acceptedBefore, _ := fake.snapshot()
	if len(acceptedBefore) != 100 || len(inFlight) != 100 {
		t.Fatalf("before the kill: %d accepted, %d in flight; want 100 and 100", len(acceptedBefore), len(inFlight))
	}

	second := serve(t, bin, dir, fake)
	waitFor(t, 60*time.Second, "delivery to every member after the restart", func() bool {
		_, accepted, _ := fake.snapshot()
		return len(accepted) >= members
	})

	sends, accepted, _ := fake.snapshot()
	times := map[string]int{}
	for _, m := range accepted {
		times[m.To]++
		if m.Body != "Poster: Crag day is on!" || m.Title != "Climbers" {
			t.Errorf("push %+v", m)
		}
	}
	for _, tok := range c.tokens {
		if times[tok] != 1 {
			t.Errorf("%s accepted %d times", tok, times[tok])
		}
	}
	acceptedFirst := map[string]bool{}
	for _, m := range acceptedBefore {
		acceptedFirst[m.To] = true
	}
	sentAgain := map[string]bool{}
	for _, req := range sends[2:] {
		for _, m := range req {
			if acceptedFirst[m.To] {
				t.Errorf("%s was accepted before the kill and sent again", m.To)
			}
			sentAgain[m.To] = true
		}
	}
	for _, m := range inFlight {
		if !sentAgain[m.To] {
			t.Errorf("%s, unanswered at the kill, was not sent again", m.To)
		}
	}
	t.Logf("requests: %d before the kill (the second unanswered), %d after the restart", 2, len(sends)-2)

	root := signIn(t, second.URL, "_superusers", rootEmail, rootPassword)
	if n := countPushes(t, second.URL, root, `state = "accepted"`); n != members {
		t.Errorf("the pushes view shows %d accepted pushes, want %d", n, members)
	}
}

// Reminders across restarts of the real server, one killed: the event's
// going member is reminded once.
func TestRemindersAcrossRestarts(t *testing.T) {
	t.Parallel()
	bin := hearthBinary(t)
	dir := t.TempDir()
	c := seedCrew(t, bin, dir, 2)
	going, goingPhone := c.users[c.tokens[0]], c.tokens[0]
	{
		app := core.NewBaseApp(core.BaseAppConfig{DataDir: dir})
		if err := app.Bootstrap(); err != nil {
			t.Fatal(err)
		}
		crews.Register(app, crews.Config{})
		ev := hearthtest.Save(t, app, collections.Events, "", map[string]any{"group": c.group, "title": "Bouldering", "starts_at": time.Now().Add(30 * time.Minute), "created_by": c.poster})
		hearthtest.Save(t, app, collections.RSVPs, "", map[string]any{"event": ev.Id, "user": going, "status": collections.StatusGoing})
		app.ResetBootstrapState()
	}
	fake := newFakeExpo(t)
	count := func(token, kind, body string) int {
		n := 0
		for _, m := range fake.acceptedTo(token) {
			if m.Data["type"] == kind && (body == "" || m.Body == body) {
				n++
			}
		}
		return n
	}

	for run := 1; run <= 3; run++ {
		// A window of 1 ms: each run's message goes at once.
		srv := serve(t, bin, dir, fake, "HEARTH_PUSH_WINDOW", "1ms")
		// The worker schedules reminders when it starts, before its first
		// round: once a message posted now has reached the phone, this
		// start's reminder run is over.
		// (A message push can arrive twice: the run killed right after Expo
		// accepted it may not have recorded that yet. Only this run's
		// message is waited for.)
		body := fmt.Sprintf("run %d", run)
		postMessage(t, srv.URL, signIn(t, srv.URL, "users", "poster@crews.test", userPassword), c.group, body)
		waitFor(t, 60*time.Second, body+"'s message", func() bool { return count(goingPhone, "message", "Poster: "+body) > 0 })
		if n := count(goingPhone, "reminder", ""); n != 1 {
			t.Fatalf("run %d: %d reminders", run, n)
		}
		if run == 2 {
			srv.Kill()
		} else {
			srv.Stop()
		}
	}
	if n := count(c.tokens[1], "reminder", ""); n != 0 {
		t.Errorf("a member who is not going got %d reminders", n)
	}
}

// In dev mode without HEARTH_PUSH_URL, pushes are written to the log
// instead of sent: that they were, never to which phone or what they said
// (a push token is a secret, a message can quote an invite code;
// docs/operations.md). The dashboard's pushes view has the rest.
func TestDevModeLogsPushes(t *testing.T) {
	t.Parallel()
	bin := hearthBinary(t)
	dir := t.TempDir()
	c := seedCrew(t, bin, dir, 1)
	addr := hearthbin.FreeAddr(t)
	srv := hearthbin.Serve(t, bin, addr, map[string]string{"HEARTH_HTTP": addr, "HEARTH_DATA_DIR": dir, "HEARTH_DEV": "true"})
	postMessage(t, srv.URL, signIn(t, srv.URL, "users", "poster@crews.test", userPassword), c.group, "Only in the log")
	waitFor(t, 60*time.Second, "the logged push", func() bool {
		return strings.Contains(srv.Output(), "push: logged, not sent")
	})
	out := srv.Output()
	for _, secret := range []string{c.tokens[0], "Only in the log"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log carries %q:\n%s", secret, out)
		}
	}
}
