package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Verdict is the gate's answer for a route or a step.
type Verdict string

// The verdicts, from best to worst for a rollout.
const (
	Pass         Verdict = "pass"
	Inconclusive Verdict = "inconclusive" // too few samples or no evidence, nothing failed
	Fail         Verdict = "fail"
)

// RouteVerdict is the gate's judgement of one route, or of a prefix nothing was
// observed under (Stats nil: no evidence).
type RouteVerdict struct {
	Route   string  `json:"route"`            // route key; the prefix for no evidence
	Step    int     `json:"step"`             // first step that sends it
	New     bool    `json:"new"`              // newly sent by the step judged
	Verdict Verdict `json:"verdict"`          // pass, fail or inconclusive
	Reason  string  `json:"reason"`           // one line: why
	Needed  int64   `json:"needed,omitempty"` // more compared requests needed, when inconclusive for that

	Stats *RouteStats `json:"-"`
}

// GateResult is the gate's judgement of one rollout step.
type GateResult struct {
	Step       int            `json:"step"`
	StepName   string         `json:"step_name"`
	Verdict    Verdict        `json:"verdict"`
	Reason     string         `json:"reason"`
	Thresholds Thresholds     `json:"thresholds"`
	Routes     []RouteVerdict `json:"routes"`
}

// Counts returns how many routes got each verdict.
func (g *GateResult) Counts() (pass, fail, inconclusive int) {
	for _, r := range g.Routes {
		switch r.Verdict {
		case Pass:
			pass++
		case Fail:
			fail++
		default:
			inconclusive++
		}
	}
	return
}

// RoutePath returns the path part of a route key ("" for OtherRoute).
func RoutePath(key string) string {
	if i := strings.IndexByte(key, ' '); i >= 0 {
		return key[i+1:]
	}
	if strings.HasPrefix(key, "/") {
		return key
	}
	return ""
}

// Judge decides step n (from 1) of plan p on snapshot s under th: it judges the
// routes step n newly sends to the candidate and re-checks those of every
// earlier step. A prefix (or, for a catch-all step, the step) with no observed
// route is "no evidence". Any route failing fails the step; otherwise any
// inconclusive route makes it inconclusive; otherwise it passes.
func Judge(s *Snapshot, p *Plan, n int, th Thresholds) (*GateResult, error) {
	st := p.Step(n)
	if st == nil {
		return nil, fmt.Errorf("unknown step %d (the plan has steps 1..%d)", n, len(p.Steps))
	}
	res := &GateResult{Step: n, StepName: st.Name, Thresholds: th}
	for i := range s.Routes {
		r := &s.Routes[i]
		path := RoutePath(r.Route)
		if path == "" {
			continue
		}
		first := firstStep(p, n, path)
		if first == 0 {
			continue
		}
		v, reason, needed := JudgeRoute(r, th)
		res.Routes = append(res.Routes, RouteVerdict{Route: r.Route, Step: first, New: first == n,
			Verdict: v, Reason: reason, Needed: needed, Stats: r})
	}
	res.Routes = append(res.Routes, noEvidence(s, p, n, th)...)
	slices.SortFunc(res.Routes, func(a, b RouteVerdict) int {
		if a.Step != b.Step {
			return a.Step - b.Step
		}
		return strings.Compare(a.Route, b.Route)
	})
	res.Verdict, res.Reason = stepVerdict(res)
	return res, nil
}

// firstStep returns the first step up to n that sends path, or 0.
func firstStep(p *Plan, n int, path string) int {
	for k := 1; k <= n; k++ {
		if p.Steps[k-1].Sends(path) {
			return k
		}
	}
	return 0
}

// noEvidence lists the prefixes of steps 1..n under which the snapshot has no
// mirrored request, each once at the first step listing it; a catch-all step
// with nothing new observed is one entry too.
func noEvidence(s *Snapshot, p *Plan, n int, th Thresholds) []RouteVerdict {
	var out []RouteVerdict
	seen := map[string]bool{}
	for k := 1; k <= n; k++ {
		st := &p.Steps[k-1]
		if st.CatchAll() {
			if !observedNew(s, p, k) {
				out = append(out, RouteVerdict{Route: "/api/*", Step: k, New: k == n, Verdict: Inconclusive, Needed: th.MinSamples,
					Reason: "no evidence: no request observed on a route only this step sends"})
			}
			continue
		}
		for _, pre := range st.Routes {
			if seen[pre] || IsAuthPath(pre) {
				continue
			}
			seen[pre] = true
			if observedUnder(s, pre) {
				continue
			}
			out = append(out, RouteVerdict{Route: pre, Step: k, New: k == n, Verdict: Inconclusive, Needed: th.MinSamples,
				Reason: "no evidence: no request observed under this prefix"})
		}
	}
	return out
}

func observedUnder(s *Snapshot, prefix string) bool {
	for i := range s.Routes {
		r := &s.Routes[i]
		if p := RoutePath(r.Route); p != "" && PrefixMatch(prefix, p) && r.MirroredCount() > 0 {
			return true
		}
	}
	return false
}

func observedNew(s *Snapshot, p *Plan, k int) bool {
	for i := range s.Routes {
		r := &s.Routes[i]
		if path := RoutePath(r.Route); path != "" && firstStep(p, k, path) == k && r.MirroredCount() > 0 {
			return true
		}
	}
	return false
}

func stepVerdict(res *GateResult) (Verdict, string) {
	pass, fail, inc := res.Counts()
	switch {
	case fail > 0:
		return Fail, fmt.Sprintf("%d of %d routes fail", fail, len(res.Routes))
	case inc > 0:
		return Inconclusive, fmt.Sprintf("%d of %d routes lack evidence, nothing fails", inc, len(res.Routes))
	case pass == 0:
		return Inconclusive, "no evidence: no route observed"
	}
	return Pass, fmt.Sprintf("all %d routes pass", pass)
}

// JudgeRoute decides one route under th and says why in one line; needed is how
// many more compared requests an inconclusive route needs.
//
// With fewer than MinSamples compared requests a route is inconclusive unless a
// failure is already certain: a candidate 401/403 the primary did not answer, or
// a parity (error rate) that would stay below (above) its threshold even if
// every missing sample went well. Latency is judged on MinSamples only. A
// security-marked difference fails the route whatever else (see judgeSecurity).
func JudgeRoute(r *RouteStats, th Thresholds) (v Verdict, reason string, needed int64) {
	defer judgeSecurity(r, th, &v, &reason, &needed)
	mirrored := r.MirroredCount()
	if mirrored == 0 {
		why := "no evidence: nothing compared"
		if n := r.SkippedTotal(); n > 0 {
			why += fmt.Sprintf(" (%d skipped: %s)", n, skippedSummary(r.Skipped))
		}
		return Inconclusive, why, th.MinSamples
	}
	enough := r.Compared >= th.MinSamples
	var fails []string
	if r.CandidateAuthFailures > 0 && !th.AllowCandidateAuthFailures {
		fails = append(fails, fmt.Sprintf("candidate answered 401/403 %d times where the primary did not", r.CandidateAuthFailures))
	}
	// Parity, and its best case if the missing samples all matched.
	bestParity := r.Parity
	if !enough {
		bestParity = float64(r.Matched+th.MinSamples-r.Compared) / float64(th.MinSamples)
	}
	if r.Compared > 0 && bestParity < th.MinParity {
		f := fmt.Sprintf("parity %s (lower bound %s) < %s", fmtRatio(r.Parity), fmtRatio(r.ParityLower), fmtRatio(th.MinParity))
		if !enough {
			f += fmt.Sprintf(" and cannot reach it within %d samples", th.MinSamples)
		}
		if len(r.Differences) > 0 {
			d := r.Differences[0]
			f += fmt.Sprintf("; top difference %s %s ×%d", d.Path, d.Kind, d.Count)
		}
		fails = append(fails, f)
	}
	rate := r.CandidateErrorRate()
	bestRate := rate
	if !enough {
		bestRate = float64(r.CandidateErrors) / float64(max(mirrored, th.MinSamples))
	}
	if bestRate > th.MaxCandidateErrorRate {
		fails = append(fails, fmt.Sprintf("candidate error rate %s (%d of %d) > %s%s",
			fmtPercent(rate), r.CandidateErrors, mirrored, fmtPercent(th.MaxCandidateErrorRate), errorSummary(r)))
	}
	if enough {
		if f, bad := latencyFailure(r, th); bad {
			fails = append(fails, f)
		}
	}
	if len(fails) > 0 {
		return Fail, strings.Join(fails, "; "), 0
	}
	if !enough {
		need := th.MinSamples - r.Compared
		return Inconclusive, fmt.Sprintf("needs %d more compared requests (%d of %d); parity so far %s",
			need, r.Compared, th.MinSamples, fmtRatio(r.Parity)), need
	}
	return Pass, fmt.Sprintf("parity %s (lower bound %s) over %d compared; p99 %s vs %s",
		fmtRatio(r.Parity), fmtRatio(r.ParityLower), r.Compared,
		fmtMs(r.Latency.Candidate.P99), fmtMs(r.Latency.Primary.P99)), 0
}

// latencyFailure reports a candidate p99 over MaxP99Ratio times the primary's
// by more than P99FloorMs.
func latencyFailure(r *RouteStats, th Thresholds) (string, bool) {
	c, p := r.Latency.Candidate.P99, r.Latency.Primary.P99
	if r.Latency.Candidate.Count == 0 || r.Latency.Primary.Count == 0 || th.MaxP99Ratio <= 0 {
		return "", false
	}
	if c > th.MaxP99Ratio*p && c-p > th.P99FloorMs {
		return fmt.Sprintf("candidate p99 %s > %g× primary p99 %s (gap over %s)",
			fmtMs(c), th.MaxP99Ratio, fmtMs(p), fmtMs(th.P99FloorMs)), true
	}
	return "", false
}

func skippedSummary(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func errorSummary(r *RouteStats) string {
	fivexx := r.CandidateErrors - r.CandidateTransportErrors
	var parts []string
	if fivexx > 0 {
		parts = append(parts, fmt.Sprintf("%d 5xx", fivexx))
	}
	if r.CandidateTransportErrors > 0 {
		parts = append(parts, fmt.Sprintf("%d transport: %s", r.CandidateTransportErrors, skippedSummary(r.Errors)))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

func fmtRatio(f float64) string { return fmt.Sprintf("%.4f", f) }

func fmtPercent(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f*100), "0"), ".") + "%"
}

func fmtMs(ms float64) string {
	if math.Abs(ms) >= 100 {
		return fmt.Sprintf("%.0fms", ms)
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.1f", ms), "0"), ".") + "ms"
}
