package diff

import (
	"bytes"
	"hash/maphash"
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
	la, lb     int32  // first remaining member of a and b when lookup began
	extras     bool   // a is done; reporting b's unmatched members
	matched    uint64 // small lookups: b's remaining members matched, by position
	xpos       int32  // small lookups: position of cb among b's remaining members
	apos       int32  // small lookups: position of ca among a's remaining members
	hoff       int32  // small lookups: where the remaining members' names start in w.hashes
	hna, hnb   int32  // small lookups: how many remaining members a and b have
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
	max     int
	stopped bool

	stack      []frame
	arena      []*ruleNode
	path       []byte
	bufA, bufB []byte

	// Hashes of decoded member names and their key nodes, in step: each small lookup
	// frame owns hashes[hoff:hoff+hna+hnb], a's remaining members then b's. Frames
	// are a stack, so a frame gives its part back when it is popped.
	hashes []uint64
	keys   []int32
}

// keySeed hashes member names; equal hashes are confirmed by comparing the names.
var keySeed = maphash.MakeSeed()

var walkerPool = sync.Pool{New: func() any { return new(walker) }}

func getWalker(a, b *tape, r *Rules) *walker {
	w := walkerPool.Get().(*walker)
	w.a, w.b, w.r = a, b, r
	return w
}

func putWalker(w *walker) {
	if cap(w.stack) > 1<<12 || cap(w.arena) > 1<<12 || cap(w.hashes) > 1<<14 {
		return
	}
	*w = walker{stack: w.stack[:0], arena: w.arena[:0], path: w.path[:0], bufA: w.bufA[:0], bufB: w.bufB[:0],
		hashes: w.hashes[:0], keys: w.keys[:0]}
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

// compare walks the two values and records their differences.
func (w *walker) compare(va, vb int32, rules ruleSet, shape bool) {
	w.visit(va, vb, pathSeg{}, false, rules, shape, -1)
	w.run()
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
		w.stack = append(w.stack, frame{va: va, vb: vb, ca: va + 1, cb: vb + 1, seg: seg, hasSeg: hasSeg,
			rules: rules, shape: shape, mode: modeObject, mis: mis, delta: nb.start - na.start,
			envelopeOK: !hasSeg && w.envelope != 0 && !shape})
		return
	case jArray:
		if unordered && !shape {
			w.pushUnordered(va, vb, seg, hasSeg, rules)
			return
		}
		w.stack = append(w.stack, frame{va: va, vb: vb, ca: va + 1, cb: vb + 1, seg: seg, hasSeg: hasSeg,
			rules: rules, shape: shape, mode: modeArray, mis: mis, delta: nb.start - na.start})
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

func (w *walker) keysEqual(ka, kb int32) bool {
	na, nb := &w.a.nodes[ka], &w.b.nodes[kb]
	return w.stringsEqual(w.a.raw(ka), na.esc, w.b.raw(kb), nb.esc)
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
		if !bytes.Equal(w.a.raw(ka), w.b.raw(kb)) && !w.keysEqual(ka, kb) {
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
		off := len(w.hashes)
		w.appendKeyHashes(t, o+1, end)
		hs, ks := w.hashes[off:], w.keys[off:]
		dup := false
		for i := 0; i < len(hs) && !dup; i++ {
			dup = w.shadowedAt(t, hs, ks, i)
		}
		w.hashes, w.keys = w.hashes[:off], w.keys[:off]
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
func (w *walker) beginLookup(fi int) {
	f := &w.stack[fi]
	f.mode = modeLookup
	f.la, f.lb = f.ca, f.cb
	endA, endB := w.a.nodes[f.va].next, w.b.nodes[f.vb].next
	na, nb := countMembers(w.a, f.ca, endA), countMembers(w.b, f.cb, endB)
	if na <= smallObject && nb <= smallObject {
		lo := len(w.hashes)
		f.hoff, f.hna, f.hnb = int32(lo), int32(na), int32(nb)
		w.appendKeyHashes(w.a, f.ca, endA)
		w.appendKeyHashes(w.b, f.cb, endB)
		if !f.dupChecked {
			f.dupChecked = true
			f.noDups = !w.dupsFrom(w.a, f.va, f.ca, lo, lo+na) && !w.dupsFrom(w.b, f.vb, f.cb, lo+na, lo+na+nb)
		}
		return
	}
	bl := &bigLookup{lastA: make(map[string]int32, na), inB: make(map[string]int, nb)}
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

// dupsFrom reports whether the object at o names a member twice, reusing the name
// hashes w.hashes[i:j] of its members from k on when k is its first member.
func (w *walker) dupsFrom(t *tape, o, k int32, i, j int) bool {
	if k != o+1 {
		return w.hasDuplicateKeys(t, o)
	}
	hs, ks := w.hashes[i:j], w.keys[i:j]
	for n := range hs {
		if w.shadowedAt(t, hs, ks, n) {
			return true
		}
	}
	return false
}

func countMembers(t *tape, k, end int32) int {
	n := 0
	for ; k < end; k = t.nodes[k+1].next {
		n++
	}
	return n
}

// keyHash hashes key node k of t by its decoded name.
func (w *walker) keyHash(t *tape, k int32) uint64 {
	raw := t.raw(k)
	if !t.nodes[k].esc {
		return maphash.Bytes(keySeed, raw[1:len(raw)-1])
	}
	w.bufA = unquote(w.bufA[:0], raw)
	return maphash.Bytes(keySeed, w.bufA)
}

// appendKeyHashes appends the name hashes and key nodes of t's members from k to end.
func (w *walker) appendKeyHashes(t *tape, k, end int32) {
	for ; k < end; k = t.nodes[k+1].next {
		w.hashes = append(w.hashes, w.keyHash(t, k))
		w.keys = append(w.keys, k)
	}
}

// shadowedAt reports whether member i of hs/ks (name hashes and key nodes of t, in
// order) is followed by a member of the same name (the later one is what JSON.parse
// keeps).
func (w *walker) shadowedAt(t *tape, hs []uint64, ks []int32, i int) bool {
	h := hs[i]
	for j := i + 1; j < len(hs); j++ {
		if hs[j] == h && w.sameKey(t, ks[i], t, ks[j]) {
			return true
		}
	}
	return false
}

func (w *walker) stepLookup(fi int) {
	f := &w.stack[fi]
	endA, endB := w.a.nodes[f.va].next, w.b.nodes[f.vb].next
	for !f.extras && f.ca < endA {
		ka := f.ca
		f.ca = w.a.nodes[ka+1].next
		var kb int32 = -1
		if f.big != nil {
			name := keyText(w.a.raw(ka), w.a.nodes[ka].esc)
			if f.big.lastA[name] != ka {
				continue
			}
			if pos, ok := f.big.inB[name]; ok {
				kb = f.big.membB[pos]
				f.big.matched[pos] = true
			}
		} else {
			lo := f.hoff
			hs, ks := w.hashes[lo:lo+f.hna], w.keys[lo:lo+f.hna]
			hb, kbs := w.hashes[lo+f.hna:lo+f.hna+f.hnb], w.keys[lo+f.hna:lo+f.hna+f.hnb]
			ia := int(f.apos)
			f.apos++
			if !f.noDups && w.shadowedAt(w.a, hs, ks, ia) {
				continue
			}
			h := hs[ia]
			for pos := len(hb) - 1; pos >= 0; pos-- { // the last occurrence wins
				if hb[pos] == h && w.sameKey(w.a, ka, w.b, kbs[pos]) {
					kb = kbs[pos]
					f.matched |= 1 << pos
					break
				}
			}
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
	// Members of b that matched nothing in a; of several members with one name only
	// the last counts.
	for k := f.cb; k < endB && !w.done(); k = w.b.nodes[k+1].next {
		pos := f.xpos
		f.cb, f.xpos = w.b.nodes[k+1].next, f.xpos+1
		if f.big != nil {
			p := w.bigPos(f, k)
			if p < 0 || f.big.matched[p] {
				continue
			}
		} else if f.matched&(1<<pos) != 0 ||
			(!f.noDups && w.shadowedAt(w.b, w.hashes[f.hoff+f.hna:f.hoff+f.hna+f.hnb], w.keys[f.hoff+f.hna:f.hoff+f.hna+f.hnb], int(pos))) {
			continue
		}
		if f.envelopeOK && w.isEnvelopeMember(k) {
			continue
		}
		w.reportMember(Extra, k, f.rules)
		return
	}
	if f.big == nil {
		w.hashes, w.keys = w.hashes[:f.hoff], w.keys[:f.hoff]
	}
	w.pop()
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
// "statusCode" holding the status, or "error" holding its reason phrase.
func (w *walker) isEnvelopeMember(k int32) bool {
	name := w.b.raw(k)
	v := k + 1
	switch string(name) {
	case `"statusCode"`:
		return w.b.nodes[v].kind == jNumber && numbersEqual(w.b.raw(v), strconv.AppendInt(nil, int64(w.envelope), 10))
	case `"error"`:
		if w.b.nodes[v].kind != jString {
			return false
		}
		return isStatusText(w.envelope, string(unquote(nil, w.b.raw(v))))
	}
	return false
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
	if len(w.out) >= w.max {
		w.stopped = true
		return
	}
	path, pattern, secret := w.render(seg, hasSeg)
	d := Difference{Path: path, Pattern: pattern, Kind: kind, Note: note}
	if va >= 0 {
		d.Primary = renderJSON(w.a.raw(va), secret)
	}
	if vb >= 0 {
		d.Candidate = renderJSON(w.b.raw(vb), secret)
	}
	w.out = append(w.out, d)
}

// render builds the exact path and pattern of seg under the open frames, and whether
// the nearest member name on the path looks secret.
func (w *walker) render(seg pathSeg, hasSeg bool) (path, pattern string, secret bool) {
	nearest := func(s *pathSeg) bool {
		w.bufA = w.appendSegKey(w.bufA[:0], s)
		secret = hasSecretWord(w.bufA)
		return true
	}
	if !hasSeg || seg.isIdx || !nearest(&seg) {
		for i := len(w.stack) - 1; i >= 0; i-- {
			if f := &w.stack[i]; f.hasSeg && !f.seg.isIdx && nearest(&f.seg) {
				break
			}
		}
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
		if pattern {
			return path, string(w.path), secret
		}
		path = string(w.path)
	}
	panic("unreachable")
}

// appendSeg renders one step in gjson syntax: the key unescaped from JSON and escaped
// the gjson way, or the index (or "#" in a pattern).
func (w *walker) appendSeg(dst []byte, s *pathSeg, pattern bool) []byte {
	dst = append(dst, '.')
	if s.isIdx {
		if pattern {
			return append(dst, '#')
		}
		return strconv.AppendInt(dst, int64(s.idx), 10)
	}
	w.bufB = w.appendSegKey(w.bufB[:0], s)
	return appendGjsonEscaped(dst, w.bufB)
}

// appendSegKey appends the unescaped name of a key step.
func (w *walker) appendSegKey(dst []byte, s *pathSeg) []byte {
	t := w.a
	if s.inB {
		t = w.b
	}
	return appendKey(dst, t.raw(s.key), t.nodes[s.key].esc)
}
