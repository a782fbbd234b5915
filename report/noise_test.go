package report

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/diff"
)

// reask is one observation of route after a re-ask that tested checked and
// confirmed those of them in confirmed; the rest stay differences.
func reask(route string, rule NoiseRule, checked []string, confirmed ...string) Observation {
	o := Observation{Route: route, Method: methodOf(route), RequestID: "req", PrimaryStatus: 200, CandidateStatus: 200,
		NoiseChecked: checked, NoiseRule: rule, Noise: confirmed}
	for _, p := range checked {
		if !contains(confirmed, p) {
			o.Differences = append(o.Differences, diff.Difference{Path: p, Pattern: p, Kind: diff.Changed, Primary: "1", Candidate: "2"})
		}
	}
	return o
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// learnedNoise is a pattern with its learning state as a snapshot shows it.
type learnedNoise struct {
	Path                     string
	Count, Confirmed, Reasks int64
	Learned                  bool
}

func noiseOf(r *RouteStats) []learnedNoise {
	var out []learnedNoise
	for _, n := range r.Noise {
		out = append(out, learnedNoise{n.Path, n.Count, n.Confirmed, n.Reasks, n.Learned})
	}
	return out
}

func TestNoiseLearning(t *testing.T) {
	const (
		route = "GET /api/health"
		gen   = "body.generatedAt"
		bug   = "body.version"
	)
	yes := func(rule NoiseRule) Observation { return reask(route, rule, []string{gen}, gen) }
	no := func(rule NoiseRule) Observation { return reask(route, rule, []string{gen}) }
	def := NoiseRule{}
	tests := []struct {
		name        string
		obs         []Observation
		wantLearned []string // after the last observation
		learnedAt   int      // index of the observation that taught it; -1 = never
		wantNoise   []learnedNoise
	}{
		{
			name:        "three confirmations of three re-asks teach it (3 of the last 5 by default)",
			obs:         []Observation{yes(def), yes(def), yes(def)},
			wantLearned: []string{gen}, learnedAt: 2,
			wantNoise: []learnedNoise{{gen, 3, 3, 3, true}},
		},
		{
			name:        "two confirmations are not enough",
			obs:         []Observation{yes(def), yes(def)},
			wantLearned: nil, learnedAt: -1,
			wantNoise: []learnedNoise{{gen, 2, 2, 2, false}},
		},
		{
			name:        "three of the last five, interleaved with re-asks that did not confirm it",
			obs:         []Observation{yes(def), no(def), yes(def), no(def), yes(def)},
			wantLearned: []string{gen}, learnedAt: 4,
			wantNoise: []learnedNoise{{gen, 3, 3, 5, true}},
		},
		{
			name:        "confirmations older than the window do not count",
			obs:         []Observation{yes(def), no(def), no(def), yes(def), no(def), no(def), yes(def)},
			wantLearned: nil, learnedAt: -1,
			wantNoise: []learnedNoise{{gen, 3, 3, 7, false}},
		},
		{
			name:        "a stricter rule from the config: 4 of the last 4",
			obs:         []Observation{yes(NoiseRule{4, 4}), yes(NoiseRule{4, 4}), yes(NoiseRule{4, 4}), no(NoiseRule{4, 4}), yes(NoiseRule{4, 4})},
			wantLearned: nil, learnedAt: -1,
			wantNoise: []learnedNoise{{gen, 4, 4, 5, false}},
		},
		{
			name:        "a looser rule: the first confirmation teaches it",
			obs:         []Observation{no(NoiseRule{1, 1}), yes(NoiseRule{1, 1})},
			wantLearned: []string{gen}, learnedAt: 1,
			wantNoise: []learnedNoise{{gen, 1, 1, 2, true}},
		},
		{
			name: "a pattern tested and never confirmed is a regression: not listed, not learned",
			obs: []Observation{reask(route, def, []string{bug, gen}, gen), reask(route, def, []string{bug, gen}, gen),
				reask(route, def, []string{bug, gen}, gen)},
			wantLearned: []string{gen}, learnedAt: 2,
			wantNoise: []learnedNoise{{gen, 3, 3, 3, true}},
		},
		{
			name:        "noise left out without a re-ask counts, but teaches nothing",
			obs:         []Observation{{Route: route, PrimaryStatus: 200, CandidateStatus: 200, Noise: []string{gen}}},
			wantLearned: nil, learnedAt: -1,
			wantNoise: []learnedNoise{{gen, 1, 0, 0, false}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAggregator(Limits{})
			for i, o := range tc.obs {
				a.Observe(o)
				if got := len(a.Learned(route)) > 0; got != (tc.learnedAt >= 0 && i >= tc.learnedAt) {
					t.Errorf("after observation %d: learned %v", i, a.Learned(route))
				}
			}
			if d := cmp.Diff(tc.wantLearned, a.Learned(route)); d != "" {
				t.Errorf("Learned (-want +got):\n%s", d)
			}
			r := a.Snapshot().Route(route)
			if d := cmp.Diff(tc.wantNoise, noiseOf(r)); d != "" {
				t.Errorf("snapshot noise (-want +got):\n%s", d)
			}
		})
	}
}

// TestNoiseLearnedPerRoute: what is learned on one route silences nothing on
// another, and nothing is learned on OTHER, which mixes routes.
func TestNoiseLearnedPerRoute(t *testing.T) {
	a := NewAggregator(Limits{Routes: 2})
	for range 3 {
		a.Observe(reask("GET /api/a", NoiseRule{}, []string{"body.at"}, "body.at"))
	}
	a.Observe(reask("GET /api/b", NoiseRule{}, []string{"body.at"}))
	a.Observe(reask("GET /api/c", NoiseRule{}, []string{"body.at"}, "body.at")) // over the cap: OTHER
	for range 3 {
		a.Observe(reask("GET /api/d", NoiseRule{}, []string{"body.at"}, "body.at"))
	}
	got := map[string][]string{}
	for _, r := range []string{"GET /api/a", "GET /api/b", "GET /api/c", "GET /api/d", OtherRoute} {
		if l := a.Learned(r); l != nil {
			got[r] = l
		}
	}
	if d := cmp.Diff(map[string][]string{"GET /api/a": {"body.at"}}, got); d != "" {
		t.Errorf("learned by route (-want +got):\n%s", d)
	}
	s := a.Snapshot()
	if b := s.Route("GET /api/b"); len(b.Noise) != 0 || b.Mismatched != 1 {
		t.Errorf("route b: noise %v, %d mismatched; want none and 1", b.Noise, b.Mismatched)
	}
	if o := s.Route(OtherRoute); len(o.Noise) != 1 || o.Noise[0].Learned || o.Noise[0].Confirmed != 4 {
		t.Errorf("OTHER: noise %+v, want body.at confirmed 4 times and not learned", o.Noise)
	}
}

// TestNoiseSurvivesRestart: a snapshot written to disk and restored brings back
// the learned patterns at once, and the counts go on from where they were.
func TestNoiseSurvivesRestart(t *testing.T) {
	const route = "GET /api/sessions/:id"
	a := NewAggregator(Limits{})
	for range 3 {
		a.Observe(reask(route, NoiseRule{}, []string{"body.meta.requestId", "body.title"}, "body.meta.requestId"))
	}
	a.Observe(Observation{Route: route, PrimaryStatus: 200, CandidateStatus: 200, ReaskDropped: true,
		Differences: []diff.Difference{{Path: "body.title", Pattern: "body.title", Kind: diff.Changed}}})
	path := filepath.Join(t.TempDir(), "snapshot.json")
	if err := WriteSnapshotFile(path, a.Snapshot()); err != nil {
		t.Fatal(err)
	}
	s, err := ReadSnapshotFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b := NewAggregator(Limits{})
	if err := b.Restore(s); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"body.meta.requestId"}, b.Learned(route)); d != "" {
		t.Errorf("learned after restore (-want +got):\n%s", d)
	}
	if l := b.Learned("GET /api/sessions"); l != nil {
		t.Errorf("another route learned %v", l)
	}
	b.Observe(Observation{Route: route, PrimaryStatus: 200, CandidateStatus: 200, Noise: []string{"body.meta.requestId"}})
	r := b.Snapshot().Route(route)
	if d := cmp.Diff([]learnedNoise{{"body.meta.requestId", 4, 3, 3, true}}, noiseOf(r)); d != "" {
		t.Errorf("noise after restore (-want +got):\n%s", d)
	}
	if r.Reasks != 3 || r.ReaskDropped != 1 {
		t.Errorf("re-asks %d, dropped %d; want 3 and 1", r.Reasks, r.ReaskDropped)
	}
	want := "routes:\n  - match: GET /api/sessions/:id\n    ignore: [body.meta.requestId]\n"
	if r.Noise[0].Config != want {
		t.Errorf("config %q, want %q", r.Noise[0].Config, want)
	}
}

// TestNoiseMerge: totals sum, the learned mark is ORed, and the merge stays
// commutative and associative.
func TestNoiseMerge(t *testing.T) {
	const route = "GET /api/health"
	snap := func(confirmations int, pattern string) *Snapshot {
		a := NewAggregator(Limits{})
		for range confirmations {
			a.Observe(reask(route, NoiseRule{}, []string{pattern}, pattern))
		}
		a.Observe(reask(route, NoiseRule{}, []string{pattern}))
		return a.Snapshot()
	}
	x, y, z := snap(3, "body.uptime"), snap(2, "body.uptime"), snap(1, "body.generatedAt")
	must := func(s *Snapshot, err error) *Snapshot {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	xyz := must(Merge(x, y, z))
	for _, other := range []*Snapshot{must(Merge(z, y, x)), must(Merge(must(Merge(y, z)), x))} {
		if d := cmp.Diff(xyz.Routes, other.Routes); d != "" {
			t.Errorf("merge depends on order (-xyz +other):\n%s", d)
		}
	}
	want := []learnedNoise{{"body.uptime", 5, 5, 7, true}, {"body.generatedAt", 1, 1, 2, false}}
	r := xyz.Route(route)
	if d := cmp.Diff(want, noiseOf(r)); d != "" {
		t.Errorf("merged noise (-want +got):\n%s", d)
	}
	if r.Reasks != 7+2 {
		t.Errorf("merged re-asks %d, want 9", r.Reasks)
	}
	// Two snapshots that each fell short learn nothing by being merged: the mark
	// is ORed, never recomputed from totals.
	if n := must(Merge(y, y)).Route(route).Noise[0]; n.Learned || n.Confirmed != 4 {
		t.Errorf("merge of two unlearned: %+v", n)
	}
}

func TestNoiseSnapshotValidation(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"confirmed more than tested", `{"version":1,"routes":[{"route":"GET /a","noise":[{"path":"body.x","count":3,"confirmed":3,"reasks":2}]}]}`,
			`inconsistent counts for noise "body.x"`},
		{"negative count", `{"version":1,"routes":[{"route":"GET /a","noise":[{"path":"body.x","count":-1}]}]}`,
			`inconsistent counts for noise "body.x"`},
		{"negative re-asks", `{"version":1,"routes":[{"route":"GET /a","reasks":-2}]}`, "inconsistent noise counts"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSnapshot(strings.NewReader(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestNoiseCaps: patterns that never proved to be noise make room for new ones;
// a confirmed pattern that finds no room is counted as dropped, never lost
// silently.
func TestNoiseCaps(t *testing.T) {
	const route = "GET /api/x"
	a := NewAggregator(Limits{PathsPerRoute: 2})
	a.Observe(reask(route, NoiseRule{}, []string{"body.a", "body.b"}))                      // two regressions fill the table
	a.Observe(reask(route, NoiseRule{Confirm: 1, Window: 1}, []string{"body.n"}, "body.n")) // evicts body.a
	a.Observe(reask(route, NoiseRule{Confirm: 1, Window: 1}, []string{"body.m"}, "body.m")) // evicts body.b
	a.Observe(reask(route, NoiseRule{Confirm: 1, Window: 1}, []string{"body.o"}, "body.o")) // no room: dropped
	if d := cmp.Diff([]string{"body.m", "body.n"}, a.Learned(route)); d != "" {
		t.Errorf("learned (-want +got):\n%s", d)
	}
	r := a.Snapshot().Route(route)
	if r.NoiseDropped != 1 {
		t.Errorf("noise dropped %d, want 1", r.NoiseDropped)
	}
	long := "body." + strings.Repeat("x", DefaultValueBytes)
	b := NewAggregator(Limits{})
	for range 5 {
		b.Observe(reask(route, NoiseRule{}, []string{long}, long))
	}
	if l := b.Learned(route); l != nil {
		t.Errorf("a pattern too long to keep was learned: %v", l)
	}
}

// TestLearnedConcurrent reads Learned while observations teach new patterns;
// run with -race.
func TestLearnedConcurrent(t *testing.T) {
	a := NewAggregator(Limits{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			route := fmt.Sprintf("GET /api/r%d", w)
			for i := range 40 {
				p := fmt.Sprintf("body.p%d", i/3)
				a.Observe(reask(route, NoiseRule{}, []string{p}, p))
				_ = a.Learned(fmt.Sprintf("GET /api/r%d", (w+1)%4))
			}
		})
	}
	wg.Wait()
	for w := range 4 {
		if n := len(a.Learned(fmt.Sprintf("GET /api/r%d", w))); n != 13 {
			t.Errorf("route %d learned %d patterns, want 13", w, n)
		}
	}
}

// noiseSnapshot shows every state of the noise section: learned, on the way,
// left out while learned only, re-asks dropped, and OTHER (no config line).
func noiseSnapshot(t testing.TB) *Snapshot {
	t.Helper()
	a := NewAggregator(Limits{Routes: 2})
	for i := range 5 {
		o := reask("GET /api/health", NoiseRule{}, []string{"body.generatedAt", "body.uptime"}, "body.generatedAt")
		if i%2 == 0 {
			o.Noise = append(o.Noise, "body.uptime")
			o.Differences = nil
		}
		a.Observe(o)
	}
	for range 3 {
		a.Observe(Observation{Route: "GET /api/health", PrimaryStatus: 200, CandidateStatus: 200, Noise: []string{"body.generatedAt"}})
	}
	a.Observe(Observation{Route: "GET /api/sessions/:id", PrimaryStatus: 200, CandidateStatus: 200, ReaskDropped: true,
		Differences: []diff.Difference{{Path: "body.title", Pattern: "body.title", Kind: diff.Changed, Primary: `"a"`, Candidate: `"b"`}}})
	a.Observe(reask("GET /api/sessions/:id", NoiseRule{}, []string{"body.meta.requestId"}, "body.meta.requestId"))
	a.Observe(reask("GET /api/activity", NoiseRule{}, []string{"body.generatedAt"}, "body.generatedAt")) // OTHER
	s := a.Snapshot()
	s.Started = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s.Updated = time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
	return s
}

func TestNoiseRenderGolden(t *testing.T) {
	s := noiseSnapshot(t)
	for _, r := range renderers {
		if r.ext == "html" {
			continue // the HTML report has its own goldens
		}
		t.Run("noise."+r.ext, func(t *testing.T) {
			var b bytes.Buffer
			if err := r.render(&b, s, RenderOptions{Title: "noise"}); err != nil {
				t.Fatal(err)
			}
			golden(t, "noise."+r.ext, b.Bytes())
		})
	}
}

func BenchmarkObserveReask(b *testing.B) {
	a := NewAggregator(Limits{})
	obs := []Observation{
		reask("GET /api/health", NoiseRule{}, []string{"body.generatedAt", "body.uptime", "body.version"}, "body.generatedAt", "body.uptime"),
		{Route: "GET /api/health", PrimaryStatus: 200, CandidateStatus: 200, Noise: []string{"body.generatedAt", "body.uptime"}},
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		a.Observe(obs[i%2])
	}
}

func BenchmarkLearned(b *testing.B) {
	a := NewAggregator(Limits{})
	for r := range 100 {
		route := fmt.Sprintf("GET /api/r%d", r)
		for range 3 {
			a.Observe(reask(route, NoiseRule{}, []string{"body.generatedAt", "body.uptime"}, "body.generatedAt", "body.uptime"))
		}
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if len(a.Learned("GET /api/r42")) != 2 {
				b.Fatal("not learned")
			}
		}
	})
}
