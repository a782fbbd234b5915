package report

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// view is what every renderer shows, computed once from a snapshot: route
// verdicts, worst parity first, step readiness and totals.
type view struct {
	Title      string
	Started    string
	Updated    string
	Thresholds Thresholds
	Verdict    Verdict
	Headline   string // the verdict in one sentence
	Steps      []stepView
	Routes     []routeView

	Compared, Matched, Mismatched, CandidateErrors, AuthFailures, Skipped int64
	RoutesOverflowed                                                      int64
	Pass, Fail, Inconclusive                                              int
	Cut                                                                   []string // what caps cut, one sentence each

	// BudgetSkipped is the part of Skipped left uncompared by the comparison
	// budget (SkipCompareBudget): requests that had both answers, and are no
	// evidence either way.
	BudgetSkipped int64
}

type routeView struct {
	*RouteStats
	Verdict Verdict
	Reason  string
	// NeverMirrored marks a route that is never mirrored by design (everything
	// it saw was skipped under the auth rule): inconclusive for the gate, but
	// no evidence will ever come, and no one should wait for it.
	NeverMirrored bool
	Step          int // first plan step that sends it; 0 for none or no plan
	Top           []DiffGroup
	MoreDiffs     int // groups beyond Top
}

// stepView is a step judged; report.json carries it for the live dashboard,
// which shows it as it is.
type stepView struct {
	Number   int     `json:"number"`
	Name     string  `json:"name"`
	Validate string  `json:"validate"`
	Verdict  Verdict `json:"verdict"`
	Reason   string  `json:"reason"`
	Routes   int     `json:"routes"`
	Pass     int     `json:"pass"`
	Fail     int     `json:"fail"`
	Inc      int     `json:"inc"`
}

const defaultTitle = "parity report"

func (o RenderOptions) title() string {
	if strings.TrimSpace(o.Title) == "" {
		return defaultTitle
	}
	return o.Title
}

func (o RenderOptions) top() int {
	if o.TopDifferences <= 0 {
		return 5
	}
	return o.TopDifferences
}

func (o RenderOptions) thresholds() Thresholds {
	if o.Plan != nil {
		return o.Plan.Thresholds
	}
	return DefaultThresholds
}

// newView prepares s for rendering under opts.
func newView(s *Snapshot, opts RenderOptions) (*view, error) {
	if s == nil {
		return nil, fmt.Errorf("render: no snapshot")
	}
	s = opts.Judged(s)
	th := opts.thresholds()
	v := &view{
		Title:            opts.title(),
		Started:          fmtTime(s.Started),
		Updated:          fmtTime(s.Updated),
		Thresholds:       th,
		RoutesOverflowed: s.RoutesOverflowed,
	}
	evs := make(map[*RouteStats]*Evidence, len(s.Routes))
	for i := range s.Routes {
		r := &s.Routes[i]
		ev := routeEvidence(r, th, opts.held)
		evs[r] = ev
		verdict := ev.Verdict
		// Every renderer's "lower" is the verdict's: the always-valid bound at the
		// plan's confidence, not the snapshot's fixed-sample Wilson bound.
		shown := *r
		if ev.Parity.Samples > 0 {
			shown.ParityLower = ev.Parity.Lower
		}
		rv := routeView{RouteStats: &shown, Verdict: verdict, Reason: ev.Reason}
		if verdict == Inconclusive && neverMirrored(r) {
			rv.NeverMirrored, rv.Reason = true, neverMirroredReason
		}
		rv.Step = opts.stepOf(r.Route)
		n := min(opts.top(), len(r.Differences))
		rv.Top, rv.MoreDiffs = securityFirst(r.Differences)[:n], len(r.Differences)-n
		v.Routes = append(v.Routes, rv)
		v.Compared += r.Compared
		v.Matched += r.Matched
		v.Mismatched += r.Mismatched
		v.CandidateErrors += r.CandidateErrors
		v.AuthFailures += r.CandidateAuthFailures
		v.Skipped += r.SkippedTotal()
		v.BudgetSkipped += r.Skipped[string(SkipCompareBudget)]
		v.tally(verdict, rv.NeverMirrored)
		if r.DifferencesDropped > 0 {
			v.Cut = append(v.Cut, fmt.Sprintf("%s: %d differences over the cap of %d paths were counted but not grouped", r.Route, r.DifferencesDropped, s.Limits.PathsPerRoute))
		}
		if r.DifferencesOmitted > 0 {
			v.Cut = append(v.Cut, fmt.Sprintf("%s: %d differences were left out of comparison results over their bound", r.Route, r.DifferencesOmitted))
		}
		if r.NoiseDropped > 0 {
			v.Cut = append(v.Cut, fmt.Sprintf("%s: %d noise occurrences over the cap of %d patterns were not grouped", r.Route, r.NoiseDropped, s.Limits.PathsPerRoute))
		}
	}
	if s.RoutesOverflowed > 0 {
		v.Cut = append([]string{fmt.Sprintf("%d requests on routes beyond the cap of %d were counted under %s", s.RoutesOverflowed, s.Limits.Routes, OtherRoute)}, v.Cut...)
	}
	slices.SortStableFunc(v.Routes, worstFirst)
	if err := v.judge(s, opts, len(v.Routes), evs); err != nil {
		return nil, err
	}
	return v, nil
}

// stepOf is the first plan step that sends route, 0 for none or no plan.
func (o RenderOptions) stepOf(route string) int {
	if o.Plan == nil {
		return 0
	}
	if p := RoutePath(route); p != "" {
		return firstStep(o.Plan, len(o.Plan.Steps), p)
	}
	return 0
}

// tally counts a route's verdict; one never mirrored by design is neither
// waiting for evidence nor judged, and is shown apart.
func (v *view) tally(verdict Verdict, never bool) {
	switch {
	case never:
	case verdict == Pass:
		v.Pass++
	case verdict == Fail:
		v.Fail++
	default:
		v.Inconclusive++
	}
}

// judge sets the verdict and the headline, once the n routes are tallied:
// with a plan, each step's readiness on the routes' evidence evs (every route
// of s judged under opts' thresholds); without, the routes'.
func (v *view) judge(s *Snapshot, opts RenderOptions, n int, evs map[*RouteStats]*Evidence) error {
	if opts.Plan != nil {
		return v.judgeSteps(s, opts.Plan, func(r *RouteStats) *Evidence {
			if ev := evs[r]; ev != nil {
				return ev
			}
			return routeEvidence(r, opts.Plan.Thresholds, opts.held)
		})
	}
	v.Verdict, v.Headline = v.routesVerdict(n)
	return nil
}

// worstFirst orders routes by parity, lowest first; routes with nothing
// compared go last; ties by more mismatches, then by key.
func worstFirst(a, b routeView) int {
	if (a.Compared == 0) != (b.Compared == 0) {
		if a.Compared == 0 {
			return 1
		}
		return -1
	}
	return cmp.Or(cmp.Compare(a.Parity, b.Parity), cmp.Compare(b.Mismatched, a.Mismatched),
		cmp.Compare(severity(b.Verdict), severity(a.Verdict)), cmp.Compare(a.Route, b.Route))
}

func severity(v Verdict) int {
	switch v {
	case Fail:
		return 2
	case Inconclusive:
		return 1
	}
	return 0
}

func (v *view) routesVerdict(n int) (Verdict, string) {
	switch {
	case n == 0:
		return Inconclusive, "no route observed yet"
	case v.Fail > 0:
		return Fail, fmt.Sprintf("%d of %d routes fail, %d inconclusive, %d pass", v.Fail, n, v.Inconclusive, v.Pass)
	case v.Inconclusive > 0:
		return Inconclusive, fmt.Sprintf("%d of %d routes lack evidence, none fails, %d pass", v.Inconclusive, n, v.Pass)
	}
	if v.Pass < n {
		return Pass, fmt.Sprintf("%d routes pass, %d never mirrored (by design)", v.Pass, n-v.Pass)
	}
	return Pass, fmt.Sprintf("all %d routes pass", n)
}

// judgeSteps fills step readiness and the headline: ready through the last step
// that passes, and what holds the next one.
func (v *view) judgeSteps(s *Snapshot, p *Plan, evidence func(*RouteStats) *Evidence) error {
	ready := 0
	var next *stepView
	for i := range p.Steps {
		res, err := judgeOn(s, p, i+1, p.Thresholds, evidence)
		if err != nil {
			return err
		}
		pass, fail, inc := res.Counts()
		sv := stepView{Number: i + 1, Name: p.Steps[i].Name, Validate: p.Steps[i].Validate, Verdict: res.Verdict,
			Reason: res.Reason, Routes: len(res.Routes), Pass: pass, Fail: fail, Inc: inc}
		v.Steps = append(v.Steps, sv)
		if res.Verdict == Pass && ready == i {
			ready = i + 1
		}
	}
	if ready < len(v.Steps) {
		next = &v.Steps[ready]
	}
	switch {
	case next == nil:
		v.Verdict, v.Headline = Pass, fmt.Sprintf("all %d steps pass", len(v.Steps))
	case ready == 0:
		v.Verdict = next.Verdict
		v.Headline = fmt.Sprintf("step 1 (%s) %s: %s", next.Name, verdictVerb(next.Verdict), next.Reason)
	default:
		v.Verdict = next.Verdict
		v.Headline = fmt.Sprintf("ready through step %d of %d; step %d (%s) %s: %s",
			ready, len(v.Steps), next.Number, next.Name, verdictVerb(next.Verdict), next.Reason)
	}
	return nil
}

func verdictVerb(v Verdict) string {
	switch v {
	case Fail:
		return "fails"
	case Pass:
		return "passes"
	}
	return "is inconclusive"
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// thresholdsLine describes th in one line.
func thresholdsLine(th Thresholds) string {
	auth := "no candidate 401/403 the primary did not send"
	if th.AllowCandidateAuthFailures {
		auth = "candidate 401/403 allowed"
	}
	security := "security regressions fail"
	if !th.Security.fails() {
		security = "security regressions warn"
	}
	return fmt.Sprintf("at least %d compared, parity ≥ %s (margin %s), candidate errors ≤ %s (margin %s), candidate p99 ≤ %g× primary (gaps under %s ignored), %s, %s, each shown at %s confidence",
		th.MinSamples, strconv.FormatFloat(th.MinParity, 'f', -1, 64), strconv.FormatFloat(th.parityMargin(), 'f', -1, 64),
		fmtPercent(th.MaxCandidateErrorRate), fmtPercent(th.errorRateMargin()),
		th.MaxP99Ratio, fmtMs(th.P99FloorMs), auth, security, fmtConfidence(th.confidence()))
}

func fmtParity(r *RouteStats) string {
	if r.Compared == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", r.Parity*100)
}

func fmtLower(r *RouteStats) string {
	if r.Compared == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", r.ParityLower*100)
}

func fmtLatency(l Latency) string {
	if l.Count == 0 {
		return "-"
	}
	return fmtMs(l.P99)
}

func fmtErrors(r *RouteStats) string {
	if r.MirroredCount() == 0 {
		return "-"
	}
	return fmt.Sprintf("%d (%s)", r.CandidateErrors, fmtPercent(r.CandidateErrorRate()))
}

func fmtCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// topDifference is a route's most frequent difference in a few words.
func topDifference(r *routeView) string {
	if len(r.Top) == 0 {
		return ""
	}
	d := r.Top[0]
	s := fmt.Sprintf("%s %s ×%d", d.Path, d.Kind, d.Count)
	if m := acceptedMark(&d); m != "" {
		s += " (" + m + ")"
	}
	if d.Security != "" {
		s = "security: " + s
	}
	return s
}

// silenceYAML is the config that would silence difference path p on route.
func silenceYAML(route, p string) string {
	return fmt.Sprintf("routes:\n  - match: %s\n    ignore: [%s]\n", yamlScalar(route), yamlScalar(p))
}

// yamlScalar writes s as a plain YAML scalar when that reads back as s, quoted
// otherwise.
func yamlScalar(s string) string {
	plain := s != ""
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("._-/#:", c) >= 0 || c == ' ' && i > 0 && s[i-1] != ':'
	}
	if plain && (strings.Contains(s, ": ") || strings.Contains(s, " #") || strings.HasSuffix(s, ":") ||
		strings.HasPrefix(s, "#") || strings.HasSuffix(s, " ")) {
		plain = false
	}
	if plain {
		return s
	}
	return strconv.Quote(s)
}

// The words every renderer shows for a route that is never mirrored by design.
const (
	neverMirroredLabel  = "never mirrored (by design)"
	neverMirroredReason = "never mirrored (by design): /api/auth stays on SvelteKit and is never sent to Fastify"
)

// neverMirrored reports whether r is an auth route that holds no evidence and
// never will: everything it saw was skipped under the auth rule, or its path is
// under /api/auth and nothing was mirrored.
func neverMirrored(r *RouteStats) bool {
	if r.Compared > 0 {
		return false
	}
	if n := r.Skipped[string(SkipAuth)]; n > 0 && n == r.SkippedTotal() {
		return true
	}
	return r.MirroredCount() == 0 && IsAuthPath(RoutePath(r.Route))
}

// Label is the route's verdict as the reports word it.
func (r *routeView) Label() string {
	if r.NeverMirrored {
		return neverMirroredLabel
	}
	return verdictLabel(r.Verdict)
}

// skippedText is the summary line's count of skipped requests, with the part
// the comparison budget left out named: "1,204 skipped (1,000 over the
// comparison budget)".
func (v *view) skippedText() string {
	if v.BudgetSkipped == 0 {
		return fmtCount(v.Skipped) + " skipped"
	}
	return fmt.Sprintf("%s skipped (%s over the comparison budget)", fmtCount(v.Skipped), fmtCount(v.BudgetSkipped))
}

// budgetSampled reports whether the comparison budget left some of r's
// requests uncompared: its verdict rests on a sample, and every report says why.
func (r *routeView) budgetSampled() bool { return r.Skipped[string(SkipCompareBudget)] > 0 }

// skippedCount is a route's skipped requests for a table cell, with the part
// the comparison budget left out: "1,204 (1,000 budget)".
func (r *routeView) skippedCount() string {
	n := r.Skipped[string(SkipCompareBudget)]
	if n == 0 {
		return fmtCount(r.SkippedTotal())
	}
	return fmt.Sprintf("%s (%s budget)", fmtCount(r.SkippedTotal()), fmtCount(n))
}
