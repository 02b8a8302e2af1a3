// Command hearthload offers a steady request rate to a Hearth server and
// reports what it saw: latency percentiles and the longest stall (the
// longest time in which no request completed while requests were offered).
// scripts/docker-test.sh uses it to measure writes under replication;
// docs/operations.md has the commands and the figures.
//
//	go run ./internal/cmd/hearthload -url http://127.0.0.1:8090 -token "$TOKEN" \
//	    -rate 200 -duration 60s -path /api/collections/groups/records -body '{"name":"load %d"}' \
//	    -acks acks.log
//
// The load is open: request i is due at start + i/rate whatever happened to
// the ones before, and its latency counts from when it was due, so a stall
// shows in the percentiles of the requests that queued behind it instead of
// hiding in a slower offered rate. With -duration 0 it runs until SIGINT or
// SIGTERM. The summary is one JSON object on standard output.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

type options struct {
	url, token, method, path, body, acks string
	rate                                 float64
	duration, timeout                    time.Duration
	workers                              int
}

// Summary is what a run saw. Latencies are of successful requests, in
// milliseconds, from when each was due (p50, p90, p99, max).
type Summary struct {
	Offered        int                `json:"offered"`
	OK             int                `json:"ok"`
	Failed         map[string]int     `json:"failed"`
	Seconds        float64            `json:"seconds"`
	OKPerSecond    float64            `json:"okPerSecond"`
	LatencyMs      map[string]float64 `json:"latencyMs"`
	LongestStallMs float64            `json:"longestStallMs"`
}

// result is one request's outcome.
type result struct {
	due, done time.Time
	err       string // empty when the answer was 2xx
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "http://127.0.0.1:8090", "the server's base URL")
	flag.StringVar(&o.token, "token", "", "Authorization header value")
	flag.StringVar(&o.method, "method", http.MethodPost, "request method")
	flag.StringVar(&o.path, "path", "/api/collections/groups/records", "request path")
	flag.StringVar(&o.body, "body", `{"name":"load %d"}`, "JSON body; %d is the request's number (empty: no body)")
	flag.StringVar(&o.acks, "acks", "", "file to append \"<unix time> <id>\" to for each 2xx answer with an id, as it arrives")
	flag.Float64Var(&o.rate, "rate", 200, "requests per second")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "how long to offer the load; 0: until SIGINT or SIGTERM")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Second, "per-request timeout")
	flag.IntVar(&o.workers, "workers", 256, "most requests in flight")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "hearthload:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(s)
}

func run(ctx context.Context, o options) (Summary, error) {
	if o.rate <= 0 || o.workers < 1 {
		return Summary{}, fmt.Errorf("-rate and -workers must be positive")
	}
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	var acks *bufio.Writer
	if o.acks != "" {
		f, err := os.OpenFile(o.acks, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return Summary{}, err
		}
		defer f.Close()
		acks = bufio.NewWriter(f)
		defer acks.Flush()
	}
	client := &http.Client{Timeout: o.timeout, Transport: &http.Transport{MaxIdleConnsPerHost: o.workers}}

	var (
		mu      sync.Mutex
		results []result
		wg      sync.WaitGroup
	)
	slots := make(chan struct{}, o.workers)
	start := time.Now()
	interval := time.Duration(float64(time.Second) / o.rate)
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * interval)
		select {
		case <-ctx.Done():
		case <-time.After(time.Until(due)):
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func(n int, due time.Time) {
			defer wg.Done()
			defer func() { <-slots }()
			id, err := send(client, o, n)
			r := result{due: due, done: time.Now()}
			if err != nil {
				r.err = err.Error()
			}
			mu.Lock()
			defer mu.Unlock()
			results = append(results, r)
			if err == nil && acks != nil && id != "" {
				fmt.Fprintf(acks, "%.6f %s\n", float64(r.done.UnixNano())/1e9, id)
				acks.Flush()
			}
		}(i, due)
	}
	wg.Wait()
	return summarize(results, time.Since(start)), nil
}

// send makes request n and returns the id in a 2xx answer, if any.
func send(client *http.Client, o options, n int) (string, error) {
	var body io.Reader
	if o.body != "" {
		body = strings.NewReader(strings.ReplaceAll(o.body, "%d", fmt.Sprint(n)))
	}
	req, err := http.NewRequest(o.method, o.url+o.path, body)
	if err != nil {
		return "", err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if o.token != "" {
		req.Header.Set("Authorization", o.token)
	}
	res, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("transport")
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return "", fmt.Errorf("HTTP %d", res.StatusCode)
	}
	var record struct{ ID string }
	_ = json.Unmarshal(data, &record)
	return record.ID, nil
}

// summarize computes the latency percentiles and the longest stall.
func summarize(results []result, elapsed time.Duration) Summary {
	s := Summary{Offered: len(results), Failed: map[string]int{}, Seconds: elapsed.Seconds()}
	var latencies []float64
	var done []time.Time
	for _, r := range results {
		if r.err != "" {
			s.Failed[r.err]++
			continue
		}
		s.OK++
		latencies = append(latencies, float64(r.done.Sub(r.due))/float64(time.Millisecond))
		done = append(done, r.done)
	}
	if s.Seconds > 0 {
		s.OKPerSecond = float64(s.OK) / s.Seconds
	}
	slices.Sort(latencies)
	s.LatencyMs = map[string]float64{
		"p50": percentile(latencies, 50), "p90": percentile(latencies, 90),
		"p99": percentile(latencies, 99), "max": percentile(latencies, 100),
	}
	slices.SortFunc(done, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(done); i++ {
		s.LongestStallMs = max(s.LongestStallMs, float64(done[i].Sub(done[i-1]))/float64(time.Millisecond))
	}
	return s
}

// percentile of sorted values, nearest rank.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}
