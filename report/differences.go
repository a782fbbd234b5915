package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/parity-dev/parity/diff"
)

const ansiDim = "\x1b[2m"

var kindColor = map[diff.Kind]string{
	diff.Changed: ansiYellow,
	diff.Missing: ansiRed,
	diff.Extra:   ansiGreen,
	diff.Type:    "\x1b[35m", // magenta
}

// WriteDifferences writes one line per difference, in the order given (diff's
// order: status, headers, body), and "no differences" for none:
//
//	<path>  <kind>  <primary> → <candidate>  (<note>)  SECURITY <rule>: <reason>
//
// an absent side shows as (absent); the security mark is there only for a
// security regression (diff.Security). Values are already redacted and bounded.
func WriteDifferences(w io.Writer, ds []diff.Difference, color bool) error {
	if len(ds) == 0 {
		_, err := fmt.Fprintln(w, "no differences")
		return err
	}
	var b strings.Builder
	for _, d := range ds {
		primary, candidate := lineValue(d.Primary), lineValue(d.Candidate)
		switch d.Kind {
		case diff.Missing:
			candidate = "(absent)"
		case diff.Extra:
			primary = "(absent)"
		}
		b.WriteString(paint(color, ansiBold, Printable(d.Path)))
		b.WriteString("  ")
		b.WriteString(paint(color, kindColor[d.Kind], string(d.Kind)))
		b.WriteString("  ")
		b.WriteString(primary)
		b.WriteString(" → ")
		b.WriteString(candidate)
		if d.Note != "" {
			b.WriteString("  ")
			b.WriteString(paint(color, ansiDim, "("+Printable(d.Note)+")"))
		}
		if d.Security != "" {
			b.WriteString("  ")
			b.WriteString(paint(color, ansiRed, "SECURITY "+string(d.Security)+": "+SecurityReason(string(d.Security))))
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// lineValue keeps a value on one line and makes an empty one visible.
func lineValue(v string) string {
	if v == "" {
		return `""`
	}
	return Printable(v)
}

// Printable quotes s when it holds control characters (a key with a newline in
// it), so that a line stays one line and no value drives the terminal.
func Printable(s string) string {
	for _, r := range s {
		if unicode.IsControl(r) {
			return strconv.Quote(s)
		}
	}
	return s
}
