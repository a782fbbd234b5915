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
//     strings (and member names) by their decoded text ("\u00e9" ≡ "é") as a
//     JavaScript client decodes it: a lone surrogate ("\ud800") is kept as itself,
//     unequal to another one and to U+FFFD, and bytes that are not UTF-8 read as
//     U+FFFD.
//   - Content-Encoding: bodies are compared decoded, so whenever both bodies could be
//     decoded (gzip, deflate, br, within MaxDecodedBytes) the Content-Encoding header
//     and an "Accept-Encoding" token in Vary are transport details and not compared:
//     a body difference is reported on the decoded bodies already, and repeating it
//     as an encoding difference only adds noise (it would also show on every route
//     whose bodies differ by learned noise alone). @fastify/compress compresses
//     replies over 1 KiB and adds Vary: accept-encoding; adapter-node does neither.
//     When a body could not be decoded (an unknown coding, corrupt data, a bomb over
//     the cap, a body captured only in part) Content-Encoding is compared, since it
//     is then the only explanation of the body difference. Vary's other tokens are
//     always compared.
//   - List-valued headers whose order carries no meaning compare as sets: Vary and the
//     Access-Control-Allow-Headers and -Expose-Headers lists case-insensitively;
//     Allow and Access-Control-Allow-Methods case-sensitively, as methods are (a
//     browser matches a preflight's method byte for byte); Cache-Control directives
//     with their names in any case and a value quoted or not. Whitespace around
//     commas never counts.
//   - Set-Cookie: cookie by cookie and attribute by attribute, attributes in any order
//     and case, each difference at its own path (header.Set-Cookie.sid.HttpOnly); see
//     cookies.go.
//   - Location and Content-Location: resolved against the URL of the request
//     (Response.Request) and, when of its origin, compared by path, query and
//     fragment, so a relative "/x" is the absolute "http://host/x" it resolves to.
//     Without a request URL they are compared as written.
//   - Last-Modified and Expires (when compared: Expires is ignored by default) as
//     instants when both are HTTP-dates in any of their three formats; a value that
//     is not an HTTP-date is compared as text, and when only one side's is not, the
//     difference says so.
//   - Strict-Transport-Security and Content-Security-Policy as their directives, in
//     any order and case (CSP's sources as sets, nonces not compared: each response
//     has its own); Referrer-Policy as the policy a browser applies (the last one it
//     knows of the list).
//   - Differences that weaken the client's security are marked as such (security.go).
//   - Error envelope: on error responses (status >= 400 on both sides) with JSON bodies,
//     Fastify adds "statusCode" (the status) and "error" (the status text) to every
//     error reply, and "code" (FST_ERR_VALIDATION, FST_ERR_CTP_INVALID_MEDIA_TYPE, ...)
//     to those of errors that carry one. When these top-level members are present only
//     in the candidate and hold exactly those values — "code" an error code (upper-case
//     letters, digits and underscores) beside such a "statusCode" — they are not
//     differences. StrictErrorEnvelope turns this off.
//   - Error pages: on an unknown route both frameworks answer the same error status,
//     but SvelteKit renders its HTML error page (text/html, with modulepreload Link
//     headers and X-Sveltekit-Page: true) where Fastify answers its JSON 404
//     envelope. When both statuses are equal and >= 400 and one side's body is an
//     HTML document (media type text/html) while the other's is JSON, the two are
//     different renderings of the same error: the bodies, Content-Type and Link are
//     not compared for that pair, and Result.Notes says so. The status is compared
//     as always, and a JSON error against a JSON error is compared as usual (with
//     the error envelope default above). StrictErrorPages turns this off.
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
	// Instructions to the infrastructure in front of the backend, not part of the
	// answer a client gets.
	"X-Accel-Buffering": "tells a buffering reverse proxy (nginx) not to buffer; adapter-node sets \"no\" on every event stream",
	// Framework bookkeeping that has no meaning to an API client.
	"X-Sveltekit-Page": "marks a page SvelteKit rendered (its HTML error page on an unknown /api route); Fastify renders no pages",
}

// errorPageHeaders are not compared on a pair of error pages of different formats
// (see "Error pages" above): they describe the HTML rendering, not the error.
var errorPageHeaders = map[string]bool{
	"Content-Type":     true,
	"Link":             true, // modulepreload hints for the page's scripts
	"X-Sveltekit-Page": true,
}

// tokenSetHeaders hold comma-separated tokens whose order and case carry no meaning:
// header names and content codings.
var tokenSetHeaders = map[string]bool{
	"Vary":                          true,
	"Access-Control-Allow-Headers":  true,
	"Access-Control-Expose-Headers": true,
	"Content-Encoding":              true,
}

// methodSetHeaders hold comma-separated methods: their order carries no meaning, but
// their case does (RFC 9110 §9.1), and a browser matches a preflight's method against
// Access-Control-Allow-Methods byte for byte.
var methodSetHeaders = map[string]bool{
	"Allow":                        true,
	"Access-Control-Allow-Methods": true,
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
