package healthcheck_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/crews/hearth/healthcheck"
	"github.com/crews/hearth/internal/hearthtest"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
)

func TestURL(t *testing.T) {
	cases := map[string]string{
		"127.0.0.1:8090": "http://127.0.0.1:8090/api/health",
		"0.0.0.0:8090":   "http://127.0.0.1:8090/api/health",
		"[::]:9000":      "http://127.0.0.1:9000/api/health",
		":8090":          "http://127.0.0.1:8090/api/health",
		"hearth:80":      "http://hearth:80/api/health",
		"[::1]:8090":     "http://[::1]:8090/api/health",
	}
	for addr, want := range cases {
		got, err := healthcheck.URL(addr)
		if err != nil || got != want {
			t.Errorf("URL(%q) = %q, %v; want %q", addr, got, err, want)
		}
	}
	if _, err := healthcheck.URL("8090"); err == nil {
		t.Error("URL(\"8090\") accepted an address without a port separator")
	}
}

func TestInvoked(t *testing.T) {
	if !healthcheck.Invoked([]string{"/hearth", "healthcheck"}) {
		t.Error("healthcheck not recognised")
	}
	for _, args := range [][]string{{"/hearth"}, {"/hearth", "serve"}, {"/hearth", "serve", "healthcheck"}} {
		if healthcheck.Invoked(args) {
			t.Errorf("Invoked(%q) = true", args)
		}
	}
}

// TestRunAgainstHearth probes the real PocketBase router of a Hearth app.
func TestRunAgainstHearth(t *testing.T) {
	app := hearthtest.NewApp(t)
	r, err := apis.NewRouter(app)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.OnServe().Trigger(&core.ServeEvent{App: app, Router: r}, func(e *core.ServeEvent) error { return e.Next() }); err != nil {
		t.Fatal(err)
	}
	mux, err := r.BuildMux()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var stderr bytes.Buffer
	if code := healthcheck.Run(srv.Listener.Addr().String(), &stderr); code != 0 {
		t.Fatalf("Run against a live server = %d, stderr %q", code, stderr.String())
	}
}

func TestRunFailures(t *testing.T) {
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer failing.Close()

	// A port nothing listens on: bind one, then close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()

	for name, tc := range map[string]struct{ addr, want string }{
		"503":        {failing.Listener.Addr().String(), "status 503"},
		"refused":    {closed, "connection refused"},
		"no address": {"nonsense", "listen address"},
	} {
		var stderr bytes.Buffer
		if code := healthcheck.Run(tc.addr, &stderr); code != 1 {
			t.Errorf("%s: Run = %d, want 1", name, code)
		}
		if !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%s: stderr %q does not mention %q", name, stderr.String(), tc.want)
		}
	}
}

func TestCheckHonoursContext(t *testing.T) {
	block := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { <-block }))
	defer slow.Close()
	defer close(block)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := healthcheck.Check(ctx, slow.Listener.Addr().String()); err == nil {
		t.Fatal("Check with a cancelled context succeeded")
	}
}
