package diff

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"sync"
	"unicode/utf8"
)

// The production JSON walker does not use gjson's validator or getters: both recurse
// once per nesting level, and a body of a few megabytes of "[[[[..." would take the
// goroutine stack with it. Instead each document is parsed once, iteratively, into a
// flat tape of nodes (in the manner of simdjson); the walk then compares sub-values by
// their raw bytes and skips whole subtrees through each node's next index.

// jkind is the JSON type of a tape node.
type jkind uint8

const (
	jNull jkind = iota + 1
	jFalse
	jTrue
	jNumber
	jString
	jObject
	jArray
	jKey // an object member's name; the member's value is the next node
)

// typeName is the name a Difference note uses for a kind.
func (k jkind) typeName() string {
	switch k {
	case jNull:
		return "null"
	case jFalse, jTrue:
		return "boolean"
	case jNumber:
		return "number"
	case jString, jKey:
		return "string"
	case jObject:
		return "object"
	case jArray:
		return "array"
	}
	return "unknown"
}

// sameType tells whether two kinds are the same JSON type (true and false are both
// booleans).
func sameType(a, b jkind) bool {
	if a == b {
		return true
	}
	return (a == jTrue || a == jFalse) && (b == jTrue || b == jFalse)
}

// node is one value (or member name) of a parsed document. Objects are laid out as
// [object][key][value...][key][value...], arrays as [array][value...][value...].
type node struct {
	start, end int32 // the value's raw bytes: data[start:end]; strings include quotes
	next       int32 // index of the node after this value's subtree
	kind       jkind
	esc        bool // a string or key whose text is not its raw bytes: it holds a backslash escape or bytes that are not UTF-8
}

// tape is a parsed JSON document.
type tape struct {
	data  []byte
	nodes []node
	stack []int32 // open containers while parsing
	guide guide   // parseAgainst's scratch
	same  sameScratch
}

var tapePool = sync.Pool{New: func() any { return new(tape) }}

// maxPooledNodes keeps one huge document from pinning its tape in the pool.
const maxPooledNodes = 1 << 16

func getTape() *tape { return tapePool.Get().(*tape) }

func putTape(t *tape) {
	if t == nil || cap(t.nodes) > maxPooledNodes {
		return
	}
	t.data = nil
	t.guide.release()
	t.same.release()
	tapePool.Put(t)
}

// raw returns the bytes of node i.
func (t *tape) raw(i int32) []byte {
	n := &t.nodes[i]
	return t.data[n.start:n.end]
}

// syntaxError is a JSON document that does not parse.
type syntaxError struct {
	offset int
	msg    string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.offset) }

func errAt(off int, format string, args ...any) error {
	return &syntaxError{offset: off, msg: fmt.Sprintf(format, args...)}
}

// strSafe marks the bytes that may stand unescaped in a JSON string and need no
// special handling: everything but '"', '\\' and control characters.
var strSafe = func() (t [256]bool) {
	for i := range t {
		t[i] = i >= 0x20 && i != '"' && i != '\\'
	}
	return t
}()

var isWS = func() (t [256]bool) {
	t[' '], t['\t'], t['\n'], t['\r'] = true, true, true, true
	return t
}()

func skipWS(b []byte, i int) int {
	for i < len(b) && isWS[b[i]] {
		i++
	}
	return i
}

// parse validates data as one JSON document (RFC 8259; surrounding whitespace
// allowed) and fills the tape. It allocates nothing once the tape has grown to size,
// and uses no recursion: nesting depth costs only tape and stack entries.
func (t *tape) parse(data []byte) error {
	if len(data) > math.MaxInt32 {
		return errAt(0, "document of %d bytes is too large", len(data))
	}
	t.data = data
	var err error
	t.nodes, t.stack, err = parseTape(data, t.nodes[:0], t.stack[:0], nil)
	return err
}

// parseAgainst is parse, guided by a, the tape of another document (see guide.go):
// the tape and the error are those of parse.
func (t *tape) parseAgainst(data []byte, a *tape) (err error) {
	if len(data) > math.MaxInt32 {
		return errAt(0, "document of %d bytes is too large", len(data))
	}
	t.data = data
	g := &t.guide
	g.reset(a, data)
	t.nodes, t.stack, err = parseTape(data, t.nodes[:0], t.stack[:0], g)
	g.a = nil
	return err
}

// parseTape is parse on local slices, so that appends stay in registers. It moves
// between three places with goto — a value, an object's key, after a value — so that
// a member's key, its value and the comma after it are read in one straight run.
//
// With a guide (g != nil), values whose bytes are their counterparts' are taken from
// the guide's tape (guide.value) and the guide follows every container and member name.
func parseTape(b []byte, nodes []node, stack []int32, g *guide) (_ []node, _ []int32, err error) {
	var (
		i, j  int
		esc   bool
		idx   int32
		c     byte
		inObj bool // the innermost open container is an object
	)
value:
	if i >= len(b) || b[i] <= ' ' {
		if i = skipWS(b, i); i >= len(b) {
			return nodes, stack, errAt(i, "unexpected end of JSON input")
		}
	}
	idx = int32(len(nodes))
	if g != nil {
		var copied bool
		if g.off {
			g = nil
		} else if nodes, i, copied = g.value(b, i, nodes); copied {
			goto after
		}
	}
	switch c = b[i]; c {
	case '"':
		if j, esc = scanPlain(b, i), false; j == 0 {
			if j, esc, err = scanString(b, i); err != nil {
				return nodes, stack, err
			}
		}
		nodes = addNode(nodes, int32(i), int32(j), idx+1, jString, esc)
		i = j
	case '{':
		nodes = addNode(nodes, int32(i), 0, 0, jObject, false)
		stack = append(stack, idx)
		if g != nil {
			g.open(jObject, i)
		}
		i++
		if i < len(b) && b[i] <= ' ' {
			i = skipWS(b, i)
		}
		if i < len(b) && b[i] == '}' {
			i++
			closeTop(nodes, &stack, i)
			if g != nil {
				g.close()
			}
			goto after
		}
		inObj = true
		goto key
	case '[':
		nodes = addNode(nodes, int32(i), 0, 0, jArray, false)
		stack = append(stack, idx)
		if g != nil {
			g.open(jArray, i)
		}
		i++
		if i < len(b) && b[i] <= ' ' {
			i = skipWS(b, i)
		}
		if i < len(b) && b[i] == ']' {
			i++
			closeTop(nodes, &stack, i)
			if g != nil {
				g.close()
			}
			goto after
		}
		inObj = false
		goto value
	case 't':
		if err = literal(b, i, "true"); err != nil {
			return nodes, stack, err
		}
		nodes = addNode(nodes, int32(i), int32(i+4), idx+1, jTrue, false)
		i += 4
	case 'f':
		if err = literal(b, i, "false"); err != nil {
			return nodes, stack, err
		}
		nodes = addNode(nodes, int32(i), int32(i+5), idx+1, jFalse, false)
		i += 5
	case 'n':
		if err = literal(b, i, "null"); err != nil {
			return nodes, stack, err
		}
		nodes = addNode(nodes, int32(i), int32(i+4), idx+1, jNull, false)
		i += 4
	default:
		if c != '-' && (c < '0' || c > '9') {
			return nodes, stack, errAt(i, "invalid character %q looking for a value", c)
		}
		if j, err = scanNumber(b, i); err != nil {
			return nodes, stack, err
		}
		nodes = addNode(nodes, int32(i), int32(j), idx+1, jNumber, false)
		i = j
	}

after:
	// compact JSON first: a comma right after the value
	if i < len(b) && b[i] == ',' && len(stack) > 0 {
		i++
		if inObj {
			goto key
		}
		goto value
	}
	if i < len(b) && b[i] <= ' ' {
		i = skipWS(b, i)
	}
	if len(stack) == 0 {
		if i != len(b) {
			return nodes, stack, errAt(i, "invalid character %q after the top-level value", b[i])
		}
		return nodes, stack, nil
	}
	if i >= len(b) {
		return nodes, stack, errAt(i, "unexpected end of JSON input")
	}
	switch c = b[i]; {
	case c == ',':
		i++
		if inObj {
			goto key
		}
		goto value
	case c == '}' && inObj, c == ']' && !inObj:
		i++
		closeTop(nodes, &stack, i)
		if g != nil {
			g.close()
		}
		if len(stack) > 0 {
			inObj = nodes[stack[len(stack)-1]].kind == jObject
		}
		goto after
	}
	if inObj {
		return nodes, stack, errAt(i, "invalid character %q after a value in an object", c)
	}
	return nodes, stack, errAt(i, "invalid character %q after a value in an array", c)

key:
	if i >= len(b) || b[i] != '"' {
		if i = skipWS(b, i); i >= len(b) {
			return nodes, stack, errAt(i, "unexpected end of JSON input")
		}
		if b[i] != '"' {
			return nodes, stack, errAt(i, "invalid character %q looking for an object key", b[i])
		}
	}
	if g != nil {
		if g.off {
			g = nil
			goto name
		}
		var at int
		switch nodes, i, at = g.members(b, i, nodes); at {
		case gNext:
			goto key
		case gColon:
			goto colon
		case gValue:
			goto value
		case gAfter:
			goto after
		}
		// a name the guide did not foresee
		if j, esc, err = scanString(b, i); err != nil {
			return nodes, stack, err
		}
		nodes = addNode(nodes, int32(i), int32(j), int32(len(nodes))+1, jKey, esc)
		g.key(b, i, j, esc)
		i = j
		goto colon
	}
name:
	idx = int32(len(nodes))
	if j, esc = scanPlain(b, i), false; j == 0 {
		if j, esc, err = scanString(b, i); err != nil {
			return nodes, stack, err
		}
	}
	nodes = addNode(nodes, int32(i), int32(j), idx+1, jKey, esc)
	i = j
colon:
	if i < len(b) && b[i] == ':' {
		i++
		goto value
	}
	if i < len(b) && b[i] <= ' ' {
		i = skipWS(b, i)
	}
	if i >= len(b) {
		return nodes, stack, errAt(i, "unexpected end of JSON input")
	}
	if b[i] != ':' {
		return nodes, stack, errAt(i, "invalid character %q after an object key", b[i])
	}
	i++
	goto value
}

// addNode appends a node to nodes. It writes the fields in place: a node built
// whole and copied in is read back as one wide load right after its narrow stores,
// which the processor cannot forward, and that stall cost a quarter of the parse.
func addNode(nodes []node, start, end, next int32, k jkind, esc bool) []node {
	nodes = append(nodes, node{})
	n := &nodes[len(nodes)-1]
	n.start, n.end, n.next, n.kind, n.esc = start, end, next, k, esc
	return nodes
}

// closeTop ends the innermost open container at byte end.
func closeTop(nodes []node, stack *[]int32, end int) {
	s := *stack
	idx := s[len(s)-1]
	*stack = s[:len(s)-1]
	n := &nodes[idx]
	n.end = int32(end)
	n.next = int32(len(nodes))
}

func literal(b []byte, i int, lit string) error {
	// a word compare for the four bytes all three literals have, then the fifth
	if len(b)-i < len(lit) || binary.LittleEndian.Uint32(b[i:]) != binary.LittleEndian.Uint32([]byte(lit)) ||
		len(lit) > 4 && b[i+4] != lit[4] {
		return errAt(i, "invalid literal, expected %q", lit)
	}
	return nil
}

// scanString scans the string starting at the quote b[i] and returns the index just
// past its closing quote and whether its text differs from its raw bytes (esc): it
// holds a backslash escape, or bytes that are not UTF-8, which a client decodes as
// U+FFFD. A string of neither kind can be compared by its raw bytes.
func scanString(b []byte, i int) (end int, esc bool, err error) {
	j := i + 1
	// Until a byte over 0x7f is met, such bytes stop the scan too: a string of ASCII
	// alone needs no UTF-8 check and no record of its high bits.
	ascii := uint64(0x8080808080808080)
	for {
		// sixteen bytes at a time while sixteen remain, then eight, then one at a time
		for j+16 <= len(b) {
			w := b[j : j+16]
			x, y := binary.LittleEndian.Uint64(w), binary.LittleEndian.Uint64(w[8:])
			if m := specialBytes(x) | x&ascii; m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				goto special
			}
			if m := specialBytes(y) | y&ascii; m != 0 {
				j += 8 + bits.TrailingZeros64(m)>>3
				goto special
			}
			j += 16
		}
		for j+8 <= len(b) {
			x := binary.LittleEndian.Uint64(b[j:])
			if m := specialBytes(x) | x&ascii; m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				goto special
			}
			j += 8
		}
		for j < len(b) && strSafe[b[j]] && uint64(b[j])&ascii == 0 {
			j++
		}
		if j >= len(b) {
			return 0, false, errAt(i, "unterminated string")
		}
	special:
		switch c := b[j]; {
		case c == '"':
			if !esc && ascii == 0 && !utf8.Valid(b[i+1:j]) {
				esc = true
			}
			return j + 1, esc, nil
		case c == '\\':
			esc = true
			if j+1 >= len(b) {
				return 0, false, errAt(i, "unterminated string")
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if len(b)-j < 6 || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) || !isHex(b[j+5]) {
					return 0, false, errAt(j, "invalid \\u escape in string")
				}
				j += 6
			default:
				return 0, false, errAt(j, "invalid escape %q in string", b[j+1])
			}
		case c >= 0x80:
			ascii = 0 // scanned on from here with the UTF-8 check at the end
		default:
			return 0, false, errAt(j, "invalid control character %q in string", c)
		}
	}
}

// scanPlain is scanString's fast path, a leaf: it scans the string starting at the
// quote b[i] while it holds ASCII that needs no escape, and returns the index past its
// closing quote, or 0 where it meets anything else (a backslash, a control character,
// a byte over 0x7f, the end of b) and leaves the string to scanString.
func scanPlain(b []byte, i int) int {
	const highs = 0x8080808080808080
	j := i + 1
	for j+16 <= len(b) {
		w := b[j : j+16]
		x, y := binary.LittleEndian.Uint64(w), binary.LittleEndian.Uint64(w[8:])
		if m := specialBytes(x) | x&highs; m != 0 {
			j += bits.TrailingZeros64(m) >> 3
			goto end
		}
		if m := specialBytes(y) | y&highs; m != 0 {
			j += 8 + bits.TrailingZeros64(m)>>3
			goto end
		}
		j += 16
	}
	for j < len(b) && strSafe[b[j]] && b[j] < 0x80 {
		j++
	}
end:
	if j < len(b) && b[j] == '"' {
		return j + 1
	}
	return 0
}

// specialBytes flags the bytes of the little-endian word x that end a run of plain
// string bytes ('"', '\\' or a control character): each such byte's high bit is set in
// the result. Only the lowest flag is exact — a borrow can flag a byte above a flagged
// one — which is all scanString uses.
func specialBytes(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ (ones * '"')
	bs := x ^ (ones * '\\')
	return ((q-ones)&^q | (bs-ones)&^bs | (x-ones*0x20)&^x) & highs
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// scanNumber scans the number at b[i] (JSON grammar) and returns the index past it.
func scanNumber(b []byte, i int) (int, error) {
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i++; i < len(b) && b[i]-'0' <= 9; i++ {
		}
	default:
		return 0, errAt(start, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
		if i == d {
			return 0, errAt(start, "invalid number: no digits after the decimal point")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return 0, errAt(start, "invalid number: no digits in the exponent")
		}
	}
	return i, nil
}

// validJSON reports whether data is one JSON document.
func validJSON(data []byte) error {
	t := getTape()
	err := t.parse(data)
	putTape(t)
	return err
}
