package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Scenario is one HTTP scenario of the run.
type Scenario struct {
	Kind        string
	Concurrency int
	What        string
}

func scenarios() []Scenario {
	return []Scenario{
		{kindEvents, 1, "a member lists 50 events of their group with `expand=group`"},
		{kindEvents, 16, "a member lists 50 events of their group with `expand=group`"},
		{kindEvents, 64, "a member lists 50 events of their group with `expand=group`"},
		{kindMessages, 16, "latest 50 messages of a group"},
		{kindMessagesTotal, 16, "latest 50 messages of a group, `skipTotal`"},
		{kindCreateMessage, 32, "create a message"},
		{kindToggleRSVP, 32, "toggle an RSVP (going/maybe)"},
		{kindCreateRSVP, 32, "RSVP going to an event of one's group (a new RSVP)"},
		{kindUpdateEvent, 32, "a group's owner renames one of its events"},
		{kindSync, 1, "a full sync's first page, 1,000 changes (Hearth only)"},
	}
}

// HTTPRow holds one scenario's results per server, one per repetition.
type HTTPRow struct {
	Scenario Scenario
	Hearth   []LoadResult
	Plain    []LoadResult
}

func (r *HTTPRow) add(server string, res LoadResult) {
	if server == "hearth" {
		r.Hearth = append(r.Hearth, res)
	} else {
		r.Plain = append(r.Plain, res)
	}
}

// ServerFacts are the per-binary figures.
type ServerFacts struct {
	Name      string
	ColdStart time.Duration
	IdleRSSMB float64
	BinaryMB  float64
}

// FanoutRow is one server's realtime scenario.
type FanoutRow struct {
	Server string
	Result FanoutResult
}

// Report is one run, written as markdown.
type Report struct {
	Plan              Plan
	Command           string
	Machine           string
	Started, Finished time.Time
	Servers           []ServerFacts
	HTTP              []HTTPRow
	Fanout            []FanoutRow
}

func machine() string {
	model := "unknown CPU"
	if raw, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(line, "model name") {
				model = strings.TrimSpace(strings.SplitN(line, ":", 2)[1])
				break
			}
		}
	}
	load, _ := os.ReadFile("/proc/loadavg")
	mem := ""
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		mem = strings.Fields(strings.Split(string(raw), "\n")[0])[1] + " kB RAM"
	}
	kernel, _ := exec.Command("uname", "-r").Output()
	return fmt.Sprintf("%d × %s, %s, Linux %s, %s; load average at start: %s",
		runtime.NumCPU(), model, mem, strings.TrimSpace(string(kernel)), runtime.Version(), strings.Join(strings.Fields(string(load))[:3], " "))
}

const (
	beginMarker = "<!-- bench:begin (written by bin/bench; edit the text outside) -->"
	endMarker   = "<!-- bench:end -->"
)

// write replaces the bench section of path (or appends one).
func (r *Report) write(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	doc := string(raw)
	section := beginMarker + "\n" + r.markdown() + endMarker
	if i, j := strings.Index(doc, beginMarker), strings.Index(doc, endMarker); i >= 0 && j > i {
		doc = doc[:i] + section + doc[j+len(endMarker):]
	} else {
		doc = strings.TrimRight(doc, "\n") + "\n\n" + section + "\n"
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}

func (r *Report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	d := r.Plan.Dataset
	kind := "full"
	if r.Plan.Quick {
		kind = "quick"
	}
	p("### Run of %s (%s dataset)\n\n", r.Started.UTC().Format("2006-01-02 15:04 MST"), kind)
	p("- Command: `%s` (took %s)\n", r.Command, r.Finished.Sub(r.Started).Round(time.Second))
	p("- Machine: %s\n", r.Machine)
	p("- Dataset: %d users; %d groups of 10 and %d of 500; %d events; %d RSVPs; %d messages; the change log filled as the migration's backfill fills it\n",
		d.Users, d.Small, d.Big, d.Events, d.RSVPs, d.Messages)
	p("- Each HTTP scenario: %d ms warm-up, then a %d ms window, %d repetition(s), Hearth and plain alternating (the order flips each repetition)\n\n",
		r.Plan.WarmupMS, r.Plan.WindowMS, r.Plan.Reps)

	p("Throughput per repetition, and the server's CPU time per request (lower is better; its ratio plain / Hearth is the throughput each would reach on the same CPU).\n\n")
	p("| work | concurrency | plain req/s (p99 ms) | Hearth req/s (p99 ms) | Hearth / plain req/s | CPU ms/req plain · Hearth | plain / Hearth CPU |\n|---|---|---|---|---|---|---|\n")
	for _, row := range r.HTTP {
		var ratios, cpu, cpuRatios []string
		for i := range row.Hearth {
			if i < len(row.Plain) && row.Plain[i].RPS > 0 {
				ratios = append(ratios, fmt.Sprintf("%.2f", row.Hearth[i].RPS/row.Plain[i].RPS))
				cpu = append(cpu, fmt.Sprintf("%.2f · %.2f", row.Plain[i].CPUms, row.Hearth[i].CPUms))
				if row.Hearth[i].CPUms > 0 {
					cpuRatios = append(cpuRatios, fmt.Sprintf("%.2f", row.Plain[i].CPUms/row.Hearth[i].CPUms))
				}
			} else {
				cpu = append(cpu, fmt.Sprintf("n/a · %.2f", row.Hearth[i].CPUms))
			}
		}
		p("| %s | %d | %s | %s | %s | %s | %s |\n", row.Scenario.What, row.Scenario.Concurrency, cells(row.Plain), cells(row.Hearth),
			orNA(strings.Join(ratios, " · ")), strings.Join(cpu, " ; "), orNA(strings.Join(cpuRatios, " · ")))
	}
	p("\n")

	p("| binary | size | cold start (spawn to healthy) | idle RSS |\n|---|---|---|---|\n")
	for _, s := range r.Servers {
		p("| %s | %.1f MB | %s | %.1f MB |\n", s.Name, s.BinaryMB, s.ColdStart.Round(time.Millisecond), s.IdleRSSMB)
	}
	p("\n")

	for _, f := range r.Fanout {
		res := f.Result
		p("**Realtime, %d SSE clients on %s** (each a different user subscribed to `messages/*`; messages created into random groups of %d whose members are all connected; a create that fails or takes over 30 s is a failed create, and only created messages are expected). Idle server RSS per client: %.1f KB. A create with no client connected: p50 %.1f ms, p99 %.1f ms; with all connected, same rate (%.0f/s): p50 %.1f ms, p99 %.1f ms (**%.2f×** by p50).\n\n",
			res.Clients, f.Server, res.GroupSize, res.IdleKBPerClient, res.Baseline.CreateP50, res.Baseline.CreateP99,
			res.WhileConnected.Rate, res.WhileConnected.CreateP50, res.WhileConnected.CreateP99, ratioOf(res.WhileConnected.CreateP50, res.Baseline.CreateP50))
		p("| msg/s | seconds | created | failed creates | delivery p50 | p99 | lost | duplicated | to a non-member | create p50 / p99 | server cores | server CPU µs per delivery | load generator cores | server RSS |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
		steps := append([]StepResult{res.WhileConnected}, res.Steps...)
		if res.Final != nil {
			steps = append(steps, *res.Final)
		}
		for _, s := range steps {
			mark := ""
			if s.Behind {
				mark = " (falls behind)"
			}
			p("| %.0f%s | %.0f | %d | %d | %.0f ms | %.0f ms | %d | %d | %d | %.0f / %.0f ms | %.2f | %.1f | %.2f | %.0f MB |\n",
				s.Rate, mark, s.Seconds, s.Sent, s.SendErrors, s.P50, s.P99, s.Lost, s.Duplicated, s.NonMember, s.CreateP50, s.CreateP99, s.CPU, s.USPerDeliv, s.LoadCores, s.RSSMB)
		}
		if res.Final != nil {
			p("\nRSS growth across the %.0f s run: %.1f MB (start, peak, end: %s).\n", res.Final.Seconds, res.RSSGrowthMB, rssSummary(res.RSSCurve))
		}
		p("\n")
	}
	return b.String()
}

func cells(rs []LoadResult) string {
	var out []string
	for _, r := range rs {
		s := fmt.Sprintf("%.0f (%.0f)", r.RPS, r.P99)
		if r.Errors > 0 {
			s += fmt.Sprintf(" [%d errors: %.80s]", r.Errors, r.FirstError)
		} else if r.Requests == 0 {
			s += fmt.Sprintf(" [nothing measured: %s]", r.FirstError)
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return "n/a"
	}
	return strings.Join(out, " · ")
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

func ratioOf(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

// rssSummary is the start, peak and end of an RSS curve, and the curve.
func rssSummary(curve []RSSSample) string {
	if len(curve) == 0 {
		return "not sampled"
	}
	peak := curve[0].MB
	var points []string
	for _, c := range curve {
		peak = max(peak, c.MB)
		points = append(points, fmt.Sprintf("%.0f s %.0f", c.Second, c.MB))
	}
	return fmt.Sprintf("%.0f, %.0f, %.0f MB; every %s: %s", curve[0].MB, peak, curve[len(curve)-1].MB, rssEvery, strings.Join(points, " · "))
}
