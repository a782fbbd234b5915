package diff

import (
	"net/http"
	"strings"
)

// Defaults — what the comparison does with no rules at all.
//
// Some things differ between two correct backends by design, and reporting them would
// bury real differences. They are handled here, each with its reason; every one can be
// seen in a test, and the few that are choices rather than facts can be turned off.
//
// Headers ignored (DefaultIgnoredHeaders; IncludeHeaders compares one again): see the
// reason beside each name.
//
// What frameworks do differently by themselves while meaning the same — these are not
// ignore rules: the values are still compared once normalised.
//
//   - Content-Type: compared as media type plus parameters, names and the charset value
//     case-insensitive; a missing charset equals charset=utf-8 (Fastify adds it to every
//     JSON and text reply, SvelteKit's json() does not).
//   - JSON key order is irrelevant, and numbers compare by exact value (1 ≡ 1.0 ≡ 1e0),
//     strings by their decoded text ("\u00e9" ≡ "é").
//   - Content-Encoding: bodies are compared decoded; gzip on one side and identity on
//     the other is no difference when the decoded bodies match, nor is an
//     "Accept-Encoding" token in Vary. When the bodies differ, both are reported.
//   - List-valued headers whose order carries no meaning (Vary, Allow, the
//     Access-Control-* lists, Cache-Control directives) compare as sets of tokens;
//     Set-Cookie as a set of cookies. Whitespace around commas never counts.
//   - Error envelope: on error responses (status >= 400 on both sides) with JSON bodies,
//     Fastify adds "statusCode" (the status) and "error" (the status text) to every
//     error reply. When these top-level members are present only in the candidate and
//     hold exactly those values, they are not differences. StrictErrorEnvelope turns
//     this off.
//   - Event streams compare event by event (see sse.go), so how the stream was split
//     into chunks never matters.

// DefaultIgnoredHeaders are not compared unless IncludeHeaders asks for them.
var DefaultIgnoredHeaders = map[string]string{
	// Per-response clock values: each instance stamps its own time.
	"Date":    "the responding instance's clock",
	"Expires": "an absolute time computed from the instance's clock; Cache-Control carries the policy and is compared",
	"Age":     "time the response spent in a cache on the way",
	// Product identification differs between two implementations by definition.
	"Server":       "names the implementation (SvelteKit/Node vs Fastify)",
	"X-Powered-By": "names the framework",
	// Framing and hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection
	// or one encoding of the body, which is compared decoded instead.
	"Content-Length":    "depends on encoding and JSON whitespace; the body itself is compared",
	"Transfer-Encoding": "hop-by-hop framing",
	"Connection":        "hop-by-hop",
	"Keep-Alive":        "hop-by-hop",
	"Proxy-Connection":  "hop-by-hop (non-standard)",
	"Te":                "hop-by-hop",
	"Trailer":           "hop-by-hop framing",
	"Upgrade":           "hop-by-hop",
	"Via":               "lists the proxies on the way, not the backend's answer",
	// Measurements of this one request on this one instance.
	"Server-Timing":   "timings of this request on this instance",
	"X-Response-Time": "timing of this request on this instance",
	// Per-instance state, not part of the answer.
	"X-Ratelimit-Remaining": "a counter kept per instance",
	"X-Ratelimit-Reset":     "a time computed per instance",
	"Ratelimit-Remaining":   "a counter kept per instance",
	"Ratelimit-Reset":       "a time computed per instance",
	// Validators are opaque and each framework computes its own (a hash of different
	// bytes, weak or strong); clients only send them back to the same origin.
	"Etag": "opaque validator computed differently by each framework",
}

// tokenSetHeaders hold comma-separated tokens whose order and case carry no meaning.
var tokenSetHeaders = map[string]bool{
	"Vary":                          true,
	"Allow":                         true,
	"Access-Control-Allow-Methods":  true,
	"Access-Control-Allow-Headers":  true,
	"Access-Control-Expose-Headers": true,
	"Content-Encoding":              true,
}

// statusTexts returns the reason phrases a framework may put in an error envelope for
// status: Go's and, where Node's http.STATUS_CODES differs, Node's.
func statusTexts(status int) (string, string) {
	node := map[int]string{
		413: "Payload Too Large",
		414: "URI Too Long",
		416: "Range Not Satisfiable",
		418: "I'm a Teapot",
	}[status]
	return http.StatusText(status), node
}

// isStatusText reports whether s is a reason phrase for status.
func isStatusText(status int, s string) bool {
	goText, nodeText := statusTexts(status)
	return (goText != "" && strings.EqualFold(s, goText)) || (nodeText != "" && strings.EqualFold(s, nodeText))
}
