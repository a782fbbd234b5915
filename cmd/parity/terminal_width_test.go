package main

import (
	"strings"
	"testing"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
)

// TestReportTableFollowsColumns: COLUMNS narrows the table and wraps the prose;
// without it, output that is not a terminal (a pipe) gets every column.
func TestReportTableFollowsColumns(t *testing.T) {
	_, a, b := fleet(t)
	narrow, _, code := runInProcess(t, map[string]string{"COLUMNS": "80"}, "report", a, b)
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, line := range strings.Split(narrow, "\n") {
		if twwidth.Width(line) > 80 {
			t.Errorf("COLUMNS=80, line of %d columns: %q", twwidth.Width(line), line)
		}
	}
	piped, _, _ := runInProcess(t, nil, "report", a, b)
	for _, want := range []string{"Lower 95%", "p99 candidate", "Cand. errors"} {
		if !strings.Contains(piped, want) {
			t.Errorf("piped report lacks column %q", want)
		}
		if strings.Contains(narrow, want) {
			t.Errorf("80-column report still has column %q", want)
		}
	}
}
