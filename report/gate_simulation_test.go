package report

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/parity-dev/parity/diff"
)

// The gate's promises, shown by simulation: routes fed from known
// distributions, the verdict evaluated after every single sample as the live
// gate may be, over many runs with fixed seeds. The sizes are the same with and
// without -short: they are what the promises are stated for.

const (
	simRuns    = 1000
	simSamples = 10_000
)

// simRoute is one simulated route: counts, and both sides' latencies in
// histograms whose order statistics are followed incrementally, so that each
// evaluation costs O(1) as it does for a sequential test. Each run is one
// goroutine's own: the per-sample methods are left out of the race detector's
// instrumentation (//go:norace), which would otherwise multiply the cost of the
// ten million evaluations a test makes.
type simRoute struct {
	th                   Thresholds
	tabs                 *simTables
	compared, matched    int64
	primary, candidate   simHist
	pLo, pHi, cLo, cHi   cursor
	pBound, cBound       quantileBound
	firstFail, firstPass int64 // sample at which the verdict first failed / passed; 0 never
}

type rankPair struct{ lo, hi int64 }

// simTables hold, by sample count, what the route's tests decide on, computed
// once and shared by every run: the p99 ranks at α/2, and the success counts at
// which the parity and error-rate tests fail or pass (rateTest.counts, shown to
// agree with rateTest.decide by TestRateCountsAgreeWithDecide).
type simTables struct {
	ranks, parity, errs []rankPair
}

func newSimTables(n int, th Thresholds) *simTables {
	pt := newRateTest(th.MinParity, th.parityMargin(), th.alpha())
	et := newRateTest(1-th.MaxCandidateErrorRate, th.errorRateMargin(), th.alpha())
	t := &simTables{ranks: make([]rankPair, n+1), parity: make([]rankPair, n+1), errs: make([]rankPair, n+1)}
	for k := range n + 1 {
		lo, hi := quantileRanks(int64(k), latencyQuantile, th.alpha()/2)
		t.ranks[k] = rankPair{lo, hi}
		lo, hi = pt.counts(int64(k))
		t.parity[k] = rankPair{lo, hi}
		lo, hi = et.counts(int64(k))
		t.errs[k] = rankPair{lo, hi}
	}
	return t
}

// decideCounts is rateTest.decide read from its counts.
func decideCounts(c rankPair, s int64) Verdict {
	switch {
	case s < c.lo:
		return Fail
	case s > c.hi:
		return Pass
	}
	return Inconclusive
}

func newSimRoute(th Thresholds, tabs *simTables) *simRoute {
	return &simRoute{th: th, tabs: tabs}
}

// add records one compared request and returns the route's verdict after it,
// decided as RouteEvidence decides (same tests, same combination).
//
//go:norace
func (s *simRoute) add(match bool, primary, candidate time.Duration) Verdict {
	s.compared++
	if match {
		s.matched++
	}
	pb, cb := s.primary.add(primary), s.candidate.add(candidate)
	rk := s.tabs.ranks[s.compared]
	s.pBound = quantileBound{n: s.compared,
		lower: s.pLo.lower(&s.primary, pb, rk.lo), upper: s.pHi.upper(&s.primary, pb, rk.hi, s.compared)}
	s.cBound = quantileBound{n: s.compared,
		lower: s.cLo.lower(&s.candidate, cb, rk.lo), upper: s.cHi.upper(&s.candidate, cb, rk.hi, s.compared)}
	v := combine(false, s.compared >= s.th.MinSamples,
		decideCounts(s.tabs.parity[s.compared], s.matched),
		decideCounts(s.tabs.errs[s.compared], s.compared),
		latencyDecision(s.cBound, s.pBound, s.th.MaxP99Ratio, s.th.P99FloorMs))
	switch {
	case v == Fail && s.firstFail == 0:
		s.firstFail = s.compared
	case v == Pass && s.firstPass == 0:
		s.firstPass = s.compared
	}
	return v
}

// simHist counts latencies in logarithmic buckets 1/128 wide, as the latency
// histograms do, from 1 µs.
type simHist struct{ counts [simBuckets]int32 }

const simBuckets = 2700 // up to e^(2700/128) µs, beyond ten minutes

var simStep = math.Log1p(1.0 / 128)

// simLows are the buckets' lowest values in milliseconds.
var simLows = func() (l [simBuckets + 1]float64) {
	for b := range l {
		l[b] = math.Exp(float64(b)*simStep) / 1000
	}
	return l
}()

//go:norace
func (h *simHist) add(d time.Duration) int {
	us := max(float64(d)/float64(time.Microsecond), 1)
	b := min(int(math.Log(us)/simStep), simBuckets-1)
	h.counts[b]++
	return b
}

func simLow(b int) float64 { return simLows[b] }

// cursor follows the bucket holding the sample of a given rank as samples
// arrive and the rank moves by a step or two.
type cursor struct {
	b   int   // bucket; -1 before the first
	cum int64 // samples in buckets up to and including b
	ok  bool
}

// to moves c to the bucket holding rank k (from 1) after a sample landed in
// bucket added.
//
//go:norace
func (c *cursor) to(h *simHist, added int, k int64) {
	if !c.ok {
		c.b, c.ok = -1, true
	}
	if added <= c.b {
		c.cum++
	}
	for c.cum < k {
		c.b++
		c.cum += int64(h.counts[c.b])
	}
	for c.b >= 0 && c.cum-int64(h.counts[c.b]) >= k {
		c.cum -= int64(h.counts[c.b])
		c.b--
	}
}

//go:norace
func (c *cursor) lower(h *simHist, added int, k int64) float64 {
	if k < 1 {
		if c.ok && added <= c.b {
			c.cum++
		}
		return 0
	}
	c.to(h, added, k)
	return simLow(c.b)
}

//go:norace
func (c *cursor) upper(h *simHist, added int, k, n int64) float64 {
	if k > n {
		if c.ok && added <= c.b {
			c.cum++
		}
		return math.Inf(1)
	}
	c.to(h, added, k)
	return simLow(c.b + 1)
}

// Latency distributions, in milliseconds.

// heavyTail is log-normal (median 4 ms, σ 0.5) with 3% of requests from a
// Pareto tail (from 15 ms, shape 1.5: infinite variance), the shape of a
// service with a slow path.
func heavyTail(r *rand.Rand) float64 {
	if r.Float64() < 0.03 {
		return 15 / math.Pow(1-r.Float64(), 1/1.5)
	}
	return 4 * math.Exp(0.5*r.NormFloat64())
}

// logNormal is log-normal with median 4 ms and σ 0.5.
func logNormal(r *rand.Rand) float64 { return 4 * math.Exp(0.5*r.NormFloat64()) }

func ms(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }

// scenario is what one simulated run feeds a route.
type scenario struct {
	parity        float64 // chance a pair matches
	primary       func(*rand.Rand) float64
	slower        float64 // candidate latency = slower × a draw from primary's distribution
	stopOnVerdict Verdict // stop a run at its first verdict of this kind ("" = run all samples)
}

// simulate runs the scenario simRuns times, each up to simSamples samples with
// its own seed, and returns the routes at the end of each run.
func simulate(t *testing.T, sc scenario, th Thresholds) []*simRoute {
	t.Helper()
	tabs := newSimTables(simSamples, th)
	out := make([]*simRoute, simRuns)
	for run := range simRuns {
		r := rand.New(rand.NewPCG(uint64(run), 0x9a71e))
		s := newSimRoute(th, tabs)
		for range simSamples {
			v := s.add(r.Float64() < sc.parity, ms(sc.primary(r)), ms(sc.slower*sc.primary(r)))
			if sc.stopOnVerdict != "" && v == sc.stopOnVerdict {
				break
			}
		}
		out[run] = s
	}
	return out
}

// quantileOf returns the q-quantile of xs where 0 stands for "never"
// (+Inf).
func quantileOf(xs []int64, q float64) int64 {
	s := slices.Clone(xs)
	for i := range s {
		if s[i] == 0 {
			s[i] = math.MaxInt64
		}
	}
	slices.Sort(s)
	return s[int(math.Ceil(q*float64(len(s))))-1]
}

// samplesText is a sample count, "never" for quantileOf's never.
func samplesText(n int64) string {
	if n == math.MaxInt64 {
		return "never"
	}
	return fmt.Sprint(n)
}

func firstFails(rs []*simRoute) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.firstFail
	}
	return out
}

func firstPasses(rs []*simRoute) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.firstPass
	}
	return out
}

func countNonZero(xs []int64) int {
	n := 0
	for _, x := range xs {
		if x != 0 {
			n++
		}
	}
	return n
}

// TestGateFalseFailRate feeds routes whose candidate is as good as the
// thresholds ask, the verdict evaluated after every one of 10,000 samples, over
// 1,000 runs; a run that fails at any evaluation is a false fail, and their rate
// must stay within α. A/A: both backends alike (equal bodies, the same
// heavy-tailed latency distribution, drawn independently). The edges, where
// each guarantee is tightest: parity exactly min_parity, and a candidate exactly
// max_p99_ratio times slower with no floor.
func TestGateFalseFailRate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		sc   scenario
		th   func(*Thresholds)
	}{
		{"A/A heavy tail", scenario{parity: 1, primary: heavyTail, slower: 1}, func(*Thresholds) {}},
		{"parity at min_parity", scenario{parity: 0.99, primary: logNormal, slower: 1}, func(*Thresholds) {}},
		{"p99 at max_p99_ratio", scenario{parity: 1, primary: logNormal, slower: 2}, func(th *Thresholds) { th.P99FloorMs = 0 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			th := DefaultThresholds
			tc.th(&th)
			tc.sc.stopOnVerdict = Fail
			rs := simulate(t, tc.sc, th)
			fails := countNonZero(firstFails(rs))
			rate := float64(fails) / simRuns
			passes := firstPasses(rs)
			t.Logf("%s: %d of %d runs ever failed (rate %.3f, α %.2f); passed in %d runs, median at %s samples",
				tc.name, fails, simRuns, rate, th.alpha(), countNonZero(passes), samplesText(quantileOf(passes, 0.5)))
			if rate > th.alpha() {
				t.Errorf("false fail rate %.3f > α %.2f", rate, th.alpha())
			}
		})
	}
}

// TestGateABPower: a candidate whose parity is 0.97 against min_parity 0.99,
// and one 2.5× slower than the primary, are each failed in at least 95% of runs
// by the sample counts the README states, and neither passes first in more
// than α of runs.
func TestGateABPower(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		sc    scenario
		by    int64 // samples by which at least 95% of runs must have failed
		cause func(*simRoute) bool
	}{
		{"parity 0.97", scenario{parity: 0.97, primary: logNormal, slower: 1}, 1_000,
			func(s *simRoute) bool { return decideCounts(s.tabs.parity[s.compared], s.matched) == Fail }},
		{"candidate 2.5x slower", scenario{parity: 1, primary: logNormal, slower: 2.5}, 7_000,
			func(s *simRoute) bool {
				return latencyDecision(s.cBound, s.pBound, s.th.MaxP99Ratio, s.th.P99FloorMs) == Fail
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			th := DefaultThresholds
			tc.sc.stopOnVerdict = Fail
			rs := simulate(t, tc.sc, th)
			fails := firstFails(rs)
			detected, passedFirst := 0, 0
			for _, s := range rs {
				if s.firstFail != 0 && s.firstFail <= tc.by {
					detected++
					if !tc.cause(s) {
						t.Fatalf("run failed at %d samples, but not on the test under study", s.firstFail)
					}
				}
				if s.firstPass != 0 && (s.firstFail == 0 || s.firstPass < s.firstFail) {
					passedFirst++
				}
			}
			power := float64(detected) / simRuns
			t.Logf("%s: failed by %d samples in %d of %d runs (power %.3f); median %d, 95%% by %d; passed first in %d runs",
				tc.name, tc.by, detected, simRuns, power, quantileOf(fails, 0.5), quantileOf(fails, 0.95), passedFirst)
			if power < 0.95 {
				t.Errorf("power %.3f by %d samples, want ≥ 0.95", power, tc.by)
			}
			if rate := float64(passedFirst) / simRuns; rate > th.alpha() {
				t.Errorf("passed before failing in %.3f of runs, want ≤ α %.2f", rate, th.alpha())
			}
		})
	}
}

// TestSimulationFollowsTheGate checks that the simulation's incremental route
// decides as RouteEvidence does on the same samples: the same counts and
// latencies put through the aggregator give the same verdict and p99 bounds
// (within the buckets' rounding).
func TestSimulationFollowsTheGate(t *testing.T) {
	th := DefaultThresholds
	tabs := newSimTables(3000, th)
	for _, sc := range []scenario{
		{parity: 1, primary: heavyTail, slower: 1},
		{parity: 0.97, primary: logNormal, slower: 1},
		{parity: 1, primary: logNormal, slower: 2.5},
	} {
		r := rand.New(rand.NewPCG(1, 2))
		s := newSimRoute(th, tabs)
		agg := NewAggregator(Limits{})
		var v Verdict
		for range 3000 {
			match, p, c := r.Float64() < sc.parity, ms(sc.primary(r)), ms(sc.slower*sc.primary(r))
			v = s.add(match, p, c)
			o := Observation{Route: "GET /api/x", Method: "GET", PrimaryStatus: 200, CandidateStatus: 200, PrimaryLatency: p, CandidateLatency: c}
			if !match {
				o.Differences = []diff.Difference{{Path: "body.x", Pattern: "body.x", Kind: diff.Changed}}
			}
			agg.Observe(o)
		}
		ev := RouteEvidence(agg.Snapshot().Route("GET /api/x"), th)
		if ev.Verdict != v {
			t.Errorf("%+v: simulation says %s, RouteEvidence %s (%s)", sc, v, ev.Verdict, ev.Reason)
		}
		near := func(what string, sim float64, gate float64) {
			if math.Abs(sim-gate) > 0.02*math.Max(sim, gate)+0.002 {
				t.Errorf("%+v: %s: simulation %.4g ms, gate %.4g ms", sc, what, sim, gate)
			}
		}
		near("candidate p99 lower", s.cBound.lower, ev.Latency.Candidate.Lower)
		near("primary p99 lower", s.pBound.lower, ev.Latency.Primary.Lower)
		if ev.Latency.Candidate.Upper != nil {
			near("candidate p99 upper", s.cBound.upper, *ev.Latency.Candidate.Upper)
		}
		if ev.Latency.Primary.Upper != nil {
			near("primary p99 upper", s.pBound.upper, *ev.Latency.Primary.Upper)
		}
	}
}

// TestRateCountsAgreeWithDecide shows that the counts the simulation reads its
// rate verdicts from are rateTest.decide's, for every count up to 1,500 trials.
func TestRateCountsAgreeWithDecide(t *testing.T) {
	for _, tc := range []struct{ min, margin float64 }{{0.99, 0.005}, {0.99, 0.001}, {0.9, 0.05}, {1, 0.005}, {0.005, 0.01}} {
		rt := newRateTest(tc.min, tc.margin, 0.05)
		for n := int64(0); n <= 1500; n++ {
			lo, hi := rt.counts(n)
			for s := int64(0); s <= n; s++ {
				want := rt.decide(s, n-s)
				if n == 0 {
					want = Inconclusive
				}
				if got := decideCounts(rankPair{lo, hi}, s); n > 0 && got != want {
					t.Fatalf("min %g margin %g: %d of %d: counts say %s, decide %s", tc.min, tc.margin, s, n, got, want)
				}
			}
		}
	}
}
