package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"unicode/utf8"
)

// MaxValueBytes bounds every value a Difference carries: longer values keep their first
// MaxValueBytes bytes and a marker with the full length, so reports can keep examples
// in memory.
const MaxValueBytes = 200

// differenceOverhead is what a Difference adds to its strings encoded as JSON: member
// names, quotes, braces and a comma.
const differenceOverhead = len(`{"path":"","pattern":"","kind":"","primary":"","candidate":"","note":"","security":""},`)

// differenceSize is the size of d encoded as JSON (at most: every member counted).
func differenceSize(d *Difference) int {
	return differenceOverhead + encodedLen(d.Path) + encodedLen(d.Pattern) + len(d.Kind) +
		encodedLen(d.Primary) + encodedLen(d.Candidate) + encodedLen(d.Note) + len(d.Security)
}

// encodedLen is the length of s inside a JSON string as encoding/json writes it:
// control characters, quotes, backslashes, <, > and &, U+2028, U+2029 and bytes that
// are not UTF-8 escaped.
func encodedLen(s string) int {
	n := len(s)
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c < 0x20, c == '<', c == '>', c == '&':
				n += 5
			case c == '"', c == '\\':
				n++
			}
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && w == 1:
			n += 5
		case r == '\u2028', r == '\u2029':
			n += 3
		}
		i += w
	}
	return n
}

// truncate cuts s to MaxValueBytes (on a UTF-8 boundary) and marks the full length.
func truncate(s string, full int) string {
	if len(s) <= MaxValueBytes && full <= len(s) {
		return s
	}
	cut := min(len(s), MaxValueBytes)
	for cut > 0 && cut < len(s) && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…[" + strconv.Itoa(full) + " bytes]"
}

// renderJSON renders a raw JSON value for a Difference: compacted, bounded, and
// redacted by red when it sits under a secret key (secret) or holds secret members.
func renderJSON(raw []byte, secret bool, red *Redactor) string {
	if secret {
		s, _ := compactJSON(nil, raw, -1)
		return red.Mark(string(s))
	}
	if len(raw) > 0 && (raw[0] == '{' || raw[0] == '[') {
		raw = red.JSON(raw)
	}
	s, complete := compactJSON(nil, raw, MaxValueBytes+4)
	if complete && len(s) <= MaxValueBytes {
		return string(s)
	}
	return truncate(string(s), len(raw))
}

// compactJSON appends raw without insignificant whitespace, stopping once dst has
// grown by limit bytes (limit < 0: no limit); complete says whether all of raw was
// used. raw is valid JSON.
func compactJSON(dst, raw []byte, limit int) (_ []byte, complete bool) {
	start := len(dst)
	inStr := false
	for i := 0; i < len(raw); i++ {
		if limit >= 0 && len(dst)-start >= limit {
			return dst, false
		}
		c := raw[i]
		if inStr {
			dst = append(dst, c)
			switch c {
			case '\\':
				if i+1 < len(raw) {
					i++
					dst = append(dst, raw[i])
				}
			case '"':
				inStr = false
			}
			continue
		}
		if isWS[c] {
			continue
		}
		if c == '"' {
			inStr = true
		}
		dst = append(dst, c)
	}
	return dst, true
}

// quoteText renders text as a JSON string (so a value stays on one line), at most
// MaxValueBytes of its input from offset from, with markers for what was cut.
func quoteText(text []byte, from int) string {
	from = max(0, min(from, len(text)))
	for from > 0 && from < len(text) && !utf8.RuneStart(text[from]) {
		from--
	}
	end := min(len(text), from+MaxValueBytes)
	for end > from && end < len(text) && !utf8.RuneStart(text[end]) {
		end--
	}
	dst := make([]byte, 0, end-from+16)
	if from > 0 {
		dst = append(dst, "…"...)
	}
	dst = appendQuoted(dst, text[from:end])
	if from > 0 || end < len(text) {
		dst = append(dst, "…["...)
		dst = strconv.AppendInt(dst, int64(len(text)), 10)
		dst = append(dst, " bytes]"...)
	}
	return string(dst)
}

// appendQuoted appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendQuoted(dst, s []byte) []byte {
	const hexd = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == 0x7f:
				dst = append(dst, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, w := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && w == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[i:i+w]...)
		}
		i += w
	}
	return append(dst, '"')
}

// digest describes a body by length and SHA-256, for bodies compared that way.
func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return strconv.Itoa(len(b)) + " bytes, sha256:" + hex.EncodeToString(sum[:8])
}
