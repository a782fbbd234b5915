package diff

import (
	"fmt"
	"math"
	"sync"
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
	esc        bool // a string or key that contains a backslash escape
}

// tape is a parsed JSON document.
type tape struct {
	data  []byte
	nodes []node
	stack []int32 // open containers while parsing
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
	t.nodes, t.stack, err = parseTape(data, t.nodes[:0], t.stack[:0])
	return err
}

// parseTape is parse on local slices, so that appends stay in registers.
func parseTape(b []byte, nodes []node, stack []int32) (_ []node, _ []int32, err error) {
	i := 0
	const (
		wantValue = iota
		wantKey
		afterValue
	)
	state := wantValue
	for {
		switch state {
		case wantValue:
			if i < len(b) && isWS[b[i]] {
				i = skipWS(b, i)
			}
			if i >= len(b) {
				return nodes, stack, errAt(i, "unexpected end of JSON input")
			}
			idx := int32(len(nodes))
			switch c := b[i]; c {
			case '"':
				j, esc, err := scanString(b, i)
				if err != nil {
					return nodes, stack, err
				}
				nodes = append(nodes, node{start: int32(i), end: int32(j), next: idx + 1, kind: jString, esc: esc})
				i = j
			case '{', '[':
				k := jObject
				closer := byte('}')
				if c == '[' {
					k, closer = jArray, ']'
				}
				nodes = append(nodes, node{start: int32(i), kind: k})
				stack = append(stack, idx)
				i = skipWS(b, i+1)
				if i < len(b) && b[i] == closer {
					i++
					closeTop(nodes, &stack, i)
					state = afterValue
				} else if k == jObject {
					state = wantKey
				}
				continue
			case 't':
				if err := literal(b, i, "true"); err != nil {
					return nodes, stack, err
				}
				nodes = append(nodes, node{start: int32(i), end: int32(i + 4), next: idx + 1, kind: jTrue})
				i += 4
			case 'f':
				if err := literal(b, i, "false"); err != nil {
					return nodes, stack, err
				}
				nodes = append(nodes, node{start: int32(i), end: int32(i + 5), next: idx + 1, kind: jFalse})
				i += 5
			case 'n':
				if err := literal(b, i, "null"); err != nil {
					return nodes, stack, err
				}
				nodes = append(nodes, node{start: int32(i), end: int32(i + 4), next: idx + 1, kind: jNull})
				i += 4
			default:
				if c != '-' && (c < '0' || c > '9') {
					return nodes, stack, errAt(i, "invalid character %q looking for a value", c)
				}
				j, err := scanNumber(b, i)
				if err != nil {
					return nodes, stack, err
				}
				nodes = append(nodes, node{start: int32(i), end: int32(j), next: idx + 1, kind: jNumber})
				i = j
			}
			state = afterValue
		case wantKey:
			if i < len(b) && isWS[b[i]] {
				i = skipWS(b, i)
			}
			if i >= len(b) {
				return nodes, stack, errAt(i, "unexpected end of JSON input")
			}
			if b[i] != '"' {
				return nodes, stack, errAt(i, "invalid character %q looking for an object key", b[i])
			}
			j, esc, err := scanString(b, i)
			if err != nil {
				return nodes, stack, err
			}
			idx := int32(len(nodes))
			nodes = append(nodes, node{start: int32(i), end: int32(j), next: idx + 1, kind: jKey, esc: esc})
			i = j
			if i < len(b) && isWS[b[i]] {
				i = skipWS(b, i)
			}
			if i >= len(b) {
				return nodes, stack, errAt(i, "unexpected end of JSON input")
			}
			if b[i] != ':' {
				return nodes, stack, errAt(i, "invalid character %q after an object key", b[i])
			}
			i++
			state = wantValue
		case afterValue:
			if i < len(b) && isWS[b[i]] {
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
			top := nodes[stack[len(stack)-1]].kind
			switch c := b[i]; {
			case c == ',':
				i++
				if top == jObject {
					state = wantKey
				} else {
					state = wantValue
				}
			case c == '}' && top == jObject, c == ']' && top == jArray:
				i++
				closeTop(nodes, &stack, i)
			default:
				return nodes, stack, errAt(i, "invalid character %q after a value in an %s", c, top.typeName())
			}
		}
	}
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
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return errAt(i, "invalid literal, expected %q", lit)
	}
	return nil
}

// scanString scans the string starting at the quote b[i] and returns the index just
// past its closing quote and whether it holds an escape.
func scanString(b []byte, i int) (end int, esc bool, err error) {
	j := i + 1
	for {
		for j < len(b) && strSafe[b[j]] {
			j++
		}
		if j >= len(b) {
			return 0, false, errAt(i, "unterminated string")
		}
		switch c := b[j]; {
		case c == '"':
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
		default:
			return 0, false, errAt(j, "invalid control character %q in string", c)
		}
	}
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
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, errAt(start, "invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
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
