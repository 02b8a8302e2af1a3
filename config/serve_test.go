package config_test

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crews/hearth/internal/hearthbin"
)

// These tests run the real binary: which of a flag and a HEARTH_* variable
// wins is decided by the command line, and only the process output shows
// whether a password leaks.

var bin string

func TestMain(m *testing.M) { hearthbin.Main(m, &bin) }

func hasDatabase(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "data.db"))
	return err == nil
}

func listening(addr string) bool {
	c, err := net.Dial("tcp", addr)
	if err == nil {
		c.Close()
	}
	return err == nil
}

func TestServeUsesEnvironment(t *testing.T) {
	addr, dir := hearthbin.FreeAddr(t), t.TempDir()
	srv := hearthbin.Serve(t, bin, addr, map[string]string{"HEARTH_HTTP": addr, "HEARTH_DATA_DIR": dir})
	if !hasDatabase(dir) {
		t.Fatalf("no data.db in HEARTH_DATA_DIR %s", dir)
	}
	if !strings.Contains(srv.Output(), "Server started at http://"+addr) {
		t.Errorf("output does not report %s:\n%s", addr, srv.Output())
	}
	res, err := http.Get(srv.URL + "/_/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("dashboard /_/: status %d", res.StatusCode)
	}
}

func TestHTTPFlagWinsOverEnvironment(t *testing.T) {
	envAddr, flagAddr := hearthbin.FreeAddr(t), hearthbin.FreeAddr(t)
	hearthbin.Serve(t, bin, flagAddr, map[string]string{"HEARTH_HTTP": envAddr, "HEARTH_DATA_DIR": t.TempDir()}, "--http", flagAddr)
	if listening(envAddr) {
		t.Fatalf("the server also listens on HEARTH_HTTP %s", envAddr)
	}
}

func TestDirFlagWinsOverEnvironment(t *testing.T) {
	addr := hearthbin.FreeAddr(t)
	envDir, flagDir := filepath.Join(t.TempDir(), "env"), filepath.Join(t.TempDir(), "flag")
	hearthbin.Serve(t, bin, addr, map[string]string{"HEARTH_HTTP": addr, "HEARTH_DATA_DIR": envDir}, "--dir", flagDir)
	if !hasDatabase(flagDir) {
		t.Errorf("no data.db in --dir %s", flagDir)
	}
	if _, err := os.Stat(envDir); !os.IsNotExist(err) {
		t.Errorf("HEARTH_DATA_DIR %s was touched (stat: %v)", envDir, err)
	}
}

// Dev mode prints every SQL statement; that is how the output tells it apart.
func TestDevFromEnvironmentAndFlag(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   string
		args  []string
		isDev bool
	}{
		{"default", "", nil, false},
		{"HEARTH_DEV=true", "true", nil, true},
		{"--dev=false wins over HEARTH_DEV=true", "true", []string{"--dev=false"}, false},
		{"--dev wins over HEARTH_DEV=false", "false", []string{"--dev"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := hearthbin.FreeAddr(t)
			env := map[string]string{"HEARTH_HTTP": addr, "HEARTH_DATA_DIR": t.TempDir()}
			if tc.env != "" {
				env["HEARTH_DEV"] = tc.env
			}
			srv := hearthbin.Serve(t, bin, addr, env, tc.args...)
			srv.Stop()
			if got := strings.Contains(srv.Output(), "CREATE TABLE"); got != tc.isDev {
				t.Fatalf("SQL printed = %v, want %v:\n%.2000s", got, tc.isDev, srv.Output())
			}
		})
	}
}

func TestHooksDirFromEnvironment(t *testing.T) {
	hooks := t.TempDir()
	hook := `routerAdd("GET", "/api/hearth-config-test", (e) => e.json(200, { hook: "loaded" }))` + "\n"
	if err := os.WriteFile(filepath.Join(hooks, "test.pb.js"), []byte(hook), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := hearthbin.FreeAddr(t)
	srv := hearthbin.Serve(t, bin, addr, map[string]string{"HEARTH_HTTP": addr, "HEARTH_DATA_DIR": t.TempDir(), "HEARTH_HOOKS_DIR": hooks})
	res, err := http.Get(srv.URL + "/api/hearth-config-test")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("hook route from HEARTH_HOOKS_DIR: status %d", res.StatusCode)
	}
}

// Bad values stop every command before it touches the data dir, with a
// message naming the variable.
func TestBadEnvironmentFailsFast(t *testing.T) {
	for _, tc := range envCases {
		if len(tc.errs) == 0 {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			env := map[string]string{"HEARTH_DATA_DIR": dir}
			for k, v := range tc.env {
				env[k] = v
			}
			res := hearthbin.Run(t, bin, env, "serve")
			if res.ExitCode == 0 {
				t.Fatalf("serve exited 0 with %v:\n%s", tc.env, res.Output)
			}
			for _, name := range tc.errs {
				if !strings.Contains(res.Output, name+":") {
					t.Errorf("output does not name %s:\n%s", name, res.Output)
				}
			}
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("the data dir was created before the configuration was checked")
			}
		})
	}
}
