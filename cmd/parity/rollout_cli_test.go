package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Bad use of `parity rollout` is one line naming the fault and exit 2; an
// admin listener that cannot be reached is exit 1.
func TestRolloutUsageErrors(t *testing.T) {
	dir := t.TempDir()
	auto := filepath.Join(dir, "auto.yaml")
	os.WriteFile(auto, []byte("rollout:\n  mode: autopilot\n"), 0o644)
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("rollout:\n  weights: [50, 10]\n"), 0o644)
	tests := []struct {
		args []string
		code int
		err  string
	}{
		{[]string{"rollout"}, exitUsage, "want one of status, pause, resume, promote, abort or run"},
		{[]string{"rollout", "jump"}, exitUsage, `unknown action "jump"`},
		{[]string{"rollout", "status", "--admin", "ftp://x"}, exitUsage, `--admin "ftp://x"`},
		{[]string{"rollout", "status", "--admin", "http://" + freeAddr(t)}, exitDifferent, "rollout status: "},
		{[]string{"rollout", "run", "--replica", "http://127.0.0.1:9090"}, exitUsage, "--config and at least one --replica are required"},
		{[]string{"rollout", "run", "--config", auto, "--replica", "http://127.0.0.1:9090"}, exitUsage, "rollout.mode is autopilot"},
		{[]string{"rollout", "run", "--config", bad, "--replica", "http://127.0.0.1:9090"}, exitUsage, "bad.yaml:2: rollout.weights[1]"},
		{[]string{"rollout", "run", "--config", auto[:len(auto)-9] + "none.yaml", "--replica", "x"}, exitUsage, "none.yaml"},
		{[]string{"proxy", "--autopilot", "--config", bad}, exitUsage, "rollout.weights[1]"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, stderr, code := runInProcess(t, nil, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.err) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("exit %d, stderr %q; want %d and a line with %q", code, stderr, tc.code, tc.err)
			}
		})
	}
}
