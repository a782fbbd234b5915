package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parity-dev/parity/fixtures"
	"github.com/parity-dev/parity/fixtures/standin"
	"github.com/parity-dev/parity/report"
)

// step1Traffic writes the recorded requests of the plan's first step (health and
// metrics) to an NDJSON file, twelve times over: the gate passes a route on a
// few hundred requests, not on the few dozen recorded.
func step1Traffic(t *testing.T) string {
	t.Helper()
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(fixtures.TrafficNDJSON))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var req struct {
			URL string `json:"url"`
		}
		if json.Unmarshal(sc.Bytes(), &req) != nil {
			continue
		}
		path, _, _ := strings.Cut(req.URL, "?")
		if slices.Contains([]string{"/api/health", "/api/healthz", "/api/metrics"}, path) {
			out.Write(sc.Bytes())
			out.WriteByte('\n')
		}
	}
	return writeTemp(t, "step1.ndjson", strings.Repeat(out.String(), 12))
}

// TestGatePassesOnNoiseOnly replays step 1's recorded traffic against the
// stand-ins, whose health answers differ between any two instances
// (generatedAt, uptime), and gates step 1 on the snapshot: noise learned from a
// second instance or by re-asking the primary passes the gate; without either,
// the same traffic fails it.
func TestGatePassesOnNoiseOnly(t *testing.T) {
	start := func(h *httptest.Server) string { t.Cleanup(h.Close); return h.URL }
	primary := start(httptest.NewServer(standin.NewSvelteKit(standin.Options{Instance: "sveltekit-1"})))
	secondary := start(httptest.NewServer(standin.NewSvelteKit(standin.Options{Instance: "sveltekit-2"})))
	candidate := start(httptest.NewServer(standin.NewFastify(standin.Options{Instance: "fastify-1"})))
	traffic := step1Traffic(t)
	example := writeTemp(t, "parity.yaml", string(fixtures.ExampleConfig)) // refetch on /api/health
	bare := writeTemp(t, "bare.yaml", "compare:\n  ignore: []\n")
	// The guide's plan, but for latency: a loaded test machine's p99s say nothing
	// about noise.
	relaxed := strings.Replace(string(fixtures.Plan), "p99_floor_ms: 10 ", "p99_floor_ms: 60000 ", 1)
	if relaxed == string(fixtures.Plan) {
		t.Fatal("the built-in plan no longer sets p99_floor_ms: 10")
	}
	plan := writeTemp(t, "plan.yaml", relaxed)

	tests := []struct {
		name     string
		args     []string
		wantGate int
	}{
		{"noise learned from a second instance", []string{"--config", bare, "--secondary", secondary}, exitOK},
		{"noise learned by re-asking the primary (refetch)", []string{"--config", example}, exitOK},
		{"no way to learn noise", []string{"--config", bare}, exitDifferent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			snap := filepath.Join(t.TempDir(), "snapshot.json")
			args := append([]string{"replay", "--traffic", traffic, "--primary", primary, "--candidate", candidate, "--snapshot", snap}, tc.args...)
			if _, stderr, code := runInProcess(t, nil, args...); code != exitOK {
				t.Fatalf("replay exit %d: %s", code, stderr)
			}
			stdout, stderr, code := runInProcess(t, nil, "gate", "--step", "1", "--plan", plan, snap)
			if code != tc.wantGate {
				t.Errorf("gate exit %d, want %d\n%s%s", code, tc.wantGate, stdout, stderr)
			}
			s, err := report.ReadSnapshotFile(snap)
			if err != nil {
				t.Fatal(err)
			}
			health := s.Route("GET /api/health")
			if health == nil {
				t.Fatal("GET /api/health not in the snapshot")
			}
			var learned []string
			for _, n := range health.Noise {
				if n.Learned {
					learned = append(learned, n.Path)
				}
			}
			slices.Sort(learned)
			wantLearned := []string{"body.generatedAt", "body.uptime"}
			if tc.wantGate != exitOK {
				wantLearned = nil
			}
			if !slices.Equal(learned, wantLearned) {
				t.Errorf("learned on /api/health: %v, want %v (noise %+v)", learned, wantLearned, health.Noise)
			}
		})
	}
}
