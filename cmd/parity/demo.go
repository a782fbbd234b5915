package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/parity-dev/parity/fixtures"
	"github.com/parity-dev/parity/fixtures/standin"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/report/route"
	"github.com/parity-dev/parity/shadow"
	"github.com/parity-dev/parity/shadow/rules"
	"github.com/parity-dev/parity/shadow/traffic"
)

const demoSynopsis = "[-o FILE | --out DIR] [--format table|markdown|json] [--seed N] [--rounds N]"

// demoRounds is how many times the demo replays the recorded traffic by
// default: a few dozen requests per route are too few for the gate to pass a
// route at the plan's confidence (it says how many more it needs); ten rounds
// give each of step 1's routes about 550 requests, enough to bound its p99.
const demoRounds = 10

// demoHTML is where the demo writes its HTML report unless told otherwise.
const demoHTML = "parity-report.html"

// demoRenderers are the demo's terminal outputs: the report, then each step's gate.
var demoRenderers = map[string]struct {
	report func(io.Writer, *report.Snapshot, report.RenderOptions) error
	gate   func(io.Writer, *report.GateResult) error
}{
	"table":    {report.RenderTable, report.RenderGateText},
	"markdown": {report.RenderMarkdown, report.RenderGateMarkdown},
	"json":     {report.RenderJSON, report.RenderGateJSON},
}

// runDemo runs the whole loop with nothing set up: stand-in backends on loopback,
// the built-in recorded traffic replayed through parity, the report, the gate of
// every rollout step, and the HTML report on disk. Exit 0 when the demo ran.
func runDemo(ctx context.Context, c *cli, args []string) int {
	flags := c.newFlags("demo", demoSynopsis)
	htmlPath := flags.String("o", "", "write the HTML report to `file` (default "+demoHTML+" in the current directory)")
	outDir := flags.String("out", "", "write the HTML report and the snapshot (snapshot.json) into `dir`, created if missing")
	format := flags.String("format", "table", "terminal output `format`: table, markdown or json (a stream of JSON documents: the snapshot, then one gate result per step)")
	seed := flags.Int64("seed", 0, "`seed` of the stand-ins' data set (the findings do not depend on it)")
	rounds := flags.Int("rounds", demoRounds, "replay the recorded traffic `N` times (1 to 100)")
	pos, code, ok := c.parse(flags, args)
	if !ok {
		return code
	}
	render, known := demoRenderers[*format]
	switch {
	case len(pos) > 0:
		return c.usagef("demo: unexpected argument %q (see 'parity demo -h')", pos[0])
	case !known:
		return c.usagef("demo: --format %q: want table, markdown or json", *format)
	case *htmlPath != "" && *outDir != "":
		return c.usagef("demo: give -o FILE or --out DIR, not both")
	case *rounds < 1 || *rounds > 100:
		return c.usagef("demo: --rounds %d: want 1 to 100", *rounds)
	}
	color, width := *format == "table" && c.colorTerminal(), 0
	if *format == "table" {
		// The whole story fits the terminal: the report's table is fitted,
		// every other long line wrapped at word boundaries.
		if width = c.termWidth(); width > 0 {
			lw := report.NewLineWrapper(c.stdout, width)
			defer lw.Flush()
			wrapped := *c
			wrapped.stdout = lw
			c = &wrapped
		}
	}
	out := demoOutputs{html: *htmlPath, dir: *outDir}
	if err := out.prepare(); err != nil {
		return c.usagef("demo: %s", oneLineError(err))
	}

	// Say what is happening on stdout, unless stdout is for JSON.
	say := c.stdout
	if *format == "json" {
		say = c.stderr
	}
	fmt.Fprintf(say, "parity demo: starting stand-in backends on loopback and replaying %d recorded requests %d times...\n",
		bytes.Count(fixtures.TrafficNDJSON, []byte("\n")), *rounds)
	run, err := runDemoLoop(ctx, *seed, *rounds)
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("demo: %s", oneLineError(err)))
	}
	writeDemoIntro(say, run)

	opts := report.RenderOptions{Title: "parity demo", Plan: run.plan, Build: c.buildInfo()}
	ttyOpts := opts
	ttyOpts.Color, ttyOpts.Width = color, width
	if err := render.report(c.stdout, run.snapshot, ttyOpts); err != nil {
		return c.fail(exitUsage, fmt.Errorf("demo: render report: %w", err))
	}
	fmt.Fprintf(say, "\nThe gate, step by step (the cutover guide's rollout plan). Each step re-checks the\n"+
		"routes of the steps before it; only the routes it adds are listed. Each verdict gives its\n"+
		"evidence: estimate [interval] over the samples, at the plan's confidence however often\n"+
		"the gate looks; an inconclusive one says about how many more requests it needs.\n\n")
	for _, g := range run.gates {
		if *format != "json" {
			g = addedRoutes(g)
		}
		if err := render.gate(c.stdout, g); err != nil {
			return c.fail(exitUsage, fmt.Errorf("demo: render gate: %w", err))
		}
		if *format != "json" {
			fmt.Fprintln(c.stdout)
		}
	}
	writeCandidateProof(say, run)

	written, err := out.write(run.snapshot, opts)
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("demo: %s", oneLineError(err)))
	}
	for _, w := range written {
		fmt.Fprintf(say, "%s\n", w)
	}
	return exitOK
}

// demoRun is everything one demo loop produced.
type demoRun struct {
	snapshot *report.Snapshot
	plan     *report.Plan
	gates    []*report.GateResult // one per step, in order
	stats    shadow.ReplayStats
	router   *rules.Router

	primaryURL, secondaryURL, candidateURL string
	// What each stand-in received, so what reached the candidate can be proven.
	primary, secondary, candidate *standin.Counter
}

// runDemoLoop starts the three stand-ins (SvelteKit, a second SvelteKit instance to
// learn noise from, Fastify), replays the built-in traffic rounds times under the
// example configuration, and judges every step of the built-in plan. The
// stand-ins are stopped before it returns.
func runDemoLoop(ctx context.Context, seed int64, rounds int) (run *demoRun, err error) {
	return runDemoLoopFixed(ctx, seed, rounds, nil)
}

// runDemoLoopFixed is runDemoLoop on a Fastify stand-in without the planted
// regressions fixed names (standin.Options.Fixed): the next build.
func runDemoLoopFixed(ctx context.Context, seed int64, rounds int, fixed []string) (run *demoRun, err error) {
	run = &demoRun{primary: &standin.Counter{}, secondary: &standin.Counter{}, candidate: &standin.Counter{}}
	backends := []struct {
		h   http.Handler
		url *string
	}{
		{standin.NewSvelteKit(standin.Options{Instance: "sveltekit-1", Seed: seed, Counter: run.primary}), &run.primaryURL},
		{standin.NewSvelteKit(standin.Options{Instance: "sveltekit-2", Seed: seed, Counter: run.secondary}), &run.secondaryURL},
		{standin.NewFastify(standin.Options{Instance: "fastify-1", Seed: seed, Counter: run.candidate, Fixed: fixed}), &run.candidateURL},
	}
	for _, b := range backends {
		srv, err := standin.Start(b.h)
		if err != nil {
			return nil, err
		}
		defer func() {
			stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if cerr := srv.Close(stop); cerr != nil && err == nil {
				err = cerr
			}
		}()
		*b.url = srv.URL
	}

	cfg, err := rules.ParseConfig("parity.yaml", fixtures.ExampleConfig)
	if err != nil {
		return nil, fmt.Errorf("built-in example config: %w", err)
	}
	cfg.Primary, cfg.Secondary, cfg.Candidate = run.primaryURL, run.secondaryURL, run.candidateURL
	declared, plan, err := declaredSources("", "")
	if err != nil {
		return nil, fmt.Errorf("built-in route sources: %w", err)
	}
	run.plan = plan
	agg := report.NewAggregator(report.Limits{})
	if run.router, err = rules.NewRouterFrom(cfg, rules.Sources{Declared: declared, Learner: agg.Learner()}); err != nil {
		return nil, fmt.Errorf("built-in example config: %w", err)
	}

	rp := &shadow.Replayer{Router: run.router, Observer: agg}
	for _, u := range []struct {
		dst **url.URL
		raw string
	}{{&rp.Primary, run.primaryURL}, {&rp.Secondary, run.secondaryURL}, {&rp.Candidate, run.candidateURL}} {
		if *u.dst, err = url.Parse(u.raw); err != nil {
			return nil, fmt.Errorf("stand-in URL %q: %w", u.raw, err)
		}
	}
	tr, err := traffic.Open("portal.ndjson", bytes.NewReader(bytes.Repeat(fixtures.TrafficNDJSON, max(rounds, 1))))
	if err != nil {
		return nil, fmt.Errorf("built-in traffic: %w", err)
	}
	if run.stats, err = rp.Run(ctx, tr); err != nil {
		return nil, fmt.Errorf("replay built-in traffic: %w", err)
	}

	run.snapshot = agg.Snapshot()
	for _, step := range run.plan.Steps {
		g, err := report.Judge(run.snapshot, run.plan, step.Number, run.plan.Thresholds)
		if err != nil {
			return nil, fmt.Errorf("judge step %d: %w", step.Number, err)
		}
		run.gates = append(run.gates, g)
	}
	return run, nil
}

// addedRoutes returns g listing only the routes its step newly sends to the
// candidate; its verdict still covers those of the earlier steps.
func addedRoutes(g *report.GateResult) *report.GateResult {
	cp := *g
	cp.Routes = nil
	for _, r := range g.Routes {
		if r.New {
			cp.Routes = append(cp.Routes, r)
		}
	}
	return &cp
}

func writeDemoIntro(w io.Writer, run *demoRun) {
	fmt.Fprintf(w, "  primary    SvelteKit stand-in  %s\n", run.primaryURL)
	fmt.Fprintf(w, "  secondary  SvelteKit stand-in  %s  (a second instance: what differs between the two is noise)\n", run.secondaryURL)
	fmt.Fprintf(w, "  candidate  Fastify stand-in    %s  (%d planted regressions, see fixtures/standin/README.md)\n",
		run.candidateURL, len(standin.Regressions))
	s := run.stats
	fmt.Fprintf(w, "Replayed %d requests in %v: %d compared, %d skipped (%s), %d candidate errors.",
		s.Read, s.Elapsed.Round(time.Millisecond), s.Compared, total(s.Skipped), reasons(s.Skipped), s.CandidateErrors)
	if s.Interrupted {
		fmt.Fprint(w, " Interrupted: the report covers what was done.")
	}
	fmt.Fprint(w, "\n\n")
}

// candidateProof lists what reached the candidate that never should have: requests
// under /api/auth in any spelling, and writes on routes the configuration does not
// opt in.
func candidateProof(run *demoRun) (writes int, auth, unopted []string) {
	for key, n := range run.candidate.Counts() {
		method, path, _ := strings.Cut(key, " ")
		canon, _ := route.Canonicalize(path)
		if route.IsAuth(canon) {
			auth = append(auth, key)
			continue
		}
		if method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions {
			continue
		}
		writes += n
		req, err := http.NewRequest(method, path, nil)
		if err != nil || !run.router.Decide(req).Mirror {
			unopted = append(unopted, key)
		}
	}
	sort.Strings(auth)
	sort.Strings(unopted)
	return writes, auth, unopted
}

func writeCandidateProof(w io.Writer, run *demoRun) {
	writes, auth, unopted := candidateProof(run)
	fmt.Fprintf(w, "The Fastify stand-in received %d requests (it counts them): ", run.candidate.Total())
	if len(auth) == 0 {
		fmt.Fprint(w, "none under /api/auth; ")
	} else {
		fmt.Fprintf(w, "UNDER /api/auth: %s; ", strings.Join(auth, ", "))
	}
	if len(unopted) == 0 {
		fmt.Fprintf(w, "%d writes, all on routes the configuration opts in.\n", writes)
	} else {
		fmt.Fprintf(w, "%d writes, on routes NOT opted in: %s.\n", writes, strings.Join(unopted, ", "))
	}
}

func total(m map[report.SkipReason]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// reasons renders skip counts as "auth 33, write_method 21", sorted by
// reason, or "none".
func reasons(m map[report.SkipReason]int) string {
	if len(m) == 0 {
		return "none"
	}
	return report.CountsLine(m)
}

// demoOutputs says where the demo writes its files: the HTML report (-o FILE, by
// default demoHTML here), or the report and the snapshot into a directory (--out).
type demoOutputs struct {
	html string
	dir  string
}

// prepare checks that the outputs can be written before any work is done.
func (o *demoOutputs) prepare() error {
	if o.dir != "" {
		if err := os.MkdirAll(o.dir, 0o755); err != nil {
			return fmt.Errorf("--out %s: %w", o.dir, err)
		}
		return nil
	}
	if o.html == "" {
		o.html = demoHTML
	}
	if fi, err := os.Stat(o.html); err == nil && fi.IsDir() {
		return fmt.Errorf("-o %s: is a directory", o.html)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("-o %s: %w", o.html, err)
	}
	return nil
}

// write writes the files and returns one line per file saying where it is.
func (o *demoOutputs) write(snap *report.Snapshot, opts report.RenderOptions) ([]string, error) {
	htmlPath := o.html
	if o.dir != "" {
		htmlPath = filepath.Join(o.dir, demoHTML)
	}
	var page bytes.Buffer
	if err := report.RenderStaticHTML(&page, snap, opts); err != nil {
		return nil, fmt.Errorf("render HTML report: %w", err)
	}
	if err := report.WriteFileAtomic(htmlPath, writeBytes(page.Bytes())); err != nil {
		return nil, fmt.Errorf("write HTML report: %w", err)
	}
	lines := []string{"HTML report: " + absPath(htmlPath)}
	if o.dir != "" {
		snapPath := filepath.Join(o.dir, "snapshot.json")
		if err := report.WriteSnapshotFile(snapPath, snap); err != nil {
			return nil, fmt.Errorf("write snapshot: %w", err)
		}
		lines = append(lines, fmt.Sprintf("Snapshot: %s (try: parity gate --step 1 %s)", absPath(snapPath), snapPath))
	}
	return lines, nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
