package diff

import (
	"encoding/binary"
	"slices"
)

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
// On the way the guide keeps track of whether the two documents are equal so far (see
// guide.equal), which decides how it guesses names; proving a pair equal is
// sameUpToOrder's (same.go), which is tried first.

// guideFrame is what the guide knows of one open container of the document parsed.
type guideFrame struct {
	a    int32 // the counterpart container in the guide's tape, -1 for none
	kind jkind
	n    int32 // members (objects) or elements (arrays) parsed so far
	// arrays: the counterpart's element for the next element, or its end
	cur int32
	// objects: the counterpart's member names are g.akeys[koff:koff+kn]; last is the
	// position among them of the last member matched, step how far it was from the
	// one before (1 in the same order, -1 in the reverse), used the members matched
	// (positions under 64)
	koff, kn, last, step int32
	used                 uint64
	lost                 bool    // a name was not found: names are only guessed from here on
	perm                 []int32 // objects: g.perms's entry for the depth, read and written
	// Where the container's bytes first differ from its counterpart's, when known:
	// mis is that offset in the parsed document, -1 when unknown, and delta how far
	// the container starts after its counterpart.
	mis, delta int32
}

// guide holds the state of a parse guided by another document's tape.
type guide struct {
	a      *tape
	frames []guideFrame
	akeys  []guideKey // the counterparts' member names of the open objects, in frame order
	// perms[d][h] holds, for the last object at depth d with a counterpart of
	// digest h (see open), the position among the counterpart's names of each of its
	// members: the guess for the next one at that depth with such a counterpart, its
	// sibling in a list page, which is written by the same code in the same order.
	perms memberOrders

	cand    int32 // the counterpart of the value about to be parsed, -1 for none
	candMis int32 // where that value first differs from cand, -1 when unknown
	equal   bool  // every value so far was taken whole from its counterpart, or is a container of such with matched names
	budget  int   // work left (bytes compared, names gathered and scanned); past it the guide stops guiding
	// values and names taken from the counterpart, and not (miss)
	hits, misses int
	off          bool // switched off: parseTape parses the rest plainly
}

// guideKey is a member name of the guide's tape: its key node, raw bytes
// (data[start:start+n]) and escapes.
type guideKey struct {
	k, start, n int32
	esc         bool
}

// wordMasks[n] keeps the first n bytes of two little-endian words.
var wordMasks = func() (m [17][2]uint64) {
	for n := range m {
		for j := range n {
			m[n][j/8] |= 0xff << (8 * (j % 8))
		}
	}
	return m
}()

// maxMisses is how many misses the guide takes before it may switch itself off.
const maxMisses = 64

// maxPermDepth is the depth to which guide.perms remembers orders.
const maxPermDepth = 16

// memberOrders remembers, per depth and per a hash of the counterpart, the member
// order last matched there (see guide.perms); the guide and the same-up-to-order
// check each keep one.
type memberOrders [maxPermDepth][4][]int32

// release lets go of orders grown past what a pooled tape should keep.
func (o *memberOrders) release() {
	for d := range o {
		for h, p := range o[d] {
			if cap(p) > maxPooledNodes/4 {
				o[d][h] = nil
			}
		}
	}
}

// maxGuideScan is the member count up to which a name the positions do not predict is
// looked for among all of the counterpart's members.
const maxGuideScan = 64

// reset readies g to guide a parse of data by a.
func (g *guide) reset(a *tape, data []byte) {
	g.a, g.frames, g.akeys = a, g.frames[:0], g.akeys[:0]
	g.cand, g.candMis, g.equal = 0, -1, true
	g.hits, g.misses, g.off = 0, 0, false
	// Guiding is linear as long as each byte is compared about once and each of the
	// counterpart's names gathered and scanned about once; a document built to make
	// the guide do the same work over and over (many small objects whose counterpart
	// is one large object, say) is parsed plainly once this is spent.
	g.budget = 2*len(data) + 4096
}

// release lets go of the guide's tape and of scratch grown past what a pooled tape
// should keep: one large object would otherwise pin its names.
func (g *guide) release() {
	g.a = nil
	if cap(g.akeys) > maxPooledNodes/4 || cap(g.frames) > maxPooledNodes/4 {
		g.akeys, g.frames = nil, nil
	}
	g.perms.release()
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
		g.miss()
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
	if !same && mis < 0 && n <= 16 && an.kind < jObject {
		// most values are short scalars: a word or two a side, no mismatch offset needed
		if same = sameScalar(g.a.data, an, b, i); !same {
			g.miss()
			return nodes, i, false
		}
	} else if !same && mis < 0 && g.budget > 0 {
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
		g.hits++
	}
	if same && an.next == cand+1 {
		nodes = addNode(nodes, int32(i), int32(i+n), int32(len(nodes))+1, an.kind, an.esc)
		return nodes, i + n, true
	}
	if same {
		nodes = appendMoved(nodes, g.a.nodes[cand:an.next], int32(i)-an.start, int32(len(nodes))-cand)
		return nodes, i + n, true
	}
	if c := b[i]; (c == '{' && an.kind == jObject) || (c == '[' && an.kind == jArray) {
		g.cand, g.candMis = cand, mis // for open
	} else {
		g.miss()
	}
	return nodes, i, false
}

// miss is called where a value or a name could not be taken from the counterpart.
// The documents then differ; when such misses outnumber what was taken four to one,
// past maxMisses, guiding costs more than it saves — the candidate is another
// document, or the same with its members in another order and values respelled, which
// the walk matches by name anyway — and the guide is switched off: parseTape parses
// the rest plainly.
func (g *guide) miss() {
	g.equal = false
	g.misses++
	if g.misses > maxMisses && g.misses > 4*g.hits {
		g.off = true
	}
}

// continuesNumber reports whether c, right after a number, would be read as part of it.
func continuesNumber(c byte) bool { return numberByte[c] }

// numberByte marks the bytes that continue a number.
var numberByte = func() (t [256]bool) {
	for _, c := range []byte("0123456789.eE+-") {
		t[c] = true
	}
	return t
}()

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
	g.frames = append(g.frames, guideFrame{a: -1, kind: k, mis: -1, last: -1, step: 1})
	f := &g.frames[len(g.frames)-1]
	cand := g.cand
	g.cand = -1
	if cand < 0 {
		return // value has already said it is not equal
	}
	if g.budget <= 0 {
		g.equal = false
		return
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
		n := &a.nodes[m]
		g.akeys = append(g.akeys, guideKey{k: m, start: n.start, n: n.end - n.start, esc: n.esc})
	}
	f.kn = int32(len(g.akeys)) - f.koff
	g.budget -= int(f.kn)
	if d := len(g.frames) - 1; d < maxPermDepth && f.kn > 0 {
		// a digest of the counterpart: its member count and first name's length, so
		// that two kinds of object met in turn at one depth keep an order each
		h := (f.kn*7 + g.akeys[f.koff].n) & 3
		slot := &g.perms[d][h]
		if p := *slot; len(p) != int(f.kn) {
			p = slices.Grow(p[:0], int(f.kn))[:f.kn]
			for j := range p {
				p[j] = -1
			}
			*slot = p
		}
		f.perm = *slot
	}
}

// Where guide.members leaves parseTape.
const (
	gKey   = iota // at the opening quote of a name it did not foresee: read it
	gNext         // after a comma: a name follows, maybe after whitespace
	gColon        // after a name: its colon follows
	gValue        // after a name and its colon: the value follows, its counterpart set
	gAfter        // after a whole member
)

// members is called where parseTape is about to read a member name at b[i] (the
// opening quote) in the innermost object. It reads members in a tight loop for as
// long as each name is, byte for byte, the counterpart's member name it foresees and
// each value is a scalar with the counterpart's bytes: such a name has the
// counterpart's length and escapes, and such a value its length and kind. It returns
// where it stopped, for parseTape to go on from there.
func (g *guide) members(b []byte, i int, nodes []node) ([]node, int, int) {
	f := &g.frames[len(g.frames)-1]
	if f.a < 0 {
		return nodes, i, gKey
	}
	an, ad := g.a.nodes, g.a.data
	keys, perm := g.akeys[f.koff:f.koff+f.kn], f.perm
	// the frame's state in locals for the loop
	n, last, step, used, equal := f.n, f.last, f.step, f.used, g.equal
	st, hits, missed := gKey, 0, false
	for i+16 <= len(b) {
		w := b[i : i+16]
		w0, w1 := binary.LittleEndian.Uint64(w), binary.LittleEndian.Uint64(w[8:])
		// The member a sibling had at this position, else the one after the last
		// one matched in the direction of the last step; then, if the two are still
		// equal, that one, the one in the other direction, the one at the same
		// position and the last one (the first member of an object written in
		// reverse). Once they differ, the walk matches the names anyway: only the
		// member at the same position is tried, whose value, when identical, is
		// still taken whole.
		at := last + step
		if int(n) < len(perm) && perm[n] >= 0 {
			at = perm[n]
		}
		if !equal {
			at = n
		}
		ok := false
		if uint32(at) < uint32(len(keys)) {
			if k := &keys[at]; k.n <= 16 && int(k.start)+16 <= len(ad) {
				x, m := ad[k.start:k.start+16], &wordMasks[k.n]
				ok = (binary.LittleEndian.Uint64(x)^w0)&m[0] == 0 && (binary.LittleEndian.Uint64(x[8:])^w1)&m[1] == 0
			} else {
				ok = g.keyIs(keys, at, b, i)
			}
		}
		if !ok {
			if !equal {
				missed = true
				break
			}
			if at = last + step; !g.keyIs(keys, at, b, i) {
				if at = last - step; !g.keyIs(keys, at, b, i) {
					if at = n; !g.keyIs(keys, at, b, i) {
						if at = int32(len(keys)) - 1; !g.keyIs(keys, at, b, i) {
							break
						}
					}
				}
			}
		}
		k := &keys[at]
		if k.esc || at >= 64 || used&(1<<(at&63)) != 0 {
			equal = false // a name maybe another's in another spelling, met twice, or too many to tell
		}
		used |= 1 << (at & 63)
		if d := at - last; d == 1 || d == -1 {
			step = d
		}
		last = at
		if int(n) < len(perm) {
			perm[n] = at
		}
		n++
		j := i + int(k.n)
		nodes = addNode(nodes, int32(i), int32(j), int32(len(nodes))+1, jKey, k.esc)
		i = j
		if i+17 > len(b) || b[i] != ':' {
			st, g.cand = gColon, k.k+1
			break
		}
		i++
		// the value, compared inline: a call would cost the loop its registers
		v := &an[k.k+1]
		vs, vn := int(v.start), int(v.end-v.start)
		same := v.kind < jObject && i+vn+16 <= len(b) && vs+vn+16 <= len(ad)
		if same && vn <= 16 {
			x, y, m := ad[vs:vs+16], b[i:i+16], &wordMasks[vn]
			same = (binary.LittleEndian.Uint64(x)^binary.LittleEndian.Uint64(y))&m[0] == 0 &&
				(binary.LittleEndian.Uint64(x[8:])^binary.LittleEndian.Uint64(y[8:]))&m[1] == 0
		} else if same {
			// a word at a time, the last one ending where the value ends
			for o := 0; o < vn-8 && same; o += 8 {
				same = binary.LittleEndian.Uint64(ad[vs+o:]) == binary.LittleEndian.Uint64(b[i+o:])
			}
			same = same && binary.LittleEndian.Uint64(ad[vs+vn-8:]) == binary.LittleEndian.Uint64(b[i+vn-8:])
		}
		if !same || (v.kind == jNumber && continuesNumber(b[i+vn])) {
			st, g.cand = gValue, k.k+1
			break
		}
		g.cand = -1
		hits++
		nodes = addNode(nodes, int32(i), int32(i+vn), int32(len(nodes))+1, v.kind, v.esc)
		i += vn
		if i+1 >= len(b) || b[i] != ',' {
			st = gAfter
			break
		}
		i++
		if b[i] != '"' {
			st = gNext
			break
		}
	}
	f.n, f.last, f.step, f.used = n, last, step, used
	g.equal = equal
	g.hits += hits
	if missed {
		g.miss()
	}
	if st == gKey && (i >= len(b) || b[i] != '"') {
		st = gNext // stopped after a comma: let parseTape skip whitespace and check
	}
	return nodes, i, st
}

// keyIs reports whether the member name at b[i] is keys[at].
func (g *guide) keyIs(keys []guideKey, at int32, b []byte, i int) bool {
	if uint32(at) >= uint32(len(keys)) {
		return false
	}
	k := &keys[at]
	return i+int(k.n) <= len(b) && string(g.a.data[k.start:k.start+k.n]) == string(b[i:i+int(k.n)])
}

// sameScalar reports whether b holds at i the bytes of the scalar node v of the
// guide's data ad, and the byte after them does not continue a number.
func sameScalar(ad []byte, v *node, b []byte, i int) bool {
	n := int(v.end - v.start)
	if v.kind >= jObject || i+n > len(b) {
		return false
	}
	if n <= 16 && int(v.start)+16 <= len(ad) && i+16 <= len(b) {
		x, y, m := ad[v.start:v.start+16], b[i:i+16], &wordMasks[n]
		if (binary.LittleEndian.Uint64(x)^binary.LittleEndian.Uint64(y))&m[0] != 0 ||
			(binary.LittleEndian.Uint64(x[8:])^binary.LittleEndian.Uint64(y[8:]))&m[1] != 0 {
			return false
		}
	} else if string(ad[v.start:v.end]) != string(b[i:i+n]) {
		return false
	}
	return v.kind != jNumber || i+n == len(b) || !continuesNumber(b[i+n])
}

// key is called where parseTape has read the member name b[ks:ke] of the innermost
// object that predictKey did not foresee; it finds the member's counterpart, if any,
// for the value that follows.
func (g *guide) key(b []byte, ks, ke int, esc bool) {
	f := &g.frames[len(g.frames)-1]
	f.n++
	g.cand = -1
	if f.a < 0 {
		return
	}
	name := b[ks:ke]
	keys := g.akeys[f.koff : f.koff+f.kn]
	at := int32(-1)
	if f.kn <= maxGuideScan && !f.lost && g.equal {
		g.budget -= len(keys)
		for p := range keys {
			if int(keys[p].n) == len(name) && string(g.a.data[keys[p].start:keys[p].start+keys[p].n]) == string(name) {
				at = int32(p)
				break
			}
		}
	}
	if at < 0 {
		// a name the counterpart does not have (or, the two documents differing
		// already, not looked for: the walk matches names anyway): the objects
		// differ, and their other names are not looked for either
		f.lost = true
		g.miss()
		return
	}
	if int(f.n-1) < len(f.perm) {
		f.perm[f.n-1] = at
	}
	g.matched(f, at, esc)
}

// matched makes the counterpart's member at position at of f the counterpart of the
// member just read, whose name is escaped when esc.
func (g *guide) matched(f *guideFrame, at int32, esc bool) {
	keys := g.akeys[f.koff : f.koff+f.kn]
	if esc {
		g.equal = false // the name may be another's in another spelling
	}
	if at >= 64 || f.used&(1<<at) != 0 {
		g.equal = false // a name met twice, or too many to tell
	}
	if at < 64 {
		f.used |= 1 << at
	}
	if d := at - f.last; d == 1 || d == -1 {
		f.step = d
	}
	f.last = at
	g.cand = keys[at].k + 1
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
