package route

import (
	"strings"
)

// Keyer turns a request's method and path into its route key, "GET /api/sessions/:id".
//
// The key comes from the strongest source with a template that fits (Source):
// the configuration's templates in order (first match wins); then the declared
// templates of the route matrix, the rollout plan and an OpenAPI document, literal
// segments before parameters; then, for paths outside /api, a coarse group
// (NonAPIRule); then the Learner, which learns templates from the paths it keys;
// and last the path itself with the segments that look like identifiers
// (LooksLikeID) replaced by ":id". A template is a path whose ":name" segments
// match any one segment ("/api/sessions/:id"), optionally preceded by a method
// ("GET /api/x/:id") that limits it to that method. Literal segments match ignoring
// ASCII case and the key writes them as the first source did, so "/API/Auth/session"
// and "/api/auth/session" are one route. The query string is never part of the key.
//
// Keying a request that a template or the Learner already knows allocates nothing.
//
// A Keyer is immutable and safe for concurrent use (its Learner is shared and
// locks); a nil *Keyer uses the identifier rules alone.
type Keyer struct {
	templates []Template
	keys      []*keys
	declared  []Declared
	tree      *node
	learner   *Learner
}

// Sources are what a Keyer is built from, strongest first.
type Sources struct {
	Config   []Template // routes[].match, in order: Match's index i is Config[i]
	Declared []Declared // matrix, plan and OpenAPI templates, in this order of precedence
	Learner  *Learner   // nil = nothing learned
}

// NewKeyer compiles templates written loosely (see Template): empty entries are
// ignored, a method is upper-cased, a path without a leading "/" gets one.
func NewKeyer(templates []string) *Keyer {
	var ts []Template
	for _, s := range templates {
		if t, ok := looseTemplate(s); ok {
			ts = append(ts, t)
		}
	}
	return KeyerOf(ts)
}

// KeyerOf returns a Keyer over templates already parsed (ParseTemplate), in order.
func KeyerOf(templates []Template) *Keyer {
	return BuildKeyer(Sources{Config: templates})
}

// BuildKeyer returns the Keyer of s. A declared template whose place a stronger one
// holds already (same path and method) is left out of Declared.
func BuildKeyer(s Sources) *Keyer {
	k := &Keyer{templates: s.Config, learner: s.Learner, tree: &node{}}
	for _, t := range s.Config {
		k.keys = append(k.keys, newKeys(t.Path))
	}
	for _, d := range s.Declared {
		if k.tree.insert(d) {
			k.declared = append(k.declared, d)
		}
	}
	return k
}

// Declared returns the declared templates in force, strongest first.
func (k *Keyer) Declared() []Declared {
	if k == nil {
		return nil
	}
	return k.declared
}

// Learner returns the Keyer's Learner, or nil.
func (k *Keyer) Learner() *Learner {
	if k == nil {
		return nil
	}
	return k.learner
}

// Key returns the route key of a request: the upper-case method, a space, and the
// path of the template that fits (see Keyer). The method is upper-cased before
// templates are matched.
func (k *Keyer) Key(method, path string) string {
	method = keyMethod(method)
	path = cleanPath(path)
	return k.KeyAt(k.Match(method, path), method, path)
}

// Match returns the index of the first configuration template that fits method and
// path (Template.Match), or -1.
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
// the configuration template's path when there is one, else the key of the weaker
// sources. The rules a caller applies for template i and the key it reports thus
// come from the same match.
func (k *Keyer) KeyAt(i int, method, path string) string {
	method = keyMethod(method)
	path = cleanPath(path)
	if i >= 0 {
		return k.keys[i].key(method)
	}
	if k == nil {
		return genericKey(method, path)
	}
	if e := k.tree.match(path[1:], method); e != nil {
		return e.key(method)
	}
	if !IsAPI(path) {
		return k.learner.nonAPIKey(method, path)
	}
	if k.learner != nil {
		if key, ok := k.learner.key(method, path, k.tree); ok {
			return key
		}
	}
	return genericKey(method, path)
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
		if LooksLikeID(seg) {
			b.WriteString(":id")
		} else {
			b.WriteString(seg)
		}
		if j < 0 {
			return b.String()
		}
	}
}
