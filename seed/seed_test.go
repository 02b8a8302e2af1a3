package seed_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/crews"
	"github.com/crews/hearth/internal/hearthtest"
	_ "github.com/crews/hearth/pb_migrations"
	"github.com/crews/hearth/seed"
	"github.com/pocketbase/pocketbase/core"
)

// newFreshApp opens an empty data dir, as `hearth seed --dir NEW` does:
// no migrations applied yet, every Crews hook registered.
func newFreshApp(t *testing.T) core.App {
	t.Helper()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: t.TempDir()})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.ResetBootstrapState() })
	crews.Register(app, crews.Config{})
	return app
}

var demoCounts = map[string]int{
	collections.Users:       3,
	collections.Groups:      2,
	collections.Memberships: 5, // 2 owners (made by the groups hook) + 3
	collections.Events:      3,
	collections.RSVPs:       7,
	collections.Messages:    5,
	collections.Invites:     1,
}

func counts(t *testing.T, app core.App) map[string]int {
	t.Helper()
	got := map[string]int{}
	for name := range demoCounts {
		n, err := app.CountRecords(name)
		if err != nil {
			t.Fatal(err)
		}
		got[name] = int(n)
	}
	return got
}

func sameCounts(t *testing.T, got, want map[string]int) {
	t.Helper()
	for name, n := range want {
		if got[name] != n {
			t.Errorf("%s: %d records, want %d", name, got[name], n)
		}
	}
}

func TestSeedFreshDataDirIsIdempotent(t *testing.T) {
	app := newFreshApp(t)

	first, err := seed.Run(app, seed.Options{})
	if err != nil {
		t.Fatalf("first run: %v", err)
	}
	sameCounts(t, counts(t, app), demoCounts)
	total := 0
	for _, n := range demoCounts {
		total += n
	}
	if first.Created != total {
		t.Errorf("first run reports %d created, want %d", first.Created, total)
	}
	if len(first.Users) != 3 {
		t.Fatalf("first run reports %d users, want 3", len(first.Users))
	}
	passwords := map[string]string{}
	for _, u := range first.Users {
		if !strings.HasSuffix(u.Email, "@"+seed.DemoDomain) {
			t.Errorf("demo user %s is outside %s", u.Email, seed.DemoDomain)
		}
		if len(u.Password) < 16 {
			t.Errorf("%s: printed password %q is shorter than 16", u.Email, u.Password)
		}
		if !validPassword(t, app, u.Email, u.Password) {
			t.Errorf("%s: the printed password does not sign in", u.Email)
		}
		passwords[u.Email] = u.Password
	}
	if len(passwords) != 3 || first.Users[0].Password == first.Users[1].Password {
		t.Errorf("passwords are not distinct per user: %v", first.Users)
	}
	if len(first.InviteCode) != 12 {
		t.Errorf("invite code %q, want 12 characters", first.InviteCode)
	}

	second, err := seed.Run(app, seed.Options{})
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	if second.Created != 0 {
		t.Errorf("second run created %d records", second.Created)
	}
	sameCounts(t, counts(t, app), demoCounts)
	for _, u := range second.Users {
		if u.Password != "" {
			t.Errorf("second run printed a password for %s", u.Email)
		}
		if !validPassword(t, app, u.Email, passwords[u.Email]) {
			t.Errorf("second run changed the password of %s", u.Email)
		}
	}
	if second.InviteCode != first.InviteCode {
		t.Errorf("invite code changed from %s to %s", first.InviteCode, second.InviteCode)
	}
}

func TestSeedResetPasswords(t *testing.T) {
	app := newFreshApp(t)
	first, err := seed.Run(app, seed.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reset, err := seed.Run(app, seed.Options{ResetPasswords: true})
	if err != nil {
		t.Fatal(err)
	}
	if reset.Created != 0 {
		t.Errorf("reset created %d records", reset.Created)
	}
	for i, u := range reset.Users {
		if u.Password == "" || u.Password == first.Users[i].Password {
			t.Fatalf("%s: reset printed %q after %q", u.Email, u.Password, first.Users[i].Password)
		}
		if !validPassword(t, app, u.Email, u.Password) {
			t.Errorf("%s: the new password does not sign in", u.Email)
		}
		if validPassword(t, app, u.Email, first.Users[i].Password) {
			t.Errorf("%s: the old password still signs in", u.Email)
		}
	}
}

// The groups hook makes each creator the owner, and the roles are the
// documented ones: Ada owns Climbers (Ben admin, Cleo member), Cleo owns
// Board Game Night (Ada member).
func TestSeedMemberships(t *testing.T) {
	app := newFreshApp(t)
	if _, err := seed.Run(app, seed.Options{}); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"Sunday Climbers":  {"ada": collections.RoleOwner, "ben": collections.RoleAdmin, "cleo": collections.RoleMember},
		"Board Game Night": {"cleo": collections.RoleOwner, "ada": collections.RoleMember},
	}
	for groupName, roles := range want {
		group, err := app.FindFirstRecordByData(collections.Groups, "name", groupName)
		if err != nil {
			t.Fatalf("group %s: %v", groupName, err)
		}
		for key, role := range roles {
			user, err := app.FindAuthRecordByEmail(collections.Users, key+"@"+seed.DemoDomain)
			if err != nil {
				t.Fatal(err)
			}
			m, err := collections.FindMembership(app, group.Id, user.Id)
			if err != nil {
				t.Fatalf("%s in %s: %v", key, groupName, err)
			}
			if m.Role() != role {
				t.Errorf("%s in %s: role %s, want %s", key, groupName, m.Role(), role)
			}
		}
		if group.GetString("created_by") == "" {
			t.Errorf("group %s has no created_by", groupName)
		}
	}
}

// The fixture world has five users with @crews.test emails: real users, as
// far as seed can tell.
func TestSeedRefusesDatabaseWithOtherUsers(t *testing.T) {
	app := hearthtest.NewApp(t)
	before := counts(t, app)

	_, err := seed.Run(app, seed.Options{})
	if !errors.Is(err, seed.ErrRealUsers) {
		t.Fatalf("err = %v, want ErrRealUsers", err)
	}
	for _, part := range []string{"5 users whose", "--force", seed.DemoDomain} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not mention %q", err, part)
		}
	}
	sameCounts(t, counts(t, app), before)
}

func TestSeedForceAddsDemoDataBesideOtherUsers(t *testing.T) {
	app := hearthtest.NewApp(t)
	before := counts(t, app)

	report, err := seed.Run(app, seed.Options{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if report.OtherUsers != 5 {
		t.Errorf("OtherUsers = %d, want 5", report.OtherUsers)
	}
	want := map[string]int{}
	for name, n := range demoCounts {
		want[name] = before[name] + n
	}
	sameCounts(t, counts(t, app), want)

	// Forced once, the database still has other users: a second run needs
	// --force again, and then creates nothing.
	if _, err := seed.Run(app, seed.Options{}); !errors.Is(err, seed.ErrRealUsers) {
		t.Fatalf("second run without force: err = %v, want ErrRealUsers", err)
	}
	again, err := seed.Run(app, seed.Options{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if again.Created != 0 {
		t.Errorf("second forced run created %d records", again.Created)
	}
	sameCounts(t, counts(t, app), want)
}

func validPassword(t *testing.T, app core.App, email, password string) bool {
	t.Helper()
	user, err := app.FindAuthRecordByEmail(collections.Users, email)
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return user.ValidatePassword(password)
}
