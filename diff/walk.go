package diff

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"strconv"
	"sync"
)

// The JSON walk compares two tapes. It is iterative — an explicit stack of open
// containers — so input depth costs memory proportional to the input, never Go stack.
// It compares the raw bytes of each pair of sub-values first and skips them when they
// are identical, so its cost follows the differences, not the documents. Object members
// are matched positionally while both sides list the same keys in the same order and by
// lookup from the first divergence on. Rule nodes are only looked up where values
// differ. On the equal path it allocates nothing.

// frame modes
const (
	modeArray     = iota // ordered array: element i against element i
	modeObject           // object, members matched positionally
	modeLookup           // object, remaining members matched by name
	modeUnordered        // array compared as a multiset: leftovers after matching
)

// smallObject is the member count up to which lookups scan instead of building maps.
const smallObject = 32

// maxProbePairs bounds the pairwise probes of an unordered array's leftovers.
const maxProbePairs = 4096

// ruleSet is a slice of the walker's rule arena: the rule nodes that match a path.
type ruleSet struct{ off, n int32 }

type frame struct {
	va, vb int32 // the containers in a and b
	ca, cb int32 // cursors: next child (objects: next key) in a and b
	idx    int32 // arrays: index of the element at ca
	seg    pathSeg
	hasSeg bool // false for the body's root value
	rules  ruleSet
	shape  bool
	mode   uint8

	dupChecked bool // whether the object names a member twice is known:
	noDups     bool // neither side does

	// What is known of where the containers' bytes first differ: mis is that offset in
	// a's data, delta how far b's container starts after a's. A child pair at the same
	// relative place that ends before mis is identical; one that spans it differs.
	mis, delta int32

	// modeLookup
	extras     bool  // big lookups: a is done; reporting b's unmatched members
	apos       int32 // small lookups: next of a's remaining members to match
	xpos       int32 // small lookups: next of b's remaining members to report if extra
	hoff       int32 // small lookups: where the remaining members start in w.keys and w.plan
	hna, hnb   int32 // small lookups: how many remaining members a and b have
	hnx        int32 // small lookups: how many of b's are extra (planExtra)
	big        *bigLookup
	envelopeOK bool // the error-envelope default applies to this object

	un *unorderedState
}

// bigLookup indexes the remaining members of large objects by decoded name.
type bigLookup struct {
	lastA   map[string]int32 // name -> key node of its last occurrence in a
	inB     map[string]int   // name -> position of its last occurrence among b's members
	membB   []int32          // b's remaining key nodes
	matched []bool
}

type unorderedState struct {
	pairs    [][2]int32 // leftover elements compared deeply, in order
	pairIdx  []int      // primary index of each pair
	missing  []int32
	missIdx  []int
	extra    []int32
	extraIdx []int
	pos      int
}

// walker holds the state of one comparison of two tapes.
type walker struct {
	a, b *tape
	r    *Rules

	probe    bool // stop at the first difference, record nothing
	found    bool // a difference was found (probe) or recorded
	envelope int  // the candidate's status when the error-envelope default applies

	out     []Difference
	max     int  // differences found (listed, omitted or in out before the walk) before stopping
	stopped bool // max was reached
	omitted int  // differences found but not listed: over the result's bound
	left    int  // bytes of the result's bound left for differences, once sized
	sized   bool // left is known

	stack      []frame
	arena      []*ruleNode
	path       []byte
	bufA, bufB []byte

	// Key nodes of the remaining members of small lookups and their plans, in step:
	// each small lookup frame owns keys[hoff:hoff+hna+hnb], a's remaining members then
	// b's. Frames are a stack, so a frame gives its part back when it is popped.
	keys []int32
	plan []int32

	names []nameKey               // scratch of planLookup and hasDuplicateKeys
	tmpl  *[numTemplates]template // sibling templates, valid for gen
	gen   uint64                  // this comparison, among the walker's uses
}

// keySeed hashes member names; equal hashes are confirmed by comparing the names.
var keySeed = maphash.MakeSeed()

var walkerPool = sync.Pool{New: func() any { return new(walker) }}

func getWalker(a, b *tape, r *Rules) *walker {
	w := walkerPool.Get().(*walker)
	w.a, w.b, w.r = a, b, r
	w.gen++
	return w
}

func putWalker(w *walker) {
	if cap(w.stack) > 1<<12 || cap(w.arena) > 1<<12 || cap(w.keys) > 1<<14 || cap(w.path) > 1<<14 {
		return
	}
	*w = walker{stack: w.stack[:0], arena: w.arena[:0], path: w.path[:0], bufA: w.bufA[:0], bufB: w.bufB[:0],
		keys: w.keys[:0], plan: w.plan[:0], names: w.names[:0], tmpl: w.tmpl, gen: w.gen}
	walkerPool.Put(w)
}

func (w *walker) done() bool { return w.stopped || (w.probe && w.found) }

// rootRules is the rule set at the body's root.
func (w *walker) rootRules() ruleSet {
	if !w.r.hasBody {
		return ruleSet{}
	}
	off := int32(len(w.arena))
	w.arena = append(w.arena, w.r.body)
	return ruleSet{off: off, n: 1}
}

// compare walks the two values and records their differences. How many it found but
// left out (report) follows them as one entry of kind kindOmitted, which
// comparison.result takes off the list.
func (w *walker) compare(va, vb int32, rules ruleSet, shape bool) {
	w.visit(va, vb, pathSeg{}, false, rules, shape, -1)
	w.run()
	if w.omitted > 0 {
		w.out = append(w.out, Difference{Kind: kindOmitted, Note: strconv.Itoa(w.omitted)})
	}
}

// child returns the rule set reached from parent by seg.
func (w *walker) child(parent ruleSet, seg *pathSeg) ruleSet {
	if parent.n == 0 {
		return ruleSet{}
	}
	off := int32(len(w.arena))
	for i := parent.off; i < parent.off+parent.n; i++ {
		n := w.arena[i]
		if seg.isIdx {
			w.arena = n.childIndex(w.arena, int(seg.idx))
		} else if len(n.lit) > 0 || len(n.globs) > 0 {
			w.bufA = w.appendSegKey(w.bufA[:0], seg)
			w.arena = n.childKey(w.arena, w.bufA)
		}
	}
	return ruleSet{off: off, n: int32(len(w.arena)) - off}
}

func (w *walker) flags(s ruleSet) (ignore, unordered, shape bool) {
	for i := s.off; i < s.off+s.n; i++ {
		n := w.arena[i]
		ignore = ignore || n.ignore
		unordered = unordered || n.unordered
		shape = shape || n.shape
	}
	return
}

// visit compares the pair (va, vb) reached by seg from the innermost open frame (or
// the root when hasSeg is false). mis is the offset in a's data of the pair's first
// differing byte when the caller knows it, else -1. Containers that differ are pushed
// as frames.
func (w *walker) visit(va, vb int32, seg pathSeg, hasSeg bool, parentRules ruleSet, parentShape bool, mis int32) {
	ra, rb := w.a.raw(va), w.b.raw(vb)
	if mis < 0 {
		rel := firstMismatch(ra, rb)
		if rel < 0 {
			return
		}
		mis = w.a.nodes[va].start + rel
	}
	rules := parentRules
	if hasSeg {
		rules = w.child(parentRules, &seg)
	}
	ignore, unordered, shape := w.flags(rules)
	if ignore {
		return
	}
	shape = shape || parentShape
	na, nb := &w.a.nodes[va], &w.b.nodes[vb]
	if !sameType(na.kind, nb.kind) {
		w.report(Type, seg, hasSeg, va, vb, "primary is "+article(na.kind)+", candidate "+article(nb.kind))
		return
	}
	switch na.kind {
	case jObject:
		f := w.push(va, vb, seg, hasSeg, rules, shape, modeObject, mis)
		f.envelopeOK = !hasSeg && w.envelope != 0 && !shape
		return
	case jArray:
		if unordered && !shape {
			w.pushUnordered(va, vb, seg, hasSeg, rules)
			return
		}
		w.push(va, vb, seg, hasSeg, rules, shape, modeArray, mis)
		return
	}
	if shape {
		return // scalars of the same type have the same shape
	}
	switch na.kind {
	case jNumber:
		if numbersEqual(ra, rb) || (w.r.tolerance > 0 && withinTolerance(ra, rb, w.r.tolerance)) {
			return
		}
	case jString:
		if w.stringsEqual(ra, na.esc, rb, nb.esc) {
			return
		}
	}
	w.report(Changed, seg, hasSeg, va, vb, "")
}

// push opens a frame for the containers va and vb. It sets the fields of a zeroed
// frame in place: a frame built whole and copied in is read back in wide loads right
// after its narrow stores, which the processor cannot forward.
func (w *walker) push(va, vb int32, seg pathSeg, hasSeg bool, rules ruleSet, shape bool, mode uint8, mis int32) *frame {
	w.stack = append(w.stack, frame{})
	f := &w.stack[len(w.stack)-1]
	f.va, f.vb, f.ca, f.cb = va, vb, va+1, vb+1
	f.seg, f.hasSeg, f.rules, f.shape, f.mode = seg, hasSeg, rules, shape, mode
	f.mis, f.delta = mis, w.b.nodes[vb].start-w.a.nodes[va].start
	return f
}

func article(k jkind) string {
	switch k {
	case jArray, jObject:
		return "an " + k.typeName()
	}
	return "a " + k.typeName()
}

// stringsEqual compares two raw JSON strings by decoded text.
func (w *walker) stringsEqual(ra []byte, escA bool, rb []byte, escB bool) bool {
	if bytes.Equal(ra, rb) {
		return true
	}
	if !escA && !escB {
		return false
	}
	w.bufA = unquote(w.bufA[:0], ra)
	w.bufB = unquote(w.bufB[:0], rb)
	return bytes.Equal(w.bufA, w.bufB)
}

// keysDiffer reports whether key nodes ka of a and kb of b name different members.
func (w *walker) keysDiffer(ka, kb int32) bool {
	na, nb := &w.a.nodes[ka], &w.b.nodes[kb]
	ra, rb := w.a.data[na.start:na.end], w.b.data[nb.start:nb.end]
	if string(ra) == string(rb) {
		return false
	}
	return (!na.esc && !nb.esc) || !w.stringsEqual(ra, na.esc, rb, nb.esc)
}

// sameShortBytes reports whether a[as:ae] and b[bs:be] are the same bytes, when they
// are at most 8 bytes long and 8 bytes follow each start; it reports false otherwise.
// Most scalar values are that short: one word load a side instead of a memequal call.
func sameShortBytes(a []byte, as, ae int32, b []byte, bs, be int32) bool {
	n := ae - as
	if n != be-bs || n > 8 || n <= 0 || int(as)+8 > len(a) || int(bs)+8 > len(b) || as < 0 || bs < 0 {
		return false
	}
	m := ^uint64(0) >> (64 - 8*uint(n))
	return (binary.LittleEndian.Uint64(a[as:])^binary.LittleEndian.Uint64(b[bs:]))&m == 0
}

// run processes the stack until it is empty or the walk must stop.
func (w *walker) run() {
	for len(w.stack) > 0 && !w.done() {
		fi := len(w.stack) - 1
		switch w.stack[fi].mode {
		case modeArray:
			w.stepArray(fi)
		case modeObject:
			w.stepObject(fi)
		case modeLookup:
			w.stepLookup(fi)
		case modeUnordered:
			w.stepUnordered(fi)
		}
	}
}

func (w *walker) pop() { w.stack = w.stack[:len(w.stack)-1] }

// mismatch returns the offset in a's data where the child pair (ea, eb) of frame f
// first differs, or -1 when the two are identical. It reuses what f knows, so a long
// identical prefix is read once, not once per nesting level.
func (w *walker) mismatch(f *frame, ea, eb int32) int32 {
	na, nb := &w.a.nodes[ea], &w.b.nodes[eb]
	if f.mis >= 0 && nb.start-na.start == f.delta {
		switch {
		case na.end < f.mis:
			// identical bytes up to and including the one after the value: b's value
			// is the same token sequence and ends at the same place
			return -1
		case na.start <= f.mis && f.mis < na.end:
			return f.mis
		}
	}
	rel := firstMismatch(w.a.data[na.start:na.end], w.b.data[nb.start:nb.end])
	if rel < 0 {
		return -1
	}
	return na.start + rel
}

// firstMismatch is the index of the first byte where a and b differ, or -1 when they
// are equal.
func firstMismatch(a, b []byte) int32 {
	n := min(len(a), len(b))
	i := 0
	for i+64 <= n && string(a[i:i+64]) == string(b[i:i+64]) {
		i += 64
	}
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return int32(i + bits.TrailingZeros64(x)/8)
		}
	}
	for i < n && a[i] == b[i] {
		i++
	}
	if i == n && len(a) == len(b) {
		return -1
	}
	return int32(i)
}

func (w *walker) stepArray(fi int) {
	f := &w.stack[fi]
	endA, endB := w.a.nodes[f.va].next, w.b.nodes[f.vb].next
	for f.ca < endA && f.cb < endB {
		ea, eb := f.ca, f.cb
		f.ca, f.cb = w.a.nodes[ea].next, w.b.nodes[eb].next
		i := f.idx
		f.idx++
		mis := w.mismatch(f, ea, eb)
		if mis < 0 {
			continue
		}
		w.visit(ea, eb, pathSeg{idx: i, isIdx: true}, true, f.rules, f.shape, mis)
		return // visit may have pushed a frame; f is stale
	}
	if !f.shape {
		for ; f.ca < endA && !w.done(); f.ca = w.a.nodes[f.ca].next {
			w.reportElem(Missing, f.idx, f.ca, -1, f.rules)
			f.idx++
		}
		for ; f.cb < endB && !w.done(); f.cb = w.b.nodes[f.cb].next {
			w.reportElem(Extra, f.idx, -1, f.cb, f.rules)
			f.idx++
		}
	}
	w.pop()
}

// reportElem reports a missing or extra array element (or unordered leftover) unless a
// rule ignores it.
func (w *walker) reportElem(kind Kind, idx int32, va, vb int32, parent ruleSet) {
	seg := pathSeg{idx: idx, isIdx: true}
	if ign, _, _ := w.flags(w.child(parent, &seg)); ign {
		return
	}
	w.report(kind, seg, true, va, vb, "")
}

// reportMember reports a missing or extra object member (key node k, on side a for
// Missing, b for Extra) unless a rule ignores it.
func (w *walker) reportMember(kind Kind, k int32, parent ruleSet) {
	seg := pathSeg{key: k, inB: kind == Extra}
	if ign, _, _ := w.flags(w.child(parent, &seg)); ign {
		return
	}
	if kind == Missing {
		w.report(kind, seg, true, k+1, -1, "")
	} else {
		w.report(kind, seg, true, -1, k+1, "")
	}
}

func (w *walker) stepObject(fi int) {
	f := &w.stack[fi]
	endA, endB := w.a.nodes[f.va].next, w.b.nodes[f.vb].next
	for f.ca < endA && f.cb < endB {
		ka, kb := f.ca, f.cb
		if w.keysDiffer(ka, kb) {
			break
		}
		va, vb := ka+1, kb+1
		mis := w.mismatch(f, va, vb)
		if mis < 0 {
			f.ca, f.cb = w.a.nodes[va].next, w.b.nodes[vb].next
			continue
		}
		if !f.dupChecked {
			f.dupChecked = true
			f.noDups = !w.hasDuplicateKeys(w.a, f.va) && !w.hasDuplicateKeys(w.b, f.vb)
			if !f.noDups {
				break // lookup mode applies last-wins
			}
		}
		f.ca, f.cb = w.a.nodes[va].next, w.b.nodes[vb].next
		w.visit(va, vb, pathSeg{key: ka}, true, f.rules, f.shape, mis)
		return
	}
	if f.ca >= endA && f.cb >= endB {
		w.pop()
		return
	}
	w.beginLookup(fi)
}

// hasDuplicateKeys reports whether the object at o names a member twice.
func (w *walker) hasDuplicateKeys(t *tape, o int32) bool {
	end := t.nodes[o].next
	if countMembers(t, o+1, end) <= smallObject {
		offN, offK := len(w.names), len(w.keys)
		for k := o + 1; k < end; k = t.nodes[k+1].next {
			w.names = append(w.names, w.nameKey(t, k))
			w.keys = append(w.keys, k)
		}
		ns, ks := w.names[offN:], w.keys[offK:]
		dup := false
		for i := 0; i < len(ns) && !dup; i++ {
			for j := i + 1; j < len(ns) && !dup; j++ {
				dup = w.sameName(ns[i], t, ks[i], ns[j], t, ks[j])
			}
		}
		w.names, w.keys = w.names[:offN], w.keys[:offK]
		return dup
	}
	seen := make(map[string]bool)
	for k := o + 1; k < end; k = t.nodes[k+1].next {
		s := keyText(t.raw(k), t.nodes[k].esc)
		if seen[s] {
			return true
		}
		seen[s] = true
	}
	return false
}

// sameKey compares key nodes of any two tapes by decoded text.
func (w *walker) sameKey(ta *tape, ka int32, tb *tape, kb int32) bool {
	return w.stringsEqual(ta.raw(ka), ta.nodes[ka].esc, tb.raw(kb), tb.nodes[kb].esc)
}

// beginLookup switches an object frame to matching its remaining members by name.
// Unless the object is known to name no member twice on either side, matching starts
// over from the first members: a member of the same-order prefix may be shadowed by a
// later one, and JSON.parse keeps the later one. Starting over reports nothing twice,
// since the prefix was skipped only where its values are identical.
func (w *walker) beginLookup(fi int) {
	f := &w.stack[fi]
	f.mode = modeLookup
	if !f.dupChecked || !f.noDups {
		f.ca, f.cb = f.va+1, f.vb+1
	}
	endA, endB := w.a.nodes[f.va].next, w.b.nodes[f.vb].next
	t := w.template(f.ca, endA, f.cb, endB)
	off := len(w.keys)
	na, sameA := w.appendMembers(w.a, f.ca, endA, t, t.names[:t.na])
	nb, sameB := 0, false
	if na <= smallObject {
		nb, sameB = w.appendMembers(w.b, f.cb, endB, t, t.names[t.na:])
	}
	if na <= smallObject && nb <= smallObject {
		f.hoff, f.hna, f.hnb = int32(off), int32(na), int32(nb)
		if sameA && sameB {
			w.plan = append(w.plan, t.plan...)
			f.hnx = t.nx
		} else {
			w.plan = append(w.plan, w.keys[off:]...) // sized in step with keys; filled there
			f.hnx = w.planLookup(off, na, nb, t)
		}
		return
	}
	w.keys = w.keys[:off]
	bl := &bigLookup{lastA: make(map[string]int32), inB: make(map[string]int)}
	for k := f.ca; k < endA; k = w.a.nodes[k+1].next {
		bl.lastA[keyText(w.a.raw(k), w.a.nodes[k].esc)] = k
	}
	for k := f.cb; k < endB; k = w.b.nodes[k+1].next {
		bl.inB[keyText(w.b.raw(k), w.b.nodes[k].esc)] = len(bl.membB)
		bl.membB = append(bl.membB, k)
	}
	bl.matched = make([]bool, len(bl.membB))
	f.big = bl
}

// appendMembers appends to w.keys the key nodes of t's members from k to end, up to
// one more than smallObject, and returns how many it appended and whether their raw
// names are tn, the names of template tm on t's side.
func (w *walker) appendMembers(t *tape, k, end int32, tm *template, tn []rawName) (n int, same bool) {
	ks := w.keys
	same = tm.gen == w.gen
	nodes, data := t.nodes, t.data
	for ; k < end && n <= smallObject; k = nodes[k+1].next {
		ks = append(ks, k)
		if same {
			if n >= len(tn) {
				same = false
			} else if rn, nd := &tn[n], &nodes[k]; nd.end-nd.start != rn.n {
				same = false
			} else if s := int(nd.start); rn.mlo != 0 && s+16 <= len(data) {
				p := data[s : s+16]
				same = binary.LittleEndian.Uint64(p)&rn.mlo == rn.lo && binary.LittleEndian.Uint64(p[8:])&rn.mhi == rn.hi
			} else {
				// the template's names are of the same tape, a's or b's
				same = string(data[nd.start:nd.end]) == string(t.raw(rn.k))
			}
		}
		n++
	}
	w.keys = ks
	return n, same && n == len(tn)
}

func countMembers(t *tape, k, end int32) int {
	n := 0
	for ; k < end; k = t.nodes[k+1].next {
		n++
	}
	return n
}

// stepLookup matches the remaining members of an object frame by name: a's members in
// a's order (each against the last member of b with its name, or reported missing),
// then b's members that matched nothing, in b's order.
func (w *walker) stepLookup(fi int) {
	f := &w.stack[fi]
	if f.big != nil {
		w.stepBigLookup(f)
		return
	}
	lo := f.hoff
	ks, plan := w.keys[lo:lo+f.hna+f.hnb], w.plan[lo:lo+f.hna+f.hnb]
	kb, pb := ks[f.hna:], plan[f.hna:]
	for f.apos < f.hna {
		i := f.apos
		f.apos++
		p := plan[i]
		if p == planShadowed {
			continue
		}
		ka := ks[i]
		if p == planMissing {
			w.reportMember(Missing, ka, f.rules)
			return
		}
		va, vb := ka+1, kb[p]+1
		na, nb := &w.a.nodes[va], &w.b.nodes[vb]
		if sameShortBytes(w.a.data, na.start, na.end, w.b.data, nb.start, nb.end) {
			continue
		}
		ra, rb := w.a.data[na.start:na.end], w.b.data[nb.start:nb.end]
		if string(ra) == string(rb) {
			continue
		}
		rel := firstMismatch(ra, rb)
		w.visit(va, vb, pathSeg{key: ka}, true, f.rules, f.shape, na.start+rel)
		return
	}
	// Members of b that matched nothing in a; of several members with one name only
	// the last counts.
	for f.hnx > 0 && f.xpos < f.hnb && !w.done() {
		j := f.xpos
		f.xpos++
		if pb[j] != planExtra {
			continue
		}
		if f.envelopeOK && w.isEnvelopeMember(kb[j]) {
			continue
		}
		w.reportMember(Extra, kb[j], f.rules)
		return
	}
	w.keys, w.plan = w.keys[:lo], w.plan[:lo]
	w.pop()
}

// stepBigLookup is stepLookup for objects of more than smallObject members.
func (w *walker) stepBigLookup(f *frame) {
	endA, endB := w.a.nodes[f.va].next, w.b.nodes[f.vb].next
	for !f.extras && f.ca < endA {
		ka := f.ca
		f.ca = w.a.nodes[ka+1].next
		name := keyText(w.a.raw(ka), w.a.nodes[ka].esc)
		if f.big.lastA[name] != ka {
			continue
		}
		var kb int32 = -1
		if pos, ok := f.big.inB[name]; ok {
			kb = f.big.membB[pos]
			f.big.matched[pos] = true
		}
		if kb < 0 {
			w.reportMember(Missing, ka, f.rules)
			return
		}
		mis := w.mismatch(f, ka+1, kb+1)
		if mis < 0 {
			continue
		}
		w.visit(ka+1, kb+1, pathSeg{key: ka}, true, f.rules, f.shape, mis)
		return
	}
	f.extras = true
	for k := f.cb; k < endB && !w.done(); k = w.b.nodes[k+1].next {
		f.cb = w.b.nodes[k+1].next
		if p := w.bigPos(f, k); p < 0 || f.big.matched[p] {
			continue
		}
		if f.envelopeOK && w.isEnvelopeMember(k) {
			continue
		}
		w.reportMember(Extra, k, f.rules)
		return
	}
	w.pop()
}

// Plan entries of a small lookup, in step with w.keys: for each of a's remaining
// members the position among b's remaining members of the one it is compared with, or
// planMissing or planShadowed; for each of b's, planExtra unless it is matched or
// shadowed.
const (
	planMissing  = -1 // a's member: b has no member of that name
	planShadowed = -2 // a's member: a later member of a has the same name
	planExtra    = 0  // b's member: matched nothing and is not shadowed
	planTaken    = 1  // b's member: matched, or shadowed by a later member of b
)

// nameKey identifies a decoded member name. A name of at most 16 bytes is held
// exactly — its bytes as two little-endian words and its length — so equal keys are
// equal names; a longer name holds its hash and its length with longName set, and
// equal keys are confirmed by comparing the names.
type nameKey struct {
	lo, hi uint64
	n      uint32
}

const longName = 1 << 31

// nameKey returns the key of key node k of t.
func (w *walker) nameKey(t *tape, k int32) nameKey {
	raw := t.raw(k)
	s := raw[1 : len(raw)-1]
	if t.nodes[k].esc {
		w.bufA = unquote(w.bufA[:0], raw)
		s = w.bufA
	}
	if len(s) > 16 {
		return nameKey{lo: maphash.Bytes(keySeed, s), n: uint32(len(s)) | longName}
	}
	var buf [16]byte
	copy(buf[:], s)
	return nameKey{lo: binary.LittleEndian.Uint64(buf[:8]), hi: binary.LittleEndian.Uint64(buf[8:]), n: uint32(len(s))}
}

// sameName reports whether two members (keys x and y of key nodes kx of tx and ky of
// ty) have the same decoded name.
func (w *walker) sameName(x nameKey, tx *tape, kx int32, y nameKey, ty *tape, ky int32) bool {
	return x == y && (x.n&longName == 0 || w.sameKey(tx, kx, ty, ky))
}

// shadowed reports whether member i of t (key nodes ks, names kn, in order) is
// followed by one of the same name: JSON.parse keeps the later one.
func (w *walker) shadowed(t *tape, ks []int32, kn []nameKey, i int) bool {
	for j := i + 1; j < len(ks); j++ {
		if w.sameName(kn[i], t, ks[i], kn[j], t, ks[j]) {
			return true
		}
	}
	return false
}

// planLookup fills w.plan[off:off+na+nb] for the members w.keys[off:off+na] of a and
// w.keys[off+na:off+na+nb] of b by comparing their decoded names, makes it template
// t, and returns how many of b's members are extra.
func (w *walker) planLookup(off, na, nb int, t *template) int32 {
	ks, plan := w.keys[off:off+na+nb], w.plan[off:off+na+nb]
	// a's and b's names
	kn := w.names[:0]
	for i, k := range ks {
		tp := w.a
		if i >= na {
			tp = w.b
		}
		kn = append(kn, w.nameKey(tp, k))
	}
	w.names = kn
	ka, kb := ks[:na], ks[na:]
	nka, nkb := kn[:na], kn[na:]
	pb := plan[na:]
	for j := range kb {
		pb[j] = planExtra
		if w.shadowed(w.b, kb, nkb, j) {
			pb[j] = planTaken
		}
	}
	for i := range ka {
		plan[i] = planMissing
		if w.shadowed(w.a, ka, nka, i) {
			plan[i] = planShadowed
			continue
		}
		for j := len(kb) - 1; j >= 0; j-- { // the last occurrence wins
			if w.sameName(nka[i], w.a, ka[i], nkb[j], w.b, kb[j]) {
				plan[i] = int32(j)
				pb[j] = planTaken
				break
			}
		}
	}
	var nx int32
	for _, p := range pb {
		if p == planExtra {
			nx++
		}
	}
	w.setTemplate(t, ks, plan, na, nb, nx)
	return nx
}

// Sibling templates. In a list page every element is an object with the same names in
// the same order on each side, so the plan found for one element holds for the next:
// a template keeps the raw names a plan was made for and the plan. A lookup whose raw
// names are byte for byte those of a template — same members, same order, on both
// sides — has the same duplicates and the same matching, so it copies the plan instead
// of comparing names. Templates are found by the first names on each side, and belong
// to one comparison (gen): they point into its documents.
const numTemplates = 16

type template struct {
	gen    uint64
	na, nb int32
	nx     int32     // how many of b's members are extra
	names  []rawName // a's then b's
	plan   []int32
}

// rawName is a member name as it appears in the document, quotes included: its length
// and key node, and when it is at most 16 bytes long its bytes as two little-endian
// words (lo, hi) with the masks that keep them from 16 bytes loaded at its start.
type rawName struct {
	lo, hi, mlo, mhi uint64 // mlo == 0: compare the bytes of k
	n, k             int32
}

// template returns the template slot for a lookup of a's members from ka to endA and
// b's from kb to endB.
func (w *walker) template(ka, endA, kb, endB int32) *template {
	if w.tmpl == nil {
		w.tmpl = new([numTemplates]template)
	}
	var h uint32
	if ka < endA {
		h = w.a.nameDigest(ka)
	}
	if kb < endB {
		h = h*31 + w.b.nameDigest(kb)
	}
	return &w.tmpl[(h*0x9E3779B1)>>(32-4)]
}

// nameDigest is a cheap digest of key node k's raw name: its length and first bytes.
func (t *tape) nameDigest(k int32) uint32 {
	n := &t.nodes[k]
	h := uint32(n.end - n.start)
	if n.end-n.start >= 3 {
		h = h<<16 ^ uint32(t.data[n.start+1]) ^ uint32(t.data[n.start+2])<<8
	}
	return h
}

// rawNameOf returns the raw name of key node k of t.
func (t *tape) rawNameOf(k int32) rawName {
	n := &t.nodes[k]
	rn := rawName{n: n.end - n.start, k: k}
	if rn.n <= 16 {
		var buf [16]byte
		copy(buf[:], t.data[n.start:n.end])
		rn.mlo, rn.mhi = ^uint64(0), ^uint64(0)
		if rn.n < 8 {
			rn.mlo, rn.mhi = 1<<(8*rn.n)-1, 0
		} else {
			rn.mhi = 1<<(8*(rn.n-8)) - 1 // rn.n == 16: the shift yields 0, the mask all ones
		}
		rn.lo = binary.LittleEndian.Uint64(buf[:8])
		rn.hi = binary.LittleEndian.Uint64(buf[8:])
	}
	return rn
}

// setTemplate makes plan, for the members ks, the template t.
func (w *walker) setTemplate(t *template, ks []int32, plan []int32, na, nb int, nx int32) {
	t.gen, t.na, t.nb, t.nx = w.gen, int32(na), int32(nb), nx
	t.names = t.names[:0]
	for i, k := range ks {
		tp := w.a
		if i >= na {
			tp = w.b
		}
		t.names = append(t.names, tp.rawNameOf(k))
	}
	t.plan = append(t.plan[:0], plan...)
}

// bigPos is the position of b's key node k among the indexed members, or -1 when a
// later member shadows it.
func (w *walker) bigPos(f *frame, k int32) int {
	pos := f.big.inB[keyText(w.b.raw(k), w.b.nodes[k].esc)]
	if f.big.membB[pos] != k {
		return -1
	}
	return pos
}

// isEnvelopeMember reports whether b's root member k is Fastify's error envelope:
// "statusCode" holding the status, "error" holding its reason phrase, or "code"
// holding an error code (FST_ERR_VALIDATION) beside such a "statusCode".
func (w *walker) isEnvelopeMember(k int32) bool {
	name := w.b.raw(k)
	v := k + 1
	switch string(name) {
	case `"statusCode"`:
		return w.isStatusCode(v)
	case `"error"`:
		if w.b.nodes[v].kind != jString {
			return false
		}
		return isStatusText(w.envelope, string(unquote(nil, w.b.raw(v))))
	case `"code"`:
		if w.b.nodes[v].kind != jString || !isErrorCode(w.b.raw(v)) {
			return false
		}
		for m := int32(1); m < w.b.nodes[0].next; m = w.b.nodes[m+1].next {
			if string(w.b.raw(m)) == `"statusCode"` && w.isStatusCode(m+1) {
				return true
			}
		}
	}
	return false
}

// isStatusCode reports whether b's node v is the number of the candidate's status.
func (w *walker) isStatusCode(v int32) bool {
	return w.b.nodes[v].kind == jNumber && numbersEqual(w.b.raw(v), strconv.AppendInt(nil, int64(w.envelope), 10))
}

// isErrorCode reports whether the raw JSON string s is an error code as Fastify and
// Node write them: upper-case letters, digits and underscores (FST_ERR_VALIDATION,
// ERR_INVALID_ARG_TYPE).
func isErrorCode(s []byte) bool {
	s = s[1 : len(s)-1]
	if len(s) == 0 || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for _, c := range s {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}

// ---- unordered arrays ----

// pushUnordered matches the elements of two arrays as multisets: first identical raw
// bytes, then pairwise equality under the rules (bounded by maxProbePairs); what is left
// is compared pair by pair in order, and the surplus reported missing or extra.
func (w *walker) pushUnordered(va, vb int32, seg pathSeg, hasSeg bool, rules ruleSet) {
	var ea, eb []int32
	for e := va + 1; e < w.a.nodes[va].next; e = w.a.nodes[e].next {
		ea = append(ea, e)
	}
	for e := vb + 1; e < w.b.nodes[vb].next; e = w.b.nodes[e].next {
		eb = append(eb, e)
	}
	usedB := make([]bool, len(eb))
	matchedA := make([]bool, len(ea))
	// identical elements
	byRaw := make(map[string][]int, len(eb))
	for j, e := range eb {
		k := string(w.b.raw(e))
		byRaw[k] = append(byRaw[k], j)
	}
	for i, e := range ea {
		if js := byRaw[string(w.a.raw(e))]; len(js) > 0 {
			usedB[js[0]] = true
			matchedA[i] = true
			byRaw[string(w.a.raw(e))] = js[1:]
		}
	}
	var leftA, leftB []int
	for i := range ea {
		if !matchedA[i] {
			leftA = append(leftA, i)
		}
	}
	for j := range eb {
		if !usedB[j] {
			leftB = append(leftB, j)
		}
	}
	// equal under the rules
	if len(leftA)*len(leftB) <= maxProbePairs {
		var restA []int
		for _, i := range leftA {
			seg := pathSeg{idx: int32(i), isIdx: true}
			elemRules := w.child(rules, &seg)
			found := false
			for _, j := range leftB {
				if usedB[j] {
					continue
				}
				if w.probeEqual(ea[i], eb[j], elemRules) {
					usedB[j] = true
					found = true
					break
				}
			}
			if !found {
				restA = append(restA, i)
			}
		}
		leftA = restA
		var restB []int
		for _, j := range leftB {
			if !usedB[j] {
				restB = append(restB, j)
			}
		}
		leftB = restB
	}
	un := &unorderedState{}
	n := min(len(leftA), len(leftB))
	for k := 0; k < n; k++ {
		un.pairs = append(un.pairs, [2]int32{ea[leftA[k]], eb[leftB[k]]})
		un.pairIdx = append(un.pairIdx, leftA[k])
	}
	for _, i := range leftA[n:] {
		un.missing = append(un.missing, ea[i])
		un.missIdx = append(un.missIdx, i)
	}
	for _, j := range leftB[n:] {
		un.extra = append(un.extra, eb[j])
		un.extraIdx = append(un.extraIdx, j)
	}
	if len(un.pairs)+len(un.missing)+len(un.extra) == 0 {
		return
	}
	w.stack = append(w.stack, frame{va: va, vb: vb, seg: seg, hasSeg: hasSeg, rules: rules, mode: modeUnordered, un: un})
}

// probeEqual reports whether two elements are equal under the rules, with a walker of
// its own. Probes nest only as deep as unordered rules nest, which the rules bound.
func (w *walker) probeEqual(ea, eb int32, rules ruleSet) bool {
	p := getWalker(w.a, w.b, w.r)
	p.probe = true
	var set ruleSet
	if rules.n > 0 {
		set.off = int32(len(p.arena))
		p.arena = append(p.arena, w.arena[rules.off:rules.off+rules.n]...)
		set.n = rules.n
	}
	// The element's own rules are already in set: visit it as a root.
	p.visit(ea, eb, pathSeg{}, false, set, false, -1)
	p.run()
	equal := !p.found
	putWalker(p)
	return equal
}

func (w *walker) stepUnordered(fi int) {
	f := &w.stack[fi]
	un := f.un
	if un.pos < len(un.pairs) {
		k := un.pos
		un.pos++
		w.visit(un.pairs[k][0], un.pairs[k][1], pathSeg{idx: int32(un.pairIdx[k]), isIdx: true}, true, f.rules, false, -1)
		return
	}
	for k := un.pos - len(un.pairs); k < len(un.missing) && !w.done(); k++ {
		un.pos++
		w.reportElem(Missing, int32(un.missIdx[k]), un.missing[k], -1, f.rules)
	}
	for k := un.pos - len(un.pairs) - len(un.missing); k < len(un.extra) && !w.done(); k++ {
		un.pos++
		w.reportElem(Extra, int32(un.extraIdx[k]), -1, un.extra[k], f.rules)
	}
	if !w.done() {
		w.pop()
	}
}

// ---- reporting ----

// report records a difference at the innermost frame's path plus seg. va or vb is -1
// for an absent side.
func (w *walker) report(kind Kind, seg pathSeg, hasSeg bool, va, vb int32, note string) {
	w.found = true
	if w.probe {
		return
	}
	if len(w.out)+w.omitted >= w.max {
		w.stopped = true
		return
	}
	if !w.sized {
		w.left, w.sized = w.r.maxResult, true
		for i := range w.out {
			w.left -= differenceSize(&w.out[i])
		}
	}
	// Differences are listed until one does not fit; the rest are only counted, so a
	// deep or long path is rendered at most once past the bound.
	if w.left > 0 {
		if path, pattern, secret, ok := w.render(seg, hasSeg, w.left); ok {
			d := Difference{Path: path, Pattern: pattern, Kind: kind, Note: note}
			if va >= 0 {
				d.Primary = renderJSON(w.a.raw(va), secret, w.r.redactor)
			}
			if vb >= 0 {
				d.Candidate = renderJSON(w.b.raw(vb), secret, w.r.redactor)
			}
			if n := differenceSize(&d); n <= w.left {
				w.left -= n
				w.out = append(w.out, d)
				return
			}
		}
		w.left = 0
	}
	w.omitted++
}

// render builds the exact path and pattern of seg under the open frames, and whether
// a member name on the path is secret (IsSecretKey): everything under one is; ok
// is false, and nothing is built, when the two are longer than limit bytes together.
func (w *walker) render(seg pathSeg, hasSeg bool, limit int) (path, pattern string, secret, ok bool) {
	isSecret := func(s *pathSeg) bool {
		if s.isIdx {
			return false
		}
		w.bufA = w.appendSegKey(w.bufA[:0], s)
		return isSecretName(w.bufA)
	}
	secret = hasSeg && isSecret(&seg)
	for i := len(w.stack) - 1; i >= 0 && !secret; i-- {
		secret = w.stack[i].hasSeg && isSecret(&w.stack[i].seg)
	}
	for _, pattern := range []bool{false, true} {
		w.path = append(w.path[:0], "body"...)
		for i := range w.stack {
			if w.stack[i].hasSeg {
				w.path = w.appendSeg(w.path, &w.stack[i].seg, pattern)
			}
		}
		if hasSeg {
			w.path = w.appendSeg(w.path, &seg, pattern)
		}
		if len(path)+len(w.path) > limit {
			return "", "", false, false
		}
		if pattern {
			return path, string(w.path), secret, true
		}
		path = string(w.path)
	}
	panic("unreachable")
}

// appendSeg renders one step in gjson syntax: the key unescaped from JSON and escaped
// the gjson way (appendPathKey), or the index (or "#" in a pattern).
func (w *walker) appendSeg(dst []byte, s *pathSeg, pattern bool) []byte {
	dst = append(dst, '.')
	if s.isIdx {
		if pattern {
			return append(dst, '#')
		}
		return strconv.AppendInt(dst, int64(s.idx), 10)
	}
	w.bufB = w.appendSegKey(w.bufB[:0], s)
	return appendPathKey(dst, w.bufB)
}

// appendSegKey appends the unescaped name of a key step.
func (w *walker) appendSegKey(dst []byte, s *pathSeg) []byte {
	t := w.a
	if s.inB {
		t = w.b
	}
	return appendKey(dst, t.raw(s.key), t.nodes[s.key].esc)
}
