package diff

import (
	"encoding/json"
	"fmt"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// scanStringBytes is scanString one byte at a time, as it was before it read eight
// bytes at a time: the reference the word-at-a-time scan is held to. esc says that
// the string holds an escape or bytes that are not UTF-8.
func scanStringBytes(b []byte, i int) (end int, esc bool, ok bool) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, esc || !utf8.Valid(b[i+1:j]), true
		case c < 0x20:
			return 0, false, false
		case c == '\\':
			esc = true
			if j+1 >= len(b) {
				return 0, false, false
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if len(b)-j < 6 || !isHex(b[j+2]) || !isHex(b[j+3]) || !isHex(b[j+4]) || !isHex(b[j+5]) {
					return 0, false, false
				}
				j += 5
			default:
				return 0, false, false
			}
		}
	}
	return 0, false, false
}

type scanResult struct {
	End int
	Esc bool
	OK  bool
}

// TestScanStringWords puts each byte that matters to a string's scan — its end, an
// escape, a control character, and bytes next to those in value — at every offset
// around the 8-byte words scanString reads, in strings that run to the end of the
// buffer or continue past it.
func TestScanStringWords(t *testing.T) {
	specials := []struct {
		name string
		b    string
	}{
		{"quote", `"`}, {"escaped quote", `\"`}, {"escaped backslash", `\\`}, {"unicode escape", `\u00e9`},
		{"bad escape", `\x`}, {"short unicode escape", `\u12`}, {"NUL", "\x00"}, {"unit separator", "\x1f"},
		{"space", " "}, {"bang", "!"}, {"hash", "#"}, {"bracket", "]"}, {"DEL", "\x7f"}, {"byte 0x80", "\x80"},
		{"byte 0xa2", "\xa2"}, {"byte 0xdc", "\xdc"}, {"byte 0xff", "\xff"}, {"é", "é"},
		{"lone surrogate as bytes", "\xed\xa0\x80"}, {"emoji", "😀"}, {"cut emoji", "\xf0\x9f\x98"},
	}
	for _, sp := range specials {
		for pre := 0; pre <= 17; pre++ {
			for _, tail := range []string{`"`, `abc"`, `abcdefghijklmnopq"`, `abcdefghijklmnopq"` + `,"x":1}`} {
				s := `"`
				for k := 0; k < pre; k++ {
					s += string(rune('a' + k%26))
				}
				s += sp.b + tail
				t.Run(fmt.Sprintf("%s after %d bytes, %d bytes after", sp.name, pre, len(tail)), func(t *testing.T) {
					end, esc, err := scanString([]byte(s), 0)
					got := scanResult{end, esc, err == nil}
					we, wesc, wok := scanStringBytes([]byte(s), 0)
					if diff := cmp.Diff(scanResult{we, wesc, wok}, got); diff != "" {
						t.Errorf("scanString(%q) (-want +got):\n%s", s, diff)
					}
					checkScanPlain(t, []byte(s))
				})
			}
		}
	}
}

// FuzzScanString holds scanString to the byte-at-a-time reference, and every string
// it accepts to encoding/json's grammar.
func FuzzScanString(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b"`, `"\u00e9\\"`, "\"a\x01b\"", `"abcdefghijkl\"`, `"é"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 || b[0] != '"' {
			b = append([]byte{'"'}, b...)
		}
		end, esc, err := scanString(b, 0)
		we, wesc, wok := scanStringBytes(b, 0)
		if diff := cmp.Diff(scanResult{we, wesc, wok}, scanResult{end, esc, err == nil}); diff != "" {
			t.Fatalf("scanString(%q) (-want +got):\n%s", b, diff)
		}
		if err == nil && !json.Valid(b[:end]) {
			t.Fatalf("scanString accepts %q, encoding/json does not", b[:end])
		}
		checkScanPlain(t, b)
	})
}

// checkScanPlain holds scanPlain to the reference: the end of a string of plain ASCII
// without escapes, 0 for any other.
func checkScanPlain(t *testing.T, b []byte) {
	t.Helper()
	we, wesc, wok := scanStringBytes(b, 0)
	plain := wok && !wesc
	for _, c := range b[1:max(we-1, 1)] {
		plain = plain && c < 0x80 && c != '\\'
	}
	want := 0
	if plain {
		want = we
	}
	if got := scanPlain(b, 0); got != want {
		t.Fatalf("scanPlain(%q) = %d, want %d", b, got, want)
	}
}
