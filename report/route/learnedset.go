package route

import (
	"cmp"
	"slices"
	"strings"
)

// LearnedPosition is a learned parameter position: the parent path in key form
// ("/api/v1/workflows") whose next segment is a parameter, and the literal values
// kept beside it ("export").
type LearnedPosition struct {
	Parent string
	Keep   []string
}

// Template is the position as a template: the parent and ":id".
func (p LearnedPosition) Template() string {
	return strings.TrimSuffix(p.Parent, "/") + "/" + LearnedParam
}

// LearnedSet holds learned positions by identity: the parent lower-cased, every
// parameter written ":". It is what a snapshot keeps of learning and what rows keyed
// before a template was learned are folded by.
type LearnedSet map[string]LearnedPosition

// identity is the lookup form of a parent path.
func identity(parent string) string {
	var b strings.Builder
	for seg := range strings.SplitSeq(strings.Trim(parent, "/"), "/") {
		if seg == "" {
			continue
		}
		b.WriteByte('/')
		if seg[0] == ':' {
			b.WriteByte(':')
		} else {
			b.WriteString(strings.ToLower(seg))
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// ParsePosition reads a learned template, "/api/v1/workflows/:id" (its last segment
// a parameter), with its kept values.
func ParsePosition(template string, keep []string) (LearnedPosition, bool) {
	i := strings.LastIndexByte(template, '/')
	if i < 0 || !strings.HasPrefix(template, "/") || !strings.HasPrefix(template[i+1:], ":") {
		return LearnedPosition{}, false
	}
	parent := template[:i]
	if parent == "" {
		parent = "/"
	}
	return LearnedPosition{Parent: parent, Keep: keep}, true
}

func (s LearnedSet) add(p LearnedPosition) {
	p.Keep = normKeep(p.Keep)
	s[identity(p.Parent)] = p
}

// normKeep sorts kept values and drops those equal but for case (the least
// spelling stays), so that equal sets are written alike.
func normKeep(keep []string) []string {
	out := slices.Clone(keep)
	slices.SortFunc(out, func(a, b string) int {
		return cmp.Or(cmp.Compare(strings.ToLower(a), strings.ToLower(b)), cmp.Compare(a, b))
	})
	return slices.CompactFunc(out, strings.EqualFold)
}

// Join adds o's positions to s. A position both learned keeps the values both
// keep, and a position whose parent goes through a value another position folds
// moves to the folded parent: Join is associative and commutative, and a value one
// replica folded is folded in the join (folding cannot be undone, so keeping more
// could not be exact).
func (s LearnedSet) Join(o LearnedSet) {
	for _, p := range o {
		s.meet(p)
	}
	s.normalize()
}

// Add adds one position to s, as Join does.
func (s LearnedSet) Add(p LearnedPosition) {
	s.meet(p)
	s.normalize()
}

// meet adds p, intersecting the kept values with a position already there.
func (s LearnedSet) meet(p LearnedPosition) {
	id := identity(p.Parent)
	q, ok := s[id]
	if !ok {
		s.add(p)
		return
	}
	var keep []string
	for _, k := range q.Keep {
		if p.keeps(k) {
			keep = append(keep, k)
		}
	}
	for _, k := range p.Keep {
		if q.keeps(k) {
			keep = append(keep, k)
		}
	}
	s.add(LearnedPosition{Parent: min(p.Parent, q.Parent), Keep: keep})
}

// normalize moves every position whose parent the set itself rekeys, until none
// moves: what the learner does when it folds a value with what was learned below.
func (s LearnedSet) normalize() {
	for moved := true; moved; {
		moved = false
		for _, id := range s.sortedIDs() {
			p, ok := s[id]
			if !ok {
				continue
			}
			parent := s.rekeyPath(p.Parent)
			if identity(parent) == id {
				continue
			}
			delete(s, id)
			s.meet(LearnedPosition{Parent: parent, Keep: p.Keep})
			moved = true
		}
	}
}

// Positions returns the positions sorted by template.
func (s LearnedSet) Positions() []LearnedPosition {
	out := make([]LearnedPosition, 0, len(s))
	for _, id := range s.sortedIDs() {
		out = append(out, s[id])
	}
	return out
}

func (s LearnedSet) sortedIDs() []string {
	ids := make([]string, 0, len(s))
	for id := range s {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// keeps reports whether the position keeps the literal value seg.
func (p LearnedPosition) keeps(seg string) bool {
	return slices.ContainsFunc(p.Keep, func(k string) bool { return strings.EqualFold(k, seg) })
}

// Rekey returns the route key that key ("METHOD /path") has under the learned
// positions: each literal segment at a learned position that does not keep it
// becomes ":id". Keys that no position touches are returned unchanged. For sets
// a ⊆ b (b joined from a), Rekey(b, Rekey(a, k)) == Rekey(b, k), which keeps
// folding by Merge exact, associative and commutative.
func (s LearnedSet) Rekey(key string) string {
	if len(s) == 0 {
		return key
	}
	method, path, ok := strings.Cut(key, " ")
	if !ok || !strings.HasPrefix(path, "/") || IsNonAPIKey(key) {
		return key
	}
	if p := s.rekeyPath(path); p != path {
		return method + " " + p
	}
	return key
}

// rekeyPath is Rekey of a path.
func (s LearnedSet) rekeyPath(path string) string {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	changed := false
	var id strings.Builder
	for i, seg := range segs {
		parent := id.String()
		if parent == "" {
			parent = "/"
		}
		if p, ok := s[parent]; ok && seg != "" && seg[0] != ':' && !p.keeps(seg) {
			segs[i] = LearnedParam
			changed = true
		}
		id.WriteByte('/')
		if segs[i] != "" && segs[i][0] == ':' {
			id.WriteByte(':')
		} else {
			id.WriteString(strings.ToLower(segs[i]))
		}
	}
	if !changed {
		return path
	}
	return "/" + strings.Join(segs, "/")
}
