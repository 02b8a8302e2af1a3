// Package hearthbin builds the real hearth binary and runs it, for tests of
// what only the binary shows: command-line flags against HEARTH_* variables,
// PocketBase's own commands, seed and version, process output.
//
// Build once per test binary, in TestMain:
//
//	var bin string
//
//	func TestMain(m *testing.M) { hearthbin.Main(m, &bin) }
//
//	func TestSomething(t *testing.T) {
//		res := hearthbin.Run(t, bin, nil, "seed", "--dir", t.TempDir())
//		addr := hearthbin.FreeAddr(t)
//		srv := hearthbin.Serve(t, bin, addr, map[string]string{"HEARTH_HTTP": addr, "HEARTH_DATA_DIR": t.TempDir()})
//		...
//	}
package hearthbin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Module is the import path of the hearth main package.
const Module = "github.com/crews/hearth"

// Build compiles the hearth binary into dir and returns its path. Extra
// arguments go to `go build` (e.g. "-ldflags", "-X ..."). The go command of
// the running toolchain is used, so the binary matches the tests.
func Build(dir string, args ...string) (string, error) {
	bin := filepath.Join(dir, "hearth")
	cmdArgs := append([]string{"build", "-o", bin}, args...)
	cmd := exec.Command("go", append(cmdArgs, Module)...)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN="+runtime.Version())
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", Module, err, out)
	}
	return bin, nil
}

// Main is a whole TestMain: it builds the binary into a temporary dir (with
// buildArgs passed to go build), stores its path in *bin, runs the tests,
// removes the dir and exits.
func Main(m *testing.M, bin *string, buildArgs ...string) {
	dir, err := os.MkdirTemp("", "hearth_bin_")
	if err != nil {
		log.Fatal(err)
	}
	if *bin, err = Build(dir, buildArgs...); err != nil {
		os.RemoveAll(dir)
		log.Fatal(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Result is what a finished hearth command left behind.
type Result struct {
	Output   string // stdout and stderr, interleaved
	ExitCode int
}

// Run runs bin with args to completion in a fresh working directory (so a
// command that falls back to ./pb_data never touches the repository), with
// env added to a minimal environment that holds no HEARTH_* variables.
func Run(t testing.TB, bin string, env map[string]string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = environ(env)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return Result{Output: string(out)}
	case errors.As(err, &exit):
		return Result{Output: string(out), ExitCode: exit.ExitCode()}
	default:
		t.Fatalf("hearthbin: run %s %v: %v\n%s", bin, args, err, out)
		return Result{}
	}
}

// Server is a running `hearth serve`.
type Server struct {
	URL    string // http://addr
	cmd    *exec.Cmd
	out    *syncBuffer
	exited chan struct{}
}

// Output returns everything the process has printed so far.
func (s *Server) Output() string { return s.out.String() }

// Stop interrupts the server, as Ctrl-C would, and waits for it to exit
// (killing it after 30s).
func (s *Server) Stop() {
	select {
	case <-s.exited:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// Kill ends the server with SIGKILL, as a crash or the kernel's OOM killer
// would: no shutdown hook runs.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Serve starts `bin serve args...` with env (see Run) and returns once
// http://addr/api/health answers 200: addr is where the test expects the
// server, and the test fails if it never answers there. The server is
// stopped when t ends.
func Serve(t testing.TB, bin, addr string, env map[string]string, args ...string) *Server {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = environ(env)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("hearthbin: start %s serve: %v", bin, err)
	}
	srv := &Server{URL: "http://" + addr, cmd: cmd, out: out, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(srv.exited) }()
	t.Cleanup(srv.Stop)

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-srv.exited:
			t.Fatalf("hearthbin: serve exited before answering on %s:\n%s", addr, out)
		default:
		}
		if res, err := client.Get(srv.URL + "/api/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return srv
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("hearthbin: serve did not answer on %s within 60s:\n%s", addr, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FreeAddr returns a loopback host:port that nothing listens on.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("hearthbin: free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

func environ(extra map[string]string) []string {
	env := []string{}
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); name == "PATH" || name == "HOME" || name == "TMPDIR" {
			env = append(env, kv)
		}
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the test's reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
