package report

import (
	"time"

	"github.com/parity-dev/parity/diff"
)

// Observation is what the proxy or a replay saw for one request: both sides'
// statuses and latencies and the comparison's differences, or why there was no
// comparison (a candidate error, or a skip with its reason).
type Observation struct {
	Time      time.Time
	Route     string // route key, "GET /api/sessions/:id" (see Keyer)
	Method    string
	RequestID string

	// Skipped, when not empty, is why the request was not compared (one of the
	// Skip* reasons); nothing below is read then.
	Skipped SkipReason

	PrimaryStatus    int
	CandidateStatus  int // 0 when CandidateError is set
	PrimaryLatency   time.Duration
	CandidateLatency time.Duration

	// CandidateError is a transport error or timeout talking to the candidate.
	// A candidate 5xx where the primary had none is counted as a candidate error
	// by the aggregator itself from the statuses.
	CandidateError string

	// Differences left after the rules (and after noise) were applied; empty means
	// the pair matched.
	Differences []diff.Difference
	// Omitted counts differences the comparison found but left out of Differences
	// (diff.Result.Omitted); Truncated is set when Differences is not the whole
	// list (diff.Result.Truncated). A truncated comparison never counts as matched.
	Omitted   int
	Truncated bool

	// Request is the request, redacted, that a reproducer sends again; set only
	// when there are Differences (the aggregator keeps it for a group's first
	// occurrence).
	Request *Request

	// Noise lists the patterns that differed in this request but were shown to
	// differ between two primaries too (or were already learned as noise).
	Noise []string

	// NoiseChecked lists the patterns a re-ask of a primary tested in this request:
	// the differences not already learned as noise when the re-ask answered. Those
	// also in Noise were confirmed as noise, the others were not. Empty when no
	// re-ask answered. See NoiseRule for what the aggregator learns from them.
	NoiseChecked []string
	// NoiseRule is the route's learning rule in force; zero fields take the defaults.
	NoiseRule NoiseRule
	// Habits lists the framework habits absorbed in this request, counted per
	// route (HabitCanonicalRedirect): what differed in the answers but means the
	// same to a client, so that it is seen without being a difference.
	Habits []string

	// ReaskDropped is set when a re-ask was due (differences left that are not
	// learned noise) but was not made or not answered: re-ask limits, deadline,
	// transport error.
	ReaskDropped bool
}

// SkipReason is why a request was not compared; the empty reason means it was.
// Snapshots count skips by these strings.
type SkipReason string

// Reasons a request was not compared.
const (
	SkipWriteMethod        SkipReason = "write_method"        // unsafe method on a route not opted in
	SkipExcluded           SkipReason = "excluded"            // matched shadow.exclude
	SkipAuth               SkipReason = "auth"                // /api/auth is never mirrored
	SkipAmbiguous          SkipReason = "ambiguous_path"      // path still ambiguous after canonicalisation
	SkipSampledOut         SkipReason = "sampled_out"         // not picked by shadow.sample
	SkipBodyTooLarge       SkipReason = "body_too_large"      // request body over the mirror cap
	SkipQueueFull          SkipReason = "queue_full"          // mirror queue full
	SkipConcurrency        SkipReason = "concurrency"         // mirror concurrency limit reached
	SkipPrimaryFailed      SkipReason = "primary_failed"      // primary response unusable (reset, transport error)
	SkipCutOver            SkipReason = "cut_over"            // served by the candidate, not verified
	SkipUpgrade            SkipReason = "upgrade"             // protocol upgrade (WebSocket) is never mirrored
	SkipStreamUnfinished   SkipReason = "stream_unfinished"   // the serving response still streaming at the mirror deadline
	SkipRedirectUnfollowed SkipReason = "redirect_unfollowed" // a canonicalising redirect to follow could not be followed (limits, deadline, error)
	SkipCompareBudget      SkipReason = "compare_budget"      // comparing it was over the comparison's CPU budget (the mirror is then not sent, or its answer not read)
	SkipHostileBackoff     SkipReason = "hostile_backoff"     // not mirrored: the route's mirrored answers kept being hostile (over the capture cap, a decompression bomb, unending), so it is only probed
)

// HabitCanonicalRedirect is one side answering a redirect to the same path up to
// a trailing slash (or its canonical form) where the other answered directly: the
// redirect was followed and the final answers compared.
const HabitCanonicalRedirect = "canonical_redirect"
