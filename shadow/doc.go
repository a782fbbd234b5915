// Package shadow is the proxy itself: it serves each client from the backend the
// routing decision names, streaming the answer as it comes (Proxy), mirrors a clone
// of eligible requests to the other backend under bounds (the mirror pool), keeps
// what both answered (capture), compares and observes the pair (Exchange), asks a
// primary again to tell noise from regressions, and runs as a server with its admin
// listener, metrics and snapshots (Server, Admin, Metrics). The offline replay of
// recorded traffic (Replayer) is built from the same pieces — transport, fetch,
// capture, request ids, hop-by-hop handling, error reading — so that a fix in one
// is a fix in both. Both feed the same path: diff.Compare, then report.Aggregator.
//
// Its subpackages hold the other jobs: rules decides (configuration, environment,
// cutover routing, live reload), traffic reads and writes recorded requests (HAR,
// NDJSON, the recorder), and report/route owns what a path means.
//
// It promises that the client's request and response are never touched by mirror
// code, that mirror work is bounded and what is dropped is counted, that /api/auth is
// never sent to the candidate in any spelling (the routing decision, then one last
// check with the same scanner), and that writes are mirrored only where a route opts
// in. It must not decide routing itself, parse configuration or traffic files, or
// render anything.
package shadow
