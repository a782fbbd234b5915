// Package diff compares two HTTP responses — the primary's and the candidate's — under
// rules, and says exactly where they differ.
//
// It owns: status, header and body comparison (JSON, server-sent events, text, binary),
// content-encoding decoding with a cap, difference paths and kinds, and redaction of
// secret values. It promises to be pure: no network, no files, no clock, no global
// state, and deterministic output (differences sorted by path).
//
// Paths use one syntax everywhere: "status", "header.<Canonical-Name>" and
// "body.<gjson path>". A Difference carries the exact path (array indexes as numbers)
// and its Pattern, where "#" stands for any array index; either, pasted into an
// Ignore rule, silences that difference. Keys are escaped the gjson way (body.a\.b for
// the key "a.b"), so a body path also selects its value with gjson; a key holding a
// lone surrogate, which gjson cannot select, shows it as \uXXXX (body.\ud800), and
// Ignore reads that back.
//
// What is compared how, with no rules at all, is documented in defaults.go; event
// streams in sse.go. Bodies are decoded (gzip, deflate, br) up to MaxDecodedBytes and
// compared semantically up to MaxBodyBytes, by length and hash beyond. JSON is parsed
// iteratively, so nesting depth costs memory, never stack; a candidate that differs
// from the primary in the order of members only is checked against the primary's
// tape without a parse of its own (same.go), and any other is parsed against it,
// taking what the two share byte for byte from it, so that a pair that differs in a
// few values costs little more than one parse (guide.go). Values in a Difference are
// bounded (MaxValueBytes) and secret ones redacted (see redact.go); a Result is
// bounded too (MaxDifferences, MaxResultBytes), counting what it leaves out. Compare is safe for
// concurrent use with a shared *Rules.
package diff

import (
	"net/http"
	"net/url"
)

// Kind says how a value differs.
type Kind string

// The kinds of difference.
const (
	Changed Kind = "changed" // present on both sides with different values
	Missing Kind = "missing" // present in the primary, absent in the candidate
	Extra   Kind = "extra"   // present only in the candidate
	Type    Kind = "type"    // JSON types differ (string vs number, object vs array, ...)

	// kindOmitted marks no difference: the JSON walk's count of differences it left
	// out travels to Result.Omitted as the Note of one such entry (see walker.compare).
	kindOmitted Kind = "\x00omitted"
)

// Response is one side of a comparison as it came off the wire: transfer-encoding
// removed, content-encoding still applied.
type Response struct {
	Status int
	Header http.Header
	// Body holds the captured body. When Truncated is set it is only the first
	// len(Body) bytes of a body of Size bytes, and the comparison falls back to
	// length (and hash of what was captured) with a note.
	Body      []byte
	Truncated bool
	Size      int64 // full body length; -1 when unknown
	// Request is the request this response answers, as the client sent it; nil when
	// unknown, and then the other side's is used. Location, Content-Location, a
	// cookie's default Path and the CORS headers are judged against it (see
	// defaults.go and security.go).
	Request *Request
}

// Request is what the comparison needs to know of the request both responses answer.
type Request struct {
	// URL is the request's URL as the client addressed it: scheme, host (its Host
	// header), path and query. A Location is resolved against it, and one of the same
	// origin compares by path and query, so that "/x" ≡ "http://host/x" and two
	// backends behind different hosts compare alike.
	URL *url.URL
	// Origin is the request's Origin header, "" when it had none: a candidate that
	// allows it by CORS where the primary did not is a security regression.
	Origin string
}

// Difference is one place where the two responses differ. Values are rendered
// (JSON text for body values, the header's values joined by ", ") and already
// redacted where they are secret; an absent side is "".
type Difference struct {
	Path      string `json:"path"`    // exact, e.g. body.items.3.actor.avatarUrl
	Pattern   string `json:"pattern"` // aggregated, e.g. body.items.#.actor.avatarUrl
	Kind      Kind   `json:"kind"`
	Primary   string `json:"primary"`
	Candidate string `json:"candidate"`
	Note      string `json:"note,omitempty"`
	// Security, when set, names how the difference weakens what protects the client
	// — a cookie that lost HttpOnly, CORS opened wider, a 403 answered 200 — so that
	// it can be flagged as a security regression whatever the parity (security.go).
	Security Security `json:"security,omitempty"`
}
