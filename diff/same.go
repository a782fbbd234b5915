package diff

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// Most candidates that differ from the primary only in the order of members differ in
// nothing else: every value is, byte for byte, the value of the same name (objects) or
// index (arrays) in the primary. sameUpToOrder checks that directly against the
// primary's tape, without building a tape of the candidate: where it says yes, the
// candidate is valid JSON (each of its bytes is whitespace, the punctuation the
// primary's structure calls for, or part of a span identical to one of the primary's
// valid tokens) and no rules can tell the two apart, so the comparison is over. Where
// it says no, nothing is known and the candidate is parsed against the primary as
// before (guide.go), which finds its errors and what it shares with the primary.
//
// Equal here means: objects with the same number of members, each of the candidate's
// matched to one of the primary's of the same raw name, no name escaped (one name
// could be another's in another spelling) and no name met twice in an object (JSON.parse
// keeps the last of two, so their order would matter); arrays with the same elements in
// the same order; scalars with the same bytes (a number not continued after them).

// sameFrame is an open container of the candidate.
type sameFrame struct {
	a    int32 // the counterpart container in the primary's tape
	kind jkind
	// arrays: the counterpart's element for the next element
	cur int32
	// objects: the counterpart's names are s.keys[koff:koff+kn]; while a member's
	// value is open, n members were matched so far
	koff, kn, n int32
	perm        []int32 // s.perms's entry for the depth, read and written
	// Where the container's bytes first differ from its counterpart's, when known:
	// mis is that offset in the candidate, -1 when unknown, and delta how far the
	// container starts after its counterpart.
	mis, delta int32
}

// sameKey is a member name of the primary: its key node and raw bytes
// (data[start:start+n]), and whether a member of the candidate was matched to it.
type sameKey struct {
	k, start, n int32
	// the member's bytes, name to scalar value, data[start:start+span] when the
	// value follows the name's colon without whitespace; else 0
	span int32
	h    uint8 // a hash of the name: its length and first eight bytes, or all of it past 16
	num  bool  // the value is a number
	used bool
}

// sameScratch is sameUpToOrder's reusable state, kept with a pooled tape.
type sameScratch struct {
	frames []sameFrame
	keys   []sameKey
	// perms[d][h]: see guide.perms; the positions matched in the last object at depth
	// d whose counterpart has digest h, the guess for its next sibling.
	perms memberOrders
}

// nameSeed keys the hash of member names.
var nameSeed = rand.Uint64() | 1

// nameHash hashes the raw name d[p:p+n] of more than 16 bytes.
func nameHash(d []byte, p, n int) uint8 {
	w0, w1, w2 := binary.LittleEndian.Uint64(d[p:]), binary.LittleEndian.Uint64(d[p+8:]), binary.LittleEndian.Uint64(d[p+n-8:])
	return uint8((w0 ^ bits.RotateLeft64(w1, 29) ^ bits.RotateLeft64(w2, 47) ^ uint64(n)) * nameSeed >> 56)
}

// release lets go of scratch grown past what a pooled tape should keep.
func (s *sameScratch) release() {
	if cap(s.keys) > maxPooledNodes/4 || cap(s.frames) > maxPooledNodes/4 {
		s.keys, s.frames = nil, nil
	}
	s.perms.release()
}

// sameUpToOrder reports whether b is a's document with the members of objects in
// another order at most, as defined above; false says nothing, not even that b is
// not valid JSON. a is a valid document's tape.
func (a *tape) sameUpToOrder(b []byte, s *sameScratch) bool {
	if len(b) > 1<<31-1 || len(a.nodes) == 0 {
		return false
	}
	s.frames, s.keys = s.frames[:0], s.keys[:0]
	ad, an := a.data, a.nodes
	// Like the guide, the work is linear as long as each byte is compared about
	// once and each name looked for among a few; past this much, the check gives up.
	budget := 2*len(b) + 4096
	var (
		i    int
		cand int32 // the counterpart of the value at b[i]
		top  *sameFrame
		// the innermost open object's names, positions and state (see sameFrame)
		keys []sameKey
		perm []int32
		n    int32
	)
value:
	if i >= len(b) || b[i] <= ' ' {
		if i = skipWS(b, i); i >= len(b) {
			return false
		}
	}
	{
		v := &an[cand]
		vn := int(v.end - v.start)
		same, mis := false, int32(-1)
		if top != nil && top.mis >= 0 && int32(i)-v.start == top.delta {
			// In step with the counterpart: what the container's compare found holds here.
			switch end := v.end + top.delta; {
			case end < top.mis: // the value and the byte after it are the same
				same = true
			case v.start+top.delta <= top.mis && top.mis < end:
				mis = top.mis
			}
		}
		if !same && mis < 0 {
			if i+vn > len(b) {
				return false
			}
			if v.kind < jObject {
				if vn <= 16 && int(v.start)+16 <= len(ad) && i+16 <= len(b) {
					x, y, m := ad[v.start:v.start+16], b[i:i+16], &wordMasks[vn]
					same = (binary.LittleEndian.Uint64(x)^binary.LittleEndian.Uint64(y))&m[0] == 0 &&
						(binary.LittleEndian.Uint64(x[8:])^binary.LittleEndian.Uint64(y[8:]))&m[1] == 0
				} else {
					same = string(ad[v.start:v.end]) == string(b[i:i+vn])
				}
				// a number is the same only if the byte after it does not continue it
				if !same || v.kind == jNumber && i+vn < len(b) && continuesNumber(b[i+vn]) {
					return false
				}
				i += vn
				goto after
			}
			rel := int32(-2)
			if vn >= 8 {
				// a container in another order most often differs in its first name
				if x := binary.LittleEndian.Uint64(ad[v.start:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
					rel = int32(bits.TrailingZeros64(x) / 8)
				}
			}
			if rel == -2 {
				// most of those are the same throughout
				if rel = -1; string(ad[v.start:v.end]) != string(b[i:i+vn]) {
					rel = firstMismatch(ad[v.start:v.end], b[i:i+vn])
				}
			}
			if rel < 0 {
				budget -= vn
				same = true
			} else {
				budget -= int(rel) + 1
				mis = int32(i) + rel
			}
			if budget < 0 {
				return false
			}
		}
		if same {
			i += vn
			goto after
		}
		// a container that differs: open it
		if top != nil && top.kind == jObject {
			top.n = n
		}
		switch c := b[i]; {
		case c == '{' && v.kind == jObject:
			if top = s.openObject(a, cand, i, mis); top == nil {
				return false
			}
			keys, perm, n = s.keys[top.koff:top.koff+top.kn], top.perm, 0
			i++
			if i < len(b) && b[i] <= ' ' {
				i = skipWS(b, i)
			}
			if i < len(b) && b[i] == '}' {
				goto after // n == top.kn is checked there
			}
			goto key
		case c == '[' && v.kind == jArray:
			s.frames = append(s.frames, sameFrame{a: cand, kind: jArray, cur: cand + 1, mis: mis, delta: int32(i) - v.start})
			top = &s.frames[len(s.frames)-1]
			i++
			if i < len(b) && b[i] <= ' ' {
				i = skipWS(b, i)
			}
			if i < len(b) && b[i] == ']' {
				goto after
			}
			goto elem
		}
		return false
	}

elem:
	cand = top.cur
	if cand >= an[top.a].next {
		return false // an element more
	}
	top.cur = an[cand].next
	goto value

key:
	if i >= len(b) || b[i] != '"' {
		if i = skipWS(b, i); i >= len(b) || b[i] != '"' {
			return false
		}
	}
name: // at a name's opening quote
	{
		// the member a sibling had at this position, else the one at this position;
		// the first of a kind of object in another order finds its names by lookup
		at := n
		if uint32(n) < uint32(len(perm)) {
			if p := perm[n]; p >= 0 {
				at = p
			}
		}
		ok, whole := false, false
		if uint32(at) < uint32(len(keys)) {
			k := &keys[at]
			// the whole member at once: name, colon and scalar value
			if sp, p := int(k.span), int(k.start); sp > 0 && i+sp < len(b) {
				if sp <= 16 && p+16 <= len(ad) && i+16 <= len(b) {
					x, y, m := ad[p:p+16], b[i:i+16], &wordMasks[sp]
					whole = (binary.LittleEndian.Uint64(x)^binary.LittleEndian.Uint64(y))&m[0] == 0 &&
						(binary.LittleEndian.Uint64(x[8:])^binary.LittleEndian.Uint64(y[8:]))&m[1] == 0
				} else if sp <= 32 && p+32 <= len(ad) && i+32 <= len(b) {
					x, y := ad[p:p+32], b[i:i+32]
					whole = binary.LittleEndian.Uint64(x) == binary.LittleEndian.Uint64(y) &&
						binary.LittleEndian.Uint64(x[8:]) == binary.LittleEndian.Uint64(y[8:]) &&
						binary.LittleEndian.Uint64(x[sp-8:]) == binary.LittleEndian.Uint64(y[sp-8:]) &&
						(sp <= 24 || binary.LittleEndian.Uint64(x[16:]) == binary.LittleEndian.Uint64(y[16:]))
				} else {
					whole = string(ad[p:p+sp]) == string(b[i:i+sp])
				}
				// a number is the same only if the byte after it does not continue it
				whole = whole && !(k.num && continuesNumber(b[i+sp]))
				ok = whole
			}
			if !ok {
				kn := int(k.n)
				if kn <= 16 && int(k.start)+16 <= len(ad) && i+16 <= len(b) {
					x, y, m := ad[k.start:k.start+16], b[i:i+16], &wordMasks[kn]
					ok = (binary.LittleEndian.Uint64(x)^binary.LittleEndian.Uint64(y))&m[0] == 0 &&
						(binary.LittleEndian.Uint64(x[8:])^binary.LittleEndian.Uint64(y[8:]))&m[1] == 0
				} else {
					ok = i+kn <= len(b) && string(ad[k.start:k.start+k.n]) == string(b[i:i+kn])
				}
			}
		}
		if !ok {
			if budget -= len(keys); budget < 0 {
				return false
			}
			if at = lookupName(keys, ad, b, i); at < 0 {
				return false
			}
		}
		k := &keys[at]
		if k.used {
			return false // a name met twice
		}
		k.used = true
		if uint32(n) < uint32(len(perm)) {
			perm[n] = at
		}
		n++
		if whole {
			// most members are followed by a comma and the next name
			if i += int(k.span); i+1 < len(b) && b[i] == ',' && b[i+1] == '"' {
				i++
				goto name
			}
			goto after
		}
		i += int(k.n)
		cand = k.k + 1
	}
	if i < len(b) && b[i] != ':' {
		i = skipWS(b, i)
	}
	if i >= len(b) || b[i] != ':' {
		return false
	}
	i++
	goto value

after:
	if i >= len(b) || b[i] <= ' ' {
		if i = skipWS(b, i); i >= len(b) {
			return top == nil
		}
	}
	if top == nil {
		return false // bytes after the document
	}
	switch c := b[i]; {
	case c == ',':
		i++
		if top.kind == jArray {
			goto elem
		}
		goto key
	case c == '}' && top.kind == jObject:
		if n != top.kn {
			return false // a member fewer
		}
		s.keys = s.keys[:top.koff]
	case c == ']' && top.kind == jArray:
		if top.cur != an[top.a].next {
			return false // an element fewer
		}
	default:
		return false
	}
	i++
	s.frames = s.frames[:len(s.frames)-1]
	top = nil
	if len(s.frames) > 0 {
		top = &s.frames[len(s.frames)-1]
		if top.kind == jObject {
			keys, perm, n = s.keys[top.koff:top.koff+top.kn], top.perm, top.n
		}
	}
	goto after
}

// openObject pushes the frame of the candidate's object at b[i], whose counterpart is
// a's object node o, and gathers the counterpart's names. It returns nil when the
// counterpart names a member twice or escapes a name.
func (s *sameScratch) openObject(a *tape, o int32, i int, mis int32) *sameFrame {
	an, ad := a.nodes, a.data
	koff := len(s.keys)
	end := an[o].next
	// an object of end-o-1 nodes has at most half as many members
	s.keys = slices.Grow(s.keys, int(end-o)/2)
	keys := s.keys[koff:cap(s.keys)]
	// Names met twice are found by their hashes: a name whose hash was seen is
	// compared with the names of that hash.
	var seen [4]uint64
	kn := 0
	for m := o + 1; m < end; {
		kn0, v := &an[m], &an[m+1]
		if kn0.esc || kn >= len(keys) {
			return nil
		}
		p, l := int(kn0.start), kn0.end-kn0.start
		var span int32
		if v.kind < jObject && v.start == kn0.end+1 {
			span = v.end - kn0.start
		}
		// hashed by length and first word
		var h uint8
		if l <= 16 {
			var w0 uint64
			if p+8 <= len(ad) {
				w0 = binary.LittleEndian.Uint64(ad[p:]) & wordMasks[l][0]
			} else {
				var buf [8]byte
				copy(buf[:], ad[p:p+int(l)])
				w0 = binary.LittleEndian.Uint64(buf[:]) & wordMasks[l][0]
			}
			h = uint8((w0 ^ uint64(l)) * nameSeed >> 56)
		} else {
			h = nameHash(ad, p, int(l))
		}
		keys[kn] = sameKey{k: m, start: kn0.start, n: l, span: span, h: h, num: v.kind == jNumber}
		if bit := uint64(1) << (h & 63); seen[h>>6]&bit == 0 {
			seen[h>>6] |= bit
		} else if kn < maxBloomNames {
			for q := range keys[:kn] {
				if keys[q].h == h && keys[q].n == l && string(ad[keys[q].start:keys[q].start+l]) == string(ad[p:p+int(l)]) {
					return nil // a name met twice
				}
			}
		}
		kn++
		m = v.next
	}
	s.keys = s.keys[:koff+kn]
	if kn > maxBloomNames && namedTwice(keys[:kn], ad) {
		return nil
	}
	s.frames = append(s.frames, sameFrame{a: o, kind: jObject, koff: int32(koff), kn: int32(kn),
		mis: mis, delta: int32(i) - an[o].start})
	f := &s.frames[len(s.frames)-1]
	if d := len(s.frames) - 1; d < maxPermDepth && kn > 0 {
		// a digest of the counterpart, as the guide's (see guide.open)
		h := (int32(kn)*7 + keys[0].n) & 3
		slot := &s.perms[d][h]
		if p := *slot; len(p) != kn {
			p = slices.Grow(p[:0], kn)[:kn]
			for j := range p {
				p[j] = -1
			}
			*slot = p
		}
		f.perm = *slot
	}
	return f
}

// maxBloomNames is the member count past which the bitmap of hashes, nearly full,
// no longer spares comparisons: names past it are told apart with a map.
const maxBloomNames = 256

// namedTwice reports whether two of keys, names in ad, are the same name.
func namedTwice(keys []sameKey, ad []byte) bool {
	seen := make(map[string]struct{}, len(keys))
	for p := range keys {
		k := &keys[p]
		name := string(ad[k.start : k.start+k.n])
		if _, ok := seen[name]; ok {
			return true
		}
		seen[name] = struct{}{}
	}
	return false
}

// lookupName finds the name at b[i] (its opening quote) among keys: its position, or
// -1 when it is not there, is escaped or is not a valid string.
func lookupName(keys []sameKey, ad, b []byte, i int) int32 {
	j, esc, err := scanString(b, i)
	if err != nil || esc {
		return -1
	}
	n := int32(j - i)
	for p := range keys {
		if q := &keys[p]; q.n == n && string(ad[q.start:q.start+n]) == string(b[i:j]) {
			return int32(p)
		}
	}
	return -1
}
