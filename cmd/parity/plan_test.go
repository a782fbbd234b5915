package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPlanCheckDefault(t *testing.T) {
	stdout, stderr, code := runBinary(t, nil, "plan", "check")
	if code != exitDifferent {
		t.Errorf("exit %d, want %d: the guide's plan has findings (stderr %q)", code, exitDifferent, stderr)
	}
	reportGolden(t, "plan/check-default.golden", stdout)
	for _, want := range []string{"/api/v1/webhooks", "/api/setup/*", "/api/models", "/api/workflows", "/api/health ", "/api/healthz", "/api/mcp/*"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("findings do not mention %s", want)
		}
	}
}

func TestPlanCheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	matrix := write("routes.yaml", "routes:\n  - route: /api/a\n    fastify: true\n  - route: /api/b\n    fastify: false\n")
	clean := write("clean.yaml", "steps:\n  - name: a\n    routes: [/api/a]\n")
	dirty := write("dirty.yaml", "steps:\n  - name: all\n    routes: []\n")
	badPlan := write("bad.yaml", "steps:\n  - name: a\n    routes: [/api/a]\n    extra: 1\n")
	badConfidence := write("confidence.yaml", "thresholds:\n  confidence: 95\nsteps:\n  - name: a\n    routes: [/api/a]\n")
	badMargin := write("margin.yaml", "thresholds:\n  min_parity: 0.99\n  parity_margin: 0\nsteps:\n  - name: a\n    routes: [/api/a]\n")
	statistical := write("statistical.yaml", "thresholds:\n  confidence: 0.99\n  parity_margin: 0.002\n  error_rate_margin: 0.01\nsteps:\n  - name: a\n    routes: [/api/a]\n")
	badSecurity := write("security.yaml", "thresholds:\n  security: off\nsteps:\n  - name: a\n    routes: [/api/a]\n")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"clean plan", []string{"plan", "check", "--plan", clean, "--routes", matrix}, exitOK, "plan check: 1 steps hold against 2 routes", ""},
		{"sveltekit-only route sent", []string{"plan", "check", "--plan", dirty, "--routes", matrix}, exitDifferent, "step 1 (all): sends /api/b to Fastify (the empty route list sends every /api/* route), but the matrix says Fastify does not serve it\n", "2 findings"},
		{"bad plan names file and line", []string{"plan", "--plan", badPlan, "check"}, exitUsage, "", "bad.yaml:4: unknown key \"extra\" in step 1"},
		{"bad confidence names file, line and key", []string{"plan", "check", "--plan", badConfidence, "--routes", matrix}, exitUsage, "", "confidence.yaml:2: confidence: 95 is out of range 0.5..0.9999"},
		{"bad margin names file, line and key", []string{"plan", "check", "--plan", badMargin, "--routes", matrix}, exitUsage, "", "margin.yaml:3: parity_margin: 0 is out of range"},
		{"the statistical keys are accepted", []string{"plan", "check", "--plan", statistical, "--routes", matrix}, exitOK, "plan check: 1 steps hold", ""},
		{"bad security threshold names file and line", []string{"plan", "check", "--plan", badSecurity, "--routes", matrix}, exitUsage, "", `security.yaml:2: security: "off" is not fail or warn`},
		{"missing matrix", []string{"plan", "check", "--routes", filepath.Join(dir, "gone.yaml")}, exitUsage, "", "gone.yaml"},
		{"no subcommand", []string{"plan"}, exitUsage, "", "want the subcommand check"},
		{"unknown subcommand", []string{"plan", "lint"}, exitUsage, "", "want the subcommand check"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, nil, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d (stdout %q, stderr %q)", code, tc.code, stdout, stderr)
			}
			if !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("stdout %q, stderr %q; want %q and %q", stdout, stderr, tc.stdout, tc.stderr)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("stderr is not one line: %q", stderr)
			}
		})
	}
}
