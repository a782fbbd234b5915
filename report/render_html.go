package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// The dashboard page: one template, its stylesheet and its script, embedded
// in the binary and written inline, so the page needs nothing but itself.
var (
	//go:embed report.html.tmpl
	htmlTemplateText string
	//go:embed dashboard/dashboard.css
	dashboardCSS string
	//go:embed dashboard/dashboard.js
	dashboardJS string
)

// DashboardRefresh is how often a live page fetches report.json.
const DashboardRefresh = 3 * time.Second

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"label":     verdictLabel,
	"count":     fmtCount,
	"parity":    fmtParity,
	"lower":     fmtLower,
	"errors":    fmtErrors,
	"ms":        fmtMs,
	"pct":       func(f float64) string { return fmt.Sprintf("%.1f", math.Max(0, math.Min(100, f*100))) },
	"silence":   silenceYAML,
	"seen":      func(d DiffGroup) string { return seenLine(&d) },
	"secreason": SecurityReason,
	"habits":    habitsMeta,
	"skipped":   CountsLine[string, int64],
	"absent":    func(s string) bool { return s == "" },
	"oneline":   oneLineControl,
	"thlimits":  thresholdsLine,
	"percent":   fmtPercent,
	"method":    routeMethod,
	"path":      routePathOrKey,
	"lat":       latencyPair,
	"slower":    slowerCandidate,
	"search":    routeSearchText,
	"low":       func(r *routeView, th Thresholds) bool { return r.Compared > 0 && r.Parity < th.MinParity },
	"gap":       latencyGap,
	"reasks":    fmtReasks,
	"confirmed": fmtConfirmed,
	"learned":   fmtLearned,
	"noiseYAML": routeNoiseYAML,
}).Parse(htmlTemplateText))

// RenderHTML writes the dashboard: one self-contained page (inline style and
// script, no external asset) with the verdict, step readiness, charts of parity
// and mirrored requests per minute, a row per route (parity and its lower bound,
// counts, p50/p99 of both sides) whose details hold the difference paths with
// redacted examples and the config line that silences each, and the noise.
// Every value is HTML-escaped, and the script only ever sets text.
//
// Everything shows without JavaScript; with it, the route list can be filtered
// and sorted, and a page served over HTTP refreshes itself every
// DashboardRefresh from the report.json beside it (the admin listener's
// /parity/report.json). Opened from a file, it stays as rendered. A page that
// must never refresh is RenderStaticHTML's.
func RenderHTML(w io.Writer, s *Snapshot, opts RenderOptions) error {
	return renderHTML(w, s, opts, DashboardRefresh)
}

// RenderStaticHTML writes the page RenderHTML does, frozen on s: the page says
// so, and its script never fetches anything. For a report written to a file
// (`parity report --format html`).
func RenderStaticHTML(w io.Writer, s *Snapshot, opts RenderOptions) error {
	return renderHTML(w, s, opts, 0)
}

func renderHTML(w io.Writer, s *Snapshot, opts RenderOptions, refresh time.Duration) error {
	v, err := newView(s, opts)
	if err != nil {
		return err
	}
	p := &htmlPage{
		view:        v,
		Live:        refresh > 0,
		CSS:         template.CSS(dashboardCSS),
		Script:      template.JS(dashboardJS),
		Charts:      newCharts(s, v.Thresholds),
		NoisyRoutes: noisyRoutes(v),
		Icon:        verdictIcons[v.Verdict],
		Footer:      opts.footerLine(),
		Config: htmlConfig{RefreshMs: refresh.Milliseconds(), Icons: verdictIcons, Top: opts.top(), Thresholds: v.Thresholds,
			NeverMirrored: [2]string{neverMirroredLabel, neverMirroredReason}, SecurityReasons: securityReasons(), Rollout: opts.Autopilot},
	}
	p.Next = v.nextStep()
	if v.Compared > 0 {
		p.OverallRatio = float64(v.Matched) / float64(v.Compared)
		p.Overall = fmt.Sprintf("%.2f%%", p.OverallRatio*100)
	}
	ew := &errWriter{w: w}
	if err := htmlTemplate.Execute(ew, p); err != nil {
		if ew.err != nil {
			return ew.err
		}
		return fmt.Errorf("render html: %w", err)
	}
	return ew.err
}

// htmlPage is what the template renders: the view every renderer shares, and
// what only the dashboard shows.
type htmlPage struct {
	*view
	Live         bool
	CSS          template.CSS
	Script       template.JS
	Charts       chartsView
	NoisyRoutes  []*routeView // routes with noise or re-asks, as every renderer lists them
	Overall      string       // parity over every route, "" when nothing compared
	OverallRatio float64      // the same as a ratio
	Next         int          // the step the rollout waits on (1-based), 0 when all pass or no plan
	Icon         template.URL // the tab's icon, in the verdict's colour
	Footer       string       // which parity rendered the page
	Config       htmlConfig
}

// verdictIcons are the tab icons: a dot in each verdict's colour, as data URLs
// so that the page asks for nothing (browsers would otherwise fetch a
// /favicon.ico the admin listener does not serve).
var verdictIcons = map[Verdict]template.URL{
	Pass:         verdictIcon("1a7f37"),
	Fail:         verdictIcon("cf222e"),
	Inconclusive: verdictIcon("bf8700"),
}

func verdictIcon(rgb string) template.URL {
	return template.URL("data:image/svg+xml," + strings.ReplaceAll(strings.ReplaceAll(
		`<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><circle cx='8' cy='8' r='7' fill='#`+rgb+`'/></svg>`,
		"<", "%3C"), "#", "%23"))
}

// htmlConfig is what the script needs besides report.json to judge and draw
// as the server does; the page carries it as JSON.
type htmlConfig struct {
	RefreshMs  int64                    `json:"refresh_ms"` // 0: frozen
	Icons      map[Verdict]template.URL `json:"icons"`
	Top        int                      `json:"top"`
	Thresholds Thresholds               `json:"thresholds"`
	// NeverMirrored is the label and reason of a route never mirrored by design.
	NeverMirrored [2]string `json:"never_mirrored"`
	// SecurityReasons explains each security rule (diff.Security.Reason).
	SecurityReasons map[string]string `json:"security_reasons"`
	// Rollout: the page polls the autopilot's status beside it.
	Rollout bool `json:"rollout,omitempty"`
}

// nextStep is the first step not passing after those that pass, or 0.
func (v *view) nextStep() int {
	for _, s := range v.Steps {
		if s.Verdict != Pass {
			return s.Number
		}
	}
	return 0
}

// verdictLabel is a verdict as the dashboard words it.
func verdictLabel(v Verdict) string {
	if v == Inconclusive {
		return "not yet"
	}
	return string(v)
}

func routeMethod(r *RouteStats) string {
	if r.Method == "" && r.Route == OtherRoute {
		return ""
	}
	return methodOf(r.Route)
}

// routePathOrKey is the path of a route key, or the key when it has none.
func routePathOrKey(r *RouteStats) string {
	if p := RoutePath(r.Route); p != "" {
		return p
	}
	return r.Route
}

// latencyPair is "primary · candidate" at quantile q (50 or 99).
func latencyPair(r *RouteStats, q int) string {
	p, c := r.Latency.Primary, r.Latency.Candidate
	if p.Count == 0 && c.Count == 0 {
		return "-"
	}
	return fmtLatencyQ(p, q) + " · " + fmtLatencyQ(c, q)
}

// latencyGap is how much slower the candidate is at quantile q, in ms (0
// without both sides), for sorting.
func latencyGap(r *RouteStats, q int) string {
	p, c := r.Latency.Primary, r.Latency.Candidate
	if p.Count == 0 || c.Count == 0 {
		return "0"
	}
	g := c.P99 - p.P99
	if q == 50 {
		g = c.P50 - p.P50
	}
	return strconv.FormatFloat(g, 'f', -1, 64)
}

// slowerCandidate reports whether the candidate's p99 breaks the latency
// threshold (whatever the sample count), to colour it.
func slowerCandidate(r *RouteStats, th Thresholds) bool {
	c, p := r.Latency.Candidate.P99, r.Latency.Primary.P99
	if r.Latency.Candidate.Count == 0 || r.Latency.Primary.Count == 0 || th.MaxP99Ratio <= 0 {
		return false
	}
	return c > th.MaxP99Ratio*p && c-p > th.P99FloorMs
}

// routeSearchText is what the filter box matches a route on: its key, verdict
// and difference paths, lower-cased.
func routeSearchText(r *routeView) string {
	parts := []string{r.Route, string(r.Verdict), r.Label()}
	for _, d := range r.Differences {
		parts = append(parts, d.Path)
	}
	return strings.ToLower(strings.Join(parts, " "))
}
