// Package traffic reads and writes recorded requests: HAR 1.2 and NDJSON files as
// parity replay takes them (Open, Reader, Request), and the Recorder that writes
// the proxy's mirrored requests as NDJSON, secrets redacted.
//
// It promises that a bad line or a truncated file is an error naming where, that
// nothing is lost silently, and that no secret is written (diff's redaction, one
// list of secret names). It sends nothing and decides nothing: what is replayed
// where is the proxy's and the routing rules' business.
package traffic
