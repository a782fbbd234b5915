package report

import (
	"math"
)

// The gate's statistics. Every verdict rests on a test whose error rates hold
// however often it is evaluated — the live dashboard and `parity gate URL…`
// re-judge every few seconds, and a fixed-sample test checked that often would
// fail good routes far more often than it says (peeking).
//
// Rates (parity, the candidate's error rate) are judged on always-valid
// confidence sequences: intervals that hold the true rate at every sample
// count at once with the plan's confidence (a beta-binomial mixture
// martingale, after Robbins, and Howard, Ramdas et al.). Latency is judged on
// the p99 of both sides through the same sequences applied to quantiles: for n
// samples, two ranks whose order statistics bound the true p99 at every n at
// once. The order statistics come from the latency histograms.
//
// Only the standard library's math (Log, Lgamma) is needed: the tests are
// likelihood ratios and a log-Beta function, no quantile function of a
// distribution.

// Defaults of the statistical thresholds; a zero field of Thresholds reads
// them.
const (
	DefaultConfidence      = 0.95
	DefaultParityMargin    = 0.005
	DefaultErrorRateMargin = 0.005
)

// latencyQuantile is the quantile latency is judged on, the guide's p99.
const latencyQuantile = 0.99

// neededCap is the most "samples still needed" a verdict says; a route whose
// estimate sits on its threshold could need any number.
const neededCap = 10_000_000

func (th Thresholds) confidence() float64 {
	if th.Confidence == 0 {
		return DefaultConfidence
	}
	return th.Confidence
}

// alpha is the error rate each test allows: 1 − confidence.
func (th Thresholds) alpha() float64 { return 1 - th.confidence() }

func (th Thresholds) parityMargin() float64 {
	if th.ParityMargin == 0 {
		return DefaultParityMargin
	}
	return th.ParityMargin
}

func (th Thresholds) errorRateMargin() float64 {
	if th.ErrorRateMargin == 0 {
		return DefaultErrorRateMargin
	}
	return th.ErrorRateMargin
}

// mixture is a confidence sequence for the rate p of successes among Bernoulli
// trials: the set of p whose beta-binomial mixture martingale has not reached
// 1/α. Under the true p that martingale never reaches 1/α with probability at
// least 1−α (Ville's inequality), so the set holds p at every n at once, however
// often it is looked at. The prior, Beta(centre·c, (1−centre)·c), puts its
// weight near the threshold the rate is held against, where the sequence needs
// to be tight; a wide mixture gives half its weight to a uniform prior too, so
// that rates far from the threshold get a tight interval as well (at the cost
// of ln 2 in the bound). The prior changes the width, never the guarantee.
type mixture struct {
	a, b  float64
	lbAB  float64
	wide  bool
	bound float64 // ln(1/α)
}

// mixtureWeight is c above: the prior's weight in trials.
const mixtureWeight = 60

func newMixture(centre, alpha float64, wide bool) mixture {
	centre = min(max(centre, 0.5/mixtureWeight), 1-0.5/mixtureWeight)
	m := mixture{a: centre * mixtureWeight, b: (1 - centre) * mixtureWeight, wide: wide, bound: -math.Log(alpha)}
	m.lbAB = lbeta(m.a, m.b)
	return m
}

// logM is the log of the mixture martingale for p after s successes and f
// failures (real-valued counts allowed, for projections).
func (m *mixture) logM(s, f, p float64) float64 {
	l := lbeta(m.a+s, m.b+f) - m.lbAB
	if m.wide { // ½ the centred prior + ½ Beta(1, 1), whose log-Beta at (1, 1) is 0
		u := lbeta(1+s, 1+f)
		l = max(l, u) + math.Log1p(math.Exp(-math.Abs(l-u))) - math.Ln2
	}
	if s > 0 {
		l -= s * math.Log(p)
	}
	if f > 0 {
		l -= f * math.Log1p(-p)
	}
	return l
}

// excludes reports whether p is outside the sequence after s successes and f
// failures.
func (m *mixture) excludes(s, f, p float64) bool { return m.logM(s, f, p) >= m.bound }

// interval returns the sequence after s successes and f failures: [lo, hi]
// holds the true rate at every n at once with probability 1−α. logM is convex
// in p with its minimum (≤ 0) at s/(s+f), so each side is one bisection.
func (m *mixture) interval(s, f int64) (lo, hi float64) {
	if s+f == 0 {
		return 0, 1
	}
	sf, ff := float64(s), float64(f)
	hat := sf / (sf + ff)
	lo, hi = 0, 1
	if s > 0 { // with no success, 0 stays in
		x, y := 0.0, hat // excluded at x, included at y
		for range 50 {
			mid := (x + y) / 2
			if m.excludes(sf, ff, mid) {
				x = mid
			} else {
				y = mid
			}
		}
		lo = y
	}
	if f > 0 {
		x, y := hat, 1.0 // included at x, excluded at y
		for range 50 {
			mid := (x + y) / 2
			if m.excludes(sf, ff, mid) {
				y = mid
			} else {
				x = mid
			}
		}
		hi = x
	}
	return lo, hi
}

// rateTest holds a success rate (matched of compared; mirrored requests without
// a candidate error) against a threshold with an indifference margin below it,
// on a confidence sequence: Fail once the sequence lies wholly below the
// threshold, Pass once it lies at or above threshold−margin (and nothing
// fails). A rate at or above the threshold fails with probability at most α,
// and one below threshold−margin passes with at most α, however often the test
// is evaluated; in the margin either verdict may come.
type rateTest struct {
	min, margin float64
	seq         mixture
}

func newRateTest(minRate, margin, alpha float64) rateTest {
	return rateTest{min: minRate, margin: margin, seq: newMixture(minRate, alpha, true)}
}

// passAt is the rate the sequence's lower end must reach to pass.
func (t *rateTest) passAt() float64 { return t.min - t.margin }

// decide is the test's verdict after s successes and f failures, in O(1).
func (t *rateTest) decide(s, f int64) Verdict {
	if s+f == 0 {
		return Inconclusive
	}
	sf, ff := float64(s), float64(f)
	hat := sf / (sf + ff)
	if t.min > 0 && hat < t.min && t.seq.excludes(sf, ff, t.min) {
		return Fail
	}
	if pa := t.passAt(); pa <= 0 || hat > pa && t.seq.excludes(sf, ff, pa) {
		return Pass
	}
	return Inconclusive
}

// needed estimates how many more trials the test likely needs to reach a
// verdict were the rate to stay at what was observed: the least n at which a
// sequence fed that rate would leave the threshold (below it) or pass's lower
// end (above it). neededCap when the observed rate sits where neither comes.
func (t *rateTest) needed(s, f int64) int64 {
	n := s + f
	hat := 1.0
	if n > 0 {
		hat = float64(s) / float64(n)
	}
	decided := func(k int64) bool {
		sf, ff := hat*float64(k), (1-hat)*float64(k)
		if t.min > 0 && hat < t.min && t.seq.excludes(sf, ff, t.min) {
			return true
		}
		pa := t.passAt()
		return hat > pa && t.seq.excludes(sf, ff, pa)
	}
	return firstDecided(n, decided)
}

// firstDecided returns how many samples beyond n the least k > n with
// decided(k) lies, searching doublings then halving; neededCap when none up to
// it. decided is taken as monotone in k.
func firstDecided(n int64, decided func(k int64) bool) int64 {
	lo, hi := n, max(2*n, n+1)
	for !decided(hi) {
		if hi-n >= neededCap {
			return neededCap
		}
		lo, hi = hi, 2*hi
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if decided(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return min(max(hi-n, 1), neededCap)
}

// inside returns the success counts s, among n trials, for which p stays in the
// sequence: an interval [lo, hi] (logM is convex in s with its minimum near
// n·p, where it is at most 0). lo > hi when none.
func (m *mixture) inside(n int64, p float64) (lo, hi int64) {
	in := func(s int64) bool { return !m.excludes(float64(s), float64(n-s), p) }
	mid := min(max(int64(math.Round(float64(n)*p)), 0), n)
	if !in(mid) {
		return 1, 0
	}
	l, h := int64(0), mid // smallest s in [0, mid] inside
	for l < h {
		k := (l + h) / 2
		if in(k) {
			h = k
		} else {
			l = k + 1
		}
	}
	lo = l
	l, h = mid, n // largest s in [mid, n] inside
	for l < h {
		k := (l + h + 1) / 2
		if in(k) {
			l = k
		} else {
			h = k - 1
		}
	}
	return lo, l
}

// counts returns, for n trials, the success counts that decide: decide is Fail
// exactly when s < failBelow and Pass exactly when s > passAbove (and not
// failing). For tabulating the test where it is evaluated after every trial.
func (t *rateTest) counts(n int64) (failBelow, passAbove int64) {
	failBelow, passAbove = 0, n
	if n == 0 {
		return 0, 0
	}
	if t.min > 0 {
		lo, hi := t.seq.inside(n, t.min)
		if lo <= hi {
			failBelow = lo
		}
		// Every s with s/n < min is excluded when no s is inside.
		if lo > hi {
			failBelow = int64(math.Ceil(float64(n) * t.min))
		}
	}
	if pa := t.passAt(); pa <= 0 {
		passAbove = -1
	} else if lo, hi := t.seq.inside(n, pa); lo <= hi {
		passAbove = hi
	} else {
		passAbove = int64(math.Floor(float64(n) * pa))
	}
	return failBelow, passAbove
}

// quantileRanks returns the ranks (from 1, in increasing order of value) of the
// order statistics that bound quantile q of n samples with confidence 1−α at
// every n at once: the true quantile is at least the lo-th smallest sample and
// at most the hi-th. lo is 0 when there is no lower bound yet, hi is n+1 when
// there is no upper bound yet (too few samples to say anything that high).
//
// The count S of samples at or below the true quantile is Binomial(n, q): q
// stays in the mixture sequence of S successes among n with probability 1−α.
// The S for which it does form an interval [lo, hi−1], and an S outside it is
// exactly an order statistic on the wrong side of the quantile.
func quantileRanks(n int64, q, alpha float64) (lo, hi int64) {
	m := newMixture(q, alpha, false)
	lo, last := m.inside(n, q)
	if lo > last { // cannot happen (the mixture is at most the likelihood at its maximum)
		return 0, n + 1
	}
	return lo, last + 1
}

func lbeta(a, b float64) float64 {
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	return la + lb - lab
}

// quantileBound is one side's always-valid bounds on its p99 over n samples,
// in milliseconds; upper is +Inf while too few samples bound it.
type quantileBound struct {
	n            int64
	lower, upper float64
}

// latencyDecision compares the candidate's p99 with ratio × the primary's,
// gaps up to floor (ms) forgiven, as the guide's threshold does, on the bounds
// rather than the estimates: Fail when even the candidate's lower bound is over
// ratio × the primary's upper bound and over it by more than floor; Pass when
// the candidate's upper bound is within ratio × the primary's lower bound or
// within floor of it; otherwise Inconclusive. Each side's bounds hold with
// 1−α/2, so a candidate within the threshold fails with probability at most α,
// and one over it passes with at most α. A ratio of 0 judges nothing (Pass).
func latencyDecision(c, p quantileBound, ratio, floor float64) Verdict {
	if ratio <= 0 {
		return Pass
	}
	if !math.IsInf(p.upper, 1) && c.lower > ratio*p.upper && c.lower-p.upper > floor {
		return Fail
	}
	if !math.IsInf(c.upper, 1) && (c.upper <= ratio*p.lower || c.upper-p.lower <= floor) {
		return Pass
	}
	return Inconclusive
}
