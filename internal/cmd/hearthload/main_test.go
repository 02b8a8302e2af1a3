package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	var results []result
	// 100 requests due every 10 ms, each answered 5 ms later, except the
	// 50th, answered after 805 ms (the ones after it still 5 ms late).
	for i := range 100 {
		latency := 5
		if i == 50 {
			latency = 805
		}
		results = append(results, result{due: ms(10 * i), done: ms(10*i + latency)})
	}
	results = append(results, result{due: ms(2000), done: ms(2001), err: "HTTP 500"})
	s := summarize(results, 2*time.Second)
	if s.Offered != 101 || s.OK != 100 || s.Failed["HTTP 500"] != 1 {
		t.Fatalf("counts: %+v", s)
	}
	if s.LatencyMs["p50"] != 5 || s.LatencyMs["p99"] != 5 || s.LatencyMs["max"] != 805 {
		t.Errorf("latencies: %v", s.LatencyMs)
	}
	// Completions at ..., 495, 505, ..., 995, 1305 (the slow one): the
	// longest gap is 995 -> 1305.
	if s.LongestStallMs != 310 {
		t.Errorf("longest stall %v ms, want 310", s.LongestStallMs)
	}
	if s.OKPerSecond != 50 {
		t.Errorf("rate %v", s.OKPerSecond)
	}
}

func TestRunAgainstAServer(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`{"id":"rec` + strings.Repeat("0", 3) + string(rune('a'+n.Add(1)%26)) + `"}`))
	}))
	defer srv.Close()
	acks := filepath.Join(t.TempDir(), "acks")
	s, err := run(context.Background(), options{url: srv.URL, token: "token", method: http.MethodPost, path: "/x",
		body: `{"n":%d}`, acks: acks, rate: 100, duration: 300 * time.Millisecond, timeout: time.Second, workers: 8})
	if err != nil {
		t.Fatal(err)
	}
	if s.OK == 0 || s.OK != s.Offered || len(s.Failed) != 0 {
		t.Fatalf("summary: %+v", s)
	}
	data, err := os.ReadFile(acks)
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(string(data)), "\n"); len(lines) != s.OK || !strings.Contains(lines[0], " rec000") {
		t.Errorf("%d ack lines for %d answers: %q", len(lines), s.OK, lines[0])
	}
}
