package report

import (
	"encoding/json"
	"fmt"
	"io"
)

// RenderGateText writes a gate result for a terminal: the step's verdict, then
// each route's verdict and reason in step order, saying which step first sent it.
func RenderGateText(w io.Writer, g *GateResult) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "step %d (%s): %s — %s\n", g.Step, termText(g.StepName), g.Verdict, termText(g.Reason))
	fmt.Fprintf(ew, "thresholds: %s\n", thresholdsLine(g.Thresholds))
	for _, r := range g.Routes {
		fmt.Fprintf(ew, "  %-12s %s%s: %s\n", r.Verdict, termText(r.Route), gateOrigin(g, &r), termText(r.Reason))
	}
	return ew.err
}

func gateOrigin(g *GateResult, r *RouteVerdict) string {
	if r.New {
		return " (new in this step)"
	}
	return fmt.Sprintf(" (since step %d)", r.Step)
}

// RenderGateMarkdown writes a gate result as Markdown for a CI job summary.
func RenderGateMarkdown(w io.Writer, g *GateResult) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "## Gate: step %d (%s) — %s\n\n%s.\n\nThresholds: %s.\n\n", g.Step, mdText(g.StepName), verdictMark[g.Verdict],
		mdText(g.Reason), mdText(thresholdsLine(g.Thresholds)))
	if len(g.Routes) == 0 {
		return ew.err
	}
	fmt.Fprint(ew, "| Route | Verdict | Since | Why |\n| --- | --- | --- | --- |\n")
	for _, r := range g.Routes {
		since := fmt.Sprintf("step %d", r.Step)
		if r.New {
			since = "new"
		}
		fmt.Fprintf(ew, "| %s | %s | %s | %s |\n", mdCode(r.Route), verdictMark[r.Verdict], since, mdText(r.Reason))
	}
	return ew.err
}

// RenderGateJSON writes a gate result as JSON.
func RenderGateJSON(w io.Writer, g *GateResult) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(g); err != nil {
		return fmt.Errorf("encode gate result: %w", err)
	}
	return nil
}
