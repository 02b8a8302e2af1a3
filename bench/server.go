package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// server is one server process under test.
type server struct {
	name    string // "hearth" or "plain"
	bin     string
	dir     string
	url     string
	cmd     *exec.Cmd
	started time.Duration // from spawn to a healthy /api/health
}

// startServer copies the seeded template to a fresh data dir and runs the
// binary on a free loopback port.
func startServer(name, bin, template, work string) (*server, error) {
	dir := filepath.Join(work, name)
	os.RemoveAll(dir)
	if out, err := exec.Command("cp", "-a", template, dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("copy data for %s: %v: %s", name, err, out)
	}
	os.Remove(filepath.Join(work, name+".log")) // launch appends: one log per run
	s := &server{name: name, bin: bin, dir: dir}
	if err := s.launch(work); err != nil {
		return nil, err
	}
	return s, nil
}

// restart stops the server and runs it again on its data dir: a fresh
// process, holding none of the memory an earlier run's clients made it
// take (the Go runtime returns freed memory to the system only minutes
// later, so RSS growth measured on a server that had clients before
// understates what new ones cost).
func (s *server) restart(work string) error {
	s.stop()
	return s.launch(work)
}

// launch runs the binary on s's data dir on a free loopback port and waits
// until it is healthy.
func (s *server) launch(work string) error {
	name, bin, dir := s.name, s.bin, s.dir
	port, err := freePort()
	if err != nil {
		return err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	s.url = "http://" + addr
	if name == "hearth" {
		s.cmd = exec.Command(bin, "serve")
		s.cmd.Env = append(os.Environ(),
			"HEARTH_HTTP="+addr, "HEARTH_DATA_DIR="+dir, "HEARTH_RATE_LIMITS=false",
			"HEARTH_HOOKS_DIR="+filepath.Join(work, "no-hooks"))
	} else {
		s.cmd = exec.Command(bin, "serve", "--http", addr, "--dir", dir)
	}
	logFile, err := os.OpenFile(filepath.Join(work, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child has its own descriptor
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	begin := time.Now()
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	for {
		if resp, err := http.Get(s.url + "/api/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(begin) > 60*time.Second {
			s.stop()
			return fmt.Errorf("%s did not become healthy (see %s.log)", name, name)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.started = time.Since(begin)
	return nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

func (s *server) stop() {
	if s.cmd.Process != nil {
		s.cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill()
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// rssKB returns the resident set of process pid in KB.
func rssKB(pid int) int {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(line)[1])
			return n
		}
	}
	return 0
}

// cpuSeconds returns the user+system CPU time process pid has used.
func cpuSeconds(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	rest := string(raw)[strings.LastIndex(string(raw), ")")+2:]
	f := strings.Fields(rest)
	utime, _ := strconv.ParseFloat(f[11], 64)
	stime, _ := strconv.ParseFloat(f[12], 64)
	return (utime + stime) / 100 // USER_HZ
}
