package report

import (
	"cmp"
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
	Needed  int64   `json:"needed,omitempty"` // more compared requests likely needed, when inconclusive
	// Evidence is what the verdict rests on; nil for a prefix with no evidence.
	Evidence *Evidence `json:"evidence,omitempty"`

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
	return judge(s, p, n, th, nil)
}

func judge(s *Snapshot, p *Plan, n int, th Thresholds, held heldLatency) (*GateResult, error) {
	return judgeOn(s, p, n, th, func(r *RouteStats) *Evidence { return routeEvidence(r, th, held) })
}

// judgeOn is judge with each route's evidence from evidence: a renderer that
// judges every step reuses what it found for each route once.
func judgeOn(s *Snapshot, p *Plan, n int, th Thresholds, evidence func(*RouteStats) *Evidence) (*GateResult, error) {
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
		ev := evidence(r)
		res.Routes = append(res.Routes, RouteVerdict{Route: r.Route, Step: first, New: first == n,
			Verdict: ev.Verdict, Reason: ev.Reason, Needed: ev.Needed, Evidence: ev, Stats: r})
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
// many more compared requests an inconclusive route likely needs. Evidence
// says what the verdict rests on; see RouteEvidence.
func JudgeRoute(r *RouteStats, th Thresholds) (v Verdict, reason string, needed int64) {
	ev := RouteEvidence(r, th)
	return ev.Verdict, ev.Reason, ev.Needed
}

// Evidence is what one route's verdict rests on, test by test: parity, the
// candidate's error rate and latency, each with its estimate, its interval
// (always valid at the plan's confidence, however often it is looked at), the
// samples it rests on and, while it cannot decide, how many more it likely
// needs.
type Evidence struct {
	Verdict    Verdict `json:"verdict"`
	Reason     string  `json:"reason"`
	Compared   int64   `json:"compared"`
	Needed     int64   `json:"needed,omitempty"` // more compared requests likely needed, when inconclusive
	Confidence float64 `json:"confidence"`

	Parity          RateEvidence    `json:"parity"`
	CandidateErrors RateEvidence    `json:"candidate_errors"`
	Latency         LatencyEvidence `json:"latency"`
	// AuthFailures counts candidate 401/403 answers the primary did not send
	// (any fails unless the plan allows them).
	AuthFailures int64 `json:"auth_failures"`
}

// RateEvidence is a rate's test: its estimate and always-valid interval, the
// trials it rests on and the verdict of this test alone. Pass and fail are
// where the interval must lie for each verdict.
type RateEvidence struct {
	Verdict  Verdict `json:"verdict"`
	Estimate float64 `json:"estimate"`
	Lower    float64 `json:"lower"`
	Upper    float64 `json:"upper"`
	Samples  int64   `json:"samples"`
	Needed   int64   `json:"needed,omitempty"`
}

// LatencyEvidence is the latency test: each side's p99 with its always-valid
// bounds.
type LatencyEvidence struct {
	Verdict   Verdict          `json:"verdict"`
	Quantile  float64          `json:"quantile"`
	Primary   QuantileEvidence `json:"primary"`
	Candidate QuantileEvidence `json:"candidate"`
	Needed    int64            `json:"needed,omitempty"`
	// CandidateSlower is the rank effect size of the whole distributions: the
	// chance that a request on the candidate took longer than one on the
	// primary (ties count half; 0.5 is alike), from the histograms' buckets.
	// Evidence beside the verdict, which the p99 bounds decide.
	CandidateSlower float64 `json:"candidate_slower"`
	// Missing says why latency could not be judged at all (a summary snapshot
	// without histograms); empty otherwise.
	Missing string `json:"missing,omitempty"`
}

// QuantileEvidence is one side's p99 in milliseconds: the estimate and its
// bounds from order statistics; Upper is null while too few samples bound it.
type QuantileEvidence struct {
	Samples  int64    `json:"samples"`
	Estimate float64  `json:"estimate_ms"`
	Lower    float64  `json:"lower_ms"`
	Upper    *float64 `json:"upper_ms"`
}

// RouteEvidence judges one route under th.
//
// Parity (matched of compared) fails once its confidence sequence lies wholly
// below MinParity and passes once it lies at or above MinParity−ParityMargin;
// the candidate's error rate (of mirrored requests) likewise against
// MaxCandidateErrorRate and ErrorRateMargin; latency compares the bounds of
// both sides' p99 (see latencyDecision); a candidate 401/403 the primary did not
// send fails at once unless allowed, and so does an acceptance past its end
// date (RouteStats.AcceptanceExpired). Any test failing fails the route; it
// passes when every test passes on at least MinSamples compared requests;
// otherwise it is inconclusive. A failure needs no minimum: a sequence that has
// left the threshold already holds at the plan's confidence. A security-marked
// difference fails the route whatever else (see judgeSecurity).
func RouteEvidence(r *RouteStats, th Thresholds) *Evidence { return routeEvidence(r, th, nil) }

// heldLatency is the latency buckets of a display snapshot's routes, by route
// key, read from the aggregator's histograms (see Aggregator.ForDisplay).
type heldLatency map[string]*[2]buckets

func routeEvidence(r *RouteStats, th Thresholds, held heldLatency) *Evidence {
	alpha := th.alpha()
	ev := &Evidence{Compared: r.Compared, Confidence: th.confidence(), AuthFailures: r.CandidateAuthFailures}
	defer judgeSecurity(r, th, &ev.Verdict, &ev.Reason, &ev.Needed)
	mirrored := r.MirroredCount()
	if mirrored == 0 {
		why := "no evidence: nothing compared"
		if n := r.SkippedTotal(); n > 0 {
			why += fmt.Sprintf(" (%d skipped: %s)", n, CountsLine(r.Skipped))
		}
		ev.Verdict, ev.Reason, ev.Needed = Inconclusive, why, max(th.MinSamples, 1)
		return ev
	}
	pt := newRateTest(th.MinParity, th.parityMargin(), alpha)
	ev.Parity = rateEvidence(&pt, r.Matched, r.Compared-r.Matched)
	et := newRateTest(1-th.MaxCandidateErrorRate, th.errorRateMargin(), alpha)
	ev.CandidateErrors = rateEvidence(&et, mirrored-r.CandidateErrors, r.CandidateErrors)
	// Reported as an error rate: flip the interval of the rate without errors.
	ce := &ev.CandidateErrors
	ce.Estimate, ce.Lower, ce.Upper = 1-ce.Estimate, 1-ce.Upper, 1-ce.Lower
	ev.Latency = latencyEvidence(r, th, held[r.Route])

	authFail := r.CandidateAuthFailures > 0 && !th.AllowCandidateAuthFailures
	// An acceptance past its end date fails the route at once, as an
	// unexplained 401/403 does (see Accept).
	hardFail := authFail || len(r.AcceptanceExpired) > 0
	ev.Verdict = combine(hardFail, r.Compared >= th.MinSamples, ev.Parity.Verdict, ev.CandidateErrors.Verdict, ev.Latency.Verdict)
	if ev.Verdict == Inconclusive {
		ev.Needed = max(th.MinSamples-r.Compared, ev.Parity.Needed, ev.CandidateErrors.Needed, ev.Latency.Needed, 1)
	}
	ev.Reason = evidenceReason(ev, r, th, authFail) + budgetNote(r)
	return ev
}

// budgetNote says how many requests of r were left uncompared by the comparison
// budget, so that a verdict never reads as resting on more than it does: those
// requests are no evidence either way, and the verdict rests on the compared
// sample alone. "" when none were.
func budgetNote(r *RouteStats) string {
	n := r.Skipped[string(SkipCompareBudget)]
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d more not compared, over the comparison budget (%s): the verdict rests on the %d compared", n, SkipCompareBudget, r.Compared)
}

// combine is a route's verdict from its tests': any failure fails; all passing
// on enough samples passes; anything else is inconclusive.
func combine(hardFail, enough bool, tests ...Verdict) Verdict {
	all := enough && !hardFail
	for _, v := range tests {
		if v == Fail {
			return Fail
		}
		all = all && v == Pass
	}
	if hardFail {
		return Fail
	}
	if all {
		return Pass
	}
	return Inconclusive
}

func rateEvidence(t *rateTest, s, f int64) RateEvidence {
	e := RateEvidence{Verdict: t.decide(s, f), Samples: s + f}
	if n := s + f; n > 0 {
		e.Estimate = round6(float64(s) / float64(n))
	}
	lo, hi := t.seq.interval(s, f)
	e.Lower, e.Upper = round6(lo), round6(hi)
	if e.Verdict == Inconclusive {
		e.Needed = t.needed(s, f)
	}
	return e
}

// latencyEvidence bounds both sides' p99 from their histograms, each side at
// α/2 so that the comparison holds at α.
func latencyEvidence(r *RouteStats, th Thresholds, held *[2]buckets) LatencyEvidence {
	le := LatencyEvidence{Quantile: latencyQuantile, Verdict: Pass}
	if th.MaxP99Ratio <= 0 {
		return le
	}
	alpha := th.alpha() / 2
	p, c, ok := latencyBuckets(r, held)
	if !ok {
		le.Verdict, le.Missing = Inconclusive, "latency histograms not in this snapshot"
		le.Primary = QuantileEvidence{Samples: r.Latency.Primary.Count, Estimate: r.Latency.Primary.P99}
		le.Candidate = QuantileEvidence{Samples: r.Latency.Candidate.Count, Estimate: r.Latency.Candidate.P99}
		return le
	}
	pb, cb := p.p99(alpha), c.p99(alpha)
	le.Primary, le.Candidate = pb.evidence(r.Latency.Primary.P99), cb.evidence(r.Latency.Candidate.P99)
	le.CandidateSlower = round6(c.slowerThan(p))
	le.Verdict = latencyDecision(cb, pb, th.MaxP99Ratio, th.P99FloorMs)
	if le.Verdict == Inconclusive {
		n := min(p.total(), c.total())
		le.Needed = firstDecided(n, func(k int64) bool {
			return latencyDecision(c.projected(k, alpha), p.projected(k, alpha), th.MaxP99Ratio, th.P99FloorMs) != Inconclusive
		})
	}
	return le
}

// latencyBuckets returns both sides' latency buckets: those held for a display
// snapshot, else decoded from the snapshot's histograms.
func latencyBuckets(r *RouteStats, held *[2]buckets) (p, c buckets, ok bool) {
	if held != nil {
		return held[0], held[1], true
	}
	hp, errP := r.Latency.Primary.histogram()
	hc, errC := r.Latency.Candidate.histogram()
	if errP != nil || errC != nil {
		return nil, nil, false
	}
	return bucketsOf(hp), bucketsOf(hc), true
}

func (q quantileBound) evidence(estimate float64) QuantileEvidence {
	e := QuantileEvidence{Samples: q.n, Estimate: estimate, Lower: q.lower}
	if !math.IsInf(q.upper, 1) {
		u := q.upper
		e.Upper = &u
	}
	return e
}

// buckets are a latency histogram's populated buckets in increasing order of
// value (µs), with the running count up to each.
type buckets []struct{ value, cum int64 }

func bucketsOf(h *packedHist) buckets {
	var b buckets
	var cum int64
	h.ForEachBucket(func(v, c int64) bool {
		if c > 0 {
			cum += c
			b = append(b, struct{ value, cum int64 }{v, cum})
		}
		return true
	})
	return b
}

// slowerThan is the chance that a sample of b exceeds one of o, ties (the same
// bucket) counting half: the Mann–Whitney U over the product of the counts. Both
// histograms share one bucket layout, so equal values are equal buckets.
func (b buckets) slowerThan(o buckets) float64 {
	nb, no := b.total(), o.total()
	if nb == 0 || no == 0 {
		return 0.5
	}
	var u float64
	j := 0
	var below, prev int64 // o's samples under b's current bucket; b's running count
	for _, e := range b {
		c := e.cum - prev
		prev = e.cum
		for j < len(o) && o[j].value < e.value {
			below = o[j].cum
			j++
		}
		tie := int64(0)
		if j < len(o) && o[j].value == e.value {
			tie = o[j].cum - below
		}
		u += float64(c) * (float64(below) + float64(tie)/2)
	}
	return u / (float64(nb) * float64(no))
}

func (b buckets) total() int64 {
	if len(b) == 0 {
		return 0
	}
	return b[len(b)-1].cum
}

// at returns the value of the sample of rank k (from 1): the lowest value its
// bucket holds, or with high set the highest (buckets are 1/128 wide, so the
// bounds stay on the safe side of the bucket's rounding).
func (b buckets) at(k int64, high bool) float64 {
	i, _ := slices.BinarySearchFunc(b, k, func(e struct{ value, cum int64 }, k int64) int { return cmp.Compare(e.cum, k) })
	i = min(i, len(b)-1)
	v := b[i].value
	if high {
		v += v/128 + 1
	}
	return usToMs(v)
}

// p99 bounds the p99 of the samples held, at confidence 1−alpha.
func (b buckets) p99(alpha float64) quantileBound {
	n := b.total()
	q := quantileBound{n: n, upper: math.Inf(1)}
	if n == 0 {
		return q
	}
	lo, hi := quantileRanks(n, latencyQuantile, alpha)
	if lo >= 1 {
		q.lower = b.at(lo, false)
	}
	if hi <= n {
		q.upper = b.at(hi, true)
	}
	return q
}

// projected is p99's bounds had k samples been drawn from the distribution
// held: the ranks for k, read at the same fractions of what is held.
func (b buckets) projected(k int64, alpha float64) quantileBound {
	n := b.total()
	q := quantileBound{n: k, upper: math.Inf(1)}
	if n == 0 || k == 0 {
		return q
	}
	lo, hi := quantileRanks(k, latencyQuantile, alpha)
	scale := func(r int64) int64 { return min(max(int64(math.Ceil(float64(r)*float64(n)/float64(k))), 1), n) }
	if lo >= 1 {
		q.lower = b.at(scale(lo), false)
	}
	if hi <= k {
		q.upper = b.at(scale(hi), true)
	}
	return q
}

// evidenceReason says in one line what decided the route, or what is missing.
func evidenceReason(ev *Evidence, r *RouteStats, th Thresholds, authFail bool) string {
	conf := fmtConfidence(ev.Confidence)
	var fails []string
	for _, e := range r.AcceptanceExpired {
		fails = append(fails, expiredReason(e))
	}
	if authFail {
		fails = append(fails, fmt.Sprintf("candidate answered 401/403 %d times where the primary did not", r.CandidateAuthFailures))
	}
	if ev.Parity.Verdict == Fail {
		f := fmt.Sprintf("parity %s < %s at %s", fmtRateEvidence(ev.Parity), fmtRatio(th.MinParity), conf)
		if len(r.Differences) > 0 {
			d := r.Differences[0]
			f += fmt.Sprintf("; top difference %s %s ×%d", d.Path, d.Kind, d.Count)
		}
		fails = append(fails, f)
	}
	if ev.CandidateErrors.Verdict == Fail {
		fails = append(fails, fmt.Sprintf("candidate error rate %s (%d of %d) > %s at %s%s",
			fmtPercentEvidence(ev.CandidateErrors), r.CandidateErrors, r.MirroredCount(), fmtPercent(th.MaxCandidateErrorRate), conf, errorSummary(r)))
	}
	if ev.Latency.Verdict == Fail {
		fails = append(fails, fmt.Sprintf("candidate p99 %s > %g× primary p99 %s (gap over %s) at %s",
			fmtQuantile(ev.Latency.Candidate), th.MaxP99Ratio, fmtQuantile(ev.Latency.Primary), fmtMs(th.P99FloorMs), conf))
	}
	switch ev.Verdict {
	case Fail:
		return strings.Join(fails, "; ")
	case Pass:
		return fmt.Sprintf("parity %s over %d compared; candidate errors %s; p99 %s vs %s (at %s)",
			fmtRateEvidence(ev.Parity), r.Compared, fmtPercentEvidence(ev.CandidateErrors),
			fmtQuantile(ev.Latency.Candidate), fmtQuantile(ev.Latency.Primary), conf)
	}
	var open []string
	if r.Compared < th.MinSamples {
		open = append(open, fmt.Sprintf("%d of %d compared", r.Compared, th.MinSamples))
	}
	if ev.Parity.Verdict == Inconclusive {
		open = append(open, fmt.Sprintf("parity %s, passes at ≥ %s", fmtRateEvidence(ev.Parity), fmtRatio(th.MinParity-th.parityMargin())))
	}
	if ev.CandidateErrors.Verdict == Inconclusive {
		open = append(open, fmt.Sprintf("candidate errors %s, passes at ≤ %s", fmtPercentEvidence(ev.CandidateErrors),
			fmtPercent(th.MaxCandidateErrorRate+th.errorRateMargin())))
	}
	if l := ev.Latency; l.Verdict == Inconclusive {
		if l.Missing != "" {
			open = append(open, "latency not judged: "+l.Missing)
		} else {
			open = append(open, fmt.Sprintf("p99 %s vs %s not yet within %g× or %s", fmtQuantile(l.Candidate), fmtQuantile(l.Primary),
				th.MaxP99Ratio, fmtMs(th.P99FloorMs)))
		}
	}
	return fmt.Sprintf("needs ~%s more compared requests: %s (at %s)", fmtNeeded(ev.Needed), strings.Join(open, "; "), conf)
}

// fmtRateEvidence is "0.9950 [0.9871, 0.9993]".
func fmtRateEvidence(e RateEvidence) string {
	return fmt.Sprintf("%s [%s, %s]", fmtRatio(e.Estimate), fmtRatio(e.Lower), fmtRatio(e.Upper))
}

// fmtPercentEvidence is "1.2% [0.3%, 2.9%]".
func fmtPercentEvidence(e RateEvidence) string {
	return fmt.Sprintf("%s [%s, %s]", fmtPercent(e.Estimate), fmtPercent(e.Lower), fmtPercent(e.Upper))
}

// fmtQuantile is "12ms [9.8ms, 15ms] of 812", "?" for an upper bound too few
// samples allow.
func fmtQuantile(q QuantileEvidence) string {
	upper := "?"
	if q.Upper != nil {
		upper = fmtMs(*q.Upper)
	}
	return fmt.Sprintf("%s [%s, %s] of %d", fmtMs(q.Estimate), fmtMs(q.Lower), upper, q.Samples)
}

func fmtConfidence(c float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", c*100), "0"), ".") + "%"
}

func fmtNeeded(n int64) string {
	if n >= neededCap {
		return "over " + fmtCount(neededCap)
	}
	return fmtCount(n)
}

// CountsLine renders counts by name as "auth 33, write_method 21", sorted by
// name; "" for none.
func CountsLine[K ~string, V int | int64](m map[K]V) string {
	keys := make([]K, 0, len(m))
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
		parts = append(parts, fmt.Sprintf("%d transport: %s", r.CandidateTransportErrors, CountsLine(r.Errors)))
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
