package report

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/diff"
)

// traffic builds observations for one route.
type traffic struct {
	route                  string
	matched, mismatched    int
	timeouts, fivexx, auth int
	skipped                int
	primaryMs, candidateMs int
}

func (tr traffic) observations() []Observation {
	var out []Observation
	pms, cms := max(tr.primaryMs, 1), max(tr.candidateMs, 1)
	add := func(n int, f func(o *Observation)) {
		for i := 0; i < n; i++ {
			o := matched(tr.route, pms, cms)
			f(&o)
			out = append(out, o)
		}
	}
	add(tr.matched, func(*Observation) {})
	add(tr.mismatched, func(o *Observation) {
		o.Differences = []diff.Difference{changed("body.total", "body.total", "3", "4")}
	})
	add(tr.timeouts, func(o *Observation) { o.CandidateStatus, o.CandidateError = 0, "timeout" })
	add(tr.fivexx, func(o *Observation) {
		o.CandidateStatus = 503
		o.Differences = []diff.Difference{{Path: "status", Pattern: "status", Kind: diff.Changed, Primary: "200", Candidate: "503"}}
	})
	add(tr.auth, func(o *Observation) {
		o.CandidateStatus = 401
		o.Differences = []diff.Difference{{Path: "status", Pattern: "status", Kind: diff.Changed, Primary: "200", Candidate: "401"}}
	})
	add(tr.skipped, func(o *Observation) { *o = Observation{Route: tr.route, Skipped: SkipWriteMethod} })
	return out
}

func gateSnapshot(t *testing.T, trs ...traffic) *Snapshot {
	var obs []Observation
	for _, tr := range trs {
		obs = append(obs, tr.observations()...)
	}
	return snapshotOf(t, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), obs)
}

func TestJudge(t *testing.T) {
	plan, err := ParsePlan("p.yaml", []byte(`
steps:
  - name: health
    routes: [/api/health]
  - name: sessions
    routes: [/api/health, /api/sessions]
  - name: everything
    routes: []
`))
	if err != nil {
		t.Fatal(err)
	}
	th := DefaultThresholds
	const health, sessions = "GET /api/health", "GET /api/sessions/:id"
	type want struct {
		verdict Verdict
		routes  map[string]Verdict // route (or prefix) → verdict
		reason  string             // substring of some route's reason
	}
	tests := []struct {
		name    string
		step    int
		traffic []traffic
		want    want
	}{
		{"pass", 1, []traffic{{route: health, matched: 1000, primaryMs: 10, candidateMs: 12}},
			want{Pass, map[string]Verdict{health: Pass}, "parity 1.0000 [0.9946, 1.0000] over 1000 compared; candidate errors 0% [0%, 0.54%]; p99 12ms [12ms, 12.1ms] of 1000 vs 10ms [10ms, 10.1ms] of 1000 (at 95%)"}},
		{"fail on parity", 1, []traffic{{route: health, matched: 550, mismatched: 50}},
			want{Fail, map[string]Verdict{health: Fail}, "parity 0.9167 [0.8676, 0.9527] < 0.9900 at 95%; top difference body.total changed ×50"}},
		{"fail on latency", 1, []traffic{{route: health, matched: 1000, primaryMs: 10, candidateMs: 45}},
			want{Fail, map[string]Verdict{health: Fail}, "candidate p99 45.1ms [44.8ms, 45.2ms] of 1000 > 2× primary p99 10ms [10ms, 10.1ms] of 1000 (gap over 10ms) at 95%"}},
		{"latency is not judged on too few samples", 1, []traffic{{route: health, matched: 300, primaryMs: 10, candidateMs: 45}},
			want{Inconclusive, map[string]Verdict{health: Inconclusive}, "p99 45.1ms [44.8ms, ?] of 300 vs 10ms [10ms, ?] of 300 not yet within 2× or 10ms"}},
		{"latency under the floor passes", 1, []traffic{{route: health, matched: 1000, primaryMs: 1, candidateMs: 8}},
			want{Pass, map[string]Verdict{health: Pass}, "p99 8ms [8ms, 8.1ms] of 1000 vs 1ms [1ms, 1ms] of 1000"}},
		{"fail on candidate 5xx", 1, []traffic{{route: health, matched: 1000, fivexx: 40}},
			want{Fail, map[string]Verdict{health: Fail}, "candidate error rate 3.85% [2.07%, 6.39%] (40 of 1040) > 1% at 95% (40 5xx)"}},
		{"fail on timeouts", 1, []traffic{{route: health, matched: 1000, timeouts: 40}},
			want{Fail, map[string]Verdict{health: Fail}, "candidate error rate 3.85% [2.07%, 6.39%] (40 of 1040) > 1% at 95% (40 transport: timeout 40)"}},
		{"fail on candidate 401/403 before enough samples", 1, []traffic{{route: health, matched: 5, auth: 1}},
			want{Fail, map[string]Verdict{health: Fail}, "candidate answered 401/403 1 times where the primary did not"}},
		{"inconclusive with too few samples", 1, []traffic{{route: health, matched: 10}},
			want{Inconclusive, map[string]Verdict{health: Inconclusive}, "needs ~"}},
		{"fifty clean samples are not enough", 1, []traffic{{route: health, matched: 50}},
			want{Inconclusive, map[string]Verdict{health: Inconclusive}, "parity 1.0000 [0.9226, 1.0000], passes at ≥ 0.9850"}},
		{"a failure shown before enough samples fails", 1, []traffic{{route: health, matched: 2, mismatched: 8}},
			want{Fail, map[string]Verdict{health: Fail}, "parity 0.2000"}},
		{"no evidence for a prefix", 1, []traffic{{route: sessions, matched: 1000}},
			want{Inconclusive, map[string]Verdict{"/api/health": Inconclusive}, "no evidence: no request observed under this prefix"}},
		{"only skipped requests are no evidence", 1, []traffic{{route: health, skipped: 80}},
			want{Inconclusive, map[string]Verdict{health: Inconclusive, "/api/health": Inconclusive}, "nothing compared (80 skipped: write_method 80)"}},
		{"earlier steps are re-checked", 2, []traffic{{route: health, matched: 500, mismatched: 100}, {route: sessions, matched: 1000}},
			want{Fail, map[string]Verdict{health: Fail, sessions: Pass}, "parity 0.8333"}},
		{"inconclusive new route with passing earlier ones", 2, []traffic{{route: health, matched: 1000}, {route: sessions, matched: 3}},
			want{Inconclusive, map[string]Verdict{health: Pass, sessions: Inconclusive}, "parity 1.0000"}},
		{"catch-all step without new traffic is no evidence", 3, []traffic{{route: health, matched: 1000}, {route: sessions, matched: 1000}},
			want{Inconclusive, map[string]Verdict{health: Pass, sessions: Pass, "/api/*": Inconclusive}, "parity 1.0000"}},
		{"catch-all step judges what it newly sends", 3, []traffic{{route: health, matched: 1000}, {route: sessions, matched: 1000},
			{route: "GET /api/models", matched: 1000}, {route: "POST /api/auth/login", skipped: 5}, {route: "GET /healthz", matched: 1}},
			want{Pass, map[string]Verdict{health: Pass, sessions: Pass, "GET /api/models": Pass}, "parity 1.0000"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Judge(gateSnapshot(t, tc.traffic...), plan, tc.step, th)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]Verdict{}
			for _, r := range res.Routes {
				got[r.Route] = r.Verdict
			}
			if d := cmp.Diff(tc.want.routes, got); d != "" {
				t.Errorf("route verdicts (-want +got):\n%s", d)
			}
			if res.Verdict != tc.want.verdict {
				t.Errorf("step verdict = %s (%s), want %s", res.Verdict, res.Reason, tc.want.verdict)
			}
			var reasons []string
			for _, r := range res.Routes {
				reasons = append(reasons, r.Reason)
			}
			if !strings.Contains(strings.Join(reasons, "\n"), tc.want.reason) {
				t.Errorf("reasons %q, want one to contain %q", reasons, tc.want.reason)
			}
		})
	}
}

func TestJudgeMarksNewRoutes(t *testing.T) {
	plan := &Plan{Thresholds: DefaultThresholds, Steps: []Step{{Number: 1, Name: "a", Routes: []string{"/api/a"}}, {Number: 2, Name: "b", Routes: []string{"/api/a", "/api/b"}}}}
	res, err := Judge(gateSnapshot(t, traffic{route: "GET /api/a", matched: 60}, traffic{route: "GET /api/b", matched: 60}), plan, 2, DefaultThresholds)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][2]any{}
	for _, r := range res.Routes {
		got[r.Route] = [2]any{r.Step, r.New}
	}
	want := map[string][2]any{"GET /api/a": {1, false}, "GET /api/b": {2, true}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("step and new per route (-want +got):\n%s", d)
	}
}

func TestJudgeUnknownStep(t *testing.T) {
	plan := &Plan{Steps: []Step{{Number: 1, Name: "a"}}}
	for _, n := range []int{0, 2} {
		if _, err := Judge(&Snapshot{Version: 1}, plan, n, DefaultThresholds); err == nil || !strings.Contains(err.Error(), "unknown step") {
			t.Errorf("Judge step %d: err = %v, want unknown step", n, err)
		}
	}
}

func TestRenderGateGolden(t *testing.T) {
	s := renderSnapshot(t)
	plan := defaultPlan(t)
	res, err := Judge(s, plan, 2, plan.Thresholds)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		name   string
		render func(io.Writer, *GateResult) error
	}{{"gate-step2.txt", RenderGateText}, {"gate-step2.md", RenderGateMarkdown}, {"gate-step2.json", RenderGateJSON}} {
		t.Run(f.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := f.render(&b, res); err != nil {
				t.Fatal(err)
			}
			golden(t, f.name, b.Bytes())
		})
	}
}

// TestDisplaySnapshotJudgesLatency: the live dashboard's snapshot has no encoded
// histograms, yet its verdicts judge latency as the full snapshot's do, on the
// buckets ForDisplay holds; a summary alone cannot.
func TestDisplaySnapshotJudgesLatency(t *testing.T) {
	agg := NewAggregator(Limits{})
	for _, o := range (traffic{route: "GET /api/health", matched: 1000, primaryMs: 10, candidateMs: 45}).observations() {
		agg.Observe(o)
	}
	full := RouteEvidence(agg.Snapshot().Route("GET /api/health"), DefaultThresholds)
	snap, opts := agg.ForDisplay(RenderOptions{})
	var b bytes.Buffer
	if err := RenderJSON(&b, snap, opts); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Histograms bool `json:"histograms_omitted"`
		Verdicts   []struct {
			Route string `json:"route"`
			*Evidence
		} `json:"verdicts"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Histograms || len(got.Verdicts) != 1 {
		t.Fatalf("display JSON: histograms omitted %v, %d verdicts", got.Histograms, len(got.Verdicts))
	}
	if d := cmp.Diff(full, got.Verdicts[0].Evidence); d != "" {
		t.Errorf("display verdict differs from the full snapshot's (-full +display):\n%s", d)
	}
	if full.Latency.Verdict != Fail {
		t.Errorf("latency %s, want fail: %s", full.Latency.Verdict, full.Reason)
	}
	summary := RouteEvidence(agg.SnapshotSummary().Route("GET /api/health"), DefaultThresholds)
	if summary.Latency.Missing == "" || summary.Latency.Verdict != Inconclusive {
		t.Errorf("a summary without histograms judged latency: %+v", summary.Latency)
	}
}

// TestCandidateSlower: the rank effect size is 1 when every candidate request
// is slower, ½ for the same distribution, and what the Mann–Whitney U says for
// overlapping ones.
func TestCandidateSlower(t *testing.T) {
	hist := func(ms ...int) buckets {
		h := newHistogram()
		for _, m := range ms {
			recordLatency(h, time.Duration(m)*time.Millisecond)
		}
		return bucketsOf(h)
	}
	for _, tc := range []struct {
		name string
		c, p buckets
		want float64
	}{
		{"all slower", hist(10, 20, 30), hist(1, 2, 3), 1},
		{"all faster", hist(1, 2), hist(10, 20), 0},
		{"alike", hist(1, 2, 3), hist(1, 2, 3), 0.5},
		{"overlap", hist(2, 4), hist(1, 3), 0.75}, // pairs (2>1) (2<3) (4>1) (4>3): 3 of 4
		{"ties", hist(5, 5), hist(5, 1), 0.75},    // (5=5)½ (5>1) twice: 3 of 4
		{"empty", nil, hist(1), 0.5},
	} {
		if got := tc.c.slowerThan(tc.p); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: %g, want %g", tc.name, got, tc.want)
		}
	}
}
