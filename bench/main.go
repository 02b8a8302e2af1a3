// Command bench runs Hearth and plain PocketBase (bench/plainpb, built from
// the same pb_migrations) side by side on copies of one seeded dataset and
// writes the comparison into docs/benchmarks.md. Each server is its own
// process; every scenario's load comes from another process (bench load),
// and the two servers alternate within the run.
//
//	make bench-quick   # a few minutes, the small dataset
//	make bench         # the full dataset and the 10,000-client fan-out
//
// or, after building bin/hearth, bin/plainpb and bin/bench:
//
//	bin/bench run -quick -out /tmp/quick.md
//	bin/bench noisy -reps 5  # one user against everyone's realtime (noisy.go)
package main

import (
	"encoding/json/v2"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bench run [-quick] | bench noisy [-reps 5] | bench load SPEC | bench fanout SPEC")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = run(os.Args[2:])
	case "noisy":
		err = noisy(os.Args[2:])
	case "load":
		err = child(os.Args[2], func(spec LoadSpec, m *Manifest) (any, error) { return runLoad(spec, m) }, func(s LoadSpec) string { return s.Manifest })
	case "fanout":
		err = child(os.Args[2], func(spec FanoutSpec, m *Manifest) (any, error) { return runFanout(spec, m) }, func(s FanoutSpec) string { return s.Manifest })
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// child is the load generator process: it reads its spec, runs it and
// prints the result as JSON.
func child[S any](raw string, f func(S, *Manifest) (any, error), manifestOf func(S) string) error {
	var spec S
	if err := json.Unmarshal([]byte(raw), &spec); err != nil {
		return err
	}
	mraw, err := os.ReadFile(manifestOf(spec))
	if err != nil {
		return err
	}
	m := &Manifest{}
	if err := json.Unmarshal(mraw, m); err != nil {
		return err
	}
	res, err := f(spec, m)
	if err != nil {
		return err
	}
	out, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = os.Stdout.Write(out)
	return err
}

// spawn runs the load generator in its own process and decodes its result.
func spawn[R any](command string, spec any) (*R, error) {
	raw, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, command, string(raw))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", command, raw, err)
	}
	r := new(R)
	if err := json.Unmarshal(out, r); err != nil {
		return nil, fmt.Errorf("%s result: %w", command, err)
	}
	return r, nil
}

// Plan is what one run measures.
type Plan struct {
	Quick    bool
	Dataset  Dataset
	Reps     int
	WarmupMS int
	WindowMS int
	Fanout   []FanoutSpec // URL, server and pid filled per server
}

func plan(quick bool) Plan {
	if quick {
		return Plan{Quick: true, Dataset: Quick, Reps: 1, WarmupMS: 1000, WindowMS: 4000, Fanout: []FanoutSpec{
			{Clients: 1000, GroupSize: 10, BaselineRate: 5, Rates: []float64{20, 50, 100}, StepMS: 4000, GraceMS: 5000},
			{Clients: 1000, GroupSize: bigSize, Only: "hearth", BaselineRate: 1, Rates: []float64{10, 50, 100}, StepMS: 4000, GraceMS: 5000},
		}}
	}
	// Groups of 500 run on Hearth only: plain PocketBase already falls
	// behind at 1 message/s into groups of 10 with 10,000 clients.
	return Plan{Dataset: Full, Reps: 5, WarmupMS: 2000, WindowMS: 10000, Fanout: []FanoutSpec{
		{Clients: 1000, GroupSize: 10, BaselineRate: 5, Rates: []float64{20, 50, 100, 200}, StepMS: 10000, GraceMS: 10000},
		{Clients: 10000, GroupSize: 10, BaselineRate: 1, Rates: []float64{5, 20, 50, 100}, StepMS: 10000, GraceMS: 10000, FinalRate: 100, FinalMS: 60000},
		{Clients: 10000, GroupSize: bigSize, Only: "hearth", BaselineRate: 1, Rates: []float64{10, 20, 50, 100}, StepMS: 10000, GraceMS: 10000, FinalRate: 100, FinalMS: 60000},
	}}
}

// rsvpsPerRep bounds the RSVPs one repetition of the create scenario may
// make (a few thousand in 12 s on this machine): each starts this far
// after the previous one among the free pairs (about 686,000 in the full
// dataset, 69,000 in the quick one).
const rsvpsPerRep = 50000

func run(args []string) error {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	quick := fs.Bool("quick", false, "the small dataset and the 1,000-client fan-out only")
	out := fs.String("out", "docs/benchmarks.md", "the markdown file whose bench section is rewritten")
	hearthBin := fs.String("hearth", "bin/hearth", "the Hearth binary")
	plainBin := fs.String("plain", "bin/plainpb", "the plain PocketBase binary")
	work := fs.String("work", filepath.Join(os.TempDir(), "hearth-bench-run"), "scratch dir for the servers' data")
	only := fs.String("only", "", "comma-separated scenarios to run, by kind (create-message, toggle-rsvp, ...) or fanout-10 / fanout-500; all when empty")
	reps := fs.Int("reps", 0, "repetitions of each HTTP scenario; 0 for the plan's")
	rates := fs.String("rates", "", "comma-separated msg/s ladder of the fan-out scenarios (each then runs its final run at the last rate it kept); the plan's when empty")
	fs.Parse(args)

	p := plan(*quick)
	if *reps > 0 {
		p.Reps = *reps
	}
	selected := func(name string) bool { return *only == "" || slices.Contains(strings.Split(*only, ","), name) }
	p.Fanout = slices.DeleteFunc(p.Fanout, func(f FanoutSpec) bool { return !selected(fmt.Sprintf("fanout-%d", f.GroupSize)) })
	if *rates != "" {
		var ladder []float64
		for _, r := range strings.Split(*rates, ",") {
			v, err := strconv.ParseFloat(r, 64)
			if err != nil || v <= 0 {
				return fmt.Errorf("-rates: %q is not a positive number of messages per second", r)
			}
			ladder = append(ladder, v)
		}
		for i := range p.Fanout {
			p.Fanout[i].Rates = ladder
			if p.Fanout[i].FinalRate > 0 {
				p.Fanout[i].FinalRate = ladder[len(ladder)-1]
			}
		}
	}
	r := &Report{Plan: p, Started: time.Now(), Command: "bin/bench run " + fmt.Sprint(args)}
	if *quick {
		r.Command = "make bench-quick"
	} else {
		r.Command = "make bench"
	}
	r.Machine = machine()
	template, _, err := cachedSeed(p.Dataset)
	if err != nil {
		return err
	}
	manifest := filepath.Join(template, "manifest.json")
	if err := os.MkdirAll(filepath.Join(*work, "no-hooks"), 0o755); err != nil {
		return err
	}

	bins := map[string]string{"hearth": *hearthBin, "plain": *plainBin}
	servers := map[string]*server{}
	for _, name := range []string{"hearth", "plain"} {
		s, err := startServer(name, bins[name], template, *work)
		if err != nil {
			return err
		}
		defer s.stop()
		servers[name] = s
		time.Sleep(2 * time.Second)
		fi, _ := os.Stat(bins[name])
		r.Servers = append(r.Servers, ServerFacts{Name: name, ColdStart: s.started, IdleRSSMB: float64(rssKB(s.pid())) / 1024, BinaryMB: float64(fi.Size()) / (1 << 20)})
		logf("%s: healthy after %s", name, s.started.Round(time.Millisecond))
	}

	for _, sc := range scenarios() {
		if !selected(sc.Kind) {
			continue
		}
		row := HTTPRow{Scenario: sc}
		for rep := range p.Reps {
			order := []string{"hearth", "plain"}
			if rep%2 == 1 {
				order = []string{"plain", "hearth"}
			}
			for _, name := range order {
				if sc.Kind == kindSync && name == "plain" {
					continue // plain PocketBase has no /api/sync
				}
				spec := LoadSpec{Kind: sc.Kind, Server: name, URL: servers[name].url, Concurrency: sc.Concurrency, WarmupMS: p.WarmupMS, WindowMS: p.WindowMS, Manifest: manifest, ServerPID: servers[name].pid(), Offset: rep * rsvpsPerRep}
				res, err := spawn[LoadResult]("load", spec)
				if err != nil {
					return err
				}
				logf("%-20s c=%-3d %-6s %8.1f req/s p50 %6.1f ms p99 %6.1f ms cpu %5.2f ms/req errors %d %s", sc.Kind, sc.Concurrency, name, res.RPS, res.P50, res.P99, res.CPUms, res.Errors, res.FirstError)
				row.add(name, *res)
			}
		}
		r.HTTP = append(r.HTTP, row)
	}

	for _, fo := range p.Fanout {
		for _, name := range []string{"hearth", "plain"} {
			if fo.Only != "" && fo.Only != name {
				continue
			}
			// Each fan-out starts on a fresh process: its idle memory per
			// client is the growth of a server that never held clients
			// (after an earlier fan-out's 10,000, it came out at -0.6 KB).
			if err := servers[name].restart(*work); err != nil {
				return err
			}
			spec := fo
			spec.Server, spec.URL, spec.ServerPID, spec.Manifest = name, servers[name].url, servers[name].pid(), manifest
			logf("fan-out: %d clients on %s", spec.Clients, name)
			res, err := spawn[FanoutResult]("fanout", spec)
			if err != nil {
				return err
			}
			for _, s := range append(res.Steps, ptrSteps(res.Final)...) {
				logf("  %6.0f msg/s: p50 %7.1f ms p99 %7.1f ms lost %d dup %d non-member %d failed creates %d create p50 %.1f ms cores %.2f (%.1f µs/delivery) load generator cores %.2f", s.Rate, s.P50, s.P99, s.Lost, s.Duplicated, s.NonMember, s.SendErrors, s.CreateP50, s.CPU, s.USPerDeliv, s.LoadCores)
			}
			logf("  idle %.1f KB per client; final run RSS %s", res.IdleKBPerClient, rssSummary(res.RSSCurve))
			r.Fanout = append(r.Fanout, FanoutRow{Server: name, Result: *res})
		}
	}
	r.Finished = time.Now()
	if err := r.write(*out); err != nil {
		return err
	}
	logf("wrote %s", *out)
	return nil
}

func ptrSteps(s *StepResult) []StepResult {
	if s == nil {
		return nil
	}
	return []StepResult{*s}
}
