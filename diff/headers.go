package diff

import (
	"mime"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"time"
)

// headerValues returns h's values for the canonical name, also under spellings that
// are not canonical (a Header built by hand).
func headerValues(h http.Header, canon string) []string {
	v := h[canon]
	for k, vs := range h {
		if k != canon && strings.EqualFold(k, canon) {
			v = append(v[:len(v):len(v)], vs...)
		}
	}
	return v
}

// headers compares the headers of both responses.
func (c *comparison) headers() {
	p, q := c.primary.Header, c.candidate.Header
	for k := range p {
		name := textproto.CanonicalMIMEHeaderKey(k)
		if c.headerSkipped(name) {
			continue
		}
		c.header(name, headerValues(p, name), headerValues(q, name))
	}
	for k := range q {
		name := textproto.CanonicalMIMEHeaderKey(k)
		if c.headerSkipped(name) || headerValues(p, name) != nil {
			continue
		}
		c.header(name, nil, headerValues(q, name))
	}
}

func (c *comparison) headerSkipped(name string) bool {
	if c.errorPages && errorPageHeaders[name] {
		return true
	}
	if _, ok := DefaultIgnoredHeaders[name]; ok && !c.r.include[name] {
		return true
	}
	return c.r.headerIgnored(name)
}

// request is the request both responses answer: the primary's, else the
// candidate's; nil when neither says.
func (c *comparison) request() *Request {
	if c.primary.Request != nil {
		return c.primary.Request
	}
	return c.candidate.Request
}

// requestURL is req's URL, nil when unknown.
func requestURL(req *Request) *url.URL {
	if req == nil {
		return nil
	}
	return req.URL
}

// sideURL is the URL of the request r answers: its own, else the other side's.
func (c *comparison) sideURL(r *Response) *url.URL {
	if r.Request != nil && r.Request.URL != nil {
		return r.Request.URL
	}
	return requestURL(c.request())
}

func (c *comparison) header(name string, vp, vq []string) {
	if slices.Equal(vp, vq) {
		return
	}
	if name == "Set-Cookie" {
		c.cookies(vp, vq)
		return
	}
	// Whether the encoding is a transport detail is decided only where it matters:
	// it may take decoding a body the comparison did not need.
	transport := (name == "Content-Encoding" || name == "Vary") && c.encodingIsTransport()
	np, okp := normalizeHeader(name, vp, transport, c.sideURL(c.primary))
	nq, okq := normalizeHeader(name, vq, transport, c.sideURL(c.candidate))
	var kind Kind
	switch {
	case !okp && !okq:
		return
	case !okq:
		kind = Missing
	case !okp:
		kind = Extra
	case np == nq:
		return
	default:
		kind = Changed
	}
	d := Difference{Path: "header." + escapeComponent(name), Kind: kind}
	d.Pattern = d.Path
	if okp {
		d.Primary = renderHeader(name, vp, c.r.redactor)
	}
	if okq {
		d.Candidate = renderHeader(name, vq, c.r.redactor)
	}
	if dateHeaders[name] && okp && okq {
		d.Note = dateNote(name, np, nq)
	}
	var why string
	if d.Security, why = headerSecurity(name, c.primary, c.candidate, c.request()); why != "" {
		d.Note = why
	}
	c.out = append(c.out, d)
}

// renderHeader shows a header's values joined by ", ", redacted by red when secret,
// bounded.
func renderHeader(name string, vs []string, red *Redactor) string {
	secret := IsSecretHeader(name)
	parts := make([]string, len(vs))
	for i, v := range vs {
		switch {
		case secret:
			v = red.headerValue(name, v)
		case name == "Location" || name == "Content-Location":
			v = red.Target(v)
		}
		parts[i] = v
	}
	s := strings.Join(parts, ", ")
	return truncate(s, len(s))
}

// normalizeHeader returns the form in which a header's values are compared, and false
// when, so normalised, the header is as good as absent. transport says that the
// content coding is a transport detail (both bodies could be decoded); base is the
// URL of the request the response answers (nil when unknown).
func normalizeHeader(name string, vs []string, transport bool, base *url.URL) (string, bool) {
	if vs == nil {
		return "", false
	}
	switch {
	case name == "Content-Type":
		return normContentType(strings.Join(vs, ", ")), true
	case name == "Content-Encoding" && transport:
		return "", false
	case tokenSetHeaders[name]:
		var drop string
		if name == "Vary" && transport {
			drop = "accept-encoding"
		}
		if name == "Content-Encoding" {
			drop = "identity"
		}
		toks := tokens(vs, true, drop)
		if len(toks) == 0 {
			return "", false
		}
		return strings.Join(toks, ","), true
	case methodSetHeaders[name]:
		return strings.Join(tokens(vs, false, ""), ","), true
	case name == "Cache-Control":
		return strings.Join(directives(vs), ","), true
	case name == "Location" || name == "Content-Location":
		return locationForm(strings.Join(vs, ", "), base), true
	case dateHeaders[name]:
		return dateForm(strings.Join(vs, ", ")), true
	case name == "Strict-Transport-Security":
		return normHSTS(vs), true
	case name == "Content-Security-Policy" || name == "Content-Security-Policy-Report-Only":
		return normCSP(vs), true
	case name == "Referrer-Policy":
		return referrerPolicy(vs), true
	}
	return strings.Join(tokensInOrder(vs), ", "), true
}

// dateHeaders hold an HTTP-date (RFC 9110 §5.6.7).
var dateHeaders = map[string]bool{"Last-Modified": true, "Expires": true}

// dateForm is an HTTP-date as compared: the instant, in any of the three formats; a
// value that is not an HTTP-date is compared as text, marked so.
func dateForm(v string) string {
	t, err := http.ParseTime(strings.TrimSpace(v))
	if err != nil {
		return "invalid:" + v
	}
	return t.UTC().Format(time.RFC3339)
}

// dateNote says which side's value of a date header is not an HTTP-date, when only
// one's is not.
func dateNote(name, np, nq string) string {
	ip, iq := strings.HasPrefix(np, "invalid:"), strings.HasPrefix(nq, "invalid:")
	switch {
	case ip && !iq:
		return "the primary's " + name + " is not a valid HTTP-date"
	case iq && !ip:
		return "the candidate's " + name + " is not a valid HTTP-date"
	}
	return ""
}

// locationForm is a URL reference as compared: resolved against base, and, when it
// then has base's origin, only its path, query and fragment — so "/x" and
// "http://host/x" are one target. Without a base a reference is compared as written.
func locationForm(v string, base *url.URL) string {
	ref, err := url.Parse(strings.TrimSpace(v))
	if err != nil {
		return v
	}
	if base == nil {
		return ref.String()
	}
	u := base.ResolveReference(ref)
	if !sameOrigin(u, base) {
		u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
		return u.String()
	}
	s := u.RequestURI()
	if u.Fragment != "" {
		s += "#" + u.EscapedFragment()
	}
	return s
}

// SameOrigin reports whether two absolute URLs have one origin: scheme, host and
// port, a default port written or not — the rule Location is compared by.
func SameOrigin(a, b *url.URL) bool { return sameOrigin(a, b) }

func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) &&
		effectivePort(a) == effectivePort(b)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "ws":
		return "80"
	case "https", "wss":
		return "443"
	}
	return ""
}

// tokens splits comma lists into trimmed items, lower-cased (lower) or as sent,
// sorted, without duplicates and without drop.
func tokens(vs []string, lower bool, drop string) []string {
	var out []string
	for _, v := range vs {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if lower {
				t = strings.ToLower(t)
			}
			if t == "" || t == drop {
				continue
			}
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// directives splits Cache-Control into its directives — names lower-cased, a quoted
// value unquoted, commas inside quotes kept — sorted, without duplicates.
func directives(vs []string) []string {
	var out []string
	for _, v := range vs {
		for len(v) > 0 {
			end, inQuote := len(v), false
			for i := 0; i < len(v); i++ {
				if v[i] == '"' {
					inQuote = !inQuote
				} else if v[i] == ',' && !inQuote {
					end = i
					break
				}
			}
			d := strings.TrimSpace(v[:end])
			v = v[min(end+1, len(v)):]
			if d == "" {
				continue
			}
			if k, val, ok := strings.Cut(d, "="); ok {
				d = strings.ToLower(strings.TrimSpace(k)) + "=" + strings.Trim(strings.TrimSpace(val), `"`)
			} else {
				d = strings.ToLower(d)
			}
			out = append(out, d)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// tokensInOrder splits comma lists into trimmed items, keeping order, so that
// whitespace around commas and line breaks between values do not count.
func tokensInOrder(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, t := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(t))
		}
	}
	return out
}

// normContentType is a media type with its parameters sorted, names and the charset
// value lower-cased, and charset=utf-8 dropped (a missing charset means the same).
func normContentType(v string) string {
	mt, params, err := mime.ParseMediaType(v)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(v))
	}
	if cs, ok := params["charset"]; ok {
		cs = strings.ToLower(cs)
		if cs == "utf-8" || cs == "utf8" {
			delete(params, "charset")
		} else {
			params["charset"] = cs
		}
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString(mt)
	for _, k := range keys {
		b.WriteString("; ")
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params[k])
	}
	return b.String()
}
