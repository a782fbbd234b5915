package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow"
	"github.com/parity-dev/parity/shadow/rules"
	"github.com/parity-dev/parity/shadow/traffic"
)

// replayFlags are `parity replay`'s flags; an empty string means "not given", so the
// environment and then the config file decide.
type replayFlags struct {
	traffic                       stringList
	primary, candidate, secondary string
	config, plan, snapshot        string
	matrix, openapi               string
	redaction                     redaction
	concurrency                   int
	rate                          float64
	timeout                       time.Duration
	allowWrites                   bool
}

// replayProgressEvery is how often a plain progress line is written when stderr is
// not a terminal; the terminal bar is redrawn at most every replayBarEvery.
const (
	replayProgressEvery = 5 * time.Second
	replayBarEvery      = 100 * time.Millisecond
)

func runReplay(ctx context.Context, c *cli, args []string) int {
	var f replayFlags
	fs := c.newFlags("replay", "--traffic FILE... [flags]")
	fs.Var(&f.traffic, "traffic", "recorded traffic `file`, HAR or NDJSON, possibly gzipped (repeatable; further files may follow as arguments)")
	fs.StringVar(&f.primary, "primary", "", "primary (SvelteKit) `URL`; env SVELTEKIT_URL, default "+rules.DefaultPrimary)
	fs.StringVar(&f.candidate, "candidate", "", "candidate (Fastify) `URL`; env FASTIFY_URL, default "+rules.DefaultCandidate)
	fs.StringVar(&f.secondary, "secondary", "", "second primary `URL`: what differs between the two primaries is noise")
	fs.StringVar(&f.config, "config", "", "configuration `file` (YAML): comparison rules, exclusions, write routes")
	fs.StringVar(&f.plan, "plan", "", "rollout plan `file` for the report, whose prefixes are route templates (default: the guide's five steps)")
	fs.StringVar(&f.matrix, "routes", "", "route matrix `file` whose routes are route templates (default: the guide's Route Parity Matrix, built in)")
	fs.StringVar(&f.openapi, "openapi", "", "OpenAPI 3.x document, `file or URL`, whose paths are route templates (overrides openapi:)")
	fs.StringVar(&f.snapshot, "snapshot", "", "write the snapshot (JSON) to this `file`")
	fs.StringVar(&f.redaction.flagFile, "redaction-key-file", "", redactionKeyUsage)
	fs.IntVar(&f.concurrency, "concurrency", shadow.DefaultReplayConcurrency, "requests in flight at once")
	fs.Float64Var(&f.rate, "rate", 0, "requests started per second (0: unlimited)")
	fs.DurationVar(&f.timeout, "timeout", shadow.DefaultReplayTimeout, "deadline of each request, body included")
	fs.BoolVar(&f.allowWrites, "allow-writes", false, "send writes to the candidate too (staging backends only)")
	pos, code, ok := c.parse(fs, args)
	if !ok {
		return code
	}
	files := append(append([]string(nil), f.traffic...), pos...)
	if len(files) == 0 {
		return c.usagef("replay: no traffic: give --traffic FILE (see 'parity replay -h')")
	}
	switch {
	case f.concurrency < 1:
		return c.usagef("replay: --concurrency %d: want at least 1", f.concurrency)
	case f.rate < 0:
		return c.usagef("replay: --rate %g: want 0 (unlimited) or more", f.rate)
	case f.timeout <= 0:
		return c.usagef("replay: --timeout %v: want a positive duration", f.timeout)
	}
	for _, fl := range []struct{ name, v string }{{"primary", f.primary}, {"candidate", f.candidate}, {"secondary", f.secondary}} {
		if u, err := url.Parse(fl.v); fl.v != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
			return c.usagef("replay: --%s %q: want an http or https URL with a host", fl.name, fl.v)
		}
	}

	f.redaction.snapshot, f.redaction.getenv = f.snapshot, c.getenv
	declared, plan, err := declaredSources(f.plan, f.matrix)
	if err != nil {
		return c.usagef("replay: %s", oneLineError(err))
	}
	agg := report.NewAggregator(report.Limits{})
	live := &rules.Live{Path: f.config, Getenv: c.getenv, Override: f.override,
		Sources: rules.Sources{Declared: declared, Learner: agg.Learner()},
		OnWarn:  func(err error) { fmt.Fprintf(c.stderr, "parity: replay: warning: %s\n", oneLineError(err)) }}
	if err := live.Reload(); err != nil {
		return c.usagef("replay: %s", oneLineError(err))
	}
	cfg, router := live.Current()
	rp := &shadow.Replayer{Router: router, Concurrency: f.concurrency, Rate: f.rate, Timeout: f.timeout, AllowWrites: f.allowWrites}
	if rp.Primary, err = cfg.PrimaryURL(); err != nil {
		return c.usagef("replay: %v", err)
	}
	if rp.Candidate, err = cfg.CandidateURL(); err != nil {
		return c.usagef("replay: %v", err)
	}
	if rp.Secondary, err = cfg.SecondaryURL(); err != nil {
		return c.usagef("replay: %v", err)
	}
	// Read every file once before sending anything: a truncated HAR or a file that
	// is not traffic stops the replay before any partial work, and the total is known.
	total := 0
	for _, name := range files {
		n, err := scanTraffic(name)
		if err != nil {
			return c.usagef("replay: %s", oneLineError(err))
		}
		total += n
	}

	rp.Observer = agg
	rp.Total = total
	prog := newReplayProgress(c, total)
	var sum shadow.ReplayStats
	sum.Skipped = map[report.SkipReason]int{}
	var runErr error
	for _, name := range files {
		if ctx.Err() != nil {
			sum.Interrupted = true
			break
		}
		stats, skipped, err := replayFile(ctx, rp, name, prog)
		addStats(&sum, stats)
		for _, s := range skipped {
			fmt.Fprintf(c.stderr, "parity: replay: %s\n", s)
		}
		if err != nil {
			runErr = err
			break
		}
	}
	prog.finish()

	snap := agg.Snapshot()
	if f.snapshot != "" {
		if err := report.WriteSnapshotFile(f.snapshot, snap); err != nil {
			return c.usagef("replay: --snapshot: %s", oneLineError(err))
		}
	}
	if err := report.RenderTable(c.stdout, snap, report.RenderOptions{Title: "parity replay", Plan: plan, Color: c.colorTerminal(), Width: c.termWidth(), Build: c.buildInfo()}); err != nil {
		return c.fail(exitUsage, fmt.Errorf("replay: render report: %w", err))
	}
	fmt.Fprintln(c.stderr, summaryLine(sum, total, f.snapshot))
	if runErr != nil {
		return c.usagef("replay: %s", oneLineError(runErr))
	}
	return exitOK
}

// override applies the flags that were given over the environment and the file.
func (f *replayFlags) override(cfg *rules.Config) error {
	overrideBackends(cfg, f.primary, f.candidate, f.secondary)
	setOpenAPI(cfg, f.openapi)
	return f.redaction.apply(cfg)
}

// openTraffic opens a traffic file ("-" is standard input).
func openTraffic(name string) (traffic.Reader, io.Closer, error) {
	if name == "-" {
		tr, err := traffic.Open("stdin", os.Stdin)
		return tr, io.NopCloser(nil), err
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, fmt.Errorf("read traffic: %w", err)
	}
	tr, err := traffic.Open(name, f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return tr, f, nil
}

// scanTraffic reads a whole file and counts its requests; standard input cannot be
// read twice and counts 0.
func scanTraffic(name string) (int, error) {
	if name == "-" {
		return 0, nil
	}
	tr, closer, err := openTraffic(name)
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	n := 0
	for {
		_, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

// replayFile replays one file and returns its stats and its skipped lines, named.
func replayFile(ctx context.Context, rp *shadow.Replayer, name string, prog *replayProgress) (shadow.ReplayStats, []string, error) {
	tr, closer, err := openTraffic(name)
	if err != nil {
		return shadow.ReplayStats{}, nil, err
	}
	defer closer.Close()
	base := prog.done()
	rp.Progress = func(done, _ int) { prog.update(base + done) }
	stats, err := rp.Run(ctx, tr)
	var skipped []string
	for _, s := range tr.Skipped() {
		skipped = append(skipped, fmt.Sprintf("%s: skipped %s", name, s.Error()))
	}
	if more := tr.SkippedCount() - len(tr.Skipped()); more > 0 {
		skipped = append(skipped, fmt.Sprintf("%s: skipped %d more bad requests", name, more))
	}
	return stats, skipped, err
}

func addStats(sum *shadow.ReplayStats, s shadow.ReplayStats) {
	sum.Read += s.Read
	sum.Compared += s.Compared
	sum.CandidateErrors += s.CandidateErrors
	sum.NotAPI += s.NotAPI
	sum.Interrupted = sum.Interrupted || s.Interrupted
	sum.Elapsed += s.Elapsed
	for k, v := range s.Skipped {
		sum.Skipped[k] += v
	}
}

// summaryLine says in one line what the replay did.
func summaryLine(s shadow.ReplayStats, total int, snapshot string) string {
	var b strings.Builder
	if s.Interrupted {
		fmt.Fprintf(&b, "replay interrupted after %d of %d requests", s.Read, total)
	} else {
		fmt.Fprintf(&b, "replayed %d requests", s.Read)
	}
	fmt.Fprintf(&b, " in %s: %d compared", s.Elapsed.Round(time.Millisecond), s.Compared)
	if s.CandidateErrors > 0 {
		fmt.Fprintf(&b, " (%d candidate errors)", s.CandidateErrors)
	}
	if len(s.Skipped) > 0 {
		reasons := make([]string, 0, len(s.Skipped))
		n := 0
		for r, c := range s.Skipped {
			reasons = append(reasons, fmt.Sprintf("%s %d", r, c))
			n += c
		}
		sort.Strings(reasons)
		fmt.Fprintf(&b, ", %d skipped (%s)", n, strings.Join(reasons, ", "))
	}
	if s.NotAPI > 0 {
		fmt.Fprintf(&b, ", %d outside /api sent to the primary only", s.NotAPI)
	}
	if snapshot != "" {
		fmt.Fprintf(&b, "; snapshot written to %s", snapshot)
	}
	return b.String()
}

// replayProgress shows how far the replay is: a bar redrawn in place on a terminal,
// a plain line every few seconds otherwise, both on stderr.
type replayProgress struct {
	w     io.Writer
	tty   bool
	total int
	start time.Time

	mu    sync.Mutex
	n     int
	last  time.Time
	drawn bool
}

func newReplayProgress(c *cli, total int) *replayProgress {
	p := &replayProgress{w: c.stderr, total: total, start: time.Now()}
	if f, ok := c.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) && c.getenv("TERM") != "dumb" {
		p.tty = true
	}
	p.last = p.start
	return p
}

func (p *replayProgress) done() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}

func (p *replayProgress) update(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n = n
	now := time.Now()
	every := replayProgressEvery
	if p.tty {
		every = replayBarEvery
	}
	if now.Sub(p.last) < every && n != p.total {
		return
	}
	p.last = now
	p.draw(now)
}

func (p *replayProgress) draw(now time.Time) {
	elapsed := now.Sub(p.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(p.n) / elapsed.Seconds()
	}
	var line string
	switch {
	case p.total > 0:
		eta := "?"
		if rate > 0 {
			eta = time.Duration(float64(p.total-p.n) / rate * float64(time.Second)).Round(time.Second).String()
		}
		line = fmt.Sprintf("%d/%d requests (%d%%), %.1f req/s, ETA %s", p.n, p.total, p.n*100/p.total, rate, eta)
	default:
		line = fmt.Sprintf("%d requests, %.1f req/s", p.n, rate)
	}
	if !p.tty {
		fmt.Fprintf(p.w, "parity: replay: %s\n", line)
		return
	}
	const width = 30
	bar := strings.Repeat(" ", width)
	if p.total > 0 {
		full := p.n * width / p.total
		bar = strings.Repeat("█", full) + strings.Repeat("░", width-full)
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s %s", bar, line)
	p.drawn = true
}

// finish ends the bar's line on a terminal.
func (p *replayProgress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
