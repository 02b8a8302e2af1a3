//go:build pprof

package main

import (
	"log"
	"net/http"
	_ "net/http/pprof"
	"os"
)

// Built with -tags pprof only (never in release builds): serves Go's
// profiler on HEARTH_PPROF_ADDR (a loopback address, e.g.
// 127.0.0.1:6060) for profiling the write paths against the benchmark's
// load (docs/benchmarks.md, "Profiling").
func init() {
	addr := os.Getenv("HEARTH_PPROF_ADDR")
	if addr == "" {
		return
	}
	go func() {
		log.Println("pprof:", http.ListenAndServe(addr, nil))
	}()
}
