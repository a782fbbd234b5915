package diff

import "slices"

// The candidate's document is usually the primary's with a few values changed or with
// members in another order: most of its values are, byte for byte, values the
// primary's tape already holds. A guide lets parseTape, parsing the candidate, take
// such a value's nodes from the primary's tape instead of parsing it again: where the
// candidate's bytes at a value are exactly those of its counterpart in the primary —
// the member of the same raw name, the element of the same index — the value is the
// same token sequence, valid, and its nodes are the counterpart's, moved. The tape is
// node for node the one parse would build, and a document that does not parse fails
// with the same error at the same offset: only bytes proven identical to a valid value
// are skipped, and everything else goes through the parser as before.
//
// On the way the guide learns whether the two documents are equal without a walk:
// when every value of the candidate was taken whole from its counterpart, or is a
// container all of whose members or elements were, with the same count on both sides,
// each object's members matched one to one by raw name and no name escaped. Such a
// pair has no difference under any rules — rules only ever silence or relax — so the
// comparison can skip the walk. Anything else (an escaped name, a name met twice, a
// scalar parsed) leaves the question to the walk.

// guideFrame is what the guide knows of one open container of the document parsed.
type guideFrame struct {
	a    int32 // the counterpart container in the guide's tape, -1 for none
	kind jkind
	n    int32 // members (objects) or elements (arrays) parsed so far
	// arrays: the counterpart's element for the next element, or its end
	cur int32
	// objects: the counterpart's key nodes are g.akeys[koff:koff+kn]; last is the
	// position among them of the last member matched, used the members matched
	// (positions under 64)
	koff, kn, last int32
	used           uint64
	// Where the container's bytes first differ from its counterpart's, when known:
	// mis is that offset in the parsed document, -1 when unknown, and delta how far
	// the container starts after its counterpart.
	mis, delta int32
}

// guide holds the state of a parse guided by another document's tape.
type guide struct {
	a      *tape
	frames []guideFrame
	akeys  []int32 // the counterparts' key nodes of the open objects, in frame order

	cand    int32 // the counterpart of the value about to be parsed, -1 for none
	candMis int32 // where that value first differs from cand, -1 when unknown
	equal   bool  // every value so far is equal to its counterpart, as defined above
	budget  int   // bytes left to compare; past it the guide stops guiding
}

// maxGuideScan is the member count up to which a name the positions do not predict is
// looked for among all of the counterpart's members.
const maxGuideScan = 64

// reset readies g to guide a parse of data by a.
func (g *guide) reset(a *tape, data []byte) {
	g.a, g.frames, g.akeys = a, g.frames[:0], g.akeys[:0]
	g.cand, g.candMis, g.equal = 0, -1, true
	// Comparing is linear as long as each byte is compared about once; a document
	// built to make the guide compare the same bytes over and over is parsed plainly
	// once this is spent.
	g.budget = 2*len(data) + 4096
}

// value is called where parseTape is about to parse a value at b[i]. When the bytes
// there are the counterpart's, it appends the counterpart's nodes moved to i and
// returns the offset past the value and true; otherwise parseTape parses the value.
func (g *guide) value(b []byte, i int, nodes []node) ([]node, int, bool) {
	cand, mis := g.cand, int32(-1)
	g.cand = -1
	var top *guideFrame
	if len(g.frames) > 0 {
		top = &g.frames[len(g.frames)-1]
		if top.kind == jArray {
			cand = -1
			if top.a >= 0 && top.cur < g.a.nodes[top.a].next {
				cand = top.cur
				top.cur = g.a.nodes[cand].next
			}
			top.n++
		}
	}
	if cand < 0 {
		g.equal = false
		return nodes, i, false
	}
	an := &g.a.nodes[cand]
	n := int(an.end - an.start)
	same := false
	if top != nil && top.mis >= 0 && int32(i)-an.start == top.delta {
		// In step with the counterpart: what the container's compare found holds here.
		switch end := an.end + top.delta; {
		case end < top.mis: // the value and the byte after it are the same
			same = true
		case an.start+top.delta <= top.mis && top.mis < end:
			mis = top.mis
		}
	}
	if !same && mis < 0 && g.budget > 0 {
		rel := firstMismatch(g.a.data[an.start:an.end], b[i:min(len(b), i+n)])
		if rel < 0 {
			g.budget -= n
			// a number is the same only if the byte after it does not continue it
			same = an.kind != jNumber || i+n == len(b) || !continuesNumber(b[i+n])
		} else {
			g.budget -= int(rel) + 1
			mis = int32(i) + rel
		}
	}
	if same {
		nodes = appendMoved(nodes, g.a.nodes[cand:an.next], int32(i)-an.start, int32(len(nodes))-cand)
		return nodes, i + n, true
	}
	if c := b[i]; (c == '{' && an.kind == jObject) || (c == '[' && an.kind == jArray) {
		g.cand, g.candMis = cand, mis // for open
	} else {
		g.equal = false
	}
	return nodes, i, false
}

// continuesNumber reports whether c, right after a number, would be read as part of it.
func continuesNumber(c byte) bool {
	return (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

// appendMoved appends src to dst, its offsets moved by dpos and its node indexes by
// didx.
func appendMoved(dst, src []node, dpos, didx int32) []node {
	n := len(dst)
	dst = slices.Grow(dst, len(src))[:n+len(src)]
	d := dst[n:]
	d = d[:len(src)]
	for k := range src {
		s, x := &src[k], &d[k]
		x.start, x.end, x.next, x.kind, x.esc = s.start+dpos, s.end+dpos, s.next+didx, s.kind, s.esc
	}
	return dst
}

// open is called where parseTape opens a container of kind k at b[i].
func (g *guide) open(k jkind, i int) {
	g.frames = append(g.frames, guideFrame{a: -1, kind: k, mis: -1, last: -1})
	f := &g.frames[len(g.frames)-1]
	cand := g.cand
	g.cand = -1
	if cand < 0 {
		return // value has already said it is not equal
	}
	a := g.a
	f.a, f.mis, f.delta = cand, g.candMis, int32(i)-a.nodes[cand].start
	end := a.nodes[cand].next
	if k == jArray {
		f.cur = cand + 1
		return
	}
	f.koff = int32(len(g.akeys))
	for m := cand + 1; m < end; m = a.nodes[m+1].next {
		g.akeys = append(g.akeys, m)
	}
	f.kn = int32(len(g.akeys)) - f.koff
}

// key is called where parseTape has read the member name b[ks:ke] of the innermost
// object; it finds the member's counterpart for the value that follows.
func (g *guide) key(b []byte, ks, ke int, esc bool) {
	f := &g.frames[len(g.frames)-1]
	pos := f.n
	f.n++
	g.cand = -1
	if f.a < 0 {
		return
	}
	if esc {
		g.equal = false // the name may be another's in another spelling
	}
	name := b[ks:ke]
	keys := g.akeys[f.koff : f.koff+f.kn]
	// the same position, then the one after or before the last match (the same order,
	// or the reverse), then all of them
	at := int32(-1)
	switch {
	case pos < f.kn && g.sameName(keys[pos], name):
		at = pos
	case f.last+1 < f.kn && f.last+1 != pos && g.sameName(keys[f.last+1], name):
		at = f.last + 1
	case f.last >= 1 && g.sameName(keys[f.last-1], name):
		at = f.last - 1
	case f.kn <= maxGuideScan:
		for p := range keys {
			if g.sameName(keys[p], name) {
				at = int32(p)
				break
			}
		}
	}
	if at < 0 {
		g.equal = false
		return
	}
	if at >= 64 || f.used&(1<<at) != 0 {
		g.equal = false // a name met twice, or too many to tell
	}
	if at < 64 {
		f.used |= 1 << at
	}
	f.last = at
	g.cand = keys[at] + 1
}

// sameName reports whether key node k of the guide's tape is the raw name.
func (g *guide) sameName(k int32, name []byte) bool {
	n := &g.a.nodes[k]
	return int(n.end-n.start) == len(name) && string(g.a.data[n.start:n.end]) == string(name)
}

// close is called where parseTape closes the innermost container.
func (g *guide) close() {
	f := &g.frames[len(g.frames)-1]
	if f.a >= 0 {
		if f.kind == jArray && f.cur != g.a.nodes[f.a].next || f.kind == jObject && f.n != f.kn {
			g.equal = false
		}
		if f.kind == jObject {
			g.akeys = g.akeys[:f.koff]
		}
	}
	g.frames = g.frames[:len(g.frames)-1]
}
