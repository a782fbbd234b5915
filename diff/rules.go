package diff

import (
	"errors"
	"fmt"
	"math"
	"net/textproto"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Rules is a compiled, immutable set of comparison rules, safe for concurrent use.
// A nil *Rules means the defaults (see defaults.go).
type Rules struct {
	ignoreStatus bool
	headerAll    bool            // "header" ignores every header
	headerNames  map[string]bool // canonical names ignored
	headerGlobs  []glob          // lower-cased name patterns ignored
	include      map[string]bool // canonical names taken off the default ignore list
	cookies      []cookieRule    // header.Set-Cookie.<cookie>[.<Attribute>] ignored

	body    *ruleNode // body rules as a trie over path segments
	hasBody bool      // the trie holds at least one rule

	tolerance      float64
	maxBody        int64
	maxDecoded     int64
	maxDiffs       int
	maxResult      int
	strictEnvelope bool
	strictPages    bool
	redactor       *Redactor // markers of secret values; nil = unkeyed
}

// Option is one comparison rule; see NewRules.
type Option interface{ apply(*Rules) error }

type optionFunc func(*Rules) error

func (f optionFunc) apply(r *Rules) error { return f(r) }

// Limits applied when no option sets them.
const (
	DefaultMaxBodyBytes    = 8 << 20  // bodies over this are compared by length and hash
	DefaultMaxDecodedBytes = 16 << 20 // decoding a body stops here: a bomb is a difference
	DefaultMaxDifferences  = 1000     // the walk stops after this many differences
	DefaultMaxResultBytes  = 1 << 20  // differences listed in a result, encoded as JSON
	maxLimit               = 1 << 30  // no limit may exceed 1 GiB (tape offsets are int32)
)

// defaultRules stands for a nil *Rules; NewRules without options cannot fail.
var defaultRules, _ = NewRules()

// NewRules validates and compiles options. Later options add to earlier ones (paths
// accumulate; a later Tolerance or limit replaces an earlier one). A malformed path is
// an error that names it.
func NewRules(opts ...Option) (*Rules, error) {
	r := &Rules{
		headerNames: map[string]bool{},
		include:     map[string]bool{},
		body:        &ruleNode{},
		maxBody:     DefaultMaxBodyBytes,
		maxDecoded:  DefaultMaxDecodedBytes,
		maxDiffs:    DefaultMaxDifferences,
		maxResult:   DefaultMaxResultBytes,
	}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o.apply(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Ignore silences paths: exact ("body.items.3.id"), with # for any array index
// ("body.items.#.id"), or a whole subtree ("body.meta", "header", "body"). Header
// names match case-insensitively; a cookie, or one attribute of it, is
// "header.Set-Cookie.sid" or "header.Set-Cookie.sid.HttpOnly" (attribute names in any
// case). Within a segment, unescaped * and ? are globs as in
// gjson ("header.X-Ratelimit-*"); a literal *, ?, . or # is escaped with a backslash,
// as every path a Difference shows already is.
func Ignore(paths ...string) Option {
	return optionFunc(func(r *Rules) error {
		for _, p := range paths {
			ps, err := parsePath(p)
			if err != nil {
				return fmt.Errorf("ignore path %q: %w", p, err)
			}
			switch ps.root {
			case "status":
				r.ignoreStatus = true
			case "header":
				switch {
				case len(ps.segs) == 0:
					r.headerAll = true
				case len(ps.segs) > 1:
					cr := cookieRule{name: ps.segs[1]}
					if len(ps.segs) == 3 {
						a := ps.segs[2]
						if a.glob != nil {
							a.glob = lowerGlob(a.glob)
						} else {
							a.lit = cookieAttrName(a.lit)
						}
						cr.attr = &a
					}
					r.cookies = append(r.cookies, cr)
				case ps.segs[0].glob != nil:
					r.headerGlobs = append(r.headerGlobs, lowerGlob(ps.segs[0].glob))
				default:
					r.headerNames[textproto.CanonicalMIMEHeaderKey(ps.segs[0].lit)] = true
				}
			case "body":
				r.body.add(ps.segs).ignore = true
				r.hasBody = true
			}
		}
		return nil
	})
}

// Unordered compares the arrays at these body paths as multisets: same elements, any
// order.
func Unordered(paths ...string) Option {
	return optionFunc(func(r *Rules) error {
		for _, p := range paths {
			ps, err := parseBodyPath(p)
			if err != nil {
				return fmt.Errorf("unordered path %q: %w", p, err)
			}
			r.body.add(ps.segs).unordered = true
			r.hasBody = true
		}
		return nil
	})
}

// Tolerance makes numbers within t of each other equal (|a-b| <= t, through
// float64). Without it numbers are compared by exact decimal value.
func Tolerance(t float64) Option {
	return optionFunc(func(r *Rules) error {
		if t < 0 || math.IsNaN(t) || math.IsInf(t, 0) {
			return fmt.Errorf("tolerance %v: must be a finite number >= 0", t)
		}
		r.tolerance = t
		return nil
	})
}

// Shape compares the values at these body paths by type and keys only: an object must
// have the same member names, each value of the same type (recursively); arrays may
// differ in length, their common elements compared by shape; strings, numbers and
// booleans only by type. It is meant for generated text such as chat tokens
// ("body.#.data" on an event stream, "body.choices.#.message.content").
func Shape(paths ...string) Option {
	return optionFunc(func(r *Rules) error {
		for _, p := range paths {
			ps, err := parseBodyPath(p)
			if err != nil {
				return fmt.Errorf("shape path %q: %w", p, err)
			}
			r.body.add(ps.segs).shape = true
			r.hasBody = true
		}
		return nil
	})
}

// MaxBodyBytes sets the size over which a (decoded) body is compared by length and
// SHA-256 only, with a note (default DefaultMaxBodyBytes).
func MaxBodyBytes(n int64) Option {
	return optionFunc(func(r *Rules) error {
		if n <= 0 || n > maxLimit {
			return fmt.Errorf("max body bytes %d: must be between 1 and %d", n, maxLimit)
		}
		r.maxBody = n
		return nil
	})
}

// MaxDecodedBytes caps how far a Content-Encoding is decoded (default
// DefaultMaxDecodedBytes). A body that decodes to more is reported as a difference
// with a note instead of being held in memory.
func MaxDecodedBytes(n int64) Option {
	return optionFunc(func(r *Rules) error {
		if n <= 0 || n > maxLimit {
			return fmt.Errorf("max decoded bytes %d: must be between 1 and %d", n, maxLimit)
		}
		r.maxDecoded = n
		return nil
	})
}

// MaxDifferences stops a comparison after n differences found (default
// DefaultMaxDifferences); Result.Stopped then says so.
func MaxDifferences(n int) Option {
	return optionFunc(func(r *Rules) error {
		if n <= 0 {
			return fmt.Errorf("max differences %d: must be at least 1", n)
		}
		r.maxDiffs = n
		return nil
	})
}

// MaxResultBytes bounds the differences a result lists, as their JSON encoding
// measures them (default DefaultMaxResultBytes). Status and header differences are
// listed first, then the body's in the order the walk finds them, until one does not
// fit; the rest are counted in Result.Omitted. Paths are never cut, so every path
// listed can still be pasted into Ignore.
func MaxResultBytes(n int) Option {
	return optionFunc(func(r *Rules) error {
		if n < 1024 || n > maxLimit {
			return fmt.Errorf("max result bytes %d: must be between 1024 and %d", n, maxLimit)
		}
		r.maxResult = n
		return nil
	})
}

// IncludeHeaders takes header names off the default ignore list (DefaultIgnoredHeaders)
// so that they are compared.
func IncludeHeaders(names ...string) Option {
	return optionFunc(func(r *Rules) error {
		for _, n := range names {
			if n == "" || strings.ContainsAny(n, " \t\r\n:") {
				return fmt.Errorf("include header %q: not a header name", n)
			}
			r.include[textproto.CanonicalMIMEHeaderKey(n)] = true
		}
		return nil
	})
}

// StrictErrorEnvelope turns off the error-envelope default: the candidate's
// "statusCode", "error" and "code" members on error responses are then reported like
// any other extra member.
func StrictErrorEnvelope() Option {
	return optionFunc(func(r *Rules) error {
		r.strictEnvelope = true
		return nil
	})
}

// StrictErrorPages turns off the error-page default: an HTML error page against a
// JSON error with the same status is then compared like any other pair (the bodies,
// Content-Type and Link headers reported).
func StrictErrorPages() Option {
	return optionFunc(func(r *Rules) error {
		r.strictPages = true
		return nil
	})
}

// ---- paths ----

// segment is one step of a parsed path.
type segment struct {
	lit  string // the unescaped key, or an index in decimal
	any  bool   // "#": any array index
	glob glob   // non-nil when the segment holds an unescaped * or ?
}

type parsedPath struct {
	root string // status, header or body
	segs []segment
}

// parsePath parses a path in the one syntax: status, header.<Name>, body[.<gjson
// path>], where a backslash escapes the next character, and \uXXXX with XXXX from
// D800 to DFFF stands for a key's lone surrogate (see appendPathKey).
func parsePath(p string) (parsedPath, error) {
	if p == "" {
		return parsedPath{}, errors.New("empty path")
	}
	raw, err := splitPath(p)
	if err != nil {
		return parsedPath{}, err
	}
	root := raw[0]
	if root.glob != nil || root.any || (root.lit != "status" && root.lit != "header" && root.lit != "body") {
		return parsedPath{}, errors.New(`must start with "status", "header" or "body"`)
	}
	ps := parsedPath{root: root.lit, segs: raw[1:]}
	switch ps.root {
	case "status":
		if len(ps.segs) > 0 {
			return parsedPath{}, errors.New(`"status" has no sub-paths`)
		}
	case "header":
		if len(ps.segs) > 1 && (ps.segs[0].glob != nil || !strings.EqualFold(ps.segs[0].lit, "Set-Cookie")) {
			return parsedPath{}, errors.New(`a header path names one header: header.<Name> (escape a dot in a name with \.); only Set-Cookie has sub-paths, header.Set-Cookie.<cookie>.<Attribute>`)
		}
		if len(ps.segs) > 3 {
			return parsedPath{}, errors.New(`a Set-Cookie path is header.Set-Cookie.<cookie>.<Attribute> (escape a dot in a cookie name with \.)`)
		}
		for i, s := range ps.segs {
			switch {
			case s.any:
				return parsedPath{}, errors.New(`"#" is an array index; headers are not arrays`)
			case s.lit == "" && s.glob == nil && i == 0:
				return parsedPath{}, errors.New("empty header name")
			case s.lit == "" && s.glob == nil:
				return parsedPath{}, errors.New("empty cookie or attribute name")
			}
		}
	}
	return ps, nil
}

func parseBodyPath(p string) (parsedPath, error) {
	ps, err := parsePath(p)
	if err != nil {
		return ps, err
	}
	if ps.root != "body" {
		return ps, errors.New(`only body paths take this rule`)
	}
	return ps, nil
}

// splitPath splits on unescaped dots and unescapes each segment.
func splitPath(p string) ([]segment, error) {
	var segs []segment
	var cur []byte
	var pat glob
	wild, escaped := false, false
	flush := func(at int) error {
		s := segment{lit: string(cur)}
		switch {
		case len(pat) == 0:
			// An empty key, as in gjson ("a..b" is key "" under a); only the root
			// may not be empty.
			if len(segs) == 0 {
				return fmt.Errorf("empty first segment at offset %d", at)
			}
		case len(pat) == 1 && pat[0].c == '#' && !pat[0].escaped:
			s = segment{any: true}
		case !pat[0].escaped && (pat[0].c == '#' || pat[0].c == '@' || pat[0].c == '!'):
			return fmt.Errorf("segment %q: gjson queries, modifiers and literals are not paths (escape a leading %c with \\)", string(cur), pat[0].c)
		case wild:
			s.glob = pat
		}
		segs = append(segs, s)
		cur, pat, wild = nil, nil, false
		return nil
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case escaped:
			escaped = false
			if r, ok := surrogateEscape(p[i:]); ok {
				// \uD800: a key's lone surrogate, as appendPathKey writes it
				n := len(cur)
				cur = appendSurrogate(cur, r)
				for _, b := range cur[n:] {
					pat = append(pat, globChar{c: b, escaped: true})
				}
				i += 4
				continue
			}
			cur = append(cur, c)
			pat = append(pat, globChar{c: c, escaped: true})
		case c == '\\':
			escaped = true
		case c == '.':
			if err := flush(i); err != nil {
				return nil, err
			}
		case c == '|':
			return nil, fmt.Errorf("unescaped %q at offset %d (gjson pipes are not paths)", c, i)
		default:
			if c == '*' || c == '?' {
				wild = true
			}
			cur = append(cur, c)
			pat = append(pat, globChar{c: c})
		}
	}
	if escaped {
		return nil, errors.New("trailing backslash")
	}
	if err := flush(len(p)); err != nil {
		return nil, err
	}
	return segs, nil
}

// surrogateEscape reads "uXXXX" at the start of s, XXXX a lone surrogate's code point
// (D800 to DFFF) in hex.
func surrogateEscape(s string) (rune, bool) {
	if len(s) < 5 || s[0] != 'u' {
		return 0, false
	}
	for i := 1; i < 5; i++ {
		if !isHex(s[i]) {
			return 0, false
		}
	}
	r := rune(hex4([]byte(s[1:5])))
	return r, r >= 0xd800 && r <= 0xdfff
}

// ---- globs ----

type globChar struct {
	c       byte
	escaped bool
}

// glob is a segment pattern: unescaped * matches any run of characters, ? one
// character.
type glob []globChar

func lowerGlob(g glob) glob {
	out := make(glob, len(g))
	for i, gc := range g {
		if c := gc.c; c >= 'A' && c <= 'Z' {
			gc.c = c + 'a' - 'A'
		}
		out[i] = gc
	}
	return out
}

// match reports whether s matches the pattern, iteratively (no backtracking blow-up:
// only the last star is retried).
func (g glob) match(s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		if pi < len(g) {
			gc := g[pi]
			switch {
			case !gc.escaped && gc.c == '*':
				star, mark = pi, si
				pi++
				continue
			case !gc.escaped && gc.c == '?':
				_, w := utf8.DecodeRuneInString(s[si:])
				pi, si = pi+1, si+w
				continue
			case gc.c == s[si]:
				pi, si = pi+1, si+1
				continue
			}
		}
		if star < 0 {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[mark:])
		mark += w
		pi, si = star+1, mark
	}
	for pi < len(g) && !g[pi].escaped && g[pi].c == '*' {
		pi++
	}
	return pi == len(g)
}

// ---- the body rule trie ----

// ruleNode is one step of the body rules; a node carries the rules of the path that
// ends at it.
type ruleNode struct {
	lit   map[string]*ruleNode
	any   *ruleNode
	globs []globNode

	ignore, unordered, shape bool
}

type globNode struct {
	g    glob
	node *ruleNode
}

// add returns the node for segs, creating the path.
func (n *ruleNode) add(segs []segment) *ruleNode {
	for _, s := range segs {
		switch {
		case s.any:
			if n.any == nil {
				n.any = &ruleNode{}
			}
			n = n.any
		case s.glob != nil:
			var next *ruleNode
			for _, gn := range n.globs {
				if globEqual(gn.g, s.glob) {
					next = gn.node
				}
			}
			if next == nil {
				next = &ruleNode{}
				n.globs = append(n.globs, globNode{g: s.glob, node: next})
			}
			n = next
		default:
			if n.lit == nil {
				n.lit = map[string]*ruleNode{}
			}
			next := n.lit[s.lit]
			if next == nil {
				next = &ruleNode{}
				n.lit[s.lit] = next
			}
			n = next
		}
	}
	return n
}

func globEqual(a, b glob) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// childKey appends to dst the nodes reached from n by the object key k.
func (n *ruleNode) childKey(dst []*ruleNode, k []byte) []*ruleNode {
	if c := n.lit[string(k)]; c != nil {
		dst = append(dst, c)
	}
	for _, gn := range n.globs {
		if gn.g.match(string(k)) {
			dst = append(dst, gn.node)
		}
	}
	return dst
}

// childIndex appends to dst the nodes reached from n by the array index i.
func (n *ruleNode) childIndex(dst []*ruleNode, i int) []*ruleNode {
	if n.any != nil {
		dst = append(dst, n.any)
	}
	if len(n.lit) > 0 || len(n.globs) > 0 {
		var buf [20]byte
		k := strconv.AppendInt(buf[:0], int64(i), 10)
		dst = n.childKey(dst, k)
	}
	return dst
}

// cookieRule ignores a cookie of Set-Cookie (attr nil), or one of its attributes.
type cookieRule struct {
	name segment  // the cookie's name, case-sensitive as cookie names are
	attr *segment // the attribute as cookieAttrName spells it, or a lower-cased glob
}

// cookieIgnored reports whether a rule ignores the cookie name (attr "") or its
// attribute attr, as cookieAttrName spells it ("Value" for its value).
func (r *Rules) cookieIgnored(name, attr string) bool {
	for _, cr := range r.cookies {
		if cr.name.lit != name && (cr.name.glob == nil || !cr.name.glob.match(name)) {
			continue
		}
		if cr.attr == nil {
			return true
		}
		if attr != "" && (cr.attr.lit == attr && cr.attr.glob == nil || cr.attr.glob != nil && cr.attr.glob.match(strings.ToLower(attr))) {
			return true
		}
	}
	return false
}

// headerIgnored reports whether a rule ignores the header with this canonical name.
func (r *Rules) headerIgnored(name string) bool {
	if r.headerAll || r.headerNames[name] {
		return true
	}
	if len(r.headerGlobs) > 0 {
		lower := strings.ToLower(name)
		for _, g := range r.headerGlobs {
			if g.match(lower) {
				return true
			}
		}
	}
	return false
}
