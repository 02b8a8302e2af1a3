package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// LoadSpec is one closed-loop HTTP scenario run by the load generator
// process: Concurrency workers, each sending its next request when the
// previous one answered, over keep-alive connections.
type LoadSpec struct {
	Kind        string `json:"kind"`
	Server      string `json:"server"` // "hearth" or "plain": what a create must send
	URL         string `json:"url"`
	Concurrency int    `json:"concurrency"`
	WarmupMS    int    `json:"warmup_ms"`
	WindowMS    int    `json:"window_ms"`
	Manifest    string `json:"manifest"`
	ServerPID   int    `json:"server_pid"` // for the server's CPU time in the window
	// Offset is where this run's new RSVPs start among the free pairs
	// (freeRSVP): the repetitions on one server must not create the
	// same RSVP twice.
	Offset int `json:"offset"`
}

// LoadResult is what the measured window saw.
type LoadResult struct {
	Requests   int     `json:"requests"`
	Errors     int     `json:"errors"`
	RPS        float64 `json:"rps"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	FirstError string  `json:"first_error,omitempty"`
	// CPUms is the server's CPU time per successful request: less
	// sensitive than throughput to what else the shared machine runs.
	CPUms float64 `json:"cpu_ms"`
}

// The scenarios.
const (
	kindEvents        = "events-expand"
	kindMessages      = "messages"
	kindMessagesTotal = "messages-skiptotal"
	kindCreateMessage = "create-message"
	kindToggleRSVP    = "toggle-rsvp"
	kindCreateRSVP    = "create-rsvp"
	kindUpdateEvent   = "update-event"
	kindSync          = "sync"
)

func runLoad(spec LoadSpec, m *Manifest) (*LoadResult, error) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: spec.Concurrency * 2, MaxConnsPerHost: spec.Concurrency * 2}}
	smallUsers := m.Dataset.Small * 10
	rsvpUsers := make([]int, 0, len(m.RSVPs))
	for u := range m.RSVPs {
		rsvpUsers = append(rsvpUsers, u)
	}
	slices.Sort(rsvpUsers)

	warmupEnd := time.Now().Add(time.Duration(spec.WarmupMS) * time.Millisecond)
	windowEnd := warmupEnd.Add(time.Duration(spec.WindowMS) * time.Millisecond)
	var mu sync.Mutex
	res := &LoadResult{}
	var latencies []float64
	cpu0 := make(chan float64, 1)
	go func() {
		time.Sleep(time.Until(warmupEnd))
		cpu0 <- cpuSeconds(spec.ServerPID)
	}()
	var wg sync.WaitGroup
	for w := range spec.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 42))
			status := map[string]string{}
			for n := 0; ; n++ {
				now := time.Now()
				if now.After(windowEnd) {
					return
				}
				req, err := buildRequest(spec, m, rng, w, n, smallUsers, rsvpUsers, status)
				if err != nil {
					mu.Lock()
					res.Errors++
					res.FirstError = err.Error()
					mu.Unlock()
					return
				}
				start := time.Now()
				resp, err := client.Do(req)
				var body []byte
				if err == nil {
					body, _ = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				took := time.Since(start)
				if start.Before(warmupEnd) {
					if time.Now().After(windowEnd) {
						mu.Lock()
						res.FirstError = fmt.Sprintf("a warm-up request took %s, past the window's end", took.Round(time.Millisecond))
						mu.Unlock()
					}
					continue
				}
				mu.Lock()
				res.Requests++
				if err != nil || resp.StatusCode >= 300 {
					res.Errors++
					if res.FirstError == "" {
						if err != nil {
							res.FirstError = err.Error()
						} else {
							res.FirstError = fmt.Sprintf("%d %.200s", resp.StatusCode, body)
						}
					}
				} else {
					latencies = append(latencies, float64(took.Microseconds())/1000)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if ok := res.Requests - res.Errors; ok > 0 && spec.ServerPID > 0 {
		res.CPUms = (cpuSeconds(spec.ServerPID) - <-cpu0) * 1000 / float64(ok)
	}
	res.RPS = float64(res.Requests-res.Errors) / (float64(spec.WindowMS) / 1000)
	res.P50, res.P99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
	return res, nil
}

// buildRequest returns worker w's n-th request of the scenario. Users are
// drawn from those in small groups; worker w of a write scenario keeps to
// its own users, so that two workers never toggle the same RSVP.
func buildRequest(spec LoadSpec, m *Manifest, rng *rand.Rand, w, n, smallUsers int, rsvpUsers []int, status map[string]string) (*http.Request, error) {
	u := rng.IntN(smallUsers)
	group := groupID(u / 10)
	var req *http.Request
	var err error
	switch spec.Kind {
	case kindEvents:
		q := url.Values{"perPage": {"50"}, "expand": {"group"}, "sort": {"-starts_at"}, "filter": {fmt.Sprintf("group='%s'", group)}}
		req, err = http.NewRequest(http.MethodGet, spec.URL+"/api/collections/events/records?"+q.Encode(), nil)
	case kindMessages, kindMessagesTotal:
		q := url.Values{"perPage": {"50"}, "sort": {"-created"}, "filter": {fmt.Sprintf("group='%s'", group)}}
		if spec.Kind == kindMessagesTotal {
			q.Set("skipTotal", "1")
		}
		req, err = http.NewRequest(http.MethodGet, spec.URL+"/api/collections/messages/records?"+q.Encode(), nil)
	case kindCreateMessage:
		body := fmt.Sprintf(`{"group":%q,"body":"bench %d-%d"}`, group, w, n)
		if spec.Server == "plain" {
			// Plain PocketBase has no hook that fills the author.
			body = fmt.Sprintf(`{"group":%q,"author":%q,"body":"bench %d-%d"}`, group, userID(u), w, n)
		}
		req, err = http.NewRequest(http.MethodPost, spec.URL+"/api/collections/messages/records", bytes.NewBufferString(body))
	case kindToggleRSVP:
		u = rsvpUsers[(w+n*spec.Concurrency)%len(rsvpUsers)]
		id := m.RSVPs[u]
		next := "maybe"
		if status[id] == "maybe" {
			next = "going"
		}
		status[id] = next
		req, err = http.NewRequest(http.MethodPatch, spec.URL+"/api/collections/rsvps/records/"+id, bytes.NewBufferString(`{"status":"`+next+`"}`))
	case kindCreateRSVP:
		var event string
		event, u = freeRSVP(m.Dataset, spec.Offset+n*spec.Concurrency+w)
		body := fmt.Sprintf(`{"event":%q,"user":%q,"status":"going"}`, event, userID(u))
		req, err = http.NewRequest(http.MethodPost, spec.URL+"/api/collections/rsvps/records", bytes.NewBufferString(body))
	case kindUpdateEvent:
		g := u / 10
		u = g * 10 // the group's owner
		event := fmt.Sprintf("e%014d", g+rng.IntN(m.Dataset.Events/(m.Dataset.Small+m.Dataset.Big))*(m.Dataset.Small+m.Dataset.Big))
		body := fmt.Sprintf(`{"title":"bench %d-%d"}`, w, n)
		req, err = http.NewRequest(http.MethodPatch, spec.URL+"/api/collections/events/records/"+event, bytes.NewBufferString(body))
	case kindSync:
		req, err = http.NewRequest(http.MethodGet, spec.URL+"/api/sync?cursor=0&limit=1000", nil)
	default:
		return nil, fmt.Errorf("unknown scenario %q", spec.Kind)
	}
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", m.Tokens[u])
	req.Header.Set("Content-Type", "application/json")
	return req, nil
}

// freeRSVP returns the q-th (event, user) pair that has no RSVP in the
// seeded data, among events of small groups: seed.go gives event i the
// RSVPs of members i/groups+0..2 of its group (of ten), which leaves the
// other seven. Each q names a different pair, so creates never collide.
func freeRSVP(d Dataset, q int) (event string, user int) {
	groups := d.Small + d.Big
	s := q / 7
	e := (s/d.Small)*groups + s%d.Small // the s-th event of a small group
	g := e % groups
	return fmt.Sprintf("e%014d", e), g*10 + (e/groups+3+q%7)%10
}

// percentile returns the p-quantile of xs (sorted in place).
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	i := int(p * float64(len(xs)-1))
	return xs[i]
}
