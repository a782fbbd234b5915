package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// TestTableFitsTheTerminal renders the golden snapshot at 80 and 160 columns:
// no line is wider than the terminal, and the goldens show what gives way.
func TestTableFitsTheTerminal(t *testing.T) {
	s := renderSnapshot(t)
	plan := defaultPlan(t)
	for _, width := range []int{80, 160} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			var b bytes.Buffer
			if err := RenderTable(&b, s, RenderOptions{Title: "parity report <staging>", Plan: plan, Width: width}); err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(b.String(), "\n") {
				if w := twwidth.Width(line); w > width {
					t.Errorf("line %d is %d columns wide, over %d: %q", i+1, w, width, line)
				}
			}
			golden(t, fmt.Sprintf("report.%d.txt", width), b.Bytes())
		})
	}
}

func TestLineWrapper(t *testing.T) {
	var b bytes.Buffer
	lw := NewLineWrapper(&b, 30)
	fmt.Fprint(lw, "short line stays\n  pass         GET /api/health: parity 1.0000 over 56 compared\nno newline at the end")
	if err := lw.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "short line stays\n" +
		"  pass         GET\n" +
		"      /api/health: parity\n" +
		"      1.0000 over 56 compared\n" +
		"no newline at the end\n"
	if got := b.String(); got != want {
		t.Errorf("LineWrapper wrote (-want +got):\n%s", cmp.Diff(want, got))
	}
}
