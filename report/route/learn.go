package route

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// The learning rule.
//
// A Learner keeps a tree of the API paths it keys, one node per position. Under a
// parent, each distinct value of the next segment is a literal child until that
// position has seen LearnDistinct distinct values that are neither declared (a
// literal of a stronger source) nor shaped like ids (LooksLikeID, which go to the
// parameter at once). Then the position becomes a parameter, ":id": the values that
// are frequent — seen at least KeepHits times and at least KeepFactor times the
// median of the position's values, at most KeepMax of them — stay literal, as do
// the position's declared literals; every other value, seen or to come, is the
// parameter, and what was learned below the values folded into it is merged into
// the parameter's subtree. So "/api/v1/workflows/export", asked often, stays beside
// a learned "/api/v1/workflows/:id".
//
// Bounds: at most Limit positions (DefaultLearnNodes); a position holds at most
// LearnDistinct+KeepMax literal children before it is learned (declared literals
// aside), so its bookkeeping is a small map. Keying a path costs one lock and one
// map lookup per segment, and allocates only when it creates a position. Beyond the
// limit, paths not yet known are keyed by their id shapes alone and counted in
// Dropped.
//
// Decisions depend only on the order of the paths keyed, so the same traffic in the
// same order learns the same templates.
const (
	LearnDistinct     = 16
	KeepHits          = 4
	KeepFactor        = 4
	KeepMax           = 4
	DefaultLearnNodes = 4096
)

// LearnedParam is the name of a learned parameter.
const LearnedParam = ":id"

// Learner learns route templates from the paths it keys (see the rule above). It is
// safe for concurrent use and outlives configuration reloads: a Keyer refers to it.
type Learner struct {
	// Limit is the number of positions kept; 0 = DefaultLearnNodes.
	Limit int

	mu      sync.Mutex
	root    *lnode
	nodes   int
	dropped int64
	nonAPI  map[string]*keys // first segments of non-API paths with a group of their own
	gen     atomic.Uint64
}

// lnode is one position of the learned tree.
type lnode struct {
	name     string // the segment as keys write it
	parent   *lnode
	lit      map[string]*lnode // literal children by lower-cased value
	param    *lnode
	hits     int64 // paths keyed through or at this position
	ends     int64 // paths keyed at this position
	pinned   bool  // a declared or kept literal: never folded
	learned  bool  // the children's position is a learned parameter
	distinct int   // literal children that are not pinned
	keys     *keys // built on the first path that ends here
}

// Generation counts the templates learned (and restored); it changes whenever the
// keys of paths already seen may have changed.
func (l *Learner) Generation() uint64 { return l.gen.Load() }

// Dropped counts the paths not learned from because the position limit was reached.
func (l *Learner) Dropped() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

func (l *Learner) limit() int {
	if l.Limit > 0 {
		return l.Limit
	}
	return DefaultLearnNodes
}

// key keys an API path (canonical, no trailing "/") and learns from it; decl is the
// tree of declared templates, which guides names and pins declared literals. ok is
// false when the path is not learned from (an empty segment, or the limit reached).
func (l *Learner) key(method, path string, decl *node) (key string, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.root == nil {
		l.root = &lnode{}
	}
	n, dn := l.root, decl
	rest := path[1:]
	for rest != "" {
		var seg string
		seg, rest = cutSegment(rest)
		if seg == "" {
			return "", false
		}
		n, dn = l.step(n, seg, dn)
		if n == nil {
			l.dropped++
			return "", false
		}
	}
	n.ends++
	if n.keys == nil {
		n.keys = newKeys(n.path())
	}
	return n.keys.key(method), true
}

// step moves from n to the child that seg goes to, creating it when needed, and
// returns it with the declared node at the same position (nil when none). It
// returns nil when a child was needed but the limit is reached.
func (l *Learner) step(n *lnode, seg string, dn *node) (*lnode, *node) {
	var dc *node
	if dn != nil {
		dc = foldLookup(dn.lit, seg)
	}
	if c := foldLookup(n.lit, seg); c != nil {
		c.hits++
		return c, dc
	}
	if dc != nil { // a declared literal: kept apart, never counted toward learning
		c := l.child(n, dc.name, true)
		if c != nil {
			c.hits++
		}
		return c, dc
	}
	if dn != nil && dn.param != nil {
		return l.paramChild(n, dn.param.name), dn.param
	}
	if n.learned || LooksLikeID(seg) {
		return l.paramChild(n, LearnedParam), nil
	}
	c := l.child(n, seg, false)
	if c == nil {
		return nil, nil
	}
	c.hits++
	if n.distinct >= LearnDistinct {
		l.learn(n, dn)
		if c = foldLookup(n.lit, seg); c == nil {
			c = n.param
		}
	}
	return c, nil
}

// child creates the literal child seg of n (its name as first seen), nil beyond the
// limit.
func (l *Learner) child(n *lnode, seg string, pinned bool) *lnode {
	if l.nodes >= l.limit() {
		return nil
	}
	l.nodes++
	c := &lnode{name: strings.Clone(seg), parent: n, pinned: pinned}
	if n.lit == nil {
		n.lit = map[string]*lnode{}
	}
	n.lit[strings.ToLower(c.name)] = c
	if !pinned {
		n.distinct++
	}
	return c
}

// paramChild returns n's parameter child, creating it (named name) when needed; nil
// beyond the limit.
func (l *Learner) paramChild(n *lnode, name string) *lnode {
	if n.param == nil {
		if l.nodes >= l.limit() {
			return nil
		}
		l.nodes++
		n.param = &lnode{name: name, parent: n}
	}
	n.param.hits++
	return n.param
}

// learn makes the position of n's children a parameter: the frequent values and
// the declared literals (dn's) stay, the others fold into the parameter.
func (l *Learner) learn(n *lnode, dn *node) {
	var vals []*lnode
	for _, c := range n.lit {
		if !c.pinned {
			vals = append(vals, c)
		}
	}
	slices.SortFunc(vals, func(a, b *lnode) int {
		return cmp.Or(cmp.Compare(b.hits, a.hits), cmp.Compare(strings.ToLower(a.name), strings.ToLower(b.name)))
	})
	median := vals[len(vals)/2].hits
	keep := map[string]bool{}
	for i, c := range vals {
		if i >= KeepMax || c.hits < KeepHits || c.hits < KeepFactor*median {
			break
		}
		keep[strings.ToLower(c.name)] = true
	}
	if dn != nil {
		for low := range dn.lit {
			keep[low] = true
		}
	}
	l.markLearned(n, keep)
}

// markLearned makes n's children's position a learned parameter keeping the
// literal values in keep (lower case) and those already pinned; the others fold
// into the parameter.
func (l *Learner) markLearned(n *lnode, keep map[string]bool) {
	if !n.learned {
		n.learned = true
		l.gen.Add(1)
	}
	for low, c := range n.lit {
		if keep[low] || c.pinned {
			if !c.pinned {
				c.pinned = true
				n.distinct--
			}
			continue
		}
		delete(n.lit, low)
		n.distinct--
		if n.param == nil {
			n.param = &lnode{name: LearnedParam, parent: n}
			l.nodes++
		}
		l.fold(n.param, c)
	}
}

// fold merges src's counts and subtree into dst (a parameter that takes src's place).
func (l *Learner) fold(dst, src *lnode) {
	l.nodes-- // src itself goes
	dst.hits += src.hits
	dst.ends += src.ends
	dst.keys = nil
	for low, c := range src.lit {
		if d := dst.lit[low]; d != nil {
			l.fold(d, c)
			continue
		}
		if dst.lit == nil {
			dst.lit = map[string]*lnode{}
		}
		c.parent = dst
		c.dropKeys()
		dst.lit[low] = c
		if !c.pinned {
			dst.distinct++
		}
	}
	if src.param != nil {
		if dst.param == nil {
			src.param.parent = dst
			src.param.dropKeys()
			dst.param = src.param
		} else {
			l.fold(dst.param, src.param)
		}
	}
	if src.learned && !dst.learned {
		dst.learned = true
		keep := map[string]bool{}
		for low, c := range dst.lit {
			if c.pinned {
				keep[low] = true
			}
		}
		l.markLearned(dst, keep)
	}
}

// dropKeys forgets the built keys of n and below (their path changed).
func (n *lnode) dropKeys() {
	n.keys = nil
	for _, c := range n.lit {
		c.dropKeys()
	}
	if n.param != nil {
		n.param.dropKeys()
	}
}

// path is the key path of n: its ancestors' names joined by "/".
func (n *lnode) path() string {
	if n.parent == nil {
		return "/"
	}
	var segs []string
	for m := n; m.parent != nil; m = m.parent {
		segs = append(segs, m.name)
	}
	slices.Reverse(segs)
	return "/" + strings.Join(segs, "/")
}

// Learned returns the positions learned so far as a set, for a snapshot and for
// folding rows keyed before.
func (l *Learner) Learned() LearnedSet {
	set := LearnedSet{}
	if l == nil {
		return set
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.root != nil {
		l.root.collect(set)
	}
	set.normalize()
	return set
}

func (n *lnode) collect(set LearnedSet) {
	if n.learned {
		p := LearnedPosition{Parent: n.path()}
		for _, c := range n.lit {
			p.Keep = append(p.Keep, c.name)
		}
		set.add(p)
	}
	for _, c := range n.lit {
		c.collect(set)
	}
	if n.param != nil {
		n.param.collect(set)
	}
}

// Restore makes the positions of set learned (after a restart, or from a merged
// snapshot), folding what was learned under values they do not keep.
func (l *Learner) Restore(set LearnedSet) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.root == nil {
		l.root = &lnode{}
	}
	for _, id := range set.sortedIDs() {
		p := set[id]
		n := l.root
		for seg := range strings.SplitSeq(strings.Trim(p.Parent, "/"), "/") {
			if seg == "" {
				continue
			}
			var next *lnode
			if seg[0] != ':' {
				next = foldLookup(n.lit, seg)
			}
			if next == nil && (seg[0] == ':' || n.learned) {
				next = l.paramChild(n, seg)
			} else if next == nil {
				next = l.child(n, seg, true)
			}
			n = next
			if n == nil {
				break
			}
		}
		if n == nil {
			continue
		}
		keep := map[string]bool{}
		for _, k := range p.Keep {
			low := strings.ToLower(k)
			keep[low] = true
			if foldLookup(n.lit, k) == nil {
				l.child(n, k, true)
			}
		}
		l.markLearned(n, keep)
	}
	l.gen.Add(1)
}

// Templates lists every parameter position the learner knows, learned from traffic
// or guessed from id shapes, with the paths keyed through it, sorted by template.
func (l *Learner) Templates() []LearnedTemplate {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []LearnedTemplate
	var walk func(n *lnode)
	walk = func(n *lnode) {
		if n.param != nil {
			src := SourceGuessed
			if n.learned {
				src = SourceLearned
			}
			out = append(out, LearnedTemplate{Template: n.param.path(), Source: src, Hits: n.param.hits})
			walk(n.param)
		}
		for _, c := range n.lit {
			walk(c)
		}
	}
	if l.root != nil {
		walk(l.root)
	}
	slices.SortFunc(out, func(a, b LearnedTemplate) int { return cmp.Compare(a.Template, b.Template) })
	return out
}

// LearnedTemplate is a parameter position of a Learner: "/api/v1/workflows/:id".
type LearnedTemplate struct {
	Template string
	Source   Source // SourceLearned or SourceGuessed
	Hits     int64  // paths keyed through it
}

// NonAPIGroups is how many first segments of non-API paths get a group of their
// own; the others share "/*".
const NonAPIGroups = 16

// NonAPIRule documents how paths outside the API are keyed.
const NonAPIRule = `paths outside /api (and outside every declared template) are keyed coarsely: "/" as itself, a path of one segment as "/*", a longer one by its first segment, "/_app/*", for the first 16 first segments seen (ignoring case; segments shaped like ids excluded), the rest as "/*"`

// nonAPIKey keys a path outside the API by NonAPIRule.
func (l *Learner) nonAPIKey(method, path string) string {
	if path == "/" {
		return rootKeys.key(method)
	}
	first, rest := cutSegment(path[1:])
	if rest == "" || first == "" || LooksLikeID(first) || l == nil {
		return starKeys.key(method)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k := foldLookup(l.nonAPI, first)
	if k == nil {
		if len(l.nonAPI) >= NonAPIGroups {
			return starKeys.key(method)
		}
		if l.nonAPI == nil {
			l.nonAPI = map[string]*keys{}
		}
		k = newKeys("/" + first + "/*")
		l.nonAPI[strings.ToLower(first)] = k
	}
	return k.key(method)
}

var (
	rootKeys = newKeys("/")
	starKeys = newKeys("/*")
)

// IsNonAPIKey reports whether a route key is one of NonAPIRule's coarse groups:
// its path is "/", "/*" or "/first/*".
func IsNonAPIKey(key string) bool {
	_, p, ok := strings.Cut(key, " ")
	if !ok {
		return false
	}
	if p == "/" || p == "/*" {
		return true
	}
	return strings.HasSuffix(p, "/*") && strings.Count(p, "/") == 2
}
