package main

import (
	"bufio"
	"bytes"
	"encoding/json/v2"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// FanoutSpec is the realtime scenario: Clients SSE connections, each
// signed in as a different user (users 0..Clients-1, ten to a small group,
// and the first Big*500 each in big group u % Big as well) and subscribed
// with the SDK's collection subscription (messages/*); messages are
// created at a fixed rate into random groups of GroupSize (10 or 500)
// whose members are all connected, by one of their members.
type FanoutSpec struct {
	Server       string    `json:"server"`
	URL          string    `json:"url"`
	Clients      int       `json:"clients"`
	GroupSize    int       `json:"group_size"`    // 10 (a small group) or 500 (a big one)
	Only         string    `json:"only"`          // the one server the scenario runs on ("" for both)
	BaselineRate float64   `json:"baseline_rate"` // creates/s for the latency with and without clients
	Rates        []float64 `json:"rates"`         // the ladder
	FinalRate    float64   `json:"final_rate"`    // a long run at this rate when the ladder kept up to it
	FinalMS      int       `json:"final_ms"`
	StepMS       int       `json:"step_ms"`
	GraceMS      int       `json:"grace_ms"` // after a step, how long late deliveries are awaited
	ServerPID    int       `json:"server_pid"`
	Manifest     string    `json:"manifest"`
}

// StepResult is one rate of the ladder.
type StepResult struct {
	Rate       float64 `json:"rate"`
	Seconds    float64 `json:"seconds"`
	Sent       int     `json:"sent"`
	SendErrors int     `json:"send_errors"`
	Expected   int     `json:"expected"`
	Delivered  int     `json:"delivered"`
	Lost       int     `json:"lost"`
	Duplicated int     `json:"duplicated"`
	NonMember  int     `json:"non_member"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	CreateP50  float64 `json:"create_p50_ms"`
	CreateP99  float64 `json:"create_p99_ms"`
	CPU        float64 `json:"server_cores"`
	USPerDeliv float64 `json:"server_us_per_delivery"` // server CPU µs per message delivered
	LoadCores  float64 `json:"load_cores"`             // the generator's own CPU (it shares the machine)
	RSSMB      float64 `json:"server_rss_mb"`
	Behind     bool    `json:"fell_behind"`
}

// FanoutResult is the whole scenario.
type FanoutResult struct {
	Clients         int          `json:"clients"`
	GroupSize       int          `json:"group_size"`
	Connected       int          `json:"connected"`
	Baseline        StepResult   `json:"baseline"`           // no client connected
	WhileConnected  StepResult   `json:"while_connected"`    // same rate, every client connected
	IdleKBPerClient float64      `json:"idle_kb_per_client"` // server RSS growth per idle client
	Steps           []StepResult `json:"steps"`
	Final           *StepResult  `json:"final,omitempty"`
	RSSGrowthMB     float64      `json:"rss_growth_mb"` // across the final run
	RSSCurve        []RSSSample  `json:"rss_curve"`     // during the final run
}

// RSSSample is the server's RSS at a moment of the final run.
type RSSSample struct {
	Second float64 `json:"s"`
	MB     float64 `json:"mb"`
}

// rssEvery is how often the final run samples the server's RSS.
const rssEvery = 5 * time.Second

type sentMessage struct {
	t0       time.Time
	received []uint16 // times received, by the member's place in the group (memberSlot)
}

type fanout struct {
	spec    FanoutSpec
	m       *Manifest
	mu      sync.Mutex
	sent    map[string]*sentMessage
	lat     []float64
	nonMem  atomic.Int64
	post    *http.Client
	readers *readers // nil until the clients connect
}

func runFanout(spec FanoutSpec, m *Manifest) (*FanoutResult, error) {
	f := &fanout{spec: spec, m: m, sent: map[string]*sentMessage{},
		post: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	res := &FanoutResult{Clients: spec.Clients, GroupSize: spec.GroupSize}
	groups := spec.Clients / 10
	switch {
	case spec.GroupSize == bigSize:
		groups = m.Dataset.Big
		if spec.Clients < groups*bigSize || spec.Clients > m.Dataset.Small*10 {
			return nil, fmt.Errorf("fanout: groups of %d need every member of the %d big groups connected (%d clients), and at most %d", bigSize, groups, groups*bigSize, m.Dataset.Small*10)
		}
	case spec.GroupSize != 10:
		return nil, fmt.Errorf("fanout: group size %d: the dataset has groups of 10 and of %d", spec.GroupSize, bigSize)
	case groups == 0 || groups > m.Dataset.Small:
		return nil, fmt.Errorf("fanout: %d clients need between 10 and %d users in small groups", spec.Clients, m.Dataset.Small*10)
	}
	res.Baseline = f.step("baseline", spec.BaselineRate, spec.StepMS, groups)

	before := rssKB(spec.ServerPID)
	connected, err := f.connectAll()
	if err != nil {
		return nil, err
	}
	defer f.closeAll()
	res.Connected = connected
	time.Sleep(2 * time.Second)
	res.IdleKBPerClient = float64(rssKB(spec.ServerPID)-before) / float64(spec.Clients)

	res.WhileConnected = f.step("connected", spec.BaselineRate, spec.StepMS, groups)
	kept := 0.0
	for _, rate := range spec.Rates {
		s := f.step(fmt.Sprintf("r%g", rate), rate, spec.StepMS, groups)
		res.Steps = append(res.Steps, s)
		if s.Behind {
			break
		}
		kept = rate
	}
	if spec.FinalRate > 0 && kept >= spec.FinalRate {
		start := rssKB(spec.ServerPID)
		stop := make(chan struct{})
		curve := make(chan []RSSSample)
		go sampleRSS(spec.ServerPID, stop, curve)
		s := f.step("final", spec.FinalRate, spec.FinalMS, groups)
		close(stop)
		res.RSSCurve = <-curve
		res.Final = &s
		res.RSSGrowthMB = float64(rssKB(spec.ServerPID)-start) / 1024
	}
	return res, nil
}

// sampleRSS samples pid's RSS at once and every rssEvery until stop, then
// sends the samples.
func sampleRSS(pid int, stop chan struct{}, out chan<- []RSSSample) {
	t0 := time.Now()
	t := time.NewTicker(rssEvery)
	defer t.Stop()
	samples := []RSSSample{{0, float64(rssKB(pid)) / 1024}}
	for {
		select {
		case <-stop:
			out <- append(samples, RSSSample{time.Since(t0).Seconds(), float64(rssKB(pid)) / 1024})
			return
		case <-t.C:
			samples = append(samples, RSSSample{time.Since(t0).Seconds(), float64(rssKB(pid)) / 1024})
		}
	}
}

// connectAll opens the SSE connections, 100 at a time, and hands each to
// a read loop (fanout_read.go).
func (f *fanout) connectAll() (int, error) {
	r, err := newReaders(f.spec.Clients, f.deliver)
	if err != nil {
		return 0, err
	}
	f.readers = r
	var ok atomic.Int64
	var firstErr atomic.Value
	sem := make(chan struct{}, 100)
	var wg sync.WaitGroup
	for u := range f.spec.Clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f.connect(u); err != nil {
				firstErr.CompareAndSwap(nil, fmt.Errorf("user %d: %w", u, err))
				return
			}
			ok.Add(1)
		}()
	}
	wg.Wait()
	if n := int(ok.Load()); n < f.spec.Clients {
		return n, fmt.Errorf("fanout: %d of %d clients connected; first error: %v", n, f.spec.Clients, firstErr.Load())
	}
	return int(ok.Load()), nil
}

func (f *fanout) connect(u int) error {
	c, id, err := dialSSE(f.spec.URL, u)
	if err != nil {
		return err
	}
	// Until it subscribes nothing but PB_CONNECT reaches it; from the
	// loop's registration on, what arrived meanwhile is read.
	if err := f.readers.add(c); err != nil {
		_ = syscall.Close(c.fd)
		return err
	}
	body, _ := json.Marshal(map[string]any{"clientId": id, "subscriptions": []string{"messages/*"}})
	sub, _ := http.NewRequest(http.MethodPost, f.spec.URL+"/api/realtime", bytes.NewReader(body))
	sub.Header.Set("Content-Type", "application/json")
	sub.Header.Set("Authorization", f.m.Tokens[u])
	subResp, err := f.post.Do(sub)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, subResp.Body)
	subResp.Body.Close()
	if subResp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("subscribe: %d", subResp.StatusCode)
	}
	return nil
}

func (f *fanout) closeAll() {
	if f.readers != nil {
		f.readers.close()
	}
}

// readEvent reads one SSE event (bin/bench noisy's clients).
func readEvent(r *bufio.Reader) (string, []byte, error) {
	var name string
	var data []byte
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return "", nil, err
		}
		line = bytes.TrimRight(line, "\n")
		switch {
		case len(line) == 0:
			if name != "" {
				return name, data, nil
			}
		case bytes.HasPrefix(line, []byte("event:")):
			name = string(line[6:])
		case bytes.HasPrefix(line, []byte("data:")):
			data = append([]byte(nil), line[5:]...)
		}
	}
}

// deliver checks one message user received at arrived: a member of the
// record's group, among the messages sent, and not before.
func (f *fanout) deliver(u int, data []byte, arrived time.Time) {
	body, group, ok := bodyAndGroup(data)
	if !ok {
		return
	}
	slot := -1
	if g, ok := groupIndex(group); ok {
		slot = f.memberSlot(u, g)
	}
	if slot < 0 {
		f.nonMem.Add(1)
		return
	}
	f.mu.Lock()
	if s := f.sent[string(body)]; s != nil {
		s.received[slot]++
		if s.received[slot] == 1 {
			f.lat = append(f.lat, float64(arrived.Sub(s.t0).Microseconds())/1000)
		}
	}
	f.mu.Unlock()
}

// groupIndex reads a group id as groupID writes it ("g" and the index).
func groupIndex(id []byte) (int, bool) {
	if len(id) < 2 || id[0] != 'g' {
		return 0, false
	}
	g := 0
	for _, d := range id[1:] {
		if d < '0' || d > '9' {
			return 0, false
		}
		g = g*10 + int(d-'0')
	}
	return g, true
}

// bodyAndGroup returns a message payload's record body and group. The
// generator shares the server's 2 cores, and decoding each payload was
// most of its CPU per delivery; the values it reads are the ones step
// writes (no quote or escape in them), so the first "body" and "group"
// string values are the record's: the record is the payload's only object
// with those keys, and its other strings are escaped JSON, in which a
// quote is never bare.
func bodyAndGroup(data []byte) (body, group []byte, ok bool) {
	b, okb := stringField(data, `"body":"`)
	g, okg := stringField(data, `"group":"`)
	return b, g, okb && okg
}

func stringField(data []byte, key string) ([]byte, bool) {
	i := bytes.Index(data, []byte(key))
	if i < 0 {
		return nil, false
	}
	rest := data[i+len(key):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return nil, false
	}
	return rest[:j], true
}

// memberSlot returns user u's place among the members of group index g
// (0 to the group's size - 1), as seed.go places them, or -1 when u is
// not a member.
func (f *fanout) memberSlot(u, g int) int {
	d := f.m.Dataset
	switch {
	case g < d.Small && g == u/10:
		return u % 10
	case g >= d.Small && u < d.Big*bigSize && g-d.Small == u%d.Big:
		return u / d.Big
	}
	return -1
}

// pick returns the group index and the author of the i-th message of a
// step, among groups groups of the scenario's size.
func (f *fanout) pick(rng *rand.Rand, groups int) (g, author int) {
	if f.spec.GroupSize == bigSize {
		b := rng.IntN(groups)
		return f.m.Dataset.Small + b, rng.IntN(bigSize)*f.m.Dataset.Big + b
	}
	g = rng.IntN(groups)
	return g, g*10 + rng.IntN(10)
}

// step creates messages at rate for ms, then awaits late deliveries for
// the grace period, and reports what arrived.
func (f *fanout) step(label string, rate float64, ms, groups int) StepResult {
	f.mu.Lock()
	f.sent = map[string]*sentMessage{}
	f.lat = nil
	f.mu.Unlock()
	f.nonMem.Store(0)
	res := StepResult{Rate: rate}
	cpu0, load0, wall0 := cpuSeconds(f.spec.ServerPID), cpuSeconds(os.Getpid()), time.Now()
	rng := rand.New(rand.NewPCG(uint64(ms), uint64(rate*1000)))
	var createLat []float64
	var errs atomic.Int64
	var lmu sync.Mutex
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / rate)
	end := time.Now().Add(time.Duration(ms) * time.Millisecond)
	next := time.Now()
	for i := 0; next.Before(end); i++ {
		time.Sleep(time.Until(next))
		next = next.Add(interval)
		g, author := f.pick(rng, groups)
		body := fmt.Sprintf("%s-%d", label, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := fmt.Sprintf(`{"group":%q,"body":%q}`, groupID(g), body)
			if f.spec.Server == "plain" {
				payload = fmt.Sprintf(`{"group":%q,"author":%q,"body":%q}`, groupID(g), userID(author), body)
			}
			req, _ := http.NewRequest(http.MethodPost, f.spec.URL+"/api/collections/messages/records", strings.NewReader(payload))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", f.m.Tokens[author])
			t0 := time.Now()
			f.mu.Lock()
			f.sent[body] = &sentMessage{t0: t0, received: make([]uint16, f.spec.GroupSize)}
			f.mu.Unlock()
			resp, err := f.post.Do(req)
			took := time.Since(t0)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if err != nil || resp.StatusCode != http.StatusOK {
				errs.Add(1)
				f.mu.Lock()
				delete(f.sent, body)
				f.mu.Unlock()
				return
			}
			lmu.Lock()
			createLat = append(createLat, float64(took.Microseconds())/1000)
			lmu.Unlock()
		}()
	}
	wg.Wait()
	res.Seconds = time.Since(wall0).Seconds()
	expected := func() (int, int, int) {
		f.mu.Lock()
		defer f.mu.Unlock()
		exp, got, dup := 0, 0, 0
		for _, s := range f.sent {
			if f.readers != nil {
				exp += f.spec.GroupSize
			}
			for _, n := range s.received {
				if n > 0 {
					got++
					dup += int(n) - 1
				}
			}
		}
		return exp, got, dup
	}
	graceEnd := time.Now().Add(time.Duration(f.spec.GraceMS) * time.Millisecond)
	for {
		exp, got, _ := expected()
		if got >= exp || time.Now().After(graceEnd) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	serverCPU := cpuSeconds(f.spec.ServerPID) - cpu0
	res.CPU = serverCPU / time.Since(wall0).Seconds()
	res.LoadCores = (cpuSeconds(os.Getpid()) - load0) / time.Since(wall0).Seconds()
	res.RSSMB = float64(rssKB(f.spec.ServerPID)) / 1024
	res.Expected, res.Delivered, res.Duplicated = expected()
	res.Lost = res.Expected - res.Delivered
	if res.Delivered > 0 {
		res.USPerDeliv = serverCPU * 1e6 / float64(res.Delivered)
	}
	f.mu.Lock()
	res.Sent = len(f.sent)
	res.P50, res.P99 = percentile(f.lat, 0.50), percentile(f.lat, 0.99)
	f.mu.Unlock()
	res.SendErrors = int(errs.Load())
	res.NonMember = int(f.nonMem.Load())
	res.CreateP50, res.CreateP99 = percentile(createLat, 0.50), percentile(createLat, 0.99)
	res.Behind = res.P99 > 1000 || res.Lost > 0 || res.SendErrors > 0
	return res
}
