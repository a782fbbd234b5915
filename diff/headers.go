package diff

import (
	"mime"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
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

func (c *comparison) header(name string, vp, vq []string) {
	if slices.Equal(vp, vq) {
		return
	}
	// Whether the encoding is a transport detail is decided only where it matters:
	// it may take decoding a body the comparison did not need.
	transport := (name == "Content-Encoding" || name == "Vary") && c.encodingIsTransport()
	np, okp := normalizeHeader(name, vp, transport)
	nq, okq := normalizeHeader(name, vq, transport)
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
// content coding is a transport detail (both bodies could be decoded).
func normalizeHeader(name string, vs []string, transport bool) (string, bool) {
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
	case name == "Cache-Control":
		return strings.Join(tokens(vs, false, ""), ","), true
	case name == "Set-Cookie":
		cp := make([]string, len(vs))
		for i, v := range vs {
			cp[i] = strings.TrimSpace(v)
		}
		slices.Sort(cp)
		return strings.Join(cp, "\n"), true
	}
	return strings.Join(tokensInOrder(vs), ", "), true
}

// tokens splits comma lists into trimmed items — lower-cased entirely (lower) or only
// up to an "=" (directives) — sorted, without duplicates and without drop.
func tokens(vs []string, lower bool, drop string) []string {
	var out []string
	for _, v := range vs {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if lower {
				t = strings.ToLower(t)
			} else if k, val, ok := strings.Cut(t, "="); ok {
				t = strings.ToLower(strings.TrimSpace(k)) + "=" + strings.TrimSpace(val)
			} else {
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
