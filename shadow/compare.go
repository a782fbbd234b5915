package shadow

import (
	"errors"
	"net/url"
	"slices"
	"time"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// Observer receives one observation per request; report.Aggregator is one. It must be
// safe for concurrent use.
type Observer interface {
	Observe(report.Observation)
}

// Exchange is everything known about one request once both backends have answered
// (or failed): the proxy and the replay both build one and hand it to Observe.
type Exchange struct {
	Decision  rules.Decision
	Method    string
	RequestID string
	Time      time.Time

	Primary          *diff.Response // nil when the primary failed
	PrimaryErr       error          // transport error or reset mid-body
	PrimaryLatency   time.Duration
	Candidate        *diff.Response // nil when the candidate failed
	CandidateErr     error
	CandidateLatency time.Duration

	// Learned lists, sorted, the patterns learned as noise on this route (see
	// NoiseLearner): differences at them are noise without a re-ask. It is read,
	// never modified.
	Learned []string
	// Reask, when set, asks a primary the same request again and returns its
	// answer, or nil when the re-ask could not be made or was not answered (limits,
	// deadline, error). Observation calls it at most once, and only when
	// differences are left that are not learned noise; what also differs between
	// the two primaries' answers is then noise.
	Reask func() *diff.Response
	// Follow, when set, asks backend b for target — the target of a
	// canonicalising redirect b answered (see redirects.go) — and returns the
	// answer, or nil when it could not be made or was not answered. Observation
	// calls it at most once, before comparing.
	Follow func(b rules.Backend, target *url.URL) *diff.Response
}

// Observation compares the two answers of x under its decision's rules and returns
// what the aggregator records. A primary that failed excludes the pair from parity
// (it is counted as skipped): there is nothing trustworthy to compare against.
//
// Differences at learned patterns become noise first; when others are left and x
// can re-ask, the re-ask's answer is compared with the primary's, and the
// differences it shares (same pattern, same kind) become noise too. The
// observation says which patterns the re-ask tested, so that the aggregator
// learns, and whether a due re-ask was dropped.
//
// Before comparing, a canonicalising redirect of one side is followed one hop
// through Follow, and its final answer takes the redirect's place in x (see
// redirects.go); the observation then counts the habit, and nothing is re-asked.
func (x *Exchange) Observation() report.Observation {
	o := report.Observation{
		Time:      x.Time,
		Route:     x.Decision.Route,
		Method:    x.Method,
		RequestID: x.RequestID,
	}
	if x.PrimaryErr != nil || x.Primary == nil {
		o.Skipped = report.SkipPrimaryFailed
		if errors.Is(x.PrimaryErr, errServingIncomplete) {
			// A stream longer than the mirror deadline: nothing failed.
			o.Skipped = report.SkipStreamUnfinished
		}
		return o
	}
	o.PrimaryStatus = x.Primary.Status
	o.PrimaryLatency = x.PrimaryLatency
	o.CandidateLatency = x.CandidateLatency
	if x.CandidateErr != nil || x.Candidate == nil {
		o.CandidateError = candidateError(x.CandidateErr)
		return o
	}
	o.CandidateStatus = x.Candidate.Status
	followed, ok := x.followCanonical(&o)
	if !ok {
		o.Skipped = report.SkipRedirectUnfollowed
		return o
	}
	o.NoiseRule = x.Decision.Noise.Rule
	res := diff.Compare(x.Primary, x.Candidate, x.Decision.Rules)
	o.Omitted, o.Truncated = res.Omitted, res.Truncated
	diffs := res.Differences
	diffs, o.Noise = learnedNoise(diffs, x.Learned)
	// A re-ask would ask the redirect again, not its target: after a followed
	// redirect nothing is re-asked.
	if len(diffs) > 0 && x.Reask != nil && !followed {
		if again := x.Reask(); again == nil {
			o.ReaskDropped = true
		} else {
			var confirmed []string
			o.NoiseChecked = patterns(diffs)
			diffs, confirmed = splitNoise(diffs, diff.Compare(x.Primary, again, x.Decision.Rules).Differences)
			o.Noise = mergeSorted(o.Noise, confirmed)
		}
	}
	o.Differences = diffs
	return o
}

// comparable reports whether x has both answers, so that Observation compares
// them: the work the comparison budget bounds. A failed side is observed
// without it.
func (x *Exchange) comparable() bool {
	return x.PrimaryErr == nil && x.Primary != nil && x.CandidateErr == nil && x.Candidate != nil
}

// mergeSorted returns the union of two sorted lists without duplicates.
func mergeSorted(a, b []string) []string {
	if len(a) == 0 {
		return b
	}
	if len(b) == 0 {
		return a
	}
	out := append(append(make([]string, 0, len(a)+len(b)), a...), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// candidateError describes a candidate failure by its kind (errorText): never the
// request URL, whose query may carry secrets, nor what the candidate sent.
func candidateError(err error) string {
	if err == nil {
		return "candidate failed"
	}
	return errorText(err)
}
