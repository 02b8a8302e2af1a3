package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json/v2"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The noisy-neighbour scenario (issue 17, finding 4): one user opens
// -conns connections with up to -topics topics each (an allowed filter
// plus expand=author,group, as the attack), then sends -attack
// messages into their own crew; right after, a member of another crew
// sends one into theirs, and the scenario measures how long that one takes
// to reach the other crew's ten connected members. A server that caps the
// attack answers its subscriptions with 400: the scenario then subscribes
// the most each connection is allowed (found by bisection), so the attack
// runs at the caps. It runs Hearth alone, against -hearth:
//
//	bin/bench noisy -hearth bin/hearth -reps 5
type noisySpec struct {
	Conns, Topics, Attack, Rounds int
}

// noisyRep is one repetition: its victim latencies and what the attacker got.
type noisyRep struct {
	Accepted []int // topics accepted per attacker connection
	Baseline []float64
	Victim   []float64
	Attacker int // attacker messages received over the rounds
}

func noisy(args []string) error {
	fs := flag.NewFlagSet("noisy", flag.ExitOnError)
	hearthBin := fs.String("hearth", "bin/hearth", "the Hearth binary")
	work := fs.String("work", filepath.Join(os.TempDir(), "hearth-bench-noisy"), "scratch dir for the server's data")
	reps := fs.Int("reps", 5, "repetitions (medians are reported)")
	spec := noisySpec{}
	fs.IntVar(&spec.Conns, "conns", 8, "attacker connections")
	fs.IntVar(&spec.Topics, "topics", 1000, "topics per attacker connection asked for")
	fs.IntVar(&spec.Attack, "attack", 1, "attacker messages per round")
	fs.IntVar(&spec.Rounds, "rounds", 20, "rounds per repetition (each: the attack, then one victim message)")
	fs.Parse(args)

	template, m, err := cachedSeed(Quick)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(*work, "no-hooks"), 0o755); err != nil {
		return err
	}
	s, err := startServer("hearth", *hearthBin, template, *work)
	if err != nil {
		return err
	}
	defer s.stop()
	logf("noisy: %s healthy; attack %d conns x %d topics, %d message(s) per round, %d rounds x %d reps",
		*hearthBin, spec.Conns, spec.Topics, spec.Attack, spec.Rounds, *reps)

	var p50s, p99s, maxes, baseP99s []float64
	for rep := range *reps {
		r, err := noisyRep1(s.url, m, spec, rep)
		if err != nil {
			return err
		}
		b99 := percentile(r.Baseline, 0.99)
		p50, p99 := percentile(r.Victim, 0.50), percentile(r.Victim, 0.99)
		worst := slices.Max(r.Victim)
		logf("rep %d: accepted topics per connection %v; victim delivery without attack p99 %.1f ms; under attack p50 %.1f ms p99 %.1f ms max %.1f ms (%d samples); attacker received %d messages",
			rep+1, r.Accepted, b99, p50, p99, worst, len(r.Victim), r.Attacker)
		p50s, p99s, maxes, baseP99s = append(p50s, p50), append(p99s, p99), append(maxes, worst), append(baseP99s, b99)
	}
	fmt.Printf("noisy: medians over %d reps: victim p99 without attack %.1f ms; under attack p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		*reps, percentile(baseP99s, 0.5), percentile(p50s, 0.5), percentile(p99s, 0.5), percentile(maxes, 0.5))
	return nil
}

// The attacker is user 0 (owner of small group 0); the victims are the
// ten members of small group 1 + rep, a fresh crew per repetition.
func noisyRep1(base string, m *Manifest, spec noisySpec, rep int) (*noisyRep, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &noisyClient{base: base, m: m, ctx: ctx, post: &http.Client{Timeout: 120 * time.Second}}
	victimGroup := 1 + rep
	res := &noisyRep{}

	arrivals := make(chan noisyArrival, 4096)
	for i := range 10 {
		u := victimGroup*10 + i
		if err := c.open(u, []string{"messages/*"}, arrivals); err != nil {
			return nil, err
		}
	}
	// Without the attack: what the victims' delivery costs at rest.
	for i := range spec.Rounds {
		lat, err := c.victim(victimGroup, fmt.Sprintf("base-%d-%d", rep, i), arrivals)
		if err != nil {
			return nil, err
		}
		res.Baseline = append(res.Baseline, lat...)
	}

	attackerArrivals := make(chan noisyArrival, 1<<16)
	for range spec.Conns {
		n, err := c.attacker(spec.Topics, attackerArrivals)
		if err != nil {
			return nil, err
		}
		res.Accepted = append(res.Accepted, n)
	}
	for i := range spec.Rounds {
		for j := range spec.Attack {
			if err := c.send(0, 0, fmt.Sprintf("atk-%d-%d-%d", rep, i, j)); err != nil {
				return nil, err
			}
		}
		lat, err := c.victim(victimGroup, fmt.Sprintf("vic-%d-%d", rep, i), arrivals)
		if err != nil {
			return nil, err
		}
		res.Victim = append(res.Victim, lat...)
	}
	// Let the attacker's deliveries drain so the next repetition starts at rest.
	res.Attacker = drain(attackerArrivals, 2*time.Second)
	return res, nil
}

type noisyArrival struct {
	body string
	at   time.Time
}

type noisyClient struct {
	base string
	m    *Manifest
	ctx  context.Context
	post *http.Client
}

// open connects user u, subscribes topics and forwards each message's
// body and arrival time; it returns an error when the server refuses.
func (c *noisyClient) open(u int, topics []string, out chan<- noisyArrival) error {
	id, body, err := c.connect()
	if err != nil {
		return err
	}
	if code, msg := c.subscribe(u, id, topics); code != http.StatusNoContent {
		body.Close()
		return fmt.Errorf("user %d: subscribe: %d %s", u, code, msg)
	}
	go c.forward(body, out, false)
	return nil
}

func (c *noisyClient) connect() (string, io.ReadCloser, error) {
	req, _ := http.NewRequestWithContext(c.ctx, http.MethodGet, c.base+"/api/realtime", nil)
	resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		return "", nil, err
	}
	r := bufio.NewReader(resp.Body)
	name, data, err := readEvent(r)
	if err != nil || name != "PB_CONNECT" {
		resp.Body.Close()
		return "", nil, fmt.Errorf("no PB_CONNECT (%v)", err)
	}
	var hello struct {
		ClientID string `json:"clientId"`
	}
	if err := json.Unmarshal(data, &hello); err != nil {
		return "", nil, err
	}
	return hello.ClientID, struct {
		io.Reader
		io.Closer
	}{r, resp.Body}, nil
}

func (c *noisyClient) subscribe(u int, id string, topics []string) (int, string) {
	body, _ := json.Marshal(map[string]any{"clientId": id, "subscriptions": topics})
	req, _ := http.NewRequest(http.MethodPost, c.base+"/api/realtime", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", c.m.Tokens[u])
	resp, err := c.post.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(msg)
}

// forward passes each message's body and arrival time to out; lossy
// drops what out has no room for (the attacker's flood, which no one waits
// for), so that reading the stream never stalls.
func (c *noisyClient) forward(body io.ReadCloser, out chan<- noisyArrival, lossy bool) {
	defer body.Close()
	r := bufio.NewReader(body)
	for {
		_, data, err := readEvent(r)
		if err != nil {
			return
		}
		at := time.Now()
		var p struct {
			Record struct {
				Body string `json:"body"`
			} `json:"record"`
		}
		if json.Unmarshal(data, &p) != nil {
			continue
		}
		if !lossy {
			out <- noisyArrival{p.Record.Body, at}
			continue
		}
		select {
		case out <- noisyArrival{p.Record.Body, at}:
		default:
		}
	}
}

// attackTopics is the subscription: an allowed filter plus
// expand=author,group, a different filter per topic index (the same
// indexes on every connection).
func attackTopics(n int) []string {
	out := make([]string, n)
	for i := range out {
		raw, _ := json.Marshal(map[string]any{"query": map[string]any{
			"filter": fmt.Sprintf("body != 'x%d'", i), "expand": "author,group"}})
		out[i] = "messages/*?options=" + url.QueryEscape(string(raw))
	}
	return out
}

// attacker opens one attacker connection with as many of the topics as
// the server accepts, up to want, and returns that number.
func (c *noisyClient) attacker(want int, out chan<- noisyArrival) (int, error) {
	id, body, err := c.connect()
	if err != nil {
		return 0, err
	}
	go c.forward(body, out, true)
	if code, _ := c.subscribe(0, id, attackTopics(want)); code == http.StatusNoContent {
		return want, nil
	}
	lo, hi := 0, want // lo is accepted, hi refused
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		code, msg := c.subscribe(0, id, attackTopics(mid))
		switch code {
		case http.StatusNoContent:
			lo = mid
		case http.StatusBadRequest:
			hi = mid
		default:
			return 0, fmt.Errorf("attacker subscribe: %d %s", code, msg)
		}
	}
	if code, msg := c.subscribe(0, id, attackTopics(lo)); code != http.StatusNoContent {
		return 0, fmt.Errorf("attacker subscribe %d topics: %d %s", lo, code, msg)
	}
	return lo, nil
}

// send creates a message in small group g as user u.
func (c *noisyClient) send(u, g int, body string) error {
	payload := fmt.Sprintf(`{"group":%q,"body":%q}`, groupID(g), body)
	req, _ := http.NewRequest(http.MethodPost, c.base+"/api/collections/messages/records", strings.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", c.m.Tokens[u])
	resp, err := c.post.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("create message as user %d: %d", u, resp.StatusCode)
	}
	return nil
}

// victim sends one message into group g and returns its delivery latency
// to each of the group's ten connections.
func (c *noisyClient) victim(g int, body string, arrivals <-chan noisyArrival) ([]float64, error) {
	t0 := time.Now()
	if err := c.send(g*10+1, g, body); err != nil {
		return nil, err
	}
	var out []float64
	timeout := time.After(120 * time.Second)
	for len(out) < 10 {
		select {
		case a := <-arrivals:
			if a.body == body {
				out = append(out, float64(a.at.Sub(t0).Microseconds())/1000)
			}
		case <-timeout:
			return nil, fmt.Errorf("victim message %s: %d of 10 deliveries within 120 s", body, len(out))
		}
	}
	return out, nil
}

// drain counts what arrives on ch until it is quiet for quiet.
func drain(ch <-chan noisyArrival, quiet time.Duration) int {
	n := 0
	for {
		select {
		case <-ch:
			n++
		case <-time.After(quiet):
			return n
		}
	}
}
