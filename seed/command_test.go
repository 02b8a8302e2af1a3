package seed_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/internal/hearthbin"
	"github.com/crews/hearth/seed"
	"github.com/pocketbase/pocketbase/core"
)

var bin string

func TestMain(m *testing.M) { hearthbin.Main(m, &bin) }

// openDir opens a data dir the binary wrote, to count what is in it.
func openDir(t *testing.T, dir string) core.App {
	t.Helper()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dir})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.ResetBootstrapState() })
	return app
}

var loginLine = regexp.MustCompile(`(?m)^\s+(\S+@` + regexp.QuoteMeta(seed.DemoDomain) + `)\s+.*password: (\S+)$`)

func TestSeedCommandTwiceOnFreshDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data") // does not exist yet

	first := hearthbin.Run(t, bin, nil, "seed", "--dir", dir)
	if first.ExitCode != 0 {
		t.Fatalf("first seed: exit %d\n%s", first.ExitCode, first.Output)
	}
	logins := loginLine.FindAllStringSubmatch(first.Output, -1)
	if len(logins) != 3 {
		t.Fatalf("first seed printed %d logins, want 3:\n%s", len(logins), first.Output)
	}
	if !strings.Contains(first.Output, "26 records created") {
		t.Errorf("first seed output does not report 26 records created:\n%s", first.Output)
	}

	second := hearthbin.Run(t, bin, nil, "seed", "--dir", dir)
	if second.ExitCode != 0 {
		t.Fatalf("second seed: exit %d\n%s", second.ExitCode, second.Output)
	}
	if !strings.Contains(second.Output, "nothing created") || strings.Count(second.Output, "(unchanged;") != 3 {
		t.Errorf("second seed output does not say nothing was created and passwords are unchanged:\n%s", second.Output)
	}
	for _, l := range logins {
		if strings.Contains(second.Output, l[2]) {
			t.Errorf("second seed printed %s's first password again", l[1])
		}
	}
	app := openDir(t, dir)
	sameCounts(t, counts(t, app), demoCounts)
	app.ResetBootstrapState()

	// The printed passwords sign in through the API of the seeded dir.
	addr := hearthbin.FreeAddr(t)
	// Three sign-ins in a row exceed the default auth rate limit (2 per 3 s).
	srv := hearthbin.Serve(t, bin, addr, map[string]string{"HEARTH_HTTP": addr, "HEARTH_DATA_DIR": dir, "HEARTH_RATE_LIMITS": "false"})
	for _, l := range logins {
		body := strings.NewReader(`{"identity":"` + l[1] + `","password":"` + l[2] + `"}`)
		res, err := http.Post(srv.URL+"/api/collections/users/auth-with-password", "application/json", body)
		if err != nil {
			t.Fatal(err)
		}
		var auth struct{ Token string }
		err = json.NewDecoder(res.Body).Decode(&auth)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK || auth.Token == "" {
			t.Errorf("sign in as %s with the printed password: status %d, %v", l[1], res.StatusCode, err)
		}
	}
}

func TestSeedCommandRefusesOtherUsersUnlessForced(t *testing.T) {
	dir := t.TempDir()
	app := openDir(t, dir)
	if err := app.RunAllMigrations(); err != nil {
		t.Fatal(err)
	}
	users, err := app.FindCollectionByNameOrId(collections.Users)
	if err != nil {
		t.Fatal(err)
	}
	real := core.NewRecord(users)
	real.SetEmail("someone@example.com")
	real.SetPassword("a-real-password-1")
	real.Set("name", "Someone")
	if err := app.Save(real); err != nil {
		t.Fatal(err)
	}
	app.ResetBootstrapState()

	refused := hearthbin.Run(t, bin, nil, "seed", "--dir", dir)
	if refused.ExitCode == 0 {
		t.Fatalf("seed beside a real user exited 0:\n%s", refused.Output)
	}
	for _, part := range []string{"refusing to seed", "1 user whose", "--force"} {
		if !strings.Contains(refused.Output, part) {
			t.Errorf("refusal does not mention %q:\n%s", part, refused.Output)
		}
	}
	app = openDir(t, dir)
	if n, _ := app.CountRecords(collections.Users); n != 1 {
		t.Fatalf("after the refusal there are %d users, want 1", n)
	}
	app.ResetBootstrapState()

	forced := hearthbin.Run(t, bin, nil, "seed", "--dir", dir, "--force")
	if forced.ExitCode != 0 {
		t.Fatalf("seed --force: exit %d\n%s", forced.ExitCode, forced.Output)
	}
	if !strings.Contains(forced.Output, "users in the database that are not demo users: 1.") {
		t.Errorf("seed --force does not note the other users:\n%s", forced.Output)
	}
	app = openDir(t, dir)
	want := map[string]int{}
	for name, n := range demoCounts {
		want[name] = n
	}
	want[collections.Users]++
	sameCounts(t, counts(t, app), want)
}
