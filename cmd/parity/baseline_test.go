package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/report"
)

// Comparing the demo's snapshot before and after fixing one planted
// regression in the stand-in shows exactly that group gone and exits 0; the
// other way round, the regression comes in: new, and exit 1.
func TestBaselineShowsAFixedAndAnIntroducedRegression(t *testing.T) {
	t.Parallel()
	const fixedRoute, fixedPath = "GET /api/sessions", "header.Cache-Control"
	before, err := runDemoLoop(context.Background(), 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	after, err := runDemoLoopFixed(context.Background(), 0, 1, []string{fixedRoute + " " + fixedPath})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	oldPath, newPath := filepath.Join(dir, "before.json"), filepath.Join(dir, "after.json")
	for p, s := range map[string]*report.Snapshot{oldPath: before.snapshot, newPath: after.snapshot} {
		if err := report.WriteSnapshotFile(p, s); err != nil {
			t.Fatal(err)
		}
	}
	type change struct{ Route, Path, Kind, Change string }
	changes := func(args ...string) ([]change, int) {
		out, errOut, code := runInProcess(t, nil, append([]string{"report", "--format", "json", "--baseline"}, args...)...)
		if code == exitUsage {
			t.Fatalf("exit 2: %s", errOut)
		}
		var c report.Comparison
		if err := json.Unmarshal([]byte(out), &c); err != nil {
			t.Fatal(err)
		}
		var got []change
		for _, r := range c.Routes {
			for _, g := range r.Groups {
				if g.Change != report.GroupSame {
					got = append(got, change{r.Route, g.Path, g.Kind, g.Change})
				}
			}
		}
		return got, code
	}

	got, code := changes(oldPath, newPath)
	if code != exitOK {
		t.Errorf("fixed: exit %d, want 0", code)
	}
	if d := cmp.Diff([]change{{fixedRoute, fixedPath, "missing", report.GroupGone}}, got); d != "" {
		t.Errorf("fixed: changes (-want +got):\n%s", d)
	}

	got, code = changes(newPath, oldPath)
	if code != exitDifferent {
		t.Errorf("introduced: exit %d, want 1", code)
	}
	if d := cmp.Diff([]change{{fixedRoute, fixedPath, "missing", report.GroupNew}}, got); d != "" {
		t.Errorf("introduced: changes (-want +got):\n%s", d)
	}

	for _, format := range []string{"table", "markdown"} {
		out, errOut, code := runInProcess(t, nil, "report", "--format", format, "--baseline", newPath, oldPath)
		if code != exitDifferent || !containsAll(out, fixedRoute, fixedPath, "new") {
			t.Errorf("%s: exit %d, want 1 and the new group:\n%s%s", format, code, out, errOut)
		}
	}
	if _, errOut, code := runInProcess(t, nil, "report", "--format", "junit", "--baseline", newPath, oldPath); code != exitUsage {
		t.Errorf("junit: exit %d, want 2: %s", code, errOut)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
