package firebase

import (
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"
	"time"
)

// Count is what one import did to one Hearth collection.
type Count struct {
	Created, Updated, Skipped int
}

// Skip is one user or document left out, and why.
type Skip struct {
	Where  string // a Firestore document path, or a user's uid or line
	Reason string
}

// maxSkips is how many skips a report lists one by one; past it only the
// count grows, so that a broken export of millions of documents does not
// hold millions of reasons in memory.
const maxSkips = 1000

// Report is the outcome of an import, printed at its end.
type Report struct {
	What    string // "users" or "documents"
	DryRun  bool
	Read    int
	Counts  map[string]*Count
	Skips   []Skip
	Skipped int // every skip, listed or not
	Notes   []string
	Elapsed time.Duration
}

func newReport(what string, dryRun bool) *Report {
	return &Report{What: what, DryRun: dryRun, Counts: map[string]*Count{}}
}

func (r *Report) count(collection string) *Count {
	c := r.Counts[collection]
	if c == nil {
		c = &Count{}
		r.Counts[collection] = c
	}
	return c
}

// skip records that where was left out of collection ("" when it never
// reached one) for reason.
func (r *Report) skip(collection, where, reason string) {
	if collection != "" {
		r.count(collection).Skipped++
	}
	r.Skipped++
	if len(r.Skips) < maxSkips {
		r.Skips = append(r.Skips, Skip{Where: where, Reason: reason})
	}
}

// unwrite takes back a record counted as created (or updated) that the
// end of the import removed again.
func (r *Report) unwrite(collection string) {
	c := r.count(collection)
	if c.Created > 0 {
		c.Created--
	} else if c.Updated > 0 {
		c.Updated--
	}
}

func (r *Report) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// Write prints the report: counts per collection, notes, then each skip.
func (r *Report) Write(w io.Writer) error {
	verb := "Imported"
	if r.DryRun {
		verb = "Dry run (nothing written): would import"
	}
	rate := ""
	if secs := r.Elapsed.Seconds(); secs > 0 && r.Read > 0 {
		rate = fmt.Sprintf(", %.0f/s", float64(r.Read)/secs)
	}
	fmt.Fprintf(w, "%s %s: %d read in %s%s\n", verb, r.What, r.Read, r.Elapsed.Round(time.Millisecond), rate)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  collection\tcreated\tupdated\tskipped")
	names := make([]string, 0, len(r.Counts))
	for name := range r.Counts {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		c := r.Counts[name]
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\n", name, c.Created, c.Updated, c.Skipped)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	if r.Skipped > 0 {
		fmt.Fprintf(w, "Skipped %d:\n", r.Skipped)
		for _, s := range r.Skips {
			fmt.Fprintf(w, "  %s: %s\n", s.Where, s.Reason)
		}
		if r.Skipped > len(r.Skips) {
			fmt.Fprintf(w, "  … and %d more\n", r.Skipped-len(r.Skips))
		}
	}
	return nil
}

// progress shows how far an import is: a bar rewritten in place on a
// terminal, a plain line every few seconds otherwise (a log, a CI job).
type progress struct {
	w     io.Writer
	tty   bool
	what  string
	total int // 0 when unknown
	last  time.Time
	start time.Time
}

func newProgress(w io.Writer, what string, total int) *progress {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil {
			tty = st.Mode()&os.ModeCharDevice != 0
		}
	}
	now := time.Now()
	return &progress{w: w, tty: tty, what: what, total: total, start: now, last: now}
}

// plainEvery is how often a plain progress line is written.
const plainEvery = 5 * time.Second

func (p *progress) update(done int) {
	if p == nil || p.w == nil {
		return
	}
	now := time.Now()
	if p.tty && now.Sub(p.last) < 200*time.Millisecond || !p.tty && now.Sub(p.last) < plainEvery {
		return
	}
	p.last = now
	rate := float64(done) / now.Sub(p.start).Seconds()
	if !p.tty {
		fmt.Fprintf(p.w, "%s: %d read (%.0f/s)\n", p.what, done, rate)
		return
	}
	if p.total <= 0 {
		fmt.Fprintf(p.w, "\r%s: %d (%.0f/s)   ", p.what, done, rate)
		return
	}
	const width = 30
	filled := min(width, done*width/p.total)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = ' '
		if i < filled {
			bar[i] = '#'
		}
	}
	fmt.Fprintf(p.w, "\r%s [%s] %d/%d (%.0f/s)   ", p.what, bar, done, p.total, rate)
}

func (p *progress) done() {
	if p != nil && p.tty && p.w != nil {
		fmt.Fprintln(p.w)
	}
}
