package rules

import (
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parity-dev/parity/report"
)

// TestRouterNoisePolicy: the noise: section applies to every route, a route's
// own noise: entry overrides it field by field.
func TestRouterNoisePolicy(t *testing.T) {
	cfg, err := ParseConfig("parity.yaml", []byte(`noise:
  window: 8
  reask_concurrency: 3
  reask_rate: 2.5
routes:
  - match: GET /api/health
    refetch: true
    noise: {confirm: 6}
  - match: GET /api/other
`))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]NoisePolicy{}
	for _, path := range []string{"/api/health", "/api/other", "/api/sessions"} {
		got[path] = rt.Decide(httptest.NewRequest("GET", path, nil)).Noise
	}
	want := map[string]NoisePolicy{
		"/api/health":   {Rule: report.NoiseRule{Confirm: 6, Window: 8}, ReaskConcurrency: 3, ReaskRate: 2.5},
		"/api/other":    {Rule: report.NoiseRule{Window: 8}, ReaskConcurrency: 3, ReaskRate: 2.5},
		"/api/sessions": {Rule: report.NoiseRule{Window: 8}, ReaskConcurrency: 3, ReaskRate: 2.5},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("noise policies (-want +got):\n%s", d)
	}
}
