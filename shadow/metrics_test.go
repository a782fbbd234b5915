package shadow

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parity-dev/parity/report/route"
	"github.com/parity-dev/parity/shadow/rules"
	"go.yaml.in/yaml/v3"
)

// exportedFamilies drives real traffic through a proxy (served, mirrored,
// skipped, dropped, unavailable) and returns every metric family it exports with
// its label names.
func exportedFamilies(t *testing.T) map[string]map[string]bool {
	t.Helper()
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	m := NewMetrics(0)
	decide := func(r *http.Request) rules.Decision {
		d := rules.Decision{Path: r.URL.Path, API: true, Route: "GET " + r.URL.Path, Serve: rules.Primary, Mirror: true}
		if strings.HasPrefix(r.URL.Path, "/api/auth") {
			d.Mirror, d.Skip = false, "auth"
		}
		return d
	}
	obs := newObserver()
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decide, Metrics: m, Observer: obs})
	h.get(t, "/api/sessions")
	obs.next(t)
	h.get(t, "/api/auth/x")
	obs.next(t)
	m.ConfigReload(true)

	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	for _, f := range families {
		labels := map[string]bool{}
		for _, mt := range f.GetMetric() {
			for _, lp := range mt.GetLabel() {
				labels[lp.GetName()] = true
			}
		}
		out[f.GetName()] = labels
	}
	return out
}

// TestRulesUseExportedMetrics parses fixtures/prometheus/rules.yml and checks that
// every metric its expressions select is one the proxy exports, with the labels
// they match on.
func TestRulesUseExportedMetrics(t *testing.T) {
	data, err := os.ReadFile("../fixtures/prometheus/rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Groups []struct {
			Name     string `yaml:"name"`
			Interval string `yaml:"interval"`
			Rules    []struct {
				Record      string            `yaml:"record"`
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&file); err != nil {
		t.Fatalf("parse rules.yml: %v", err)
	}
	exported := exportedFamilies(t)
	recorded := map[string]bool{}
	var alerts []string
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			if (r.Record == "") == (r.Alert == "") || strings.TrimSpace(r.Expr) == "" {
				t.Errorf("group %s: a rule needs exactly one of record/alert, and an expr: %+v", g.Name, r)
			}
			if r.Record != "" {
				recorded[r.Record] = true
			} else {
				alerts = append(alerts, r.Alert)
			}
		}
	}
	sort.Strings(alerts)
	wantAlerts := []string{"ParityAuthFailureSpike", "ParityBackendUnavailable", "ParityCandidate5xxOverOnePercent",
		"ParityCandidateErrorsOverOnePercent", "ParityConfigReloadRejected", "ParityLatencyP99OverBaseline", "ParityMirrorsDropped"}
	if diff := cmp.Diff(wantAlerts, alerts); diff != "" {
		t.Errorf("alerts (-want +got):\n%s", diff)
	}

	used := 0
	for _, g := range file.Groups {
		for _, r := range g.Rules {
			for _, sel := range selectors(r.Expr) {
				if recorded[sel.name] {
					continue
				}
				base, labels := sel.name, exported[sel.name]
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if b, ok := strings.CutSuffix(sel.name, suffix); ok && exported[b] != nil {
						base, labels = b, exported[b]
						if suffix == "_bucket" {
							labels = withLabel(labels, "le")
						}
					}
				}
				if labels == nil {
					t.Errorf("%s%s uses %s, which the proxy does not export", r.Record, r.Alert, sel.name)
					continue
				}
				used++
				for _, l := range sel.labels {
					if !labels[l] {
						t.Errorf("%s%s matches label %q of %s, which has none", r.Record, r.Alert, l, base)
					}
				}
			}
		}
	}
	if used == 0 {
		t.Error("no exported metric found in the rules: the expression parser is broken")
	}
}

func withLabel(m map[string]bool, l string) map[string]bool {
	out := map[string]bool{l: true}
	for k := range m {
		out[k] = true
	}
	return out
}

type selector struct {
	name   string
	labels []string
}

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promToken    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*(\s*\{[^}]*\})?|[0-9][A-Za-z0-9_.]*|\(`)
	promMatcher  = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)`)
	promKeywords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true,
		"group_right": true, "and": true, "or": true, "unless": true, "bool": true, "offset": true, "inf": true, "nan": true}
)

// selectors returns the vector selectors of a PromQL expression: metric names with
// the label names they match on. It knows enough PromQL for rule files: strings,
// ranges, groupings, functions, keywords and numbers are not selectors.
func selectors(expr string) []selector {
	// Label values are strings: blank them out but keep the quotes, so matchers
	// still parse.
	e := promString.ReplaceAllStringFunc(expr, func(s string) string { return `""` })
	e = promRange.ReplaceAllString(e, "")
	e = promGrouping.ReplaceAllString(e, "")
	toks := promToken.FindAllString(e, -1)
	var out []selector
	for i, tok := range toks {
		if tok == "(" || tok[0] >= '0' && tok[0] <= '9' {
			continue
		}
		name, matchers, _ := strings.Cut(tok, "{")
		name = strings.TrimSpace(name)
		if promKeywords[strings.ToLower(name)] {
			continue
		}
		if matchers == "" && i+1 < len(toks) && toks[i+1] == "(" {
			continue // a function call
		}
		s := selector{name: name}
		for _, m := range promMatcher.FindAllStringSubmatch(matchers, -1) {
			s.labels = append(s.labels, m[1])
		}
		out = append(out, s)
	}
	return out
}

func TestSelectors(t *testing.T) {
	got := selectors(`sum by (route, le) (rate(a_total{x="1,y", z=~"5.."}[5m])) / on (route) b:rec offset 1w > 2 * histogram_quantile(0.99, c_bucket) and 1e-3 < bool d`)
	want := []selector{{"a_total", []string{"x", "z"}}, {"b:rec", nil}, {"c_bucket", nil}, {"d", nil}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(selector{})); diff != "" {
		t.Errorf("selectors (-want +got):\n%s", diff)
	}
}

// TestMetricLabelsBounded: routes past the cap and made-up methods fold into OTHER.
func TestMetricLabelsBounded(t *testing.T) {
	m := NewMetrics(2)
	for _, r := range []string{"GET /a", "GET /b", "GET /c", "GET /a"} {
		m.observeRequest(r, "GET", 200, rules.Primary, 0)
	}
	m.observeRequest("GET /a", "FROBNICATE", 999, rules.Primary, 0)
	tests := []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"route": "GET /a", "method": "GET", "status": "200"}, 2},
		{map[string]string{"route": "GET /b"}, 1},
		{map[string]string{"route": "GET /c"}, 0},
		{map[string]string{"route": "OTHER"}, 1},
		{map[string]string{"route": "GET /a", "method": "OTHER", "status": "OTHER"}, 1},
	}
	for _, tc := range tests {
		if got := metricValue(t, m, "http_request_duration_seconds", tc.labels); got != tc.want {
			t.Errorf("requests %v = %v, want %v", tc.labels, got, tc.want)
		}
	}
}

// TestMetricsNameTheBuild checks that the proxy's registry exports parity_build_info,
// so a fleet's versions can be counted from /metrics.
func TestMetricsNameTheBuild(t *testing.T) {
	families := exportedFamilies(t)
	labels, ok := families["parity_build_info"]
	if !ok {
		t.Fatal("parity_build_info is not exported")
	}
	for _, l := range []string{"version", "commit", "goversion"} {
		if !labels[l] {
			t.Errorf("parity_build_info has no %q label; labels %v", l, labels)
		}
	}
}

// TestNonAPIPathsKeepAPIRouteLabels: a flood of paths outside /api (built assets,
// pages) is keyed into a few coarse groups that do not count against the route
// label cap, so API routes keep their own labels.
func TestNonAPIPathsKeepAPIRouteLabels(t *testing.T) {
	rt, err := rules.NewRouter(&rules.Config{})
	if err != nil {
		t.Fatal(err)
	}
	m := NewMetrics(3)
	observe := func(target string) string {
		d := rt.Decide(httptest.NewRequest(http.MethodGet, target, nil))
		m.observeRequest(d.Route, http.MethodGet, 200, rules.Primary, 0)
		return d.Route
	}
	groups := map[string]bool{}
	for i := 0; i < 1000; i++ {
		groups[observe(fmt.Sprintf("/_app/immutable/chunks/%x.js", i*7919))] = true
		groups[observe(fmt.Sprintf("/page-%d/x", i))] = true
		groups[observe(fmt.Sprintf("/f%d.png", i))] = true
	}
	if len(groups) > route.NonAPIGroups+2 {
		t.Errorf("%d non-API keys, want at most %d", len(groups), route.NonAPIGroups+2)
	}
	for _, p := range []string{"/api/sessions", "/api/sessions/s-1", "/api/activity"} {
		observe(p)
	}
	for _, key := range []string{"GET /api/sessions", "GET /api/sessions/:id", "GET /api/activity", "GET /_app/*", "GET /*"} {
		if got := metricValue(t, m, "http_request_duration_seconds", map[string]string{"route": key}); got == 0 {
			t.Errorf("no series labelled %q", key)
		}
	}
	if got := metricValue(t, m, "http_request_duration_seconds", map[string]string{"route": "OTHER"}); got != 0 {
		t.Errorf("%v requests labelled OTHER, want none", got)
	}
}
