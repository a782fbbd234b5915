package rules

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
)

// newRequest is an inbound server request for target, as net/http builds it.
func newRequest(method, target string) *http.Request {
	return &http.Request{Method: method, RequestURI: target, Header: http.Header{}}
}

// The guide's rollout steps as FASTIFY_PROXY_ROUTES values.
var guideSteps = map[int]string{
	1: "/api/health,/api/healthz,/api/metrics",
	2: "/api/health,/api/healthz,/api/metrics,/api/sessions,/api/activity",
	3: "/api/health,/api/healthz,/api/metrics,/api/sessions,/api/activity,/api/tools,/api/chat",
	4: "/api/health,/api/healthz,/api/metrics,/api/sessions,/api/activity,/api/tools,/api/chat,/api/v1/",
	5: "",
}

// stepRouter builds the Router of a guide step with the environment the guide sets,
// on top of the config file text.
func stepRouter(t testing.TB, yaml string, env map[string]string) *Router {
	t.Helper()
	cfg, err := ParseConfig("parity.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	rt, err := NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// outcome is the part of a Decision the routing table checks.
type outcome struct {
	Serve  Backend
	Mirror bool
	Skip   report.SkipReason
}

func TestDecide(t *testing.T) {
	on := func(step int) map[string]string {
		return map[string]string{"FASTIFY_ENABLED": "true", "FASTIFY_PROXY_ROUTES": guideSteps[step]}
	}
	off := map[string]string{"FASTIFY_ENABLED": "false", "FASTIFY_PROXY_ROUTES": guideSteps[4]}
	const writes = "routes:\n  - match: POST /api/sessions\n    mirror_writes: true\n  - match: /api/sessions/:id\nshadow:\n  write_routes: [/api/tools/]\n  exclude: [/api/metrics, /api/v1/mcp/]\n"
	const verify = "shadow:\n  verify_cutover: true\n"
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		method  string
		target  string
		header  http.Header
		want    outcome
		wantKey string // route key, when the case is about it
	}{
		// The guide's steps.
		{"disabled serves everything from the primary and mirrors", "", off, "GET", "/api/health", nil, outcome{Primary, true, ""}, ""},
		{"step 1 cuts over health", "", on(1), "GET", "/api/health", nil, outcome{Candidate, false, report.SkipCutOver}, ""},
		{"step 1 prefix matches below", "", on(1), "GET", "/api/health/deep", nil, outcome{Candidate, false, report.SkipCutOver}, ""},
		{"step 1 healthz is its own prefix", "", on(1), "GET", "/api/healthz", nil, outcome{Candidate, false, report.SkipCutOver}, ""},
		{"step 1 segment boundary", "", on(1), "GET", "/api/healthcheck", nil, outcome{Primary, true, ""}, ""},
		{"step 1 sessions stay and are shadowed", "", on(1), "GET", "/api/sessions", nil, outcome{Primary, true, ""}, ""},
		{"step 2 sessions cut over", "", on(2), "GET", "/api/sessions/42", nil, outcome{Candidate, false, report.SkipCutOver}, ""},
		{"step 2 chat stays", "", on(2), "GET", "/api/chat", nil, outcome{Primary, true, ""}, ""},
		{"step 3 chat cut over", "", on(3), "POST", "/api/chat", nil, outcome{Candidate, false, report.SkipCutOver}, ""},
		{"step 3 v1 stays", "", on(3), "GET", "/api/v1/workflows", nil, outcome{Primary, true, ""}, ""},
		{"step 4 trailing slash prefix matches below", "", on(4), "GET", "/api/v1/workflows", nil, outcome{Candidate, false, report.SkipCutOver}, ""},
		{"step 4 trailing slash prefix needs the slash", "", on(4), "GET", "/api/v1", nil, outcome{Primary, true, ""}, ""},
		{"step 4 legacy workflows stay", "", on(4), "GET", "/api/workflows", nil, outcome{Primary, true, ""}, ""},
		{"step 5 everything under api", "", on(5), "GET", "/api/setup/idp", nil, outcome{Candidate, false, report.SkipCutOver}, ""},
		{"step 5 never auth", "", on(5), "GET", "/api/auth/callback", nil, outcome{Primary, false, report.SkipAuth}, ""},
		{"step 5 never auth in upper case", "", on(5), "GET", "/API/AUTH/callback", nil, outcome{Primary, false, report.SkipAuth}, ""},
		{"step 5 never auth through dot segments", "", on(5), "GET", "/api/x/../auth/x", nil, outcome{Primary, false, report.SkipAuth}, ""},
		{"step 5 never ambiguous", "", on(5), "GET", "/api/sessions%2F..%2Fauth", nil, outcome{Primary, false, report.SkipAmbiguous}, ""},
		{"step 5 non-api stays on the primary unmirrored", "", on(5), "GET", "/dashboard", nil, outcome{Primary, false, ""}, ""},
		{"step 5 root health stays", "", on(5), "GET", "/healthz", nil, outcome{Primary, false, ""}, ""},
		{"step 5 api alone stays", "", on(5), "GET", "/api", nil, outcome{Primary, true, ""}, ""},
		{"cutover prefixes are case-sensitive", "", on(2), "GET", "/API/sessions", nil, outcome{Primary, true, ""}, ""},
		{"absolute-form target", "", on(2), "GET", "http://evil/api/sessions?x=1", nil, outcome{Candidate, false, report.SkipCutOver}, ""},
		{"absolute-form auth", "", on(5), "GET", "http://h/api/%61uth", nil, outcome{Primary, false, report.SkipAuth}, ""},

		// Verifying a cutover mirrors to the primary, safe methods only.
		{"verify mirrors cut-over reads", verify, on(2), "GET", "/api/sessions", nil, outcome{Candidate, true, ""}, ""},
		{"verify never mirrors writes to the primary", verify + "  write_routes: [/api/sessions/]\n", on(2), "POST", "/api/sessions/", nil, outcome{Candidate, false, report.SkipWriteMethod}, ""},

		// Methods.
		{"HEAD mirrored", "", nil, "HEAD", "/api/sessions", nil, outcome{Primary, true, ""}, ""},
		{"OPTIONS mirrored", "", nil, "OPTIONS", "/api/sessions", nil, outcome{Primary, true, ""}, ""},
		{"empty method is GET", "", nil, "", "/api/sessions", nil, outcome{Primary, true, ""}, "GET /api/sessions"},
		{"POST not mirrored", "", nil, "POST", "/api/sessions", nil, outcome{Primary, false, report.SkipWriteMethod}, ""},
		{"DELETE not mirrored", "", nil, "DELETE", "/api/sessions/1", nil, outcome{Primary, false, report.SkipWriteMethod}, ""},
		{"unknown method not mirrored", "", nil, "PROPFIND", "/api/sessions", nil, outcome{Primary, false, report.SkipWriteMethod}, ""},
		{"lower-case method is unknown", "", nil, "get", "/api/sessions", nil, outcome{Primary, false, report.SkipWriteMethod}, ""},
		{"CONNECT never mirrored", writes, nil, "CONNECT", "/api/tools/x", nil, outcome{Primary, false, report.SkipWriteMethod}, ""},
		{"TRACE not in the default methods", "", nil, "TRACE", "/api/sessions", nil, outcome{Primary, false, report.SkipWriteMethod}, ""},
		{"methods narrowed", "shadow:\n  methods: [GET]\n", nil, "HEAD", "/api/sessions", nil, outcome{Primary, false, report.SkipWriteMethod}, ""},
		{"method override names a write", "", nil, "GET", "/api/sessions", http.Header{"X-Http-Method-Override": {"DELETE"}}, outcome{Primary, false, report.SkipWriteMethod}, ""},
		{"X-Method-Override", "", nil, "GET", "/api/sessions", http.Header{"X-Method-Override": {"PUT"}}, outcome{Primary, false, report.SkipWriteMethod}, ""},
		{"X-HTTP-Method", "", nil, "GET", "/api/sessions", http.Header{"X-Http-Method": {"PATCH"}}, outcome{Primary, false, report.SkipWriteMethod}, ""},
		{"override naming the same method", "", nil, "GET", "/api/sessions", http.Header{"X-Http-Method-Override": {" get "}}, outcome{Primary, true, ""}, ""},
		{"override on an opted-in write", writes, nil, "POST", "/api/sessions", http.Header{"X-Http-Method-Override": {"DELETE"}}, outcome{Primary, false, report.SkipWriteMethod}, ""},

		// Write opt-in.
		{"route opts its writes in", writes, nil, "POST", "/api/sessions", nil, outcome{Primary, true, ""}, "POST /api/sessions"},
		{"opt-in is per method", writes, nil, "DELETE", "/api/sessions", nil, outcome{Primary, false, report.SkipWriteMethod}, ""},
		{"first matching route wins", writes, nil, "DELETE", "/api/sessions/7", nil, outcome{Primary, false, report.SkipWriteMethod}, "DELETE /api/sessions/:id"},
		{"write routes prefix", writes, nil, "POST", "/api/tools/execute", nil, outcome{Primary, true, ""}, ""},
		{"write routes prefix with slash needs it", writes, nil, "POST", "/api/tools", nil, outcome{Primary, false, report.SkipWriteMethod}, ""},

		// Exclusions.
		{"excluded", writes, nil, "GET", "/api/metrics", nil, outcome{Primary, false, report.SkipExcluded}, ""},
		{"excluded ignoring case", writes, nil, "GET", "/API/Metrics/x", nil, outcome{Primary, false, report.SkipExcluded}, ""},
		{"excluded on a segment boundary", writes, nil, "GET", "/api/metricsx", nil, outcome{Primary, true, ""}, ""},
		{"excluded prefix with slash", writes, nil, "GET", "/api/v1/mcp/tools", nil, outcome{Primary, false, report.SkipExcluded}, ""},

		// Sampling.
		{"sample 0", "shadow:\n  sample: 0\n", nil, "GET", "/api/sessions", nil, outcome{Primary, false, report.SkipSampledOut}, ""},
		{"sample 1", "shadow:\n  sample: 1\n", nil, "GET", "/api/sessions", nil, outcome{Primary, true, ""}, ""},
		{"sample 0 still reports auth first", "shadow:\n  sample: 0\n", nil, "GET", "/api/auth", nil, outcome{Primary, false, report.SkipAuth}, ""},

		// Route keys.
		{"key from identifiers", "", nil, "GET", "/api/sessions/42?x=1", nil, outcome{Primary, true, ""}, "GET /api/sessions/:id"},
		{"key from a template", "routes:\n  - match: /api/v1/workflows/:workflow\n", nil, "GET", "/api/v1/workflows/nightly", nil, outcome{Primary, true, ""}, "GET /api/v1/workflows/:workflow"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := stepRouter(t, tc.yaml, tc.env)
			r := newRequest(tc.method, tc.target)
			if tc.header != nil {
				r.Header = tc.header
			}
			d := rt.Decide(r)
			if diff := cmp.Diff(tc.want, outcome{d.Serve, d.Mirror, d.Skip}); diff != "" {
				t.Errorf("%s %s (-want +got):\n%s\ndecision %+v", tc.method, tc.target, diff, d)
			}
			if tc.wantKey != "" && d.Route != tc.wantKey {
				t.Errorf("route key = %q, want %q", d.Route, tc.wantKey)
			}
			if d.Rules == nil {
				t.Error("Rules is nil")
			}
		})
	}
}

// TestDecideFields checks every field of one Decision, and that the client side
// (r.URL, no RequestURI) is read too.
func TestDecideFields(t *testing.T) {
	rt := stepRouter(t, "routes:\n  - match: GET /api/v1/search\n    refetch: true\n    ignore: [body.took]\n", nil)
	r := httptest.NewRequest("GET", "/api/v1/%73earch?q=x", nil)
	r.RequestURI = ""
	d := rt.Decide(r)
	want := Decision{Path: "/api/v1/search", API: true, Route: "GET /api/v1/search", Serve: Primary, Mirror: true, Rules: rt.routes[0].rules, Refetch: true, FollowCanonical: true}
	if diff := cmp.Diff(want, d, cmp.Comparer(func(a, b *diff.Rules) bool { return a == b })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if d.Rules == rt.defaultRules {
		t.Error("route rules not used")
	}
	if d := rt.Decide(newRequest("GET", "/api/sessions")); d.Rules != rt.defaultRules || d.Refetch {
		t.Errorf("unmatched route: rules %p (default %p), refetch %v", d.Rules, rt.defaultRules, d.Refetch)
	}
}

func TestDecideSampling(t *testing.T) {
	rt := stepRouter(t, "shadow:\n  sample: 0.5\n", nil)
	draws := []float64{0.1, 0.7, 0.49, 0.5}
	rt.random = func() float64 { v := draws[0]; draws = draws[1:]; return v }
	var got []bool
	for range 4 {
		got = append(got, rt.Decide(newRequest("GET", "/api/sessions")).Mirror)
	}
	if diff := cmp.Diff([]bool{true, false, true, false}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRouterRejectsInvalidConfig(t *testing.T) {
	_, err := NewRouter(&Config{Cutover: CutoverConfig{Routes: []string{"/Api/Auth"}}})
	if err == nil || !strings.Contains(err.Error(), "covers /api/auth") {
		t.Errorf("NewRouter = %v, want the auth rule", err)
	}
}

func BenchmarkDecide(b *testing.B) {
	rt := stepRouter(b, fullConfig, map[string]string{"FASTIFY_ENABLED": "true", "FASTIFY_PROXY_ROUTES": guideSteps[3]})
	for _, bc := range []struct{ name, target string }{
		{"shadowed", "/api/v1/workflows?limit=10"},
		{"cut-over", "/api/sessions/3f1c2a9e-1111-4222-8333-444455556666"},
		{"encoded", "/api/%61uth/../v1//search;x"},
	} {
		r := newRequest("GET", bc.target)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rt.Decide(r)
			}
		})
	}
}

func ExampleRouter_Decide() {
	cfg, err := ParseConfig("parity.yaml", []byte("cutover:\n  enabled: true\n  routes: [/api/health, /api/sessions]\n"))
	if err != nil {
		panic(err)
	}
	rt, err := NewRouter(cfg)
	if err != nil {
		panic(err)
	}
	for _, target := range []string{"/api/sessions/42", "/api/activity", "/API/%61uth/x", "/dashboard"} {
		d := rt.Decide(httptest.NewRequest("GET", target, nil))
		fmt.Printf("%-18s route=%-26q serve=%-9v mirror=%-5v skip=%q\n", target, d.Route, d.Serve, d.Mirror, d.Skip)
	}
	// Output:
	// /api/sessions/42   route="GET /api/sessions/:id"    serve=candidate mirror=false skip="cut_over"
	// /api/activity      route="GET /api/activity"        serve=primary   mirror=true  skip=""
	// /API/%61uth/x      route="GET /api/auth/x"          serve=primary   mirror=false skip="auth"
	// /dashboard         route="GET /*"                   serve=primary   mirror=false skip=""
}

// TestDecideRulesAndKeyFromOneTemplate: the comparison rules a request gets and
// the route key it is reported under come from the same template match, whatever
// the method's case or a trailing slash.
func TestDecideRulesAndKeyFromOneTemplate(t *testing.T) {
	rt := stepRouter(t, "routes:\n  - match: GET /api/items/:name\n    ignore: [body.x]\n", nil)
	for _, tc := range []struct {
		method, target string
		template       bool
	}{
		{"GET", "/api/items/alpha", true},
		{"GET", "/api/items/alpha/", true},
		{"GET", "/api/items/alpha?x=1", true},
		{"get", "/api/items/alpha", false}, // HTTP methods are case-sensitive
		{"POST", "/api/items/alpha", false},
		{"GET", "/API/items/alpha", true}, // spellings of one path are one route
		{"GET", "/api/items", false},
	} {
		d := rt.Decide(newRequest(tc.method, tc.target))
		keyed := d.Route == "GET /api/items/:name"
		ruled := d.Rules != rt.defaultRules
		if keyed != tc.template || ruled != tc.template {
			t.Errorf("%s %s: key %q (from the template: %v), template rules %v; want both %v",
				tc.method, tc.target, d.Route, keyed, ruled, tc.template)
		}
	}
}
