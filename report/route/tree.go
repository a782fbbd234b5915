package route

import "strings"

// Source says where a route template comes from. Sources are listed in their order
// of precedence: a request takes the template of the strongest source that has one.
type Source uint8

// The sources of route templates, strongest first.
const (
	SourceConfig  Source = iota // the configuration's routes[].match, first match wins
	SourceMatrix                // the route parity matrix
	SourcePlan                  // the rollout plan's prefixes
	SourceOpenAPI               // an OpenAPI 3.x document's paths
	SourceLearned               // learned from traffic (see Learner)
	SourceGuessed               // first guesses: a segment shaped like an id (LooksLikeID)
	SourceNonAPI                // coarse groups of paths outside the API
)

var sourceNames = [...]string{"config", "matrix", "plan", "openapi", "learned", "guessed", "non-api"}

func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return "unknown"
}

// Declared is a template a team declared, with its source and where it was read
// ("routes.yaml: /api/mcp/*", "openapi.json: /teams/{team}").
type Declared struct {
	Template Template
	Source   Source
	Origin   string
}

// methods are the methods whose keys are built ahead, so that keying their
// requests allocates nothing.
var methods = [...]string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}

func methodIndex(m string) int {
	switch m {
	case "GET":
		return 0
	case "HEAD":
		return 1
	case "POST":
		return 2
	case "PUT":
		return 3
	case "PATCH":
		return 4
	case "DELETE":
		return 5
	case "OPTIONS":
		return 6
	case "CONNECT":
		return 7
	case "TRACE":
		return 8
	}
	return -1
}

// keys holds a template's route key for each method of methods.
type keys struct {
	path string
	by   [len(methods)]string
}

func newKeys(path string) *keys {
	k := &keys{path: path}
	for i, m := range methods {
		k.by[i] = m + " " + path
	}
	return k
}

// key is the route key of a request with method (upper case) on this template.
func (k *keys) key(method string) string {
	if i := methodIndex(method); i >= 0 {
		return k.by[i]
	}
	return method + " " + k.path
}

// node is one position of the tree of declared templates. Literal children are
// found ignoring ASCII case; a key writes a segment as its first template did.
type node struct {
	name  string           // the segment as keys write it: "workflows", ":team"
	lit   map[string]*node // literal children by lower-cased segment
	param *node            // the parameter child
	any   *entry           // the template ending here for any method
	only  map[string]*entry
}

// entry is a declared template where it ends in the tree.
type entry struct {
	*keys
	decl Declared
}

// insert adds d to the tree unless a stronger template (one inserted earlier) holds
// its place already; it reports whether d was added.
func (n *node) insert(d Declared) bool {
	path := ""
	for _, seg := range d.Template.segs {
		var c *node
		if seg[0] == ':' {
			if n.param == nil {
				n.param = &node{name: seg}
			}
			c = n.param
		} else {
			low := strings.ToLower(seg)
			if c = n.lit[low]; c == nil {
				if n.lit == nil {
					n.lit = map[string]*node{}
				}
				c = &node{name: seg}
				n.lit[low] = c
			}
		}
		path += "/" + c.name
		n = c
	}
	if path == "" {
		path = "/"
	}
	e := &entry{keys: newKeys(path), decl: d}
	if d.Template.Method == "" {
		if n.any != nil {
			return false
		}
		n.any = e
		return true
	}
	if n.only[d.Template.Method] != nil {
		return false
	}
	if n.only == nil {
		n.only = map[string]*entry{}
	}
	n.only[d.Template.Method] = e
	return true
}

// match returns the template that fits the rest of a path (segments without the
// leading "/") and method: literal segments before parameters, trying the
// parameter where a literal leads nowhere. It does not allocate.
func (n *node) match(rest, method string) *entry {
	if rest == "" {
		if e := n.only[method]; e != nil {
			return e
		}
		return n.any
	}
	seg, next := cutSegment(rest)
	if seg == "" {
		return nil
	}
	if c := foldLookup(n.lit, seg); c != nil {
		if e := c.match(next, method); e != nil {
			return e
		}
	}
	if n.param != nil {
		return n.param.match(next, method)
	}
	return nil
}

// cutSegment splits "a/b/c" into "a" and "b/c".
func cutSegment(rest string) (seg, next string) {
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		return rest[:j], rest[j+1:]
	}
	return rest, ""
}

// foldLookup finds seg in a map keyed by lower-cased segments without allocating
// for segments of up to 128 bytes.
func foldLookup[V any](m map[string]V, seg string) V {
	var zero V
	if m == nil {
		return zero
	}
	if !hasUpper(seg) {
		return m[seg]
	}
	var buf [128]byte
	if len(seg) > len(buf) {
		return m[strings.ToLower(seg)]
	}
	b := buf[:len(seg)]
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	return m[string(b)]
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}
