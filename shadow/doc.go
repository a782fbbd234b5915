// Package shadow is parity's traffic side: the live shadow proxy (cutover routing,
// path canonicalisation, streaming, mirroring to the other backend, capture, admin
// endpoints, live configuration) and the offline replay of recorded traffic (HAR and
// NDJSON). Both feed the same path: diff.Compare, then report.Aggregator.
//
// It promises that the client's request and response are never touched by mirror
// code, that mirror work is bounded and what is dropped is counted, that /api/auth is
// never sent to the candidate in any spelling, and that writes are mirrored only
// where a route opts in. It knows nothing of rendering.
package shadow
