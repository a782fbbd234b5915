package report

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter/tw"

	"github.com/parity-dev/parity/report/buildinfo"
)

// RenderOptions shape every renderer's output. The zero value is usable.
type RenderOptions struct {
	// Title heads the report; default "parity report".
	Title string
	// Plan, when set, adds step readiness and judges routes by its thresholds;
	// without it routes are judged by DefaultThresholds.
	Plan *Plan
	// Color enables ANSI colours in the terminal table; set it only when writing
	// to a terminal.
	Color bool
	// Width, when positive, is the terminal's width in columns: the terminal
	// table drops and abbreviates columns rather than let rows wrap, and prose
	// is wrapped at word boundaries. Zero writes every column in full (pipes
	// and files).
	Width int
	// TopDifferences is how many difference groups each route shows; default 5.
	TopDifferences int
	// Build is the parity build every report's footer names; zero means the
	// running binary's (buildinfo.Get).
	Build buildinfo.Info

	held heldLatency // latency of a display snapshot (see Aggregator.ForDisplay)

	// Accepted, when set, gives the acceptances (the config's accept:) that
	// every renderer applies (Accept) at Now before judging; nil = none.
	Accepted func() []Acceptance
	// Now is the clock acceptances are judged by; nil = time.Now.
	Now func() time.Time
	// Autopilot, on a live page, draws the autopilot's timeline from the
	// rollout status beside the page (the admin listener's /parity/rollout).
	Autopilot bool
}

// Judged returns s with o's acceptances applied (see Accept); s itself when
// there are none.
func (o RenderOptions) Judged(s *Snapshot) *Snapshot {
	if o.Accepted == nil {
		return s
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	return Accept(s, o.Accepted(), now())
}

// runningBuild is the build a zero RenderOptions.Build stands for; tests pin it.
var runningBuild = buildinfo.Get

func (o RenderOptions) build() buildinfo.Info {
	if o.Build == (buildinfo.Info{}) {
		return runningBuild()
	}
	return o.Build
}

// footerLine is every report's last word: which parity rendered it.
func (o RenderOptions) footerLine() string { return "Rendered by " + o.build().String() }

// RenderJSON writes the snapshot JSON, as WriteSnapshot does, with each
// route's verdict and its evidence beside the routes and "build" naming the
// parity that rendered it (see writeJudged).
func RenderJSON(w io.Writer, s *Snapshot, opts RenderOptions) error {
	if s == nil {
		return fmt.Errorf("render: no snapshot")
	}
	return writeJudged(w, opts.Judged(s), opts)
}

const (
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

func paint(on bool, code, s string) string {
	if !on {
		return s
	}
	return code + s + ansiReset
}

func verdictColor(v Verdict) string {
	switch v {
	case Pass:
		return ansiGreen
	case Fail:
		return ansiRed
	}
	return ansiYellow
}

// RenderTable writes a terminal table, worst parity first, then each failing or
// differing route's top differences with an example.
func RenderTable(w io.Writer, s *Snapshot, opts RenderOptions) error {
	v, err := newView(s, opts)
	if err != nil {
		return err
	}
	ew := &errWriter{w: w}
	c, width := opts.Color, opts.Width
	fmt.Fprintf(ew, "%s\n", paint(c, ansiBold, termText(v.Title)))
	wrapProse(ew, termText(v.Headline), width, paint(c, verdictColor(v.Verdict), strings.ToUpper(string(v.Verdict)))+" — ", "  ")
	wrapProse(ew, fmt.Sprintf("%s … %s · %d routes · %s compared · %s matched · %s candidate errors · %s",
		v.Started, v.Updated, len(v.Routes), fmtCount(v.Compared), fmtCount(v.Matched), fmtCount(v.CandidateErrors), v.skippedText()), width, "", "  ")
	wrapProse(ew, thresholdsLine(v.Thresholds), width, "thresholds: ", "  ")
	fmt.Fprintln(ew)
	if ew.err != nil {
		return ew.err
	}
	verdictCell := func(col int) func(int, int, string) string {
		return func(_, i int, cell string) string {
			if i == col {
				return paint(c, verdictColor(Verdict(cell)), cell)
			}
			return cell
		}
	}

	if len(v.Steps) > 0 {
		st := termTable{cols: []termColumn{
			{header: "Step", align: tw.AlignRight}, {header: "Name", align: tw.AlignLeft, cut: 12},
			{header: "Verdict", align: tw.AlignLeft}, {header: "Why", align: tw.AlignLeft, cut: 16, drop: 1},
		}, paint: verdictCell(2)}
		for _, s := range v.Steps {
			st.rows = append(st.rows, []string{fmt.Sprint(s.Number), termText(s.Name), string(s.Verdict), termText(s.Reason)})
		}
		if err := st.render(ew, width); err != nil {
			return err
		}
		fmt.Fprintln(ew)
	}

	t := termTable{cols: []termColumn{
		{header: "Route", align: tw.AlignLeft, cut: 40},
		{header: "Verdict", align: tw.AlignLeft},
		{header: "Compared", short: "N", align: tw.AlignRight},
		{header: "Parity", align: tw.AlignRight},
		{header: "Lower 95%", short: "Low 95%", align: tw.AlignRight, drop: 6},
		{header: "Cand. errors", short: "Errors", align: tw.AlignRight, drop: 2},
		{header: "401/403", align: tw.AlignRight, drop: 5},
		{header: "p99 primary", short: "p99 P", align: tw.AlignRight, drop: 4},
		{header: "p99 candidate", short: "p99 C", align: tw.AlignRight, drop: 3},
		{header: "Top difference", align: tw.AlignLeft, cut: 16, drop: 1},
	}, paint: verdictCell(1)}
	for i := range v.Routes {
		r := &v.Routes[i]
		verdict := string(r.Verdict)
		if r.NeverMirrored {
			verdict = neverMirroredLabel
		}
		t.rows = append(t.rows, []string{termText(r.Route), verdict, fmtCount(r.Compared), fmtParity(r.RouteStats),
			fmtLower(r.RouteStats), fmtErrors(r.RouteStats), fmt.Sprint(r.CandidateAuthFailures),
			fmtLatency(r.Latency.Primary), fmtLatency(r.Latency.Candidate), termText(topDifference(r))})
	}
	if err := t.render(ew, width); err != nil {
		return err
	}

	first := true
	for i := range v.Routes {
		r := &v.Routes[i]
		if (r.Verdict == Pass || len(r.Top) == 0 && r.Verdict != Fail) && !r.budgetSampled() {
			continue
		}
		if first {
			fmt.Fprintf(ew, "\n%s\n", paint(c, ansiBold, "Why"))
			first = false
		}
		wrapProse(ew, termText(r.Reason), width, fmt.Sprintf("  %s  %s: ", termText(r.Route), paint(c, verdictColor(r.Verdict), string(r.Verdict))), "      ")
		for _, d := range r.Top {
			line := fmt.Sprintf("%s %s ×%d", termText(d.Path), termText(d.Kind), d.Count)
			if d.Security != "" {
				line = paint(c, ansiRed, "SECURITY") + " " + line + "  (" + securityNote(&d) + ")"
			}
			if len(d.Examples) > 0 {
				e := d.Examples[0]
				line += fmt.Sprintf("  e.g. %s %s: %s → %s", termText(e.RequestID), termText(e.Path), showValue(e.Primary), showValue(e.Candidate))
			}
			wrapProse(ew, line, width, "    ", "        ")
			if d.Accepted != nil {
				wrapProse(ew, termText(d.Accepted.Note), width, "      ", "        ")
			}
		}
		if r.MoreDiffs > 0 {
			fmt.Fprintf(ew, "    … and %d more difference paths\n", r.MoreDiffs)
		}
	}
	if err := writeNoiseTable(ew, v, c, width); err != nil {
		return err
	}
	if lines, habits := habitLines(v); len(lines) > 0 {
		fmt.Fprintf(ew, "\n%s\n", paint(c, ansiBold, habitsHeading))
		for _, line := range lines {
			wrapProse(ew, termText(line), width, "  ", "    ")
		}
		for _, h := range habits {
			wrapProse(ew, "silence "+h+" with "+habitSilence(h), width, "  ", "    ")
		}
	}
	if len(s.Learned) > 0 {
		fmt.Fprintf(ew, "\n%s\n", paint(c, ansiBold, "Route templates learned from traffic (pin them in the config)"))
		for _, l := range s.Learned {
			keep := ""
			if len(l.Keep) > 0 {
				keep = " (kept apart: " + strings.Join(l.Keep, ", ") + ")"
			}
			fmt.Fprintf(ew, "  %s%s\n", termText(l.Template), termText(keep))
			for _, line := range strings.Split(strings.TrimSuffix(l.Config, "\n"), "\n") {
				fmt.Fprintf(ew, "      %s\n", termText(line))
			}
		}
	}
	if len(v.Cut) > 0 {
		fmt.Fprintf(ew, "\n%s\n", paint(c, ansiBold, "Cut by memory caps"))
		for _, line := range v.Cut {
			wrapProse(ew, line, width, "  ", "    ")
		}
	}
	fmt.Fprintln(ew)
	wrapProse(ew, opts.footerLine(), width, "", "  ")
	return ew.err
}

// writeNoiseTable writes the noise section: every noisy route's patterns, how
// often re-asks confirmed each, whether it is learned, and the config that keeps
// them out for good.
func writeNoiseTable(ew *errWriter, v *view, c bool, width int) error {
	routes := noisyRoutes(v)
	if len(routes) == 0 {
		return nil
	}
	fmt.Fprintf(ew, "\n%s\n", paint(c, ansiBold, noiseHeading))
	// Indented under its heading, like the other sections after the route table.
	var tb bytes.Buffer
	t := termTable{cols: []termColumn{
		{header: "Route", align: tw.AlignLeft, cut: 24},
		{header: "Path", align: tw.AlignLeft, cut: 16},
		{header: "Left out", short: "N", align: tw.AlignRight},
		{header: "Confirmed by re-asks", short: "Confirmed", align: tw.AlignRight, drop: 2},
		{header: "Learned", align: tw.AlignLeft, drop: 1},
	}}
	for _, r := range routes {
		for _, n := range r.Noise {
			t.rows = append(t.rows, []string{termText(r.Route), termText(n.Path), fmtCount(n.Count), fmtConfirmed(n), fmtLearned(n)})
		}
	}
	if err := t.render(&tb, max(width-2, 0)); err != nil {
		return err
	}
	for _, line := range strings.SplitAfter(tb.String(), "\n") {
		if line != "" {
			fmt.Fprintf(ew, "  %s", line)
		}
	}
	for _, r := range routes {
		fmt.Fprintf(ew, "  %s: %s\n", termText(r.Route), fmtReasks(r.RouteStats))
		if y := routeNoiseYAML(r.RouteStats); y != "" {
			fmt.Fprintf(ew, "    to make it permanent, in the config:\n")
			for _, line := range strings.Split(strings.TrimSuffix(y, "\n"), "\n") {
				fmt.Fprintf(ew, "      %s\n", termText(line))
			}
		}
	}
	return ew.err
}

// noiseHeading heads every renderer's noise section.
const noiseHeading = "Noise — differs between two primaries too, left out of parity"

// noisyRoutes are the routes of v with noise or re-ask activity, in v's order.
func noisyRoutes(v *view) []*routeView {
	var out []*routeView
	for i := range v.Routes {
		if r := &v.Routes[i]; len(r.Noise) > 0 || r.Reasks > 0 || r.ReaskDropped > 0 {
			out = append(out, r)
		}
	}
	return out
}

// fmtConfirmed says how often re-asks confirmed a noise pattern: "4 of 5 re-asks",
// or "-" when no re-ask tested it (noise left out as already learned only).
func fmtConfirmed(n NoiseCount) string {
	if n.Reasks == 0 {
		return "-"
	}
	return fmt.Sprintf("%s of %s", fmtCount(n.Confirmed), reasksWord(n.Reasks))
}

func fmtLearned(n NoiseCount) string {
	if n.Learned {
		return "learned"
	}
	return "not yet"
}

// fmtReasks is a route's re-ask counts in a few words.
func fmtReasks(r *RouteStats) string {
	s := reasksWord(r.Reasks) + " answered"
	if r.ReaskDropped > 0 {
		s += fmt.Sprintf(", %s dropped", fmtCount(r.ReaskDropped))
	}
	return s
}

func reasksWord(n int64) string {
	if n == 1 {
		return "1 re-ask"
	}
	return fmtCount(n) + " re-asks"
}

// ignoreLine is the one config line that keeps noise pattern p out of route r
// for good, and where it goes: "ignore: [p] under - match: ROUTE".
func ignoreLine(route, p string) string {
	if route == OtherRoute {
		return ""
	}
	return fmt.Sprintf("ignore: [%s] under - match: %s", yamlScalar(p), yamlScalar(route))
}

// routeNoiseYAML is the config that ignores every noise pattern of r for good;
// "" for OtherRoute or a route without noise.
func routeNoiseYAML(r *RouteStats) string {
	if r.Route == OtherRoute || len(r.Noise) == 0 {
		return ""
	}
	paths := make([]string, len(r.Noise))
	for i, n := range r.Noise {
		paths[i] = yamlScalar(n.Path)
	}
	slices.Sort(paths)
	return fmt.Sprintf("routes:\n  - match: %s\n    ignore: [%s]\n", yamlScalar(r.Route), strings.Join(paths, ", "))
}

// showValue renders an example value for a terminal: termText, or "(absent)"
// when empty.
func showValue(s string) string {
	if s == "" {
		return "(absent)"
	}
	return termText(s)
}

// termText puts s on one line with control characters (escape sequences
// included) replaced by spaces, so no value can drive the terminal.
func termText(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// errWriter keeps the first write error so rendering code can write freely and
// check once.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = fmt.Errorf("write report: %w", err)
	}
	return n, err
}
