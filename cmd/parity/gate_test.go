package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGateExitCodes(t *testing.T) {
	dir := t.TempDir()
	plan := filepath.Join(dir, "plan.yaml")
	if err := os.WriteFile(plan, []byte(`
thresholds:
  min_samples: 50
steps:
  - name: health
    routes: [/api/health]
  - name: sessions
    routes: [/api/health, /api/sessions]
`), 0o644); err != nil {
		t.Fatal(err)
	}
	snap := func(name string, traffic ...routeTraffic) string { return writeTestSnapshot(t, dir, name, traffic...) }
	pass := snap("pass.json", routeTraffic{route: "GET /api/health", matched: 1000})
	half1 := snap("half1.json", routeTraffic{route: "GET /api/health", matched: 350})
	half2 := snap("half2.json", routeTraffic{route: "GET /api/health", matched: 350})
	parity := snap("parity.json", routeTraffic{route: "GET /api/health", matched: 570, mismatched: 30})
	latency := snap("latency.json", routeTraffic{route: "GET /api/health", matched: 1000, primaryMs: 5, candidateM: 60})
	errors := snap("errors.json", routeTraffic{route: "GET /api/health", matched: 1000, timeouts: 40})
	few := snap("few.json", routeTraffic{route: "GET /api/health", matched: 10})
	none := snap("none.json", routeTraffic{route: "GET /api/other", matched: 60})
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("not json"), 0o644)

	tests := []struct {
		name string
		args []string
		code int
		out  string // substring of stdout (or stderr for usage errors)
	}{
		{"pass", []string{"--step", "1", pass}, exitOK, "step 1 (health): pass"},
		{"two replicas add up to a pass", []string{half1, half2, "--step", "1"}, exitOK, "over 700 compared"},
		{"one replica alone is inconclusive", []string{"--step", "1", half1}, exitInconclusive, "needs ~152 more compared requests: p99 3ms [3ms, ?] of 350"},
		{"--min-samples raises the bar", []string{"--step", "1", "--min-samples", "1000", half1, half2}, exitInconclusive, "700 of 1000 compared"},
		{"fail on parity", []string{"--step", "1", parity}, exitDifferent, "parity 0.9500 ["},
		{"fail on latency", []string{"--step", "1", latency}, exitDifferent, "candidate p99"},
		{"fail on candidate errors", []string{"--step", "1", errors}, exitDifferent, "candidate error rate"},
		{"inconclusive on few samples", []string{"--step", "1", few}, exitInconclusive, "10 of 50 compared"},
		{"json carries the evidence", []string{"--step", "1", "--format", "json", few}, exitInconclusive, `"upper_ms": null`},
		{"no evidence", []string{"--step", "1", none}, exitInconclusive, "no evidence"},
		{"earlier steps re-checked", []string{"--step", "2", parity}, exitDifferent, "since step 1"},
		{"markdown", []string{"--step", "1", "--format", "markdown", pass}, exitOK, "## Gate: step 1 (health) — ✅ pass"},
		{"json", []string{"--step", "1", "--format", "json", pass}, exitOK, `"verdict": "pass"`},
		{"unknown step", []string{"--step", "3", pass}, exitUsage, "--step 3: unknown step (the plan has steps 1..2)"},
		{"step zero", []string{"--step", "0", pass}, exitUsage, "--step is required"},
		{"missing step", []string{pass}, exitUsage, "--step is required"},
		{"missing file", []string{"--step", "1", filepath.Join(dir, "gone.json")}, exitUsage, "gone.json"},
		{"bad json", []string{"--step", "1", bad}, exitUsage, "bad.json"},
		{"no snapshot", []string{"--step", "1"}, exitUsage, "want at least one SNAPSHOT"},
		{"bad format", []string{"--step", "1", "--format", "xml", pass}, exitUsage, `--format "xml"`},
		{"bad min-samples", []string{"--step", "1", "--min-samples", "-5", pass}, exitUsage, "--min-samples -5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"gate", "--plan", plan}, tc.args...)
			stdout, stderr, code := runBinary(t, nil, args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout, stderr)
			}
			where := stdout
			if tc.code == exitUsage {
				where = stderr
				if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
					t.Errorf("usage error is not one line: %q", stderr)
				}
			}
			if !strings.Contains(where, tc.out) {
				t.Errorf("output %q, want it to contain %q", where, tc.out)
			}
		})
	}
}

func TestGateDefaultPlanGolden(t *testing.T) {
	_, a, b := fleet(t)
	stdout, stderr, code := runInProcess(t, nil, "gate", "--step", "2", a, b)
	if code != exitDifferent {
		t.Errorf("exit %d, want %d (stderr %q)", code, exitDifferent, stderr)
	}
	reportGolden(t, "gate/fleet-step2.golden", stdout)
}
