package replica_test

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crews/hearth/internal/hearthbin"
	"github.com/crews/hearth/internal/s3test"
)

// The fault tests run the real binary at a steady write rate against a real
// S3 server (versitygw) that is broken one way per test, and measure what
// issue 24 asks of each fault: no acknowledged write lost, the WAL and the
// local files under their bounds, an honest lag (across a restart too),
// replication back within seconds of S3's return, and a restore into a
// fresh data dir holding every write acknowledged before the loss window.
// The bounds and the request timeout are set small through the settings
// so that each fault lasts seconds.
//
// Each test prints one "fault:" line with its measurements (go test -v, or
// scripts/replica-faults.sh); docs/operations.md has a run's figures.

const (
	// writeRate is the steady rate of group creations (each: the group, its
	// owner's membership and two change log rows, one transaction).
	writeRate = 20
	// faultFor is how long each fault lasts; maxFault bounds one held
	// until something was seen (faultUntil).
	faultFor = 8 * time.Second
	maxFault = 60 * time.Second
	// walMax and localMax are HEARTH_REPLICA_WAL_MAX and _LOCAL_MAX here.
	walMax   = 1 << 20
	localMax = 1 << 20
	// s3Timeout is HEARTH_REPLICA_TIMEOUT here.
	s3Timeout = 2 * time.Second
	// litestreamWAL is the WAL size past which Litestream checkpoints while
	// it takes the WAL in (its MinCheckpointPageN, 1000 pages of 4 KB).
	litestreamWAL = 1000 * 4096
	// recoverWithin is how soon after S3's return the replica must hold
	// every write again: Hearth's retry wait is capped at 4 s, plus a sync
	// interval and a snapshot's upload.
	recoverWithin = 20 * time.Second
	// lossWindow: a write acknowledged longer than this before the server
	// died is in the replica.
	lossWindow = 3 * time.Second
)

// faultEnv is replicaEnv with the small bounds and text log lines on
// standard output (to read the WARN and ERROR lines).
func faultEnv(t *testing.T, s3 *s3test.Server, dir string) map[string]string {
	env := replicaEnv(s3, hearthbin.FreeAddr(t), dir)
	env["HEARTH_REPLICA_WAL_MAX"] = fmt.Sprint(walMax)
	env["HEARTH_REPLICA_LOCAL_MAX"] = fmt.Sprint(localMax)
	env["HEARTH_REPLICA_TIMEOUT"] = s3Timeout.String()
	env["HEARTH_LOG_FORMAT"] = "text"
	return env
}

func TestFaultS3Killed(t *testing.T) {
	run := startFault(t, "S3 killed")
	// The outage lasts until the local files outgrew their budget (how
	// soon depends on how fast this machine writes), so that the drop and
	// the snapshot after it are what the test sees.
	const dropped = "past HEARTH_REPLICA_LOCAL_MAX while the replica fails"
	run.faultUntil(run.s3.Kill, run.s3.Restart, func() bool { return strings.Contains(run.srv.Output(), dropped) })
	run.finish()
	// The local files outgrew their budget during the outage: dropped, and
	// said so; the replica took a snapshot on S3's return.
	if !strings.Contains(run.srv.Output(), dropped) {
		t.Errorf("no ERROR line about the local files' budget:\n%s", run.srv.Output())
	}
}

func TestFaultS3Hung(t *testing.T) {
	run := startFault(t, "S3 hung (SIGSTOP)")
	run.fault(run.s3.Pause, run.s3.Resume)
	run.finish()
	// Requests were abandoned after HEARTH_REPLICA_TIMEOUT, and said so.
	out := run.srv.Output()
	if !strings.Contains(out, "replication stuck since") || !strings.Contains(out, "no answer from the replica") {
		t.Errorf("no WARN line saying replication is stuck on a hung S3:\n%s", out)
	}
}

func TestFaultS3Refusing(t *testing.T) {
	run := startFault(t, "S3 refusing (wrong credentials)")
	run.fault(run.s3.Refuse, run.s3.Restart)
	run.finish()
	if !strings.Contains(run.srv.Output(), "replication stuck since") {
		t.Errorf("no WARN line saying replication is stuck:\n%s", run.srv.Output())
	}
}

// The fault that used to grow the WAL without bound: Hearth restarted
// while S3 is down, so Litestream cannot start (it asks S3 first).
func TestFaultRestartWhileS3Down(t *testing.T) {
	run := startFault(t, "Hearth restarted while S3 is down")
	run.fault(func() {
		run.s3.Kill()
		time.Sleep(faultFor / 3)
		run.restart()
	}, run.s3.Restart)
	run.finish()
	if run.detachedWAL == 0 {
		t.Fatal("the WAL was never measured while replication was detached; the test proves nothing")
	}
	if run.detachedWAL > walMax+512<<10 {
		t.Errorf("WAL reached %d bytes while replication could not take it in (HEARTH_REPLICA_WAL_MAX %d)", run.detachedWAL, walMax)
	}
}

// A full data dir: writes past the limit are refused with a 503 naming the
// cause, nothing acknowledged is lost, the server stays up and writes
// succeed again once space is freed.
func TestFaultDiskFull(t *testing.T) {
	mnt := t.TempDir()
	// A size-limited filesystem needs root (the machine and CI run as
	// root); without one the test cannot show anything, so it fails.
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount a 48 MB tmpfs for the data dir (needs root): %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", mnt, err, out)
		}
	})
	run := startFaultIn(t, "disk full", mnt)
	// Nothing is committed while the disk is full: the replica lacks
	// nothing, and the lag says so.
	run.nothingCommitted = true
	filler := filepath.Join(mnt, "filler")
	run.fault(func() { fill(t, filler) }, func() {
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
	})
	run.finish()
	if run.acksAfterMend() == 0 {
		t.Error("no write succeeded after space was freed")
	}
	if run.refused == 0 {
		t.Fatal("no write was refused while the disk was full; the test proves nothing")
	}
	if !run.healthSawFull {
		t.Error("GET /api/health never reported the full disk")
	}
	if !run.metricSawFull {
		t.Error("hearth_storage_disk_full never read 1")
	}
}

// fill writes filler until the filesystem refuses more.
func fill(t *testing.T, path string) {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			return
		}
	}
}

// --- the harness -------------------------------------------------------------

type faultRun struct {
	t    *testing.T
	name string
	s3   *s3test.Server
	env  map[string]string
	dir  string
	srv  *hearthbin.Server
	c    *client
	su   string

	mu            sync.Mutex
	acks          []ack
	refused       int // 503 disk_full
	otherFailures int
	killing       bool
	restartedOnce bool // writes failed while the server restarted
	stop          chan struct{}
	wg            sync.WaitGroup

	// high-water marks, and the WAL's while replication was detached
	walHigh, localHigh, dirHigh int64
	detachedWAL                 int64
	detachedAt                  time.Time
	healthSawFull               bool
	metricSawFull               bool

	// nothingCommitted: the fault lets no write commit (a full disk), so
	// the replica lacks nothing during it.
	nothingCommitted bool

	faultStart, mended   time.Time
	lagReported, lagReal time.Duration
	recovered            time.Duration
}

type ack struct {
	at      time.Time
	id      string
	latency time.Duration
}

func startFault(t *testing.T, name string) *faultRun {
	return startFaultIn(t, name, t.TempDir())
}

func startFaultIn(t *testing.T, name, dir string) *faultRun {
	s3 := s3test.Start(t, bucket)
	env := faultEnv(t, s3, dir)
	env["HEARTH_METRICS_ADDR"] = hearthbin.FreeAddr(t)
	r := &faultRun{t: t, name: name, s3: s3, env: env, dir: dir, stop: make(chan struct{})}
	r.srv = serve(t, env)
	r.c = newClient(t, r.srv.URL)
	r.su = r.c.superuserToken(t)
	r.wg.Add(2)
	go r.write()
	go r.sample()
	t.Cleanup(r.end)
	// Replication is level before the fault.
	r.waitLevel(time.Now())
	time.Sleep(2 * time.Second)
	return r
}

func (r *faultRun) end() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	r.wg.Wait()
}

// write creates groups at writeRate, open loop: a write's latency counts
// from when it was due, so a stall shows in the writes behind it.
func (r *faultRun) write() {
	defer r.wg.Done()
	ticker := time.NewTicker(time.Second / writeRate)
	defer ticker.Stop()
	var inflight sync.WaitGroup
	defer inflight.Wait()
	for i := 0; ; i++ {
		var due time.Time
		select {
		case <-r.stop:
			return
		case due = <-ticker.C:
		}
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			var g struct{ ID string }
			err := r.c.request(http.MethodPost, "/api/collections/groups/records", r.c.token, fmt.Sprintf(`{"name":"w%d"}`, i), &g)
			now := time.Now()
			r.mu.Lock()
			defer r.mu.Unlock()
			switch {
			case err == nil:
				r.acks = append(r.acks, ack{now, g.ID, now.Sub(due)})
			case strings.Contains(err.Error(), ": 503 ") && strings.Contains(err.Error(), `"disk_full"`):
				r.refused++
			case r.killing:
				// In flight when finish killed the server.
			default:
				r.otherFailures++
				r.t.Logf("write failed: %v", err)
			}
		}()
	}
}

// sample measures the WAL, the local transaction files and the data dir
// every 100 ms, and the replica's state in the health answer.
func (r *faultRun) sample() {
	defer r.wg.Done()
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-ticker.C:
		}
		wal := fileSize(filepath.Join(r.dir, "data.db-wal"))
		local := treeSize(filepath.Join(r.dir, ".data.db-litestream"), "")
		dir := treeSize(r.dir, filepath.Join(r.dir, "filler"))
		st, _ := r.status()
		r.mu.Lock()
		r.walHigh, r.localHigh, r.dirHigh = max(r.walHigh, wal), max(r.localHigh, local), max(r.dirHigh, dir)
		// The WAL found when replication detaches (at a restart, at a drop
		// of the local files) is bounded within a tick or two.
		switch {
		case !st.Detached:
			r.detachedAt = time.Time{}
		case r.detachedAt.IsZero():
			r.detachedAt = time.Now()
		case time.Since(r.detachedAt) > time.Second:
			r.detachedWAL = max(r.detachedWAL, wal)
		}
		if st.DiskFull {
			r.healthSawFull = true
		}
		r.mu.Unlock()
		if !r.metricSawFull && r.metric("hearth_storage_disk_full") == "1" {
			r.mu.Lock()
			r.metricSawFull = true
			r.mu.Unlock()
		}
	}
}

type replicaStatus struct {
	TXID         float64 `json:"txid"`
	ReplicaTXID  float64 `json:"replicaTxid"`
	LagSeconds   float64 `json:"lagSeconds"`
	FailingSince string  `json:"failingSince"`
	Detached     bool    `json:"detached"`
	DiskFull     bool    `json:"-"`
}

// status reads the replica's state from the superuser health answer.
func (r *faultRun) status() (replicaStatus, error) {
	var h struct {
		Data struct {
			Replica replicaStatus `json:"replica"`
			Disk    struct {
				Full bool `json:"full"`
			} `json:"disk"`
		}
	}
	r.mu.Lock()
	c := r.c
	r.mu.Unlock()
	err := c.request(http.MethodGet, "/api/health", r.su, "", &h)
	h.Data.Replica.DiskFull = h.Data.Disk.Full
	return h.Data.Replica, err
}

// metric reads one unlabelled metric's value from the metrics address.
func (r *faultRun) metric(name string) string {
	res, err := http.Get("http://" + r.env["HEARTH_METRICS_ADDR"] + "/metrics")
	if err != nil {
		return ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// waitLevel waits until the replica holds every write made before since
// (the lag is under the loss window, nothing fails, replication attached)
// and returns how long that took.
func (r *faultRun) waitLevel(since time.Time) time.Duration {
	r.t.Helper()
	deadline := since.Add(recoverWithin)
	for {
		st, err := r.status()
		if err == nil && st.LagSeconds < lossWindow.Seconds()-1 && st.FailingSince == "" && !st.Detached && st.ReplicaTXID > 0 {
			return time.Since(since)
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: replication not back %v after S3's return: %+v (%v)\n%s", r.name, recoverWithin, st, err, r.srv.Output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fault breaks S3 (or the disk) with breakIt for faultFor, checks the lag
// the server reports just before mending it, and measures the recovery.
func (r *faultRun) fault(breakIt, mend func()) {
	r.t.Helper()
	r.faultUntil(breakIt, mend, nil)
}

// faultUntil is fault, the fault held past faultFor until done reports
// true (or maxFault has passed: the test's own assertions then fail).
func (r *faultRun) faultUntil(breakIt, mend func(), done func() bool) {
	r.t.Helper()
	r.faultStart = time.Now()
	breakIt()
	time.Sleep(time.Until(r.faultStart.Add(faultFor)))
	for done != nil && !done() && time.Since(r.faultStart) < maxFault {
		time.Sleep(200 * time.Millisecond)
	}
	st, err := r.status()
	if err != nil {
		r.t.Fatal(err)
	}
	if !r.nothingCommitted {
		r.lagReal = time.Since(r.faultStart)
	}
	r.lagReported = time.Duration(st.LagSeconds * float64(time.Second))
	r.mended = time.Now()
	mend()
	r.recovered = r.waitLevel(r.mended)
	// Some more writes after the recovery.
	time.Sleep(2 * time.Second)
}

// acksAfterMend counts the writes acknowledged after the fault was mended.
func (r *faultRun) acksAfterMend() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, a := range r.acks {
		if a.at.After(r.mended) {
			n++
		}
	}
	return n
}

// restart stops the server (SIGTERM, as a redeploy does) and starts it
// again on the same data dir.
func (r *faultRun) restart() {
	r.mu.Lock()
	r.restartedOnce = true
	r.mu.Unlock()
	r.srv.Stop()
	srv := serve(r.t, r.env)
	c := signIn(r.t, srv.URL)
	r.mu.Lock()
	r.srv, r.c = srv, c
	r.mu.Unlock()
}

// finish kills the server (SIGKILL: no final flush), restores the replica
// into a fresh data dir and checks and prints the measurements.
func (r *faultRun) finish() {
	t := r.t
	t.Helper()
	r.mu.Lock()
	r.killing = true
	r.mu.Unlock()
	killed := time.Now()
	r.srv.Kill()
	r.end()

	restored := t.TempDir()
	restoreInto(t, r.env, restored)
	groups := idsOf(t, filepath.Join(restored, "data.db"), "SELECT id FROM groups")
	old, kept, missing := 0, 0, 0
	var latencies []time.Duration
	var gap, firstAfter time.Duration
	for i, a := range r.acks {
		if a.at.After(r.mended) && firstAfter == 0 {
			firstAfter = a.at.Sub(r.mended)
		}
		latencies = append(latencies, a.latency)
		if i > 0 {
			gap = max(gap, a.at.Sub(r.acks[i-1].at))
		}
		if a.at.Before(killed.Add(-lossWindow)) {
			old++
			if groups[a.id] {
				kept++
			} else if missing++; missing <= 5 {
				t.Errorf("group %s, acknowledged %v before the kill, is not in the replica", a.id, killed.Sub(a.at))
			}
		}
	}
	if old == 0 {
		t.Fatal("no write was acknowledged before the loss window; the test proves nothing")
	}
	slices.Sort(latencies)
	p99 := latencies[len(latencies)*99/100]

	// The lag reported just before S3's return counts from the fault's
	// start: the oldest change the replica lacks is at most a sync
	// interval and a sample older than the fault.
	if lo, hi := r.lagReal-time.Second, r.lagReal+2*time.Second; r.lagReported < lo || r.lagReported > hi {
		t.Errorf("lag reported %v after %v of outage (want %v to %v)", r.lagReported, r.lagReal, lo, hi)
	}
	// Writes never wait for S3: none fails, except while a restart has
	// the server down.
	if r.otherFailures > 0 && !r.restartedOnce {
		t.Errorf("%d writes failed during the fault", r.otherFailures)
	}
	if r.walHigh > max(walMax, litestreamWAL)+2<<20 {
		t.Errorf("WAL high-water %d bytes", r.walHigh)
	}
	// The local files are measured every second: one second of writes
	// past the budget at most.
	if r.localHigh > 2*localMax {
		t.Errorf("local transaction files reached %d bytes (HEARTH_REPLICA_LOCAL_MAX %d)", r.localHigh, localMax)
	}
	t.Logf("fault: %s: %d writes acknowledged, %d refused with 503 disk_full, %d failed otherwise; write p99 %v, longest gap %v; "+
		"WAL high-water %.1f MB (%.1f MB while detached), local files high-water %.1f MB, data dir high-water %.1f MB; lag reported %.1f s vs real %.1f s; "+
		"replica level again %.1f s and first write %.2f s after the fault ended; restore: %d of %d writes acknowledged more than %v before the kill",
		r.name, len(r.acks), r.refused, r.otherFailures, p99.Round(time.Millisecond), gap.Round(time.Millisecond),
		mb(r.walHigh), mb(r.detachedWAL), mb(r.localHigh), mb(r.dirHigh), r.lagReported.Seconds(), r.lagReal.Seconds(),
		r.recovered.Seconds(), firstAfter.Seconds(), kept, old, lossWindow)
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// treeSize is the size of the files under dir, but skip.
func treeSize(dir, skip string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == skip {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			n += fi.Size()
		}
		return nil
	})
	return n
}
