package report

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/fixtures"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, d)
	}
}

func defaultPlan(t testing.TB) *Plan {
	t.Helper()
	p, err := ParsePlan("plan.yaml", fixtures.Plan)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func defaultMatrix(t testing.TB) *Matrix {
	t.Helper()
	m, err := ParseMatrix("routes.yaml", fixtures.Routes)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDefaultPlanIsTheGuides(t *testing.T) {
	p := defaultPlan(t)
	// FASTIFY_PROXY_ROUTES of each step, as the guide writes them.
	want := []string{
		"/api/health,/api/healthz,/api/metrics",
		"/api/health,/api/healthz,/api/metrics,/api/sessions,/api/activity",
		"/api/health,/api/healthz,/api/metrics,/api/sessions,/api/activity,/api/tools,/api/chat",
		"/api/health,/api/healthz,/api/metrics,/api/sessions,/api/activity,/api/tools,/api/chat,/api/v1/",
		"",
	}
	var got []string
	for _, s := range p.Steps {
		got = append(got, strings.Join(s.Routes, ","))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("step routes (-guide +plan):\n%s", d)
	}
	wantTh := Thresholds{MinSamples: 50, MinParity: 0.99, MaxCandidateErrorRate: 0.01, MaxP99Ratio: 2, P99FloorMs: 10,
		Confidence: 0.95, ParityMargin: 0.005, ErrorRateMargin: 0.005, Security: SecurityFail}
	if d := cmp.Diff(wantTh, p.Thresholds); d != "" {
		t.Errorf("thresholds (-want +got):\n%s", d)
	}
	if p.Steps[0].Name != "Health & Metrics Only" || p.Steps[4].Name != "Full Proxy" {
		t.Errorf("step names %q .. %q", p.Steps[0].Name, p.Steps[4].Name)
	}
}

func TestParsePlanErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "p.yaml: file is empty"},
		{"not yaml", "steps: [", "p.yaml: "},
		{"top level list", "- a", "p.yaml:1: want a mapping at the top level"},
		{"unknown top key", "steps:\n  - {name: a, routes: []}\nthreshold: {}\n", `p.yaml:3: unknown key "threshold" in plan`},
		{"unknown threshold", "thresholds:\n  min_sample: 5\nsteps: [{name: a, routes: []}]\n", `p.yaml:2: unknown key "min_sample" in thresholds`},
		{"bad number", "thresholds:\n  min_parity: high\nsteps: [{name: a, routes: []}]\n", `p.yaml:2: min_parity: "high" is not a number`},
		{"quoted number", "thresholds:\n  min_parity: \"0.9\"\nsteps: [{name: a, routes: []}]\n", `p.yaml:2: min_parity: "0.9" is not a number`},
		{"parity out of range", "thresholds:\n  min_parity: 1.5\nsteps: [{name: a, routes: []}]\n", "p.yaml:2: min_parity: 1.5 is out of range 0..1"},
		{"fractional samples", "thresholds:\n  min_samples: 2.5\nsteps: [{name: a, routes: []}]\n", `p.yaml:2: min_samples: "2.5" is not a whole number`},
		{"negative samples", "thresholds:\n  min_samples: -1\nsteps: [{name: a, routes: []}]\n", "p.yaml:2: min_samples: -1 is below 0"},
		{"ratio below one", "thresholds:\n  max_p99_ratio: 0.5\nsteps: [{name: a, routes: []}]\n", "max_p99_ratio: 0.5 is out of range"},
		{"bad bool", "thresholds:\n  allow_candidate_auth_failures: maybe\nsteps: [{name: a, routes: []}]\n", "is not true or false"},
		{"confidence too low", "thresholds:\n  confidence: 0.4\nsteps: [{name: a, routes: []}]\n", "p.yaml:2: confidence: 0.4 is out of range 0.5..0.9999"},
		{"confidence of one", "thresholds:\n  confidence: 1\nsteps: [{name: a, routes: []}]\n", "p.yaml:2: confidence: 1 is out of range 0.5..0.9999"},
		{"confidence as percent", "thresholds:\n  confidence: 95\nsteps: [{name: a, routes: []}]\n", "p.yaml:2: confidence: 95 is out of range"},
		{"zero parity margin", "thresholds:\n  parity_margin: 0\nsteps: [{name: a, routes: []}]\n", "p.yaml:2: parity_margin: 0 is out of range: want more than 0 and less than 0.5"},
		{"negative parity margin", "thresholds:\n  parity_margin: -0.01\nsteps: [{name: a, routes: []}]\n", "p.yaml:2: parity_margin: -0.01 is out of range 0..0.5"},
		{"bad error rate margin", "thresholds:\n  error_rate_margin: wide\nsteps: [{name: a, routes: []}]\n", `p.yaml:2: error_rate_margin: "wide" is not a number`},
		{"bad security policy", "thresholds:\n  security: ignore\nsteps: [{name: a, routes: []}]\n", `p.yaml:2: security: "ignore" is not fail or warn`},
		{"no steps", "thresholds: {}\n", "p.yaml:1: plan has no steps"},
		{"empty steps", "steps: []\n", "p.yaml:1: steps: want a list of at least one step"},
		{"step without name", "steps:\n  - routes: []\n", "p.yaml:2: step 1 has no name"},
		{"step without routes", "steps:\n  - name: a\n", "p.yaml:2: step 1 has no routes key"},
		{"unknown step key", "steps:\n  - name: a\n    routes: []\n    rotues: [/x]\n", `p.yaml:4: unknown key "rotues" in step 1`},
		{"relative prefix", "steps:\n  - name: a\n    routes: [api/x]\n", `p.yaml:3: step 1 routes: "api/x" is not a path prefix`},
		{"duplicate key", "steps:\n  - name: a\n    name: b\n    routes: []\n", `p.yaml:3: step 1: key "name" repeats the one on line 2`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParsePlan("p.yaml", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestParsePlanForms(t *testing.T) {
	p, err := ParsePlan("p.yaml", []byte("thresholds:\n  min_samples: 7\nsteps:\n  - name: one\n    routes: /api/a, /api/b/\n  - name: all\n    routes:\n"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"/api/a", "/api/b/"}, p.Steps[0].Routes); d != "" {
		t.Errorf("comma-separated routes (-want +got):\n%s", d)
	}
	if !p.Steps[1].CatchAll() {
		t.Error("a null routes list is not the catch-all")
	}
	if p.Thresholds.MinSamples != 7 || p.Thresholds.MinParity != DefaultThresholds.MinParity {
		t.Errorf("thresholds %+v: want min_samples overridden and the rest defaults", p.Thresholds)
	}
}

// TestPlanStatisticalKeys: a plan written before confidence and the margins
// existed keeps its thresholds and gets their defaults; a plan that sets them
// gets what it wrote.
func TestPlanStatisticalKeys(t *testing.T) {
	old, err := ParsePlan("old.yaml", []byte("thresholds:\n  min_samples: 50\n  min_parity: 0.98\n  max_p99_ratio: 3\nsteps: [{name: a, routes: []}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultThresholds
	want.MinParity, want.MaxP99Ratio = 0.98, 3
	if d := cmp.Diff(want, old.Thresholds); d != "" {
		t.Errorf("a plan without the new keys (-want +got):\n%s", d)
	}
	set, err := ParsePlan("new.yaml", []byte("thresholds:\n  confidence: 0.99\n  parity_margin: 0.002\n  error_rate_margin: 0.01\nsteps: [{name: a, routes: []}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	want = DefaultThresholds
	want.Confidence, want.ParityMargin, want.ErrorRateMargin = 0.99, 0.002, 0.01
	if d := cmp.Diff(want, set.Thresholds); d != "" {
		t.Errorf("a plan setting them (-want +got):\n%s", d)
	}
	// A zero Thresholds (built in code) reads the defaults.
	var zero Thresholds
	if zero.confidence() != DefaultConfidence || zero.parityMargin() != DefaultParityMargin || zero.errorRateMargin() != DefaultErrorRateMargin {
		t.Errorf("zero thresholds read %g, %g, %g", zero.confidence(), zero.parityMargin(), zero.errorRateMargin())
	}
}

func TestStepSends(t *testing.T) {
	explicit := Step{Routes: []string{"/api/health", "/api/v1/", "/api/auth"}}
	all := Step{}
	tests := []struct {
		name string
		step *Step
		path string
		want bool
	}{
		{"exact prefix", &explicit, "/api/health", true},
		{"under the prefix", &explicit, "/api/health/x", true},
		{"segment boundary", &explicit, "/api/healthz", false},
		{"trailing slash prefix covers what is under it", &explicit, "/api/v1/search", true},
		{"trailing slash prefix needs the slash", &explicit, "/api/v1", false},
		{"trailing slash prefix is not a word prefix", &explicit, "/api/v10/search", false},
		{"auth is never sent even when listed", &explicit, "/api/auth/callback", false},
		{"catch-all sends /api", &all, "/api/models", true},
		{"catch-all sends /api itself", &all, "/api", true},
		{"catch-all never sends auth", &all, "/api/auth/login", false},
		{"catch-all never sends auth in any case", &all, "/API/Auth/login", false},
		{"catch-all is only /api", &all, "/healthz", false},
		{"catch-all respects the segment boundary", &all, "/apix", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.step.Sends(tc.path); got != tc.want {
				t.Errorf("Sends(%q) = %v, want %v", tc.path, got, tc.want)
			}
		})
	}
}

func TestParseMatrix(t *testing.T) {
	m := defaultMatrix(t)
	if len(m.Routes) != 19 {
		t.Errorf("matrix has %d routes, want the guide's 18 rows with /healthz and /health apart", len(m.Routes))
	}
	byRoute := map[string]MatrixRoute{}
	for _, r := range m.Routes {
		byRoute[r.Route] = r
	}
	checks := []struct {
		route, method, path string
		fastify             bool
	}{
		{"/healthz", "", "/healthz", true},
		{"POST /api/chat", "POST", "/api/chat", true},
		{"/api/mcp/*", "", "/api/mcp", true},
		{"/api/auth/[...all]", "", "/api/auth", false},
		{"/api/workflows", "", "/api/workflows", false},
	}
	for _, c := range checks {
		r, ok := byRoute[c.route]
		if !ok || r.Method != c.method || r.Path != c.path || r.Fastify != c.fastify {
			t.Errorf("route %q = %+v, want method %q path %q fastify %v", c.route, r, c.method, c.path, c.fastify)
		}
	}
	for _, tc := range []struct{ name, in, want string }{
		{"unknown key", "routes:\n  - route: /a\n    fastify: yes\n    owner: x\n", `m.yaml:4: unknown key "owner" in route`},
		{"missing fastify", "routes:\n  - route: /a\n", "m.yaml:2: route \"/a\" has no fastify key"},
		{"bad fastify", "routes:\n  - route: /a\n    fastify: sometimes\n", "m.yaml:3: fastify: \"sometimes\" is not true or false"},
		{"relative route", "routes:\n  - route: a\n    fastify: true\n", `m.yaml:2: route "a": want a path`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseMatrix("m.yaml", []byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCheckPlanDefault(t *testing.T) {
	var b strings.Builder
	for _, f := range CheckPlan(defaultPlan(t), defaultMatrix(t)) {
		b.WriteString(f.String())
		b.WriteByte('\n')
	}
	golden(t, "plan-check-default.golden", []byte(b.String()))
}

func TestCheckPlanKinds(t *testing.T) {
	m := defaultMatrix(t)
	tests := []struct {
		name string
		plan string
		want []string // kinds, in order
	}{
		{"a clean plan", "steps:\n  - name: a\n    routes: [/api/metrics, /api/sessions, /api/activity, /api/tools, /api/chat, /api/v1/workflows, /api/v1/search, /api/mcp, /api/v1/openapi.json]\n", []string{FindingNeverSent, FindingNeverSent}},
		{"listing auth", "steps:\n  - name: a\n    routes: [/api/auth, /api/metrics]\n", []string{FindingAuth}},
		{"a prefix under a sveltekit-only route", "steps:\n  - name: a\n    routes: [/api/setup/idp]\n", []string{FindingSvelteKitOnly}},
		{"an unknown prefix", "steps:\n  - name: a\n    routes: [/api/nothing]\n", []string{FindingUnknownPrefix}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParsePlan("p.yaml", []byte(tc.plan))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range CheckPlan(p, m) {
				if f.Kind == FindingNeverSent && len(tc.want) < 2 {
					continue // the partial plans here leave most routes unsent
				}
				got = append(got, f.Kind)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("finding kinds (-want +got):\n%s", d)
			}
		})
	}
}

func TestPlanAndMatrixTemplates(t *testing.T) {
	p, err := ParsePlan("plan.yaml", []byte("steps:\n  - name: a\n    routes: [/api/health, /api/v1/]\n  - name: b\n    routes: [/api/health, /api/sessions]\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range p.Templates("plan.yaml") {
		got = append(got, d.Template.String()+" ("+d.Source.String()+", "+d.Origin+")")
	}
	want := []string{"/api/health (plan, plan.yaml: step 1, /api/health)", "/api/v1 (plan, plan.yaml: step 1, /api/v1/)", "/api/sessions (plan, plan.yaml: step 2, /api/sessions)"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("plan templates (-want +got):\n%s", d)
	}
	m, err := ParseMatrix("routes.yaml", []byte("routes:\n  - route: POST /api/chat\n    fastify: true\n  - route: /api/mcp/*\n    fastify: true\n  - route: /api/auth/[...all]\n    fastify: false\n"))
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, d := range m.Templates("routes.yaml") {
		got = append(got, d.Template.String()+" ("+d.Origin+")")
	}
	want = []string{"POST /api/chat (routes.yaml: POST /api/chat)", "/api/mcp (routes.yaml: /api/mcp/*)", "/api/auth (routes.yaml: /api/auth/[...all])"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("matrix templates (-want +got):\n%s", d)
	}
}
