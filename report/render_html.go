package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
)

//go:embed report.html.tmpl
var htmlTemplateText string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"mark":     func(v Verdict) string { return verdictMark[v] },
	"count":    fmtCount,
	"parity":   fmtParity,
	"lower":    fmtLower,
	"errors":   fmtErrors,
	"ms":       fmtMs,
	"pct":      func(f float64) string { return fmt.Sprintf("%.1f", math.Max(0, math.Min(100, f*100))) },
	"value":    quoteValue,
	"silence":  silenceYAML,
	"skipped":  skippedSummary,
	"lat":      fmtLatency,
	"latBars":  latencyBars,
	"absent":   func(s string) bool { return s == "" },
	"oneline":  oneLineControl,
	"thlimits": thresholdsLine,
}).Parse(htmlTemplateText))

// RenderHTML writes one self-contained HTML page — inline CSS, no scripts, no
// external assets — with step readiness, per-route parity bars, latency side by
// side and the difference paths with examples. Every value is HTML-escaped.
func RenderHTML(w io.Writer, s *Snapshot, opts RenderOptions) error {
	v, err := newView(s, opts)
	if err != nil {
		return err
	}
	ew := &errWriter{w: w}
	if err := htmlTemplate.Execute(ew, v); err != nil {
		if ew.err != nil {
			return ew.err
		}
		return fmt.Errorf("render html: %w", err)
	}
	return ew.err
}

// latencyBar is one bar of the side-by-side latency chart.
type latencyBar struct {
	Label string
	Side  string // "primary" or "candidate"
	Ms    float64
	Width string // percent of the route's slowest value, for the bar
}

// latencyBars returns p50 and p99 of both sides, scaled to the route's slowest.
func latencyBars(r *RouteStats) []latencyBar {
	if r.Latency.Primary.Count == 0 && r.Latency.Candidate.Count == 0 {
		return nil
	}
	bars := []latencyBar{
		{"p50", "primary", r.Latency.Primary.P50, ""}, {"p50", "candidate", r.Latency.Candidate.P50, ""},
		{"p99", "primary", r.Latency.Primary.P99, ""}, {"p99", "candidate", r.Latency.Candidate.P99, ""},
	}
	top := 0.0
	for _, b := range bars {
		top = math.Max(top, b.Ms)
	}
	for i := range bars {
		pct := 0.0
		if top > 0 {
			pct = bars[i].Ms / top * 100
		}
		bars[i].Width = strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", pct), "0"), ".")
	}
	return bars
}
