package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// A bad cutover.weights, cutover.rest or cutover.sticky is a usage error of
// config check and of the proxy: one line naming the file, line and key, exit 2.
func TestBadCutoverWeightsAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, yaml, want string
	}{
		{"percent over 100", "cutover:\n  enabled: true\n  weights:\n    /api/sessions: 150\n",
			`:4: cutover.weights[/api/sessions]: percent must be between 0 and 100, got 150`},
		{"prefix covering /api/auth", "cutover:\n  weights:\n    /api/: 10\n",
			`:3: cutover.weights[/api/]: prefix "/api/" covers /api/auth, which never goes to the candidate`},
		{"prefix outside /api", "cutover:\n  weights: {/health: 10}\n",
			`:2: cutover.weights[/health]: prefix "/health" is not under /api/`},
		{"rest below 0", "cutover:\n  rest: -5\n",
			`:2: cutover.rest: percent must be between 0 and 100, got -5`},
		{"sticky unknown", "cutover:\n  sticky: ip\n",
			`:2: cutover.sticky: "ip": want cookie:NAME, header:NAME or client_ip`},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(dir, "w"+string(rune('a'+i))+".yaml")
			writeFile(t, cfg, tc.yaml)
			for _, args := range [][]string{{"config", "check", "--config", cfg}, {"proxy", "--config", cfg, "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"}} {
				_, errOut, code := runInProcess(t, nil, args...)
				if code != exitUsage || !strings.Contains(errOut, cfg+tc.want) || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
					t.Errorf("%s: exit %d, stderr %q; want 2 and one line with %q", args[0], code, errOut, cfg+tc.want)
				}
			}
		})
	}
}

// A valid configuration with weights passes config check.
func TestConfigCheckAcceptsWeights(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "parity.yaml")
	writeFile(t, cfg, "cutover:\n  enabled: true\n  routes: [/api/health]\n  weights: {/api/sessions: 10, /api/v1/: 50}\n  rest: 1\n  sticky: cookie:portal_session\n")
	out, errOut, code := runInProcess(t, nil, "config", "check", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "is valid") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and valid", code, out, errOut)
	}
}
