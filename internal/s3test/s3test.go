// Package s3test runs a real S3 server for tests: versitygw, pinned below,
// serving a temporary folder (each bucket a subfolder) on a free loopback
// port. Its binary is built from its Go module through the module proxy,
// once per test binary, as scripts/docker-test.sh installs it for the
// deploy test.
//
// Usage:
//
//	func TestMain(m *testing.M) {
//		dir, _ := os.MkdirTemp("", "example_")
//		err := s3test.Build(dir)
//		...
//	}
//
//	func TestSomething(t *testing.T) {
//		srv := s3test.Start(t, "replica")
//		// srv.Endpoint, srv.Region, srv.AccessKey, srv.Secret; bucket "replica"
//		srv.Kill(); srv.Restart() // down, back
//		srv.Pause(); srv.Resume() // hung (SIGSTOP), back
//		srv.Refuse(); srv.Restart() // refusing the clients' credentials, back
//	}
package s3test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// Module is versitygw's command, at the version the deploy test uses.
const Module = "github.com/versity/versitygw/cmd/versitygw@v1.2.0"

// bin is the versitygw binary built by Build.
var bin string

// Build installs versitygw into dir, for Start. The go command of the
// running toolchain builds it; its build cache makes later builds quick.
func Build(dir string) error {
	cmd := exec.Command("go", "install", "-trimpath", Module)
	cmd.Dir = dir // outside any module: go install pkg@version ignores it anyway
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOTOOLCHAIN="+runtime.Version())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("s3test: go install %s: %w\n%s", Module, err, out)
	}
	bin = filepath.Join(dir, "versitygw")
	return nil
}

// Server is a running versitygw.
type Server struct {
	Endpoint          string // http://127.0.0.1:port
	Region            string
	AccessKey, Secret string
	// Dir is the served folder: object KEY of bucket B is the file Dir/B/KEY.
	Dir string

	t    testing.TB
	addr string
	log  string
	cmd  *exec.Cmd
}

// Start runs versitygw with the buckets, stopped when t ends.
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	if bin == "" {
		t.Fatal("s3test: call s3test.Build from TestMain")
	}
	srv := &Server{Region: "us-east-1", AccessKey: "hearth-test", Secret: "hearth-test-secret", Dir: t.TempDir(), t: t}
	for _, b := range buckets {
		if err := os.Mkdir(filepath.Join(srv.Dir, b), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.addr = l.Addr().String()
	l.Close()
	srv.Endpoint = "http://" + srv.addr
	srv.log = filepath.Join(t.TempDir(), "versitygw.log")
	t.Cleanup(srv.Kill)
	srv.run(srv.AccessKey, srv.Secret)
	return srv
}

// run starts versitygw on the server's address and folder, accepting the
// credentials given, and waits until it answers.
func (s *Server) run(access, secret string) {
	s.t.Helper()
	out, err := os.OpenFile(s.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		s.t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(bin, "--access", access, "--secret", secret, "--region", s.Region,
		"--port", s.addr, "posix", s.Dir)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("s3test: start versitygw: %v", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(s.Endpoint + "/")
		if err == nil {
			res.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(s.log)
			s.t.Fatalf("s3test: versitygw not answering on %s: %v\n%s", s.addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill stops the server (SIGKILL): connections are refused until Restart.
func (s *Server) Kill() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGCONT) // a paused server dies too
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Restart starts the server again on the same address and folder, with
// the credentials clients were given.
func (s *Server) Restart() {
	s.t.Helper()
	s.Kill()
	s.run(s.AccessKey, s.Secret)
}

// Refuse restarts the server with other credentials: every request of a
// client with the old ones is refused (403) until Restart.
func (s *Server) Refuse() {
	s.t.Helper()
	s.Kill()
	s.run(s.AccessKey+"-other", s.Secret+"-other")
}

// Pause stops the server's process (SIGSTOP): connections are accepted by
// the kernel and never answered, a hung S3, until Resume.
func (s *Server) Pause() {
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		s.t.Fatalf("s3test: SIGSTOP: %v", err)
	}
}

// Resume continues a paused server (SIGCONT).
func (s *Server) Resume() {
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		s.t.Fatalf("s3test: SIGCONT: %v", err)
	}
}

// Env is the Hearth environment that points HEARTH_S3_* at the server.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"HEARTH_S3_ENDPOINT":         s.Endpoint,
		"HEARTH_S3_REGION":           s.Region,
		"HEARTH_S3_ACCESS_KEY":       s.AccessKey,
		"HEARTH_S3_SECRET":           s.Secret,
		"HEARTH_S3_FORCE_PATH_STYLE": "true",
	}
}

// String names the server in failure messages.
func (s *Server) String() string { return fmt.Sprintf("versitygw at %s serving %s", s.Endpoint, s.Dir) }
