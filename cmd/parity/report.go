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
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/parity-dev/parity/fixtures"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow"
)

const reportSynopsis = "[--format table|markdown|json|junit|html] [-o FILE] [--plan F] [--config F] [--title T] [--color auto|always|never] SNAPSHOT...\n       parity report --baseline OLD.json [--format table|markdown|json] [-o FILE] NEW.json"

// snapshotFetchTimeout bounds fetching one snapshot from a running proxy.
const snapshotFetchTimeout = 15 * time.Second

// snapshotMaxBytes bounds a fetched snapshot; the aggregator's caps keep real
// ones far smaller.
const snapshotMaxBytes = 256 << 20

var reportRenderers = map[string]func(io.Writer, *report.Snapshot, report.RenderOptions) error{
	"table":    report.RenderTable,
	"markdown": report.RenderMarkdown,
	"json":     report.RenderJSON,
	"junit":    report.RenderJUnit,
	"html":     report.RenderStaticHTML,
}

// runReport merges snapshots (files or a proxy's /parity/report.json URLs) and
// renders them. Exit 0 rendered, 2 usage or input error.
func runReport(ctx context.Context, c *cli, args []string) int {
	flags := c.newFlags("report", reportSynopsis)
	format := flags.String("format", "table", "output `format`: table, markdown, json, junit or html")
	out := flags.String("o", "", "write to `file` instead of standard output (written whole, then renamed into place)")
	planPath := flags.String("plan", "", "rollout plan `file` for step readiness and thresholds (default: the guide's plan, built in)")
	title := flags.String("title", "", "report `title` (default \"parity report\")")
	color := flags.String("color", "auto", "colour the table: auto (on a terminal, unless NO_COLOR is set), always or never")
	configPath := flags.String("config", "", "config `file` whose accept: entries apply (accepted differences shown, not counted)")
	baseline := flags.String("baseline", "", "compare with this older `snapshot`: exit 1 when a route got worse beyond its confidence")
	pos, code, ok := c.parse(flags, args)
	if !ok {
		return code
	}
	render, known := reportRenderers[*format]
	if !known {
		return c.usagef("report: --format %q: want table, markdown, json, junit or html", *format)
	}
	if *color != "auto" && *color != "always" && *color != "never" {
		return c.usagef("report: --color %q: want auto, always or never", *color)
	}
	if len(pos) == 0 {
		return c.usagef("report: want at least one SNAPSHOT file or URL (see 'parity report -h')")
	}
	plan, err := loadPlanFile(*planPath)
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("report: %w", err))
	}
	opts := report.RenderOptions{Title: *title, Plan: plan, Build: c.buildInfo(),
		Color: *format == "table" && (*color == "always" || *color == "auto" && *out == "" && c.colorTerminal())}
	if *out == "" {
		opts.Width = c.termWidth()
	}
	if opts, err = c.acceptOptions(*configPath, opts); err != nil {
		return c.fail(exitUsage, fmt.Errorf("report: %w", err))
	}
	var buf bytes.Buffer
	result := exitOK
	if *baseline != "" {
		if result, err = c.compareBaseline(ctx, &buf, *baseline, pos, *format, opts); err != nil {
			return c.fail(exitUsage, fmt.Errorf("report: %w", err))
		}
	} else {
		snap, err := loadSnapshots(ctx, pos)
		if err != nil {
			return c.fail(exitUsage, fmt.Errorf("report: %w", err))
		}
		if err := render(&buf, snap, opts); err != nil {
			return c.fail(exitUsage, fmt.Errorf("report: %w", err))
		}
	}
	if *out == "" {
		if _, err := c.stdout.Write(buf.Bytes()); err != nil {
			return c.fail(exitUsage, fmt.Errorf("report: write output: %w", err))
		}
		return result
	}
	if err := report.WriteFileAtomic(*out, writeBytes(buf.Bytes())); err != nil {
		return c.fail(exitUsage, fmt.Errorf("report: -o %s: %w", *out, err))
	}
	return result
}

var comparisonRenderers = map[string]func(io.Writer, *report.Comparison, report.RenderOptions) error{
	"table":    report.RenderComparisonTable,
	"markdown": report.RenderComparisonMarkdown,
	"json":     report.RenderComparisonJSON,
}

// compareBaseline renders the comparison of the old snapshot with the new
// (pos, merged), both judged under opts' acceptances, and returns exit 1 when
// a route got worse beyond its confidence.
func (c *cli) compareBaseline(ctx context.Context, w io.Writer, old string, pos []string, format string, opts report.RenderOptions) (int, error) {
	render, ok := comparisonRenderers[format]
	if !ok {
		return exitUsage, fmt.Errorf("--format %q: --baseline renders table, markdown or json", format)
	}
	before, err := loadSnapshot(ctx, old)
	if err != nil {
		return exitUsage, fmt.Errorf("--baseline: %w", err)
	}
	after, err := loadSnapshots(ctx, pos)
	if err != nil {
		return exitUsage, err
	}
	th := report.DefaultThresholds
	if opts.Plan != nil {
		th = opts.Plan.Thresholds
	}
	// The gate's always-valid interval: a route is worse only as the gate would see it.
	cmp := report.CompareSnapshots(opts.Judged(before), opts.Judged(after), report.SequenceInterval(th))
	if err := render(w, cmp, opts); err != nil {
		return exitUsage, err
	}
	if cmp.Worse {
		return exitDifferent, nil
	}
	return exitOK, nil
}

// colorTerminal reports whether standard output is a terminal that takes colour.
func (c *cli) colorTerminal() bool {
	if c.getenv("NO_COLOR") != "" || c.getenv("TERM") == "dumb" {
		return false
	}
	f, ok := c.stdout.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// termWidth is the width the terminal table is fitted to: COLUMNS when set,
// else the terminal's width when standard output is one, else 0 — a pipe or a
// file gets every column in full.
func (c *cli) termWidth() int {
	if n, err := strconv.Atoi(c.getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if f, ok := c.stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 0 {
			return w
		}
	}
	return 0
}

// loadSnapshots reads every argument (a file, or an http(s) URL of a running
// proxy's snapshot) and merges them into one.
func loadSnapshots(ctx context.Context, args []string) (*report.Snapshot, error) {
	snaps := make([]*report.Snapshot, 0, len(args))
	for _, a := range args {
		s, err := loadSnapshot(ctx, a)
		if err != nil {
			return nil, err
		}
		snaps = append(snaps, s)
	}
	merged, err := report.Merge(snaps...)
	if err != nil {
		return nil, err
	}
	return merged, nil
}

func loadSnapshot(ctx context.Context, arg string) (*report.Snapshot, error) {
	if !strings.HasPrefix(arg, "http://") && !strings.HasPrefix(arg, "https://") {
		s, err := report.ReadSnapshotFile(arg)
		if err != nil {
			return nil, errors.New(oneLineError(err))
		}
		return s, nil
	}
	u, err := url.Parse(arg)
	if err != nil {
		return nil, fmt.Errorf("snapshot URL: %s", oneLineError(err))
	}
	shown := u.Redacted()
	ctx, cancel := context.WithTimeout(ctx, snapshotFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %s", shown, oneLineError(err))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The URL is already named, without credentials.
		return nil, fmt.Errorf("fetch snapshot %s: %s", shown, oneLineError(shadow.WithoutURL(err)))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch snapshot %s: status %s", shown, resp.Status)
	}
	s, err := report.ReadSnapshot(io.LimitReader(resp.Body, snapshotMaxBytes))
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %s", shown, oneLineError(err))
	}
	return s, nil
}

// loadPlanFile reads the plan at path, or the built-in plan when path is empty.
func loadPlanFile(path string) (*report.Plan, error) {
	return parseFileOr(path, "plan", "plan.yaml", fixtures.Plan, report.ParsePlan)
}

// parseFileOr parses the file at path, or the built-in one (builtin, named
// "built-in NAME") when path is empty; a read error names the file as what.
func parseFileOr[T any](path, what, name string, builtin []byte, parse func(string, []byte) (T, error)) (T, error) {
	if path == "" {
		return parse("built-in "+name, builtin)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("read %s: %s", what, oneLineError(err))
	}
	return parse(path, data)
}

// oneLineError flattens an error message onto one line.
func oneLineError(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// writeBytes is the writer of report.WriteFileAtomic for what is already rendered.
func writeBytes(data []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}
}
