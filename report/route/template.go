package route

import (
	"fmt"
	"strings"
)

// Template is a route template, "[METHOD ]/path/:name": a canonical path whose
// ":name" segments match any one non-empty segment, optionally limited to one
// method. It is both what a routes[].match entry applies its rules to and what a
// route key names, so that the two can never disagree.
type Template struct {
	Method string   // "" = any method
	Path   string   // the path as written, without a trailing "/" (but "/" itself)
	segs   []string // the path's segments, empty ones dropped
}

// ParseTemplate parses a template strictly: an optional upper-case method, a space,
// and a canonical path (as Canonicalize writes it) starting with "/" whose
// parameters are ":name" with name a letter or "_" followed by letters, digits or
// "_". Errors quote s.
func ParseTemplate(s string) (Template, error) {
	var t Template
	f := strings.Fields(s)
	var path string
	switch len(f) {
	case 1:
		path = f[0]
	case 2:
		t.Method, path = f[0], f[1]
		if !upperToken(t.Method) {
			return t, fmt.Errorf("unknown method %q in match %q (methods are upper case)", t.Method, s)
		}
	default:
		return t, fmt.Errorf("match %q: want \"[METHOD ]/path/:name\"", s)
	}
	if !strings.HasPrefix(path, "/") {
		return t, fmt.Errorf("match %q: the path must start with /", s)
	}
	if canon, amb := Canonicalize(path); amb || canon != path {
		return t, fmt.Errorf("match %q: the path is not canonical (write %q)", s, canon)
	}
	for _, seg := range t.setPath(path) {
		if strings.HasPrefix(seg, ":") && !paramName(seg[1:]) {
			return t, fmt.Errorf("match %q: bad parameter %q (want :name)", s, seg)
		}
	}
	return t, nil
}

// looseTemplate reads a template the way a list of report templates is written:
// surrounding space ignored, the method upper-cased, a missing leading "/" added,
// the query dropped. ok is false for an empty entry.
func looseTemplate(s string) (t Template, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return t, false
	}
	if i := strings.IndexByte(s, ' '); i >= 0 {
		t.Method, s = strings.ToUpper(strings.TrimSpace(s[:i])), strings.TrimSpace(s[i+1:])
	}
	t.setPath(cleanPath(s))
	return t, true
}

// setPath sets the template's path and segments and returns the segments.
func (t *Template) setPath(p string) []string {
	t.Path = cleanPath(p)
	t.segs = t.segs[:0]
	for seg := range strings.SplitSeq(strings.Trim(t.Path, "/"), "/") {
		if seg != "" {
			t.segs = append(t.segs, seg)
		}
	}
	return t.segs
}

// String is the template as a route key writes it: "GET /api/x/:id", or the path
// alone when any method matches.
func (t Template) String() string {
	if t.Method == "" {
		return t.Path
	}
	return t.Method + " " + t.Path
}

// Match reports whether a request's method and canonical path fit the template.
// The method is compared exactly (HTTP methods are case-sensitive); literal
// segments ignoring ASCII case (spellings of one path are one route); a trailing
// "/" of the path is not significant. It does not allocate.
func (t *Template) Match(method, path string) bool {
	if t.Method != "" && t.Method != method {
		return false
	}
	rest := strings.Trim(path, "/")
	for _, want := range t.segs {
		if rest == "" {
			return false
		}
		seg := rest
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			seg, rest = rest[:j], rest[j+1:]
		} else {
			rest = ""
		}
		if want[0] != ':' && !strings.EqualFold(want, seg) {
			return false
		}
	}
	return rest == ""
}

// MayMatchAuth reports whether the template can match a path under /api/auth.
func (t *Template) MayMatchAuth() bool {
	if len(t.segs) < 2 || !strings.EqualFold(t.segs[0], "api") {
		return false
	}
	return t.segs[1][0] == ':' || strings.EqualFold(t.segs[1], "auth")
}

func paramName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// upperToken reports whether m is an HTTP token in upper case, as methods are
// written in templates.
func upperToken(m string) bool {
	for i := 0; i < len(m); i++ {
		if c := m[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return m != ""
}

// FromPattern reads a route as a matrix, a plan or a framework writes it — "POST
// /api/chat", "/api/sessions/[id]", "/teams/{team}", "/api/mcp/*", "/api/v1/" — as
// a template: "[name]" and "{name}" segments become ":name"; a trailing "/*",
// "/[...rest]" or "/" is dropped (the route itself is the template; what is below
// it is left to weaker sources). ok is false for what is not a canonical path.
func FromPattern(method, pattern string) (t Template, ok bool) {
	p := strings.TrimSpace(pattern)
	if i := strings.LastIndex(p, "/"); i >= 0 && (p[i+1:] == "*" || strings.HasPrefix(p[i+1:], "[...")) {
		p = p[:i]
	}
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		p = "/"
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, seg := range segs {
		if n := len(seg); n > 2 && (seg[0] == '[' && seg[n-1] == ']' || seg[0] == '{' && seg[n-1] == '}') {
			segs[i] = ":" + paramIdent(seg[1:n-1])
		}
	}
	p = "/" + strings.Join(segs, "/")
	if canon, amb := Canonicalize(p); amb || canon != p || !strings.HasPrefix(strings.TrimSpace(pattern), "/") {
		return t, false
	}
	t.Method = strings.ToUpper(strings.TrimSpace(method))
	t.setPath(p)
	return t, true
}
