package diff

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// pathSeg is one step of a difference's path while walking: an object key (its key
// node in the primary's tape, or the candidate's when inB) or an array index.
type pathSeg struct {
	key   int32
	idx   int32
	inB   bool
	isIdx bool
}

// appendKey appends the unescaped text of a raw JSON string (quotes included).
func appendKey(dst, raw []byte, esc bool) []byte {
	if !esc {
		return append(dst, raw[1:len(raw)-1]...)
	}
	return unquote(dst, raw)
}

// keyText is the unescaped content of a raw JSON string.
func keyText(raw []byte, esc bool) string {
	if !esc {
		return string(raw[1 : len(raw)-1])
	}
	return string(unquote(nil, raw))
}

// gjsonSafe marks the bytes gjson.Escape leaves alone; every other byte gets a
// backslash, so a rendered key selects exactly itself with gjson and with Ignore.
var gjsonSafe = func() (t [256]bool) {
	for c := range t {
		t[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c <= ' ' || c > '~' || c == '_' || c == '-' || c == ':'
	}
	return t
}()

// appendGjsonEscaped appends comp escaped as gjson.Escape does.
func appendGjsonEscaped(dst, comp []byte) []byte {
	for _, c := range comp {
		if !gjsonSafe[c] {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return dst
}

// escapeComponent escapes one path component (a header name) the gjson way.
func escapeComponent(comp string) string { return gjson.Escape(comp) }

// unquote appends the decoded content of the raw JSON string s (quotes included) to
// dst, as a JavaScript client reads it: bytes that are not UTF-8 become U+FFFD, and a
// lone surrogate escape (\ud800 with no partner) stays itself — written as the three
// bytes UTF-8 would give its code point (WTF-8), which no other text decodes to — so
// two different lone surrogates stay different strings and differ from U+FFFD. s is
// known to be valid.
func unquote(dst, s []byte) []byte {
	s = s[1 : len(s)-1]
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			j := i + 1
			for j < len(s) && s[j] != '\\' {
				j++
			}
			dst = appendUTF8(dst, s[i:j])
			i = j
			continue
		}
		switch s[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := rune(hex4(s[i+2 : i+6]))
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if d := utf16.DecodeRune(r, rune(hex4(s[i+2:i+6]))); d != utf8.RuneError {
						dst = utf8.AppendRune(dst, d)
						i += 6
						continue
					}
				}
				dst = appendSurrogate(dst, r)
				continue
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // '"', '\\', '/'
			dst = append(dst, s[i+1])
		}
		i += 2
	}
	return dst
}

// appendUTF8 appends b with every byte that is not part of valid UTF-8 replaced by
// U+FFFD, as a client's decoder does.
func appendUTF8(dst, b []byte) []byte {
	if utf8.Valid(b) {
		return append(dst, b...)
	}
	for len(b) > 0 {
		r, w := utf8.DecodeRune(b)
		if r == utf8.RuneError && w == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, b[:w]...)
		}
		b = b[w:]
	}
	return dst
}

// appendSurrogate appends the lone surrogate r (U+D800 to U+DFFF) in the three bytes
// UTF-8's pattern gives it, which valid UTF-8 never holds.
func appendSurrogate(dst []byte, r rune) []byte {
	return append(dst, 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
}

// surrogateAt returns the lone surrogate encoded by appendSurrogate at the start of b.
func surrogateAt(b []byte) (rune, bool) {
	if len(b) < 3 || b[0] != 0xed || b[1] < 0xa0 || b[1] > 0xbf || b[2] < 0x80 || b[2] > 0xbf {
		return 0, false
	}
	return rune(b[0]&0x0f)<<12 | rune(b[1]&0x3f)<<6 | rune(b[2]&0x3f), true
}

// appendPathKey appends a decoded member name as one path component: escaped the
// gjson way, and a lone surrogate written as \uXXXX (parsePath reads it back; no
// gjson path can select such a key, as gjson decodes it to U+FFFD).
func appendPathKey(dst, key []byte) []byte {
	for {
		i := bytes.IndexByte(key, 0xed)
		if i < 0 {
			return appendGjsonEscaped(dst, key)
		}
		r, ok := surrogateAt(key[i:])
		if !ok {
			dst = appendGjsonEscaped(dst, key[:i+1])
			key = key[i+1:]
			continue
		}
		dst = appendGjsonEscaped(dst, key[:i])
		dst = append(dst, '\\', 'u')
		dst = strconv.AppendUint(dst, uint64(r), 16)
		key = key[i+3:]
	}
}

func hex4(b []byte) int {
	n := 0
	for _, c := range b[:4] {
		n <<= 4
		switch {
		case c >= '0' && c <= '9':
			n |= int(c - '0')
		case c >= 'a' && c <= 'f':
			n |= int(c - 'a' + 10)
		default:
			n |= int(c - 'A' + 10)
		}
	}
	return n
}

// comparePaths orders difference paths segment by segment, array indexes (and other
// all-digit segments) numerically, so body.items.2 sorts before body.items.10.
func comparePaths(a, b string) int {
	for {
		sa, ra, oka := nextComponent(a)
		sb, rb, okb := nextComponent(b)
		switch {
		case !oka && !okb:
			return 0
		case !oka:
			return -1
		case !okb:
			return 1
		}
		if c := compareComponent(sa, sb); c != 0 {
			return c
		}
		a, b = ra, rb
	}
}

// nextComponent splits off the first component at an unescaped dot.
func nextComponent(p string) (comp, rest string, ok bool) {
	if p == "" {
		return "", "", false
	}
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '.':
			return p[:i], p[i+1:], true
		}
	}
	return p, "", true
}

func compareComponent(a, b string) int {
	if isDigits(a) && isDigits(b) {
		ta, tb := strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(ta) != len(tb) {
			if len(ta) < len(tb) {
				return -1
			}
			return 1
		}
		if c := strings.Compare(ta, tb); c != 0 {
			return c
		}
	}
	return strings.Compare(a, b)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
