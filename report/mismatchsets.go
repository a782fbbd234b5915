package report

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// maxMismatchSets caps the distinct difference sets a route counts; requests
// whose set is not kept are counted as dropped and are never credited by an
// acceptance, so the cap can only make a judgement stricter.
const maxMismatchSets = 64

// GroupRef names one difference group of a route: its path pattern and kind.
type GroupRef struct {
	Path string `json:"path"`
	Kind string `json:"kind"`
}

// MismatchSet is how many mismatched requests showed exactly these difference
// groups (sorted by path, then kind).
type MismatchSet struct {
	Groups []GroupRef `json:"groups"`
	Count  int64      `json:"count"`
}

func compareGroupRefs(a, b GroupRef) int {
	return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Kind, b.Kind))
}

func compareMismatchSets(a, b MismatchSet) int {
	if c := cmp.Compare(b.Count, a.Count); c != 0 {
		return c
	}
	return slices.CompareFunc(a.Groups, b.Groups, compareGroupRefs)
}

// mismatchSets accumulates MismatchSets by a key made of their groups.
type mismatchSets struct {
	m       map[string]*MismatchSet
	dropped int64
}

func setKey(groups []GroupRef) string {
	var b []byte
	for _, g := range groups {
		b = appendSetKey(b, g.Path, g.Kind)
	}
	return string(b)
}

func appendSetKey(b []byte, path, kind string) []byte {
	b = append(b, path...)
	b = append(b, 0)
	b = append(b, kind...)
	return append(b, 0)
}

// add counts n requests that showed the groups keys (any order, repeats
// allowed), under the cap. keys is sorted in place. A known set costs no
// allocation: its key is built on the stack and looked up as bytes.
func (s *mismatchSets) add(keys []groupKey, n int64) {
	slices.SortFunc(keys, func(a, b groupKey) int { return cmp.Or(cmp.Compare(a.path, b.path), cmp.Compare(a.kind, b.kind)) })
	keys = slices.Compact(keys)
	var buf [256]byte
	kb := buf[:0]
	for _, k := range keys {
		kb = appendSetKey(kb, k.path, k.kind)
	}
	if e := s.m[string(kb)]; e != nil {
		e.Count += n
		return
	}
	if len(s.m) >= maxMismatchSets {
		s.dropped += n
		return
	}
	groups := make([]GroupRef, len(keys))
	for i, k := range keys {
		groups[i] = GroupRef{Path: strings.Clone(k.path), Kind: k.kind}
	}
	s.put(string(kb), MismatchSet{Groups: groups, Count: n})
}

// addSet adds a snapshot's set without the cap (the snapshot bounds them).
func (s *mismatchSets) addSet(m MismatchSet) {
	groups := slices.Clone(m.Groups)
	slices.SortFunc(groups, compareGroupRefs)
	groups = slices.Compact(groups)
	k := setKey(groups)
	if e := s.m[k]; e != nil {
		e.Count += m.Count
		return
	}
	s.put(k, MismatchSet{Groups: groups, Count: m.Count})
}

func (s *mismatchSets) put(k string, m MismatchSet) {
	if s.m == nil {
		s.m = map[string]*MismatchSet{}
	}
	s.m[k] = &m
}

// list returns the sets, sorted, as a snapshot holds them (nil for none).
func (s *mismatchSets) list() []MismatchSet {
	if len(s.m) == 0 {
		return nil
	}
	out := make([]MismatchSet, 0, len(s.m))
	for _, m := range s.m {
		out = append(out, MismatchSet{Groups: slices.Clone(m.Groups), Count: m.Count})
	}
	slices.SortFunc(out, compareMismatchSets)
	return out
}

// seenAt widens the group's first and last seen to t (a zero t is unknown).
func (g *groupAcc) seenAt(t time.Time) {
	if t.IsZero() {
		return
	}
	t = t.UTC()
	if g.first.IsZero() || t.Before(g.first) {
		g.first = t
	}
	if t.After(g.last) {
		g.last = t
	}
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
