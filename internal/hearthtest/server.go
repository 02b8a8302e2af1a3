package hearthtest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/crews/hearth/collections"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

// Handler returns app's real router, with the routes its OnServe hooks add,
// as `hearth serve` builds it.
func Handler(t testing.TB, app core.App) http.Handler {
	t.Helper()
	router, err := apis.NewRouter(app)
	if err != nil {
		t.Fatalf("hearthtest: router: %v", err)
	}
	var mux http.Handler
	err = app.OnServe().Trigger(&core.ServeEvent{App: app, Router: router}, func(e *core.ServeEvent) error {
		m, err := e.Router.BuildMux()
		mux = m
		return err
	})
	if err != nil {
		t.Fatalf("hearthtest: serve hooks: %v", err)
	}
	return mux
}

// Serve runs Handler(app) on a loopback test server closed when t ends, for
// tests that send real parallel HTTP requests.
func Serve(t testing.TB, app core.App) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(Handler(t, app))
	t.Cleanup(srv.Close)
	return srv
}

// MembershipID returns the id of user's membership of group.
func MembershipID(t testing.TB, app core.App, group, user string) string {
	t.Helper()
	m, err := collections.FindMembership(app, group, user)
	if err != nil {
		t.Fatalf("hearthtest: %v", err)
	}
	return m.Id
}
