// Package hearthtest builds PocketBase test apps with the Crews schema, hooks
// and a small fixture world, for tests of every Hearth package.
//
// The world is built once per test binary in a template data dir; each
// NewApp clones that dir, so a test starts from the same known state in
// milliseconds and may change it freely.
//
// Usage:
//
//	func TestSomething(t *testing.T) {
//		app := hearthtest.NewApp(t)
//		token := hearthtest.Token(t, app, hearthtest.Alice)
//		...
//	}
//
//	scenario := tests.ApiScenario{
//		TestAppFactory: hearthtest.Factory,
//		Headers: map[string]string{"Authorization": hearthtest.Token(t, nil, hearthtest.Bob)},
//		...
//	}
package hearthtest

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/crews/hearth/config"
	"github.com/crews/hearth/crews"
	_ "github.com/crews/hearth/pb_migrations"
	"github.com/crews/hearth/push"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
)

var (
	templateOnce sync.Once
	templateDir  string
	templateErr  error
)

// NewApp returns a test app cloned from the fixture world, with every
// Crews hook, the sync change log and push registered (pushes are logged,
// not sent); it is cleaned up when t ends.
func NewApp(t testing.TB) *tests.TestApp {
	t.Helper()
	return NewAppWith(t, crews.Register)
}

// NewAppWith is NewApp with register in place of crews.Register, called
// with the app's clock in its config: for tests of a configuration (push
// to a local server: set cfg.Push and call crews.Register) and benchmarks
// against a part of the domain.
func NewAppWith(t testing.TB, register func(core.App, crews.Config)) *tests.TestApp {
	t.Helper()
	app := newApp(t, register)
	t.Cleanup(app.Cleanup)
	return app
}

// Factory is NewApp in the form tests.ApiScenario.TestAppFactory wants
// (the scenario cleans the app up itself).
func Factory(t testing.TB) *tests.TestApp {
	t.Helper()
	return newApp(t, crews.Register)
}

func newApp(t testing.TB, register func(core.App, crews.Config)) *tests.TestApp {
	templateOnce.Do(buildTemplate)
	if templateErr != nil {
		t.Fatalf("hearthtest: fixture world: %v", templateErr)
	}
	app, err := newTestApp(templateDir)
	if err != nil {
		t.Fatalf("hearthtest: new test app: %v", err)
	}
	clock := &clock{}
	app.Store().Set(clockKey, clock)
	register(app, crews.Config{Now: clock.now})
	return app
}

// newTestApp is tests.NewTestApp (a clone of dir) with the databases opened
// as the binary opens them (config.DBConnect: the page cache, the statement
// cache of internal/sqlitecache), so that the domain's tests run on them.
func newTestApp(dir string) (*tests.TestApp, error) {
	return tests.NewTestAppWithConfig(core.BaseAppConfig{DataDir: dir, EncryptionEnv: "pb_test_env", DBConnect: config.DBConnect})
}

func buildTemplate() {
	dir, err := os.MkdirTemp("", "hearthtest_template_")
	if err != nil {
		templateErr = err
		return
	}
	// tests.NewTestApp clones its argument, so the world is built in a clone
	// and that clone's data dir becomes the template.
	app, err := newTestApp(dir)
	if err != nil {
		templateErr = err
		return
	}
	crews.Register(app, crews.Config{})
	if err := buildWorld(app); err != nil {
		templateErr = err
		return
	}
	// The world's messages and events asked for pushes: expand them now
	// (nobody has a phone for them), so every test starts with an empty
	// outbox.
	if err := push.Flush(context.Background(), app); err != nil {
		templateErr = err
		return
	}
	// Checkpoint the WAL so that copying the directory copies every write.
	if _, err := app.DB().NewQuery("PRAGMA wal_checkpoint(TRUNCATE)").Execute(); err != nil {
		templateErr = err
		return
	}
	templateDir = filepath.Clean(app.DataDir())
	if err := app.ClearBootstrap(); err != nil {
		templateErr = err
	}
}

// Token returns an "Authorization" header value for the fixture user id,
// signed with app's secrets. Tokens do not depend on the clone, so app may
// be nil: a fresh clone of the template is used to sign.
func Token(t testing.TB, app core.App, userID string) string {
	t.Helper()
	return authToken(t, app, "user "+userID, func(app core.App) (*core.Record, error) {
		return app.FindRecordById(collections.Users, userID)
	})
}

// SuperuserToken returns an "Authorization" header value for the fixture
// superuser; app may be nil as for Token.
func SuperuserToken(t testing.TB, app core.App) string {
	t.Helper()
	return authToken(t, app, "superuser", func(app core.App) (*core.Record, error) {
		return app.FindAuthRecordByEmail(core.CollectionNameSuperusers, SuperuserEmail)
	})
}

func authToken(t testing.TB, app core.App, who string, find func(core.App) (*core.Record, error)) string {
	t.Helper()
	if app == nil {
		app = NewApp(t)
	}
	record, err := find(app)
	if err != nil {
		t.Fatalf("hearthtest: token for %s: %v", who, err)
	}
	token, err := record.NewAuthToken()
	if err != nil {
		t.Fatalf("hearthtest: token for %s: %v", who, err)
	}
	return token
}

// Save creates the record id of collection with data, or updates it when
// it exists, through app.Save, so every hook runs as for the dashboard or
// Go code; the test fails on an error.
func Save(t testing.TB, app core.App, collection, id string, data map[string]any) *core.Record {
	t.Helper()
	r, err := save(app, collection, id, data)
	if err != nil {
		t.Fatalf("hearthtest: %v", err)
	}
	return r
}
