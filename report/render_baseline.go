package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter/tw"

	"github.com/parity-dev/parity/report/buildinfo"
)

// RenderComparisonJSON writes c as indented JSON, with "build" naming the
// parity that rendered it.
func RenderComparisonJSON(w io.Writer, c *Comparison, opts RenderOptions) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(struct {
		*Comparison
		Build buildinfo.Info `json:"build"`
	}{c, opts.build()}); err != nil {
		return fmt.Errorf("render json: %w", err)
	}
	return nil
}

func comparisonVerdict(c *Comparison) string {
	if c.Worse {
		return "WORSE"
	}
	return "NOT WORSE"
}

func fmtDelta(o, n float64) string {
	return fmt.Sprintf("%s → %s (%+.4f)", fmtRatio(o), fmtRatio(n), n-o)
}

func fmtLatencyChange(o, n float64) string { return fmtMs(o) + " → " + fmtMs(n) }

// groupLine is one changed difference group, in words.
func groupLine(g GroupChange) string {
	switch g.Change {
	case GroupNew:
		s := fmt.Sprintf("×%d, %s of requests", g.NewCount, fmtPercent(g.NewShare))
		if !g.FirstSeen.IsZero() {
			s += ", new since " + fmtClock(g.FirstSeen)
		}
		return s
	case GroupGone:
		s := fmt.Sprintf("was ×%d, %s of requests", g.OldCount, fmtPercent(g.OldShare))
		if !g.LastSeen.IsZero() {
			s += ", last seen " + fmtClock(g.LastSeen)
		}
		return s
	}
	return fmt.Sprintf("×%d → ×%d, %s → %s of requests", g.OldCount, g.NewCount, fmtPercent(g.OldShare), fmtPercent(g.NewShare))
}

// fmtClock is a seen time as a report says it: "2026-12-02 14:02 UTC".
func fmtClock(t time.Time) string { return t.Format("2006-01-02 15:04 UTC") }

// RenderComparisonTable writes c as a terminal table: a verdict line, a row
// per route, then the difference groups that are new, changed or gone.
func RenderComparisonTable(w io.Writer, c *Comparison, opts RenderOptions) error {
	ew := &errWriter{w: w}
	col := opts.Color
	color := ansiGreen
	if c.Worse {
		color = ansiRed
	}
	wrapProse(ew, termText(c.Reason), opts.Width, paint(col, color, comparisonVerdict(c))+" — ", "  ")
	wrapProse(ew, fmt.Sprintf("old %s … %s · new %s … %s", fmtTime(c.Old.Started), fmtTime(c.Old.Updated), fmtTime(c.New.Started), fmtTime(c.New.Updated)), opts.Width, "", "  ")
	fmt.Fprintln(ew)
	t := termTable{cols: []termColumn{
		{header: "Route", align: tw.AlignLeft, cut: 30},
		{header: "In", align: tw.AlignLeft, drop: 2},
		{header: "Compared", short: "N", align: tw.AlignRight, drop: 3},
		{header: "Parity old → new", short: "Parity", align: tw.AlignLeft},
		{header: "p99 candidate", short: "p99", align: tw.AlignLeft, drop: 1},
		{header: "Worse", align: tw.AlignLeft},
	}, paint: func(_, i int, cell string) string {
		if i == 5 && cell != "" {
			return paint(col, ansiRed, cell)
		}
		return cell
	}}
	for _, r := range c.Routes {
		worse := ""
		if r.Worse {
			worse = "worse: " + r.Why
		}
		t.rows = append(t.rows, []string{termText(r.Route), r.In, fmt.Sprintf("%d → %d", r.OldCompared, r.NewCompared),
			fmtDelta(r.OldParity, r.NewParity), fmtLatencyChange(r.OldP99, r.NewP99), termText(worse)})
	}
	if err := t.render(ew, opts.Width); err != nil {
		return err
	}
	first := true
	for _, r := range c.Routes {
		for _, g := range r.Groups {
			if g.Change == GroupSame {
				continue
			}
			if first {
				fmt.Fprint(ew, "\nDifferences\n")
				first = false
			}
			fmt.Fprintf(ew, "  %-7s %s  %s %s  %s\n", g.Change, termText(r.Route), termText(g.Path), g.Kind, groupLine(g))
		}
	}
	fmt.Fprintf(ew, "\n%s\n", opts.footerLine())
	return ew.err
}

// RenderComparisonMarkdown writes c for a pull-request comment.
func RenderComparisonMarkdown(w io.Writer, c *Comparison, opts RenderOptions) error {
	ew := &errWriter{w: w}
	mark := "✅ not worse"
	if c.Worse {
		mark = "❌ worse"
	}
	fmt.Fprintf(ew, "# %s\n\n**%s** — %s\n\n", mdText(opts.title()+": build to build"), mark, mdText(c.Reason))
	fmt.Fprintf(ew, "Old %s … %s · new %s … %s\n\n", fmtTime(c.Old.Started), fmtTime(c.Old.Updated), fmtTime(c.New.Started), fmtTime(c.New.Updated))
	fmt.Fprint(ew, "| Route | In | Compared | Parity old → new | p50 candidate | p99 candidate | Worse |\n| --- | --- | ---: | --- | --- | --- | --- |\n")
	for _, r := range c.Routes {
		worse := ""
		if r.Worse {
			worse = "❌ " + mdText(r.Why)
		}
		fmt.Fprintf(ew, "| %s | %s | %d → %d | %s | %s | %s | %s |\n", mdCode(r.Route), r.In, r.OldCompared, r.NewCompared,
			fmtDelta(r.OldParity, r.NewParity), fmtLatencyChange(r.OldP50, r.NewP50), fmtLatencyChange(r.OldP99, r.NewP99), worse)
	}
	fmt.Fprintln(ew)
	var lines []string
	for _, r := range c.Routes {
		for _, g := range r.Groups {
			if g.Change != GroupSame {
				lines = append(lines, fmt.Sprintf("| `%s` | %s | %s %s | %s |", g.Change, mdCode(r.Route), mdCode(g.Path), g.Kind, mdText(groupLine(g))))
			}
		}
	}
	if len(lines) > 0 {
		fmt.Fprint(ew, "## Differences new, changed or gone\n\n| Change | Route | Difference | Frequency |\n| --- | --- | --- | --- |\n")
		fmt.Fprintln(ew, strings.Join(lines, "\n"))
		fmt.Fprintln(ew)
	}
	fmt.Fprintf(ew, "<sub>%s</sub>\n", mdText(opts.footerLine()))
	return ew.err
}
