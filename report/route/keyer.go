package route

import (
	"strings"
)

// Keyer turns a request's method and path into its route key, "GET /api/sessions/:id".
//
// Templates win: a template is a path whose ":name" segments match any one segment
// ("/api/sessions/:id"), optionally preceded by a method ("GET /api/x/:id") that
// limits it to that method; the first matching template is used. Without a matching
// template, segments that look like identifiers — numbers, UUIDs, long hex, ULIDs,
// long tokens, and mixed letters and digits such as "s12" (but not API versions such
// as "v1") — become ":id". The query string is never part of the key.
//
// A Keyer is immutable and safe for concurrent use; a nil *Keyer uses the identifier
// rules alone.
type Keyer struct {
	templates []Template
}

// NewKeyer compiles templates written loosely (see Template): empty entries are
// ignored, a method is upper-cased, a path without a leading "/" gets one.
func NewKeyer(templates []string) *Keyer {
	k := &Keyer{}
	for _, s := range templates {
		if t, ok := looseTemplate(s); ok {
			k.templates = append(k.templates, t)
		}
	}
	return k
}

// KeyerOf returns a Keyer over templates already parsed (ParseTemplate), in order.
func KeyerOf(templates []Template) *Keyer {
	return &Keyer{templates: templates}
}

// Key returns the route key of a request: the upper-case method, a space, and the
// matching template or the path with identifiers replaced by ":id". The method is
// upper-cased before templates are matched.
func (k *Keyer) Key(method, path string) string {
	method = keyMethod(method)
	path = cleanPath(path)
	return k.KeyAt(k.Match(method, path), method, path)
}

// Match returns the index of the first template that fits method and path
// (Template.Match), or -1.
func (k *Keyer) Match(method, path string) int {
	if k == nil {
		return -1
	}
	for i := range k.templates {
		if k.templates[i].Match(method, path) {
			return i
		}
	}
	return -1
}

// KeyAt is the route key of a request that Match found at index i (-1 for none):
// the template's path when there is one, else the path with identifiers replaced.
// The rules a caller applies for template i and the key it reports thus come from
// the same match.
func (k *Keyer) KeyAt(i int, method, path string) string {
	method = keyMethod(method)
	if i >= 0 {
		return method + " " + k.templates[i].Path
	}
	return genericKey(method, cleanPath(path))
}

// keyMethod upper-cases a method; empty is GET, and anything that is not an
// HTTP token is UNKNOWN, so a key always reads "METHOD /path".
func keyMethod(m string) string {
	if m == "" {
		return "GET"
	}
	for i := 0; i < len(m); i++ {
		c := m[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return "UNKNOWN"
		}
	}
	return strings.ToUpper(m)
}

// cleanPath drops the query and fragment and a trailing slash (but not the root).
func cleanPath(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		p = p[:i]
	}
	if p == "" || p[0] != '/' {
		p = "/" + p
	}
	for len(p) > 1 && p[len(p)-1] == '/' {
		p = p[:len(p)-1]
	}
	return p
}

// genericKey returns method, a space and path with identifier-like segments
// replaced by ":id", in one allocation.
func genericKey(method, path string) string {
	var b strings.Builder
	b.Grow(len(method) + 1 + len(path) + 2)
	b.WriteString(method)
	b.WriteByte(' ')
	rest := path[1:]
	for {
		b.WriteByte('/')
		seg := rest
		j := strings.IndexByte(rest, '/')
		if j >= 0 {
			seg, rest = rest[:j], rest[j+1:]
		}
		if looksLikeID(seg) {
			b.WriteString(":id")
		} else {
			b.WriteString(seg)
		}
		if j < 0 {
			return b.String()
		}
	}
}

// looksLikeID reports whether a path segment is an identifier rather than a name.
func looksLikeID(s string) bool {
	if s == "" || s[0] == ':' {
		return false
	}
	var digits, letters, hex, other int
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
			hex++
		case c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F':
			letters++
			hex++
		case c >= 'g' && c <= 'z' || c >= 'G' && c <= 'Z':
			letters++
		default:
			other++
		}
	}
	switch {
	case digits == len(s): // 42
		return true
	case isUUID(s):
		return true
	case hex == len(s) && len(s) >= 16: // long hex: hashes, object ids
		return true
	case isVersion(s): // v1, v2: API versions are names
		return false
	case len(s) == 26 && other == 0 && digits > 0: // ULID
		return true
	case digits > 0 && letters > 0 && other == 0: // s12, abc123
		return true
	case len(s) >= 24 && digits > 0 && isTokenChars(s): // opaque tokens
		return true
	}
	return false
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func isVersion(s string) bool {
	if len(s) < 2 || (s[0] != 'v' && s[0] != 'V') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isTokenChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
