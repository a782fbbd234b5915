// Package report turns observations of mirrored requests into per-route parity
// statistics, and those statistics into snapshots, rendered reports and rollout gate
// decisions.
//
// It owns: the concurrent Aggregator with its memory caps, the
// versioned snapshot JSON (read, written atomically, merged exactly), the renderers
// (terminal table, Markdown, JSON, JUnit XML, HTML), the rollout plan with its
// thresholds, the route matrix, plan checks and gate decisions.
//
// It promises bounded memory whatever the traffic (what a cap cuts is counted and
// shown), deterministic output (routes and paths sorted), and snapshots that add up:
// Merge is exact, commutative and associative. It knows nothing of HTTP servers or
// files beyond the snapshot it is asked to read or write. What a path means — its
// canonical form, prefixes, the auth rule, templates and route keys — is its
// subpackage route, which the proxy side calls too.
package report
