package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Bad use of `parity rollout` is one line naming the fault and exit 2; an
// admin listener that cannot be reached is exit 1.
func TestRolloutUsageErrors(t *testing.T) {
	dir := t.TempDir()
	auto := filepath.Join(dir, "auto.yaml")
	os.WriteFile(auto, []byte("rollout:\n  mode: autopilot\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "ok.yaml"), []byte("rollout:\n  mode: manual\n"), 0o644)
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
		{[]string{"rollout", "run", "--replica", "http://127.0.0.1:9090"}, exitUsage, "want one of --config and --configmap, and --replica or --replica-dns"},
		{[]string{"rollout", "run", "--config", auto, "--configmap", "portal/parity-config", "--replica", "http://127.0.0.1:9090"}, exitUsage, "want one of --config and --configmap"},
		{[]string{"rollout", "run", "--configmap", "portal/parity-config", "--replica-dns", "parity-admin:9090"}, exitUsage, "not in a Kubernetes pod"},
		{[]string{"rollout", "run", "--configmap", "parity-config", "--replica-dns", "parity-admin:9090"}, exitUsage, `"parity-config": want NAMESPACE/NAME`},
		{[]string{"rollout", "run", "--config", bad[:len(bad)-8] + "ok.yaml", "--replica-dns", "parity-admin"}, exitUsage, `--replica-dns "parity-admin": want HOST:PORT`},
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

// --replica-dns turns every address of a headless Service into a replica.
func TestReplicaURLs(t *testing.T) {
	lookup := func(_ context.Context, host string) ([]string, error) {
		if host != "parity-admin.portal.svc" {
			return nil, errors.New("no such host")
		}
		return []string{"10.0.0.8", "10.0.0.7", "fd00::9"}, nil
	}
	got, err := replicaURLs(context.Background(), []string{"http://a:9090/parity/report.json"}, "parity-admin.portal.svc:9090", lookup)
	want := []string{"http://a:9090/parity/report.json", "http://10.0.0.7:9090/parity/report.json",
		"http://10.0.0.8:9090/parity/report.json", "http://[fd00::9]:9090/parity/report.json"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("got %v %v, want %v", got, err, want)
	}
	if _, err := replicaURLs(context.Background(), nil, "gone:9090", lookup); err == nil || !strings.Contains(err.Error(), "look up replicas gone") {
		t.Errorf("lookup failure: %v", err)
	}
}
