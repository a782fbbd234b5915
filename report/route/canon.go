// Package route owns what a request path means to parity: the canonical form of a
// request target, segment-boundary prefixes, the /api/auth rule, ambiguity, and
// route templates and the route keys reported for them. The report side (plans,
// gates, keys) and the proxy side (routing, the last check before the candidate)
// both call it, so each of these rules has this one home.
//
// It promises that the auth rule is one scanner, used on canonical paths and on
// raw request targets alike, and that the route key of a request and the template
// whose rules apply to it come from the same match. It is pure: no I/O, no state.
package route

import "strings"

// The prefixes the routing rules hinge on. Both are compared case-insensitively:
// /API/Auth is auth.
const (
	API  = "/api"
	Auth = "/api/auth"
)

// Canonicalize turns a raw request target — origin-form "/a/b?q" or absolute-form
// "http://h/a/b?q" — into the canonical path the routing rules are matched against,
// without the query. It decodes percent-escapes of unreserved characters only
// ("%61" is "a", "%2e" is "."), reads "\" as "/", drops ";" parameters of every
// segment, resolves "." and ".." segments, merges "//", keeps a trailing "/", and
// writes every other byte that is not allowed in a path as an upper-case escape, so
// the result is printable ASCII and Canonicalize(result) == result.
//
// ambiguous reports that something stays that cannot be decided safely — an escape
// left encoded (%2F, %5C, %00, %25 and so double encodings, any other reserved or
// control byte), non-ASCII, an invalid escape, or a segment ending in "." — in the
// first segment (so "is it under /api?" cannot be answered) or anywhere under /api.
// Case is kept; the auth rule folds it.
func Canonicalize(target string) (path string, ambiguous bool) {
	p := TargetPath(target)
	if !isClean(p) {
		p = rewrite(p)
	}
	return p, isAmbiguous(p)
}

// TargetPath is the raw path of a request target, byte for byte as it was sent:
// an absolute-form target's scheme and authority, the query and the fragment are
// removed, and a path that does not start with "/" (or "\") gets a "/".
func TargetPath(t string) string {
	if n := len(Scheme(t)); n > 0 {
		rest := t[n+3:]
		if i := strings.IndexAny(rest, "/\\?#"); i >= 0 {
			t = rest[i:]
		} else {
			t = ""
		}
	}
	if i := strings.IndexAny(t, "?#"); i >= 0 {
		t = t[:i]
	}
	if t == "" || (t[0] != '/' && t[0] != '\\') {
		t = "/" + t
	}
	return t
}

// Scheme returns the scheme of an absolute-form request target, "scheme" when t
// starts with "scheme://", else "".
func Scheme(t string) string {
	return t[:schemeLen(t)]
}

func schemeLen(t string) int {
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.'):
		case i > 0 && c == ':':
			if strings.HasPrefix(t[i:], "://") {
				return i
			}
			return 0
		default:
			return 0
		}
	}
	return 0
}

// isClean reports whether p is already canonical: only plain path bytes, no escape,
// no backslash, no ";", no empty, "." or ".." segment. Most requests are, and then
// Canonicalize does not allocate.
func isClean(p string) bool {
	segStart := 1
	for i := 1; i <= len(p); i++ {
		if i < len(p) {
			c := p[i]
			if c != '/' {
				if c == ';' || c == '%' || !pathByte(c) {
					return false
				}
				continue
			}
		}
		seg := p[segStart:i]
		if seg == "." || seg == ".." || (seg == "" && i < len(p)) {
			return false
		}
		segStart = i + 1
	}
	return p[0] == '/'
}

// rewrite is the slow path of Canonicalize: decode, then resolve segments.
func rewrite(p string) string {
	var b strings.Builder
	b.Grow(len(p) + 8)
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%':
			if i+2 < len(p) && ishex(p[i+1]) && ishex(p[i+2]) {
				v := unhex(p[i+1])<<4 | unhex(p[i+2])
				if unreserved(v) {
					b.WriteByte(v)
				} else {
					writeEscape(&b, v)
				}
				i += 2
			} else {
				b.WriteString("%25") // a bare "%" is kept, as data
			}
		case c == '\\':
			b.WriteByte('/')
		case c == ';' && splitParam(p[i+1:]):
			b.WriteString("%3B")
		case c == '/' || c == ';' || pathByte(c):
			b.WriteByte(c)
		default:
			writeEscape(&b, c)
		}
	}
	return resolve(b.String())
}

// splitParam reports whether the ";" parameter starting rest (up to the next "/")
// holds a "\\" or an escape. Servers then disagree on where it ends: "api;\\0/auth"
// is "/api/auth" to one that drops parameters before reading "\\" as "/" (or does
// not read it so), and "/api/0/auth" to one that splits on "\\" first. Such a ";" is
// kept escaped, as data, so the path stays ambiguous instead of taking one reading.
func splitParam(rest string) bool {
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	return strings.ContainsAny(rest, "\\%")
}

// resolve drops ";" parameters, merges empty segments and resolves dot segments of a
// decoded path that starts with "/". A segment such as "..;x" is ".." to servers that
// drop parameters first (Tomcat) and a plain name to others (Node), so it is neither
// resolved nor stripped: it stays as a name with its ";" escaped, which leaves the path
// ambiguous — "/api/auth/..;/x" must never reach the candidate as "/api/x".
func resolve(p string) string {
	segs := make([]string, 0, strings.Count(p, "/"))
	trailing := false
	for _, seg := range strings.Split(p[1:], "/") {
		if i := strings.IndexByte(seg, ';'); i >= 0 {
			if head := seg[:i]; head == "." || head == ".." {
				seg = strings.ReplaceAll(seg, ";", "%3B")
			} else {
				seg = head
			}
		}
		switch seg {
		case "", ".":
			trailing = true
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
			trailing = true
		default:
			segs = append(segs, seg)
			trailing = false
		}
	}
	if len(segs) == 0 {
		return "/"
	}
	out := "/" + strings.Join(segs, "/")
	if trailing {
		out += "/"
	}
	return out
}

// isAmbiguous reports whether a canonical path holds something undecidable in its
// first segment, or in any segment when it is under /api.
func isAmbiguous(p string) bool {
	rest := p[1:]
	first := true
	api := false
	for {
		seg := rest
		j := strings.IndexByte(rest, '/')
		if j >= 0 {
			seg = rest[:j]
		}
		if first {
			api = strings.EqualFold(seg, "api")
		}
		if (first || api) && undecidable(seg) {
			return true
		}
		if j < 0 || !api {
			return false
		}
		rest = rest[j+1:]
		first = false
	}
}

// undecidable reports whether a segment of a canonical path could mean different
// things to different servers: an escape stayed (encoded separator, control byte,
// double encoding, non-ASCII, invalid escape), or it ends in "." as some servers
// strip ("auth." is "auth" on some).
func undecidable(seg string) bool {
	return strings.IndexByte(seg, '%') >= 0 || (seg != "" && seg[len(seg)-1] == '.')
}

func writeEscape(b *strings.Builder, c byte) {
	const hexUpper = "0123456789ABCDEF"
	b.WriteByte('%')
	b.WriteByte(hexUpper[c>>4])
	b.WriteByte(hexUpper[c&15])
}

// unreserved is RFC 3986's unreserved set: decoded wherever it appears encoded.
func unreserved(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// pathByte reports whether c may stand unencoded in a canonical path segment:
// unreserved, sub-delims other than ";" (which starts parameters), ":" and "@".
func pathByte(c byte) bool {
	if unreserved(c) {
		return true
	}
	switch c {
	case '!', '$', '&', '\'', '(', ')', '*', '+', ',', '=', ':', '@':
		return true
	}
	return false
}

func ishex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
