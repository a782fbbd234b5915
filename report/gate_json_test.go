package report

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// report.json carries what the live dashboard shows of the gate, judged by
// the server: each route's plan step (0 for an auth route, which no step
// sends, whatever prefix covers it), every step's verdict and counts, the
// step the rollout waits on and the headline, as the other renderers state
// them.
func TestRenderJSONCarriesTheGate(t *testing.T) {
	plan, err := ParsePlan("plan.yaml", []byte(`
thresholds: {min_samples: 10, min_parity: 0.8, parity_margin: 0.1}
steps:
  - {name: Health, routes: [/api/health], validate: curl it}
  - {name: Sessions, routes: [/api/sessions]}
  - {name: Rest, routes: []}
`))
	if err != nil {
		t.Fatal(err)
	}
	agg := NewAggregator(Limits{})
	for _, tr := range []traffic{
		{route: "GET /api/health", matched: 600},
		{route: "GET /api/sessions/:id", matched: 30, mismatched: 30},
		{route: "GET /api/Auth/session", matched: 20},
	} {
		for _, o := range tr.observations() {
			agg.Observe(o)
		}
	}
	snap := agg.Snapshot()
	opts := RenderOptions{Plan: plan}
	var b bytes.Buffer
	if err := RenderJSON(&b, snap, opts); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Verdicts []struct {
			Route string `json:"route"`
			Step  int    `json:"step"`
		} `json:"verdicts"`
		Gate struct {
			Verdict  Verdict    `json:"verdict"`
			Headline string     `json:"headline"`
			Next     int        `json:"next"`
			Steps    []stepView `json:"steps"`
		} `json:"gate"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	steps := map[string]int{}
	for _, v := range got.Verdicts {
		steps[v.Route] = v.Step
	}
	if d := cmp.Diff(map[string]int{"GET /api/health": 1, "GET /api/sessions/:id": 2, "GET /api/Auth/session": 0}, steps); d != "" {
		t.Errorf("route steps (-want +got):\n%s", d)
	}
	v, err := newView(snap, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got.Gate.Verdict != v.Verdict || got.Gate.Headline != v.Headline || got.Gate.Next != 2 {
		t.Errorf("gate %s %q next %d, want the renderers' %s %q next 2", got.Gate.Verdict, got.Gate.Headline, got.Gate.Next, v.Verdict, v.Headline)
	}
	if d := cmp.Diff(v.Steps, got.Gate.Steps); d != "" {
		t.Errorf("steps (-renderers +json):\n%s", d)
	}
	if len(got.Gate.Steps) != 3 || got.Gate.Steps[0].Verdict != Pass || got.Gate.Steps[1].Verdict != Fail || got.Gate.Steps[0].Validate != "curl it" {
		t.Errorf("steps: %+v", got.Gate.Steps)
	}

	// Without a plan: the routes' verdict, no steps.
	b.Reset()
	if err := RenderJSON(&b, snap, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	got.Gate = struct {
		Verdict  Verdict    `json:"verdict"`
		Headline string     `json:"headline"`
		Next     int        `json:"next"`
		Steps    []stepView `json:"steps"`
	}{}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	v, _ = newView(snap, RenderOptions{})
	if got.Gate.Verdict != v.Verdict || got.Gate.Headline != v.Headline || got.Gate.Steps != nil || got.Gate.Next != 0 {
		t.Errorf("without a plan: %+v, want %s %q", got.Gate, v.Verdict, v.Headline)
	}
}

// The dashboard's script keeps no copy of the rules report/route owns — the
// plan's prefixes, /api, /api/auth — nor of the gate's step judgement: it
// shows report.json's.
func TestDashboardScriptKeepsNoRule(t *testing.T) {
	code := regexp.MustCompile(`(?m)(^|\s)//[^\n]*`).ReplaceAllString(dashboardJS, "$1")
	for _, re := range []string{`['"]/api`, `(?i)/api/auth`, `cfg\.steps`, `(?i)isAuth`, `prefixMatch`, `judgeStep`, `firstStep`} {
		if loc := regexp.MustCompile(re).FindStringIndex(code); loc != nil {
			t.Errorf("dashboard.js has %q: %q", re, code[max(0, loc[0]-60):min(len(code), loc[1]+60)])
		}
	}
}
