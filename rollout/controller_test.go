package rollout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// testPlan has two steps of one prefix each and thresholds small samples can
// decide: a clean route passes after a few dozen compared requests. Latency,
// which needs hundreds, is not judged (noLatency).
const testPlan = `
thresholds:
  min_samples: 10
  min_parity: 0.8
  parity_margin: 0.1
  max_candidate_error_rate: 0.2
  error_rate_margin: 0.1
steps:
  - name: One
    routes: [/api/one]
  - name: Two
    routes: [/api/one, /api/two]
`

func mustPlan(t *testing.T, src string) *report.Plan {
	t.Helper()
	p, err := report.ParsePlan("plan.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// evidence is an Aggregator the tests feed observations to.
type evidence struct{ agg *report.Aggregator }

func newEvidence() *evidence { return &evidence{agg: report.NewAggregator(report.Limits{})} }

func (e *evidence) source(context.Context) (*report.Snapshot, error) { return e.agg.Snapshot(), nil }

// add observes n comparisons of route, equal or differing at body.total.
func (e *evidence) add(route string, n int, equal bool) {
	for range n {
		o := report.Observation{Route: route, Method: "GET", PrimaryStatus: 200, CandidateStatus: 200}
		if !equal {
			o.Differences = []diff.Difference{{Path: "body.total", Pattern: "body.total", Kind: diff.Changed, Primary: "3", Candidate: "4"}}
		}
		e.agg.Observe(o)
	}
}

// applier records what was applied.
type applier struct {
	mu      sync.Mutex
	last    rules.CutoverState
	n       int
	enabled atomic.Bool
}

func newApplier() *applier { a := &applier{}; a.enabled.Store(true); return a }

func (a *applier) SetCutover(c *rules.CutoverState) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.last, a.n = *c, a.n+1
	return nil
}
func (a *applier) Enabled() bool { return a.enabled.Load() }
func (a *applier) cutover() rules.CutoverState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type fixture struct {
	c   *Controller
	ev  *evidence
	app *applier
	clk *clock
	set rules.RolloutConfig
}

func newFixture(t *testing.T, set rules.RolloutConfig, stateFile string) *fixture {
	t.Helper()
	f := &fixture{ev: newEvidence(), app: newApplier(), clk: &clock{t: time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)}, set: set}
	f.c = f.controller(t, stateFile)
	return f
}

func (f *fixture) controller(t *testing.T, stateFile string) *Controller {
	t.Helper()
	plan := mustPlan(t, testPlan)
	noLatency := plan.Thresholds
	noLatency.MaxP99Ratio = 0
	c := &Controller{Plan: plan, Thresholds: &noLatency, Settings: func() rules.RolloutConfig { return f.set },
		Evidence: f.ev.source, Applier: f.app, StateFile: stateFile, Now: f.clk.now}
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) eval(t *testing.T) Status {
	t.Helper()
	if err := f.c.Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f.c.Status()
}

func types(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s %d %d→%d", e.Type, e.Step, e.From, e.To))
	}
	return out
}

// An equal candidate climbs every weight of step 1 once the minimum time has
// passed at each, then step 2's, then is done; before the minimum time, and
// without evidence, it stays.
func TestControllerPromotesThroughTheLadder(t *testing.T) {
	f := newFixture(t, rules.RolloutConfig{Weights: []int{10, 50, 100}, MinTime: "1m"}, "")
	if diff := cmp.Diff(rules.CutoverState{Routes: []string{}, Weights: map[string]int{"/api/one": 10}}, f.app.cutover()); diff != "" {
		t.Fatalf("opened with (-want +got):\n%s", diff)
	}
	if s := f.eval(t); s.State != Holding || s.Weights["/api/one"] != 10 {
		t.Fatalf("no evidence: %+v, want holding at 10", s)
	}
	f.ev.add("GET /api/one", 60, true)
	if s := f.eval(t); s.State != Progressing || s.Weights["/api/one"] != 10 {
		t.Fatalf("before min_time: %+v, want progressing at 10", s)
	}
	for _, want := range []int{50, 100} {
		f.clk.add(time.Minute)
		if s := f.eval(t); s.Weights["/api/one"] != want {
			t.Fatalf("after min_time: weights %v, want /api/one at %d", s.Weights, want)
		}
	}
	f.clk.add(time.Minute)
	s := f.eval(t)
	if s.Step != 2 || s.Weights["/api/two"] != 10 {
		t.Fatalf("after step 1 at 100%%: step %d weights %v, want step 2 at 10", s.Step, s.Weights)
	}
	if diff := cmp.Diff(rules.CutoverState{Routes: []string{"/api/one"}, Weights: map[string]int{"/api/two": 10}}, f.app.cutover()); diff != "" {
		t.Fatalf("applied (-want +got):\n%s", diff)
	}
	f.ev.add("GET /api/two", 60, true)
	for range 4 {
		f.clk.add(time.Minute)
		s = f.eval(t)
	}
	want := []string{"advance 1 0→10", "hold 1 10→10", "advance 1 10→50", "advance 1 50→100", "advance 2 0→10",
		"advance 2 10→50", "advance 2 50→100", "done 2 100→100"}
	if diff := cmp.Diff(want, types(s.Events)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if s.State != Done {
		t.Errorf("state %s, want done", s.State)
	}
	if diff := cmp.Diff(map[string]int{"/api/one": 100, "/api/two": 100}, s.Weights); diff != "" {
		t.Errorf("weights (-want +got):\n%s", diff)
	}
}

// A step whose route fails is rolled back to 0 at once (threshold 1), with
// the route and its difference named; nothing moves afterwards.
func TestControllerRollsBackAFailingStep(t *testing.T) {
	f := newFixture(t, rules.RolloutConfig{Weights: []int{10, 100}, MinTime: "0s"}, "")
	f.ev.add("GET /api/one", 60, true)
	f.eval(t) // 10 → 100
	f.eval(t) // step 2 at 10
	f.ev.add("GET /api/two", 30, false)
	s := f.eval(t)
	if s.State != RolledBack || s.Weights["/api/two"] != 0 || s.Weights["/api/one"] != 100 {
		t.Fatalf("after a failing step 2: %+v", s)
	}
	e := s.Events[len(s.Events)-1]
	if e.Type != Rollback || e.Step != 2 || e.From != 10 || e.To != 0 {
		t.Fatalf("last event %+v, want rollback of step 2 from 10 to 0", e)
	}
	for _, want := range []string{"GET /api/two", "parity 0.0000", "body.total changed ×30"} {
		if !strings.Contains(e.Reason, want) {
			t.Errorf("reason %q does not name %q", e.Reason, want)
		}
	}
	if len(e.Evidence) != 1 || e.Evidence[0].Route != "GET /api/two" || e.Evidence[0].Difference != "body.total changed ×30" {
		t.Errorf("evidence %+v", e.Evidence)
	}
	if diff := cmp.Diff(rules.CutoverState{Routes: []string{"/api/one"}, Weights: map[string]int{}}, f.app.cutover()); diff != "" {
		t.Fatalf("applied (-want +got):\n%s", diff)
	}
	f.ev.add("GET /api/two", 1000, true)
	if s := f.eval(t); s.State != RolledBack || s.Weights["/api/two"] != 0 {
		t.Fatalf("a rolled-back step moved by itself: %+v", s)
	}
}

// With threshold 3, two failing evaluations hold; the third rolls back.
func TestControllerThresholdCountsConsecutiveFailures(t *testing.T) {
	f := newFixture(t, rules.RolloutConfig{Weights: []int{10, 100}, MinTime: "0s", Threshold: 3}, "")
	f.ev.add("GET /api/one", 30, false)
	for i := 1; i <= 2; i++ {
		if s := f.eval(t); s.State != Holding || s.Failures != i {
			t.Fatalf("evaluation %d: %+v, want holding with %d failures", i, s, i)
		}
	}
	if s := f.eval(t); s.State != RolledBack {
		t.Fatalf("third failing evaluation: %+v, want rolled back", s)
	}
}

// A route of an earlier step failing rolls that step back and the current one.
func TestControllerRollsBackAnEarlierStep(t *testing.T) {
	f := newFixture(t, rules.RolloutConfig{Weights: []int{10, 100}, MinTime: "0s"}, "")
	f.ev.add("GET /api/one", 60, true)
	f.eval(t)
	f.eval(t) // step 2 at 10
	f.ev.add("GET /api/one", 400, false)
	s := f.eval(t)
	if diff := cmp.Diff(map[string]int{"/api/one": 0, "/api/two": 0}, s.Weights); diff != "" {
		t.Fatalf("weights (-want +got):\n%s", diff)
	}
	got := types(s.Events[len(s.Events)-2:])
	if diff := cmp.Diff([]string{"rollback 1 100→0", "rollback 2 10→0"}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// A person resumes: the first step not at 100% starts again.
	if _, err := f.c.Do(ActResume, "ops"); err != nil {
		t.Fatal(err)
	}
	if s := f.c.Status(); s.Step != 1 || s.Weights["/api/one"] != 10 || s.State != Progressing {
		t.Fatalf("after resume: %+v", s)
	}
}

// cutover.enabled false pauses the autopilot; it needs a person to resume,
// and resume is refused while the switch is off.
func TestControllerStopsWhenDisabled(t *testing.T) {
	f := newFixture(t, rules.RolloutConfig{Weights: []int{10, 100}, MinTime: "0s"}, "")
	f.ev.add("GET /api/one", 60, true)
	f.app.enabled.Store(false)
	if s := f.eval(t); s.State != Paused || s.Weights["/api/one"] != 10 {
		t.Fatalf("disabled: %+v, want paused at 10", s)
	}
	if _, err := f.c.Do(ActResume, "ops"); !errors.Is(err, ErrConflict) {
		t.Fatalf("resume while disabled: %v, want a conflict", err)
	}
	f.app.enabled.Store(true)
	if s := f.eval(t); s.State != Paused {
		t.Fatalf("re-enabled: %s, want still paused", s.State)
	}
	if _, err := f.c.Do(ActResume, "ops"); err != nil {
		t.Fatal(err)
	}
	if s := f.eval(t); s.Weights["/api/one"] != 100 {
		t.Fatalf("resumed: %v, want /api/one at 100", s.Weights)
	}
}

// The actions: pause stops promotions, promote moves now, abort rolls back,
// and what the state does not allow is a conflict.
func TestControllerActions(t *testing.T) {
	f := newFixture(t, rules.RolloutConfig{Weights: []int{10, 50, 100}, MinTime: "0s"}, "")
	f.ev.add("GET /api/one", 60, true)
	if _, err := f.c.Do(ActPause, "ops"); err != nil {
		t.Fatal(err)
	}
	if s := f.eval(t); s.State != Paused || s.Weights["/api/one"] != 10 {
		t.Fatalf("paused: %+v", s)
	}
	if _, err := f.c.Do(ActPause, "ops"); !errors.Is(err, ErrConflict) {
		t.Errorf("pause twice: %v", err)
	}
	s, err := f.c.Do(ActPromote, "ops")
	if err != nil || s.Weights["/api/one"] != 50 || s.State != Progressing {
		t.Fatalf("promote: %v %+v", err, s)
	}
	s, err = f.c.Do(ActAbort, "ops")
	if err != nil || s.Weights["/api/one"] != 0 || s.State != RolledBack {
		t.Fatalf("abort: %v %+v", err, s)
	}
	if _, err := f.c.Do(ActPromote, "ops"); !errors.Is(err, ErrConflict) {
		t.Errorf("promote a rolled-back rollout: %v", err)
	}
	if _, err := f.c.Do("jump", "ops"); err == nil || errors.Is(err, ErrConflict) {
		t.Errorf("unknown action: %v", err)
	}
	got := types(f.c.Status().Events)
	want := []string{"advance 1 0→10", "pause 1 10→10", "promote 1 10→50", "abort 1 50→0"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// The state survives a restart: a rolled-back step stays rolled back, and a
// state written for another plan is refused.
func TestControllerStateSurvivesRestart(t *testing.T) {
	file := filepath.Join(t.TempDir(), "parity-rollout.json")
	f := newFixture(t, rules.RolloutConfig{Weights: []int{10, 100}, MinTime: "0s"}, file)
	f.ev.add("GET /api/one", 60, true)
	f.eval(t)
	f.eval(t) // step 2 at 10
	f.ev.add("GET /api/two", 30, false)
	before := f.eval(t)

	f.app = newApplier()
	f.ev = newEvidence()
	f.ev.add("GET /api/one", 60, true)
	f.ev.add("GET /api/two", 600, true)
	f.c = f.controller(t, file)
	if diff := cmp.Diff(rules.CutoverState{Routes: []string{"/api/one"}, Weights: map[string]int{}}, f.app.cutover()); diff != "" {
		t.Fatalf("restarted, applied (-want +got):\n%s", diff)
	}
	after := f.eval(t)
	if after.State != RolledBack || after.Weights["/api/two"] != 0 || len(after.Events) != len(before.Events) {
		t.Fatalf("restarted: %+v, want the rolled-back state of before", after)
	}

	other := &Controller{Plan: mustPlan(t, "steps: [{name: X, routes: [/api/x]}]"), Evidence: f.ev.source, Applier: f.app, StateFile: file}
	if err := other.Open(); err == nil || !strings.Contains(err.Error(), "another plan") {
		t.Errorf("state of another plan: %v", err)
	}
}

// confirm_url is asked before each promotion: a refusal holds, a 2xx moves.
func TestControllerConfirmURL(t *testing.T) {
	var ok atomic.Bool
	var asked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if !ok.Load() {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	defer srv.Close()
	f := newFixture(t, rules.RolloutConfig{Weights: []int{10, 100}, MinTime: "0s", ConfirmURL: srv.URL}, "")
	f.ev.add("GET /api/one", 60, true)
	s := f.eval(t)
	if s.State != Holding || s.Weights["/api/one"] != 10 || asked.Load() != 1 {
		t.Fatalf("refused: %+v (asked %d)", s, asked.Load())
	}
	if e := s.Events[len(s.Events)-1]; e.Type != Hold || !strings.Contains(e.Reason, "answered 403") {
		t.Errorf("hold event %+v", e)
	}
	ok.Store(true)
	if s := f.eval(t); s.Weights["/api/one"] != 100 {
		t.Fatalf("confirmed: %+v", s)
	}
}

// Every event reaches the webhook as JSON.
func TestControllerWebhook(t *testing.T) {
	got := make(chan string, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e Event
		if err := jsonDecode(r, &e); err != nil {
			t.Error(err)
		}
		got <- fmt.Sprintf("%s %d %d→%d", e.Type, e.Step, e.From, e.To)
	}))
	defer srv.Close()
	f := newFixture(t, rules.RolloutConfig{Weights: []int{10, 100}, MinTime: "0s", Webhook: srv.URL, Interval: "1h"}, "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- f.c.Run(ctx) }()
	f.ev.add("GET /api/one", 60, true)
	f.eval(t)
	var seen []string
	for len(seen) < 2 {
		select {
		case s := <-got:
			seen = append(seen, s)
		case <-time.After(10 * time.Second):
			t.Fatalf("webhook got %v", seen)
		}
	}
	cancel()
	<-done
	if diff := cmp.Diff([]string{"advance 1 0→10", "advance 1 10→100"}, seen); diff != "" {
		t.Errorf("webhook (-want +got):\n%s", diff)
	}
}

func TestGroups(t *testing.T) {
	p := mustPlan(t, `steps:
  - {name: A, routes: [/api/health, /api/metrics]}
  - {name: B, routes: [/api/health, /api/metrics, /api/sessions]}
  - {name: C, routes: []}
`)
	want := [][]string{{"/api/health", "/api/metrics"}, {"/api/sessions"}, {CatchAll}}
	if diff := cmp.Diff(want, groups(p)); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}
	if !slices.Equal(groups(p)[2], []string{CatchAll}) {
		t.Error("catch-all")
	}
}

func jsonDecode(r *http.Request, v any) error { return json.NewDecoder(r.Body).Decode(v) }

// A catch-all step (routes: []) climbs the ladder as the cutover's rest:
// every /api/* path under no earlier prefix.
func TestControllerCatchAllStepIsTheRest(t *testing.T) {
	f := newFixture(t, rules.RolloutConfig{Weights: []int{10, 100}, MinTime: "0s"}, "")
	f.c.Plan = mustPlan(t, strings.Replace(testPlan, "routes: [/api/one, /api/two]", "routes: []", 1))
	f.c.gs = groups(f.c.Plan)
	f.ev.add("GET /api/one", 60, true)
	f.eval(t)
	s := f.eval(t)
	if s.Step != 2 || s.Weights[CatchAll] != 10 {
		t.Fatalf("%+v, want step 2 at 10", s)
	}
	if diff := cmp.Diff(rules.CutoverState{Routes: []string{"/api/one"}, Weights: map[string]int{}, Rest: 10}, f.app.cutover()); diff != "" {
		t.Errorf("applied (-want +got):\n%s", diff)
	}
	f.ev.add("GET /api/three", 60, true)
	f.eval(t)
	if got := f.app.cutover(); got.Rest != 100 {
		t.Errorf("rest %d, want 100", got.Rest)
	}
}

// Partial evidence (a replica did not answer) rolls back but never promotes.
func TestControllerPartialEvidence(t *testing.T) {
	f := newFixture(t, rules.RolloutConfig{Weights: []int{10, 100}, MinTime: "0s"}, "")
	missing := errors.New("1 of 2 replicas did not answer")
	f.c.Evidence = func(ctx context.Context) (*report.Snapshot, error) { s, _ := f.ev.source(ctx); return s, missing }
	f.ev.add("GET /api/one", 60, true)
	s := f.eval(t)
	if s.State != Holding || s.Weights["/api/one"] != 10 || !strings.Contains(s.Events[len(s.Events)-1].Reason, "did not answer") {
		t.Fatalf("partial passing evidence: %+v", s)
	}
	f.ev.add("GET /api/one", 400, false)
	if s := f.eval(t); s.State != RolledBack {
		t.Fatalf("partial failing evidence: %+v", s)
	}
	f.c.Evidence = func(context.Context) (*report.Snapshot, error) { return nil, missing }
	if err := f.c.Evaluate(context.Background()); err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("no evidence: %v", err)
	}
}
