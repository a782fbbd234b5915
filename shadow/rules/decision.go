package rules

import (
	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
)

// Backend names one of the two backends.
type Backend int

// The backends. The primary is SvelteKit, the candidate Fastify.
const (
	Primary Backend = iota
	Candidate
)

func (b Backend) String() string {
	if b == Candidate {
		return "candidate"
	}
	return "primary"
}

// Decision is what the routing rules say about one request: who serves it, and
// whether (and under which comparison rules) it is mirrored to the other backend.
type Decision struct {
	Path      string  // canonical path the rules were matched against
	Ambiguous bool    // the path stayed ambiguous under /api after canonicalisation
	Auth      bool    // the path is under /api/auth in some spelling
	API       bool    // the path is under /api
	Route     string  // report route key, "GET /api/sessions/:id"
	Serve     Backend // who answers the client
	Mirror    bool    // send a copy to the other backend and compare
	// Weight is the percent of the path's requests the candidate serves while the
	// cutover is enabled: 100 under a cutover prefix, the weight of the prefix
	// named by Weighted, else 0.
	Weight int
	// Weighted is the cutover.weights prefix that assigned the request to Serve
	// by its client's sticky bucket; "" when none did.
	Weighted string
	// Skip is why an /api request is not mirrored; empty when Mirror is set or the
	// request is not an API request.
	Skip    report.SkipReason
	Rules   *diff.Rules // comparison rules for this route (global + route entry)
	Refetch bool        // the route allows re-asking the primary to learn noise
	Noise   NoisePolicy // how the route learns noise (noise: and the route's entry)
	// FollowCanonical follows a canonicalising redirect one hop and compares the
	// final answers (compare.follow_redirects: canonical, the default; see
	// redirects.go); QuietRedirects then leaves the habit uncounted
	// (quiet_habits: [canonical_redirect]).
	FollowCanonical bool
	QuietRedirects  bool
}
