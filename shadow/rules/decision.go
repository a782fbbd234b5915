// Package rules is parity's routing side: the configuration file and the
// environment that override it (Config), the per-request routing decision of the
// cutover guide (Router, Decision: who serves, whether to mirror, under which
// comparison rules, and why not), and the live configuration that reloads without
// a restart (Live).
//
// It owns the decision, never its execution: it sends nothing, reads no body and
// never changes the request it is asked about. What a path means (canonical form,
// prefixes, the auth rule, templates, route keys) it asks of report/route.
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
	// Skip is why an /api request is not mirrored; empty when Mirror is set or the
	// request is not an API request.
	Skip    report.SkipReason
	Rules   *diff.Rules // comparison rules for this route (global + route entry)
	Refetch bool        // the route allows re-asking the primary to learn noise
	Noise   NoisePolicy // how the route learns noise (noise: and the route's entry)
}
