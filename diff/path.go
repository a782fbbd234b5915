package diff

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// pathSeg is one step of a difference's path while walking: an object key (its raw
// JSON string, quotes included) or an array index.
type pathSeg struct {
	key   []byte
	esc   bool
	idx   int
	isIdx bool
}

// appendSeg renders one step in gjson syntax: the key unescaped from JSON and escaped
// the gjson way, or the index (or "#" in a pattern).
func appendSeg(dst []byte, s pathSeg, pattern bool) []byte {
	dst = append(dst, '.')
	if s.isIdx {
		if pattern {
			return append(dst, '#')
		}
		return strconv.AppendInt(dst, int64(s.idx), 10)
	}
	return appendEscaped(dst, keyText(s.key, s.esc))
}

// keyText is the unescaped content of a raw JSON string.
func keyText(raw []byte, esc bool) string {
	if !esc {
		return string(raw[1 : len(raw)-1])
	}
	return string(unquote(nil, raw))
}

// appendEscaped appends a path component escaped as gjson.Escape does, so that the
// rendered path selects exactly this key with gjson and with Ignore.
func appendEscaped(dst []byte, comp string) []byte {
	return append(dst, gjson.Escape(comp)...)
}

// escapeComponent escapes one path component (a header name, a key).
func escapeComponent(comp string) string { return gjson.Escape(comp) }

// unquote appends the decoded content of the raw JSON string s (quotes included) to
// dst. Lone surrogates become U+FFFD. s is known to be valid.
func unquote(dst, s []byte) []byte {
	s = s[1 : len(s)-1]
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			j := i + 1
			for j < len(s) && s[j] != '\\' {
				j++
			}
			dst = append(dst, s[i:j]...)
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
				r2 := rune(utf8.RuneError)
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = rune(hex4(s[i+2 : i+6]))
				}
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
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
