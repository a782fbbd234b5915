package report

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"github.com/olekukonko/tablewriter/tw"
)

// termColumn is a column of a terminal table and how it gives way when the
// table is wider than the terminal.
type termColumn struct {
	header string
	short  string // header when space is short; "" keeps header
	align  tw.Align
	// drop orders the columns that go when the table does not fit: the highest
	// goes first; 0 never goes.
	drop int
	// cut, when positive, lets the column be cut with "…" down to this width
	// before it is dropped.
	cut int
}

// termTable is a terminal table: plain cells, and paint to colour a kept cell
// after fitting (widths are measured on plain text).
type termTable struct {
	cols  []termColumn
	rows  [][]string
	paint func(row, col int, cell string) string
}

// boxOverhead is what the borders and padding of a boxed table of n columns
// add to its cells: "│ a │ b │".
func boxOverhead(n int) int { return 3*n + 1 }

// fit chooses the columns kept and the width each is cut to for a terminal of
// width columns (0: no limit): short headers first, then the droppable
// columns in their order, then cutting, then the cuttable columns themselves.
// A table that still does not fit is left as it is then: rows never wrap.
func (t *termTable) fit(width int) (keep []int, headers []string, limit []int) {
	n := len(t.cols)
	keep = make([]int, n)
	headers = make([]string, n)
	limit = make([]int, n)
	natural := make([]int, n)
	for i, c := range t.cols {
		keep[i], headers[i] = i, c.header
		for _, r := range t.rows {
			natural[i] = max(natural[i], twwidth.Width(r[i]))
		}
	}
	colWidth := func(i int) int {
		w := max(natural[i], twwidth.Width(headers[i]))
		if limit[i] > 0 {
			w = min(w, max(limit[i], twwidth.Width(headers[i])))
		}
		return w
	}
	total := func() int {
		sum := boxOverhead(len(keep))
		for _, i := range keep {
			sum += colWidth(i)
		}
		return sum
	}
	if width <= 0 || total() <= width {
		return keep, pick(headers, keep), pick(limit, keep)
	}
	for i, c := range t.cols {
		if c.short != "" {
			headers[i] = c.short
		}
	}
	for total() > width {
		// The next droppable column that cannot be cut goes first.
		if i, ok := t.nextDrop(keep, false); ok {
			keep = slices.DeleteFunc(keep, func(k int) bool { return k == i })
			continue
		}
		// Then the cuttable columns give what they can, widest first.
		over := total() - width
		for over > 0 {
			best := -1
			for _, i := range keep {
				if c := t.cols[i]; c.cut > 0 && colWidth(i) > c.cut && (best < 0 || colWidth(i) > colWidth(best)) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			give := min(over, colWidth(best)-t.cols[best].cut)
			limit[best] = colWidth(best) - give
			over -= give
		}
		if over <= 0 {
			break
		}
		if i, ok := t.nextDrop(keep, true); ok {
			keep = slices.DeleteFunc(keep, func(k int) bool { return k == i })
			continue
		}
		break
	}
	return keep, pick(headers, keep), pick(limit, keep)
}

// nextDrop is the kept column to drop next: droppable, cuttable or not as
// asked, with the highest drop.
func (t *termTable) nextDrop(keep []int, cuttable bool) (int, bool) {
	best := -1
	for _, i := range keep {
		c := t.cols[i]
		if c.drop > 0 && (c.cut > 0) == cuttable && (best < 0 || c.drop > t.cols[best].drop) {
			best = i
		}
	}
	return best, best >= 0
}

func pick[T any](s []T, idx []int) []T {
	out := make([]T, len(idx))
	for j, i := range idx {
		out[j] = s[i]
	}
	return out
}

// render writes the table fitted to width (0: every column in full).
func (t *termTable) render(w io.Writer, width int) error {
	keep, headers, limit := t.fit(width)
	aligns := make([]tw.Align, len(keep))
	for j, i := range keep {
		aligns[j] = t.cols[i].align
	}
	tbl := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone), tablewriter.WithHeaderAutoWrap(tw.WrapNone),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: aligns}))
	tbl.Header(headers)
	for r, row := range t.rows {
		cells := make([]string, len(keep))
		for j, i := range keep {
			cell := row[i]
			if limit[j] > 0 && twwidth.Width(cell) > limit[j] {
				cell = twwidth.Truncate(cell, limit[j], "…")
			}
			if t.paint != nil {
				cell = t.paint(r, i, cell)
			}
			cells[j] = cell
		}
		if err := tbl.Append(cells); err != nil {
			return fmt.Errorf("render table: %w", err)
		}
	}
	if err := tbl.Render(); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	return nil
}

// wrapProse writes s at width columns (0: on one line), broken greedily at
// word boundaries; the first line starts with first, the others with rest (a
// hanging indent). A word longer than a whole line is cut with "…".
func wrapProse(w io.Writer, s string, width int, first, rest string) {
	wrapWords(w, termText(s), width, first, rest)
}

// wrapWords is wrapProse on text already made safe for a terminal.
func wrapWords(w io.Writer, s string, width int, first, rest string) {
	if width <= 0 {
		fmt.Fprintf(w, "%s%s\n", first, s)
		return
	}
	var line strings.Builder
	line.WriteString(first)
	used, empty := twwidth.Width(first), true
	// Split on single spaces so that runs of spaces (aligned columns) survive
	// within a line; they are dropped only where a line breaks.
	for _, word := range strings.Split(s, " ") {
		ww := twwidth.Width(word)
		if !empty && used+1+ww > width {
			fmt.Fprintf(w, "%s\n", line.String())
			line.Reset()
			line.WriteString(rest)
			used, empty = twwidth.Width(rest), true
		}
		if empty && word == "" {
			continue
		}
		if room := width - used - 1; ww > room && empty {
			word = twwidth.Truncate(word, max(room, 8), "…")
			ww = twwidth.Width(word)
		}
		if !empty {
			line.WriteByte(' ')
			used++
		}
		line.WriteString(word)
		used += ww
		empty = false
	}
	fmt.Fprintf(w, "%s\n", line.String())
}

// LineWrapper writes through to a terminal of a given width: every line wider
// than the terminal is wrapped at word boundaries, its continuation indented
// four columns past the line's own indent; other lines pass as they are. Call
// Flush after the last write.
type LineWrapper struct {
	w     io.Writer
	width int
	buf   []byte
	err   error
}

// NewLineWrapper returns a LineWrapper to w for a terminal of width columns.
func NewLineWrapper(w io.Writer, width int) *LineWrapper { return &LineWrapper{w: w, width: width} }

func (l *LineWrapper) Write(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.line(string(l.buf[:i]))
		l.buf = l.buf[i+1:]
	}
	return len(p), l.err
}

// Flush writes a last line that has no newline yet.
func (l *LineWrapper) Flush() error {
	if len(l.buf) > 0 {
		l.line(string(l.buf))
		l.buf = nil
	}
	return l.err
}

func (l *LineWrapper) line(s string) {
	ew := &errWriter{w: l.w}
	if twwidth.Width(s) <= l.width {
		fmt.Fprintf(ew, "%s\n", s)
	} else {
		body := strings.TrimLeft(s, " ")
		indent := s[:len(s)-len(body)]
		wrapWords(ew, body, l.width, indent, indent+"    ")
	}
	if ew.err != nil && l.err == nil {
		l.err = ew.err
	}
}
