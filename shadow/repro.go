package shadow

import (
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/internal/hop"
	"github.com/parity-dev/parity/shadow/traffic"
)

// Caps on what a reproducer's request keeps: a difference group keeps one
// request, so a route's worst case is PathsPerRoute of them (up to about
// 600 KB with the defaults, more than the rest of the route's statistics).
const (
	ReproBodyBytes   = 4 << 10 // body
	ReproHeaderBytes = 4 << 10 // header names and values together
	ReproTargetBytes = 4 << 10 // path and query
)

// proxyAdded are request headers the proxy itself adds or that only describe
// the hop to it: a reproducer leaves them out, and says so.
var proxyAdded = []string{"Host", "Content-Length", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded"}

// reproRequest is the request of a difference's reproducer, redacted as a
// recording is: secret headers and secret query values left out and named (the
// engineer fills them in), hop-by-hop and proxy headers left out and named, the
// body redacted member by member and capped at ReproBodyBytes.
func reproRequest(red *diff.Redactor, method, target string, h http.Header, body []byte) *report.Request {
	if method == "" {
		method = http.MethodGet
	}
	q := &report.Request{Method: method}
	q.Target, q.SecretParams = reproTarget(target)

	kept := h.Clone()
	if kept == nil {
		kept = http.Header{}
	}
	hop.Remove(kept)
	removed := map[string]bool{}
	for name := range h {
		if _, ok := kept[name]; !ok {
			removed[textproto.CanonicalMIMEHeaderKey(name)] = true
		}
	}
	for name := range kept {
		cn := textproto.CanonicalMIMEHeaderKey(name)
		switch {
		case diff.IsSecretHeader(cn):
			q.SecretHeaders = append(q.SecretHeaders, cn)
			delete(kept, name)
		case slices.Contains(proxyAdded, cn) || strings.HasPrefix(cn, "X-Parity-"):
			removed[cn] = true
			delete(kept, name)
		}
	}
	for name := range removed {
		q.RemovedHeaders = append(q.RemovedHeaders, name)
	}
	slices.Sort(q.SecretHeaders)
	slices.Sort(q.RemovedHeaders)

	if len(body) > 0 {
		b, missing, decoded := traffic.RedactBody(red, h, body)
		switch {
		case missing != "":
			q.Incomplete = "body left out: it may hold secrets that cannot be redacted in place"
		case !utf8.Valid(b):
			q.Incomplete = fmt.Sprintf("binary body of %d bytes left out", len(b))
		case len(b) > ReproBodyBytes:
			q.Body = strings.ToValidUTF8(string(b[:ReproBodyBytes]), "")
			q.Incomplete = fmt.Sprintf("body cut at %d of %d bytes", ReproBodyBytes, len(b))
		default:
			q.Body = string(b)
		}
		q.Body, q.SecretBody = bodyPlaceholders(q.Body)
		if decoded {
			kept.Del("Content-Encoding")
		}
	}
	keepHeaders(q, kept)
	if len(q.Target) > ReproTargetBytes {
		q.Incomplete = joinNote(q.Incomplete, fmt.Sprintf("target cut at %d of %d bytes", ReproTargetBytes, len(q.Target)))
		q.Target = strings.ToValidUTF8(q.Target[:ReproTargetBytes], "")
	}
	return q
}

// keepHeaders keeps the headers of kept, by name, up to ReproHeaderBytes; the
// others are named as removed, and the request marked incomplete.
func keepHeaders(q *report.Request, kept http.Header) {
	names := make([]string, 0, len(kept))
	for name := range kept {
		names = append(names, name)
	}
	slices.Sort(names)
	used, cut := 0, false
	for _, name := range names {
		n := len(name)
		for _, v := range kept[name] {
			n += len(v) + 4
		}
		cn := textproto.CanonicalMIMEHeaderKey(name)
		if used+n > ReproHeaderBytes {
			q.RemovedHeaders = append(q.RemovedHeaders, cn)
			cut = true
			continue
		}
		used += n
		if q.Header == nil {
			q.Header = make(map[string][]string, len(kept))
		}
		q.Header[cn] = slices.Clone(kept[name])
	}
	if cut {
		slices.Sort(q.RemovedHeaders)
		q.Incomplete = joinNote(q.Incomplete, fmt.Sprintf("headers over %d bytes left out", ReproHeaderBytes))
	}
}

func joinNote(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// reproTarget empties the values of secret path parameters (";jsessionid=") and
// of secret query parameters, and names the query's.
func reproTarget(target string) (string, []string) {
	path, query, ok := strings.Cut(target, "?")
	path = diff.BlankSecretPathParams(path)
	if !ok {
		return path, nil
	}
	pairs := strings.Split(query, "&")
	var secret []string
	for i, p := range pairs {
		name, _, hasValue := strings.Cut(p, "=")
		n, err := url.QueryUnescape(name)
		if err != nil {
			n = name
		}
		if !hasValue || !diff.IsSecretParam(n) {
			continue
		}
		pairs[i] = name + "="
		if !slices.Contains(secret, n) {
			secret = append(secret, n)
		}
	}
	return path + "?" + strings.Join(pairs, "&"), secret
}

// reproRequest is the reproducer's request of a mirrored pair.
func (pr *pair) reproRequest() *report.Request {
	var body []byte
	if pr.req.GetBody != nil {
		if rc, err := pr.req.GetBody(); err == nil {
			body, _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	return reproRequest(pr.dec.Rules.Redactor(), pr.method, pr.req.URL.RequestURI(), pr.req.Header, body)
}

// bodyPlaceholders replaces each redaction marker (diff.Markers) in a redacted
// body with a placeholder the engineer fills, ${BODY_SECRET_1}, ... and names
// them. Equal keyed markers are equal secrets, one placeholder; an unkeyed
// marker says nothing of its value, so each gets its own.
var unkeyedMarker = (*diff.Redactor)(nil).Mark("")

func bodyPlaceholders(body string) (string, []string) {
	var names []string
	seen := map[string]string{}
	out := diff.Markers.ReplaceAllStringFunc(body, func(m string) string {
		if n, ok := seen[m]; ok {
			return n
		}
		name := fmt.Sprintf("BODY_SECRET_%d", len(names)+1)
		names = append(names, name)
		p := "${" + name + "}"
		if m != unkeyedMarker {
			seen[m] = p
		}
		return p
	})
	return out, names
}
