package report

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/parity-dev/parity/report/route"
)

// trafficPath is one request of generated traffic: the path the proxy saw.
type trafficPath struct{ method, path string }

// slugTraffic returns n requests over routes whose ids are slugs no shape rule
// recognises (so only learning can find the route), beside a frequent literal
// ("export") and a plain list. ids bounds the distinct slugs.
func slugTraffic(seed uint64, n, ids int) []trafficPath {
	rng := rand.New(rand.NewPCG(seed, 3))
	words := []string{"quarterly", "annual", "weekly", "board", "sales", "churn", "growth", "risk"}
	slug := func() string {
		i := rng.IntN(ids)
		return words[i%len(words)] + "-" + words[(i/len(words))%len(words)] + "-" + words[(i/64)%len(words)]
	}
	out := make([]trafficPath, n)
	for i := range out {
		switch rng.IntN(5) {
		case 0:
			out[i] = trafficPath{"GET", "/api/v1/workflows/export"}
		case 1:
			out[i] = trafficPath{"GET", "/api/v1/workflows"}
		case 2:
			out[i] = trafficPath{"GET", "/api/v1/workflows/" + slug()}
		default:
			out[i] = trafficPath{"GET", "/api/v1/reports/" + slug() + "/summary"}
		}
	}
	return out
}

// observationsOn gives each request of traffic an outcome (seeded) and its route key
// from keyer at the moment it is seen, as the proxy does.
func observationsOn(seed uint64, traffic []trafficPath, keyer *route.Keyer) []Observation {
	obs := randomObservations(seed, len(traffic))
	for i, tp := range traffic {
		obs[i].Route = keyer.Key(tp.method, tp.path)
		obs[i].Method = tp.method
	}
	return obs
}

var ignoreExamples = []cmp.Option{
	cmpopts.IgnoreFields(Snapshot{}, "Started", "Updated"),
	cmpopts.IgnoreFields(DiffGroup{}, "Examples", "ExamplesDropped"),
}

// TestAggregatorFoldsRowsIntoLearnedTemplates: rows recorded under per-id keys
// before a template was learned end in the template's row, exactly: the snapshot
// equals that of an aggregator that filed every request under its final route.
func TestAggregatorFoldsRowsIntoLearnedTemplates(t *testing.T) {
	a := NewAggregator(Limits{})
	keyer := route.BuildKeyer(route.Sources{Learner: a.Learner()})
	obs := observationsOn(11, slugTraffic(1, 2000, 300), keyer)
	perID := map[string]bool{}
	for _, o := range obs {
		perID[o.Route] = true
		a.Observe(o)
	}
	got := a.Snapshot()
	if len(perID) < 20 {
		t.Fatalf("the traffic was keyed under %d routes: learning had nothing to fold", len(perID))
	}

	final := a.Learner().Learned()
	ref := NewAggregator(Limits{})
	for _, o := range obs {
		o.Route = final.Rekey(o.Route)
		ref.Observe(o)
	}
	want := ref.Snapshot()
	want.Learned = got.Learned // checked below
	if d := cmp.Diff(want, got, ignoreExamples...); d != "" {
		t.Errorf("folded snapshot differs from one filed under the final routes (-want +got):\n%s", d)
	}
	var routes []string
	for _, r := range got.Routes {
		routes = append(routes, r.Route)
	}
	wantRoutes := []string{"GET /api/v1/reports/:id/summary", "GET /api/v1/workflows", "GET /api/v1/workflows/:id", "GET /api/v1/workflows/export"}
	if d := cmp.Diff(wantRoutes, routes); d != "" {
		t.Errorf("routes (-want +got):\n%s", d)
	}
	wantLearned := []LearnedRoute{
		{Template: "/api/v1/reports/:id", Config: "routes:\n  - match: /api/v1/reports/:id\n"},
		{Template: "/api/v1/workflows/:id", Keep: []string{"export"},
			Config: "routes:\n  - match: /api/v1/workflows/export\n  - match: /api/v1/workflows/:id\n"},
	}
	if d := cmp.Diff(wantLearned, got.Learned); d != "" {
		t.Errorf("learned (-want +got):\n%s", d)
	}
}

// TestAggregatorFoldKeepsLateObservations: an observation keyed before the fold and
// recorded after it goes to the template's row, none is lost under concurrency.
func TestAggregatorFoldKeepsLateObservations(t *testing.T) {
	a := NewAggregator(Limits{})
	keyer := route.BuildKeyer(route.Sources{Learner: a.Learner()})
	traffic := slugTraffic(2, 3000, 400)
	early := make([]Observation, len(traffic))
	for i, tp := range traffic { // keyed now, observed later, concurrently
		early[i] = Observation{Route: keyer.Key(tp.method, tp.path), Method: "GET", PrimaryStatus: 200, CandidateStatus: 200}
	}
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := g; i < len(early); i += 4 {
				a.Observe(early[i])
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	s := a.Snapshot()
	var total int64
	for _, r := range s.Routes {
		total += r.Compared
		if a.Learner().Learned().Rekey(r.Route) != r.Route {
			t.Errorf("row %q is not folded", r.Route)
		}
	}
	if total != int64(len(early)) {
		t.Errorf("compared %d, want %d", total, len(early))
	}
}

// TestLearnedSnapshotRoundTrip: learned templates survive a snapshot written and
// read back, and a restored aggregator keys new ids by them at once.
func TestLearnedSnapshotRoundTrip(t *testing.T) {
	a := NewAggregator(Limits{})
	keyer := route.BuildKeyer(route.Sources{Learner: a.Learner()})
	for _, o := range observationsOn(3, slugTraffic(3, 1500, 200), keyer) {
		a.Observe(o)
	}
	var buf bytes.Buffer
	if err := WriteSnapshot(&buf, a.Snapshot()); err != nil {
		t.Fatal(err)
	}
	s, err := ReadSnapshot(&buf)
	if err != nil {
		t.Fatal(err)
	}
	b := NewAggregator(Limits{})
	if err := b.Restore(s); err != nil {
		t.Fatal(err)
	}
	k2 := route.BuildKeyer(route.Sources{Learner: b.Learner()})
	for _, tc := range []struct{ path, want string }{
		{"/api/v1/workflows/never-seen-before", "GET /api/v1/workflows/:id"},
		{"/api/v1/workflows/export", "GET /api/v1/workflows/export"},
		{"/api/v1/reports/brand-new-one/summary", "GET /api/v1/reports/:id/summary"},
	} {
		if got := k2.Key("GET", tc.path); got != tc.want {
			t.Errorf("restored: Key(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
	if d := cmp.Diff(s.Learned, b.Snapshot().Learned); d != "" {
		t.Errorf("learned after restore (-want +got):\n%s", d)
	}
}

// TestMergeFoldsWhatAnotherReplicaLearned: a replica that saw too few ids to learn
// has per-id rows; merged with one that learned, they fold into the template's row,
// and the merge equals one aggregator that saw both replicas' traffic.
func TestMergeFoldsWhatAnotherReplicaLearned(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	ta, tb := slugTraffic(5, 1500, 300), slugTraffic(6, 12, 300)
	replica := func(seed uint64, traffic []trafficPath) (*Snapshot, []Observation) {
		a := NewAggregator(Limits{})
		obs := observationsOn(seed, traffic, route.BuildKeyer(route.Sources{Learner: a.Learner()}))
		for _, o := range obs {
			a.Observe(o)
		}
		s := a.Snapshot()
		s.Started, s.Updated = t0, t0
		return s, obs
	}
	sa, oa := replica(7, ta)
	sb, ob := replica(8, tb)
	if len(sb.Learned) != 0 {
		t.Fatalf("replica b learned %v from 12 requests", sb.Learned)
	}
	m, err := Merge(sa, sb)
	if err != nil {
		t.Fatal(err)
	}
	one := NewAggregator(Limits{})
	set, err := sa.learnedSet()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range append(oa, ob...) {
		o.Route = set.Rekey(o.Route)
		one.Observe(o)
	}
	want := one.Snapshot()
	want.Learned = sa.Learned
	if d := cmp.Diff(want, m, ignoreExamples...); d != "" {
		t.Errorf("merge (-one aggregator +merged):\n%s", d)
	}
}

// TestMergeAlgebraWithLearning: Merge stays commutative and associative when the
// inputs learned different templates and kept different values.
func TestMergeAlgebraWithLearning(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var snaps []*Snapshot
	for i, n := range []int{1500, 40, 900} {
		a := NewAggregator(Limits{})
		k := route.BuildKeyer(route.Sources{Learner: a.Learner()})
		tr := slugTraffic(uint64(20+i), n, 100+100*i)
		if i == 2 { // this replica rarely sees export: it does not keep it
			tr = tr[:0]
			for j := 0; j < n; j++ {
				tr = append(tr, trafficPath{"GET", fmt.Sprintf("/api/v1/workflows/wf-flow-%s", strings.Repeat("x", j%40+1))})
			}
			tr = append(tr, trafficPath{"GET", "/api/v1/workflows/export"})
		}
		for _, o := range observationsOn(uint64(30+i), tr, k) {
			a.Observe(o)
		}
		s := a.Snapshot()
		s.Started, s.Updated = t0, t0
		snaps = append(snaps, s)
	}
	a, b, c := snaps[0], snaps[1], snaps[2]
	must := func(s *Snapshot, err error) *Snapshot {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if d := cmp.Diff(must(Merge(a, b)), must(Merge(b, a))); d != "" {
		t.Errorf("Merge(a, b) != Merge(b, a):\n%s", d)
	}
	left, right, flat := must(Merge(must(Merge(a, b)), c)), must(Merge(a, must(Merge(b, c)))), must(Merge(c, b, a))
	if d := cmp.Diff(left, right); d != "" {
		t.Errorf("(a+b)+c != a+(b+c):\n%s", d)
	}
	if d := cmp.Diff(left, flat); d != "" {
		t.Errorf("(a+b)+c != c+b+a:\n%s", d)
	}
	var total, sum int64
	for _, s := range snaps {
		for _, r := range s.Routes {
			total += r.Compared + r.SkippedTotal() + r.CandidateTransportErrors
		}
	}
	for _, r := range left.Routes {
		sum += r.Compared + r.SkippedTotal() + r.CandidateTransportErrors
	}
	if sum != total {
		t.Errorf("merged requests %d, inputs %d", sum, total)
	}
	if r := left.Route("GET /api/v1/workflows/export"); r != nil {
		t.Errorf("export kept apart although replica c folded it: %+v", r.Route)
	}
}

func TestReadSnapshotBadLearned(t *testing.T) {
	_, err := ReadSnapshot(strings.NewReader(`{"version":1,"routes":[],"learned":[{"template":"/api/x"}]}`))
	if err == nil || !strings.Contains(err.Error(), `learned template "/api/x"`) {
		t.Errorf("err = %v", err)
	}
}

// TestReportsShowLearnedTemplatesAndAuthByDesign: every report lists the learned
// templates with the config that pins them, and an auth route once, as never
// mirrored by design rather than waiting for evidence.
func TestReportsShowLearnedTemplatesAndAuthByDesign(t *testing.T) {
	a := NewAggregator(Limits{})
	keyer := route.BuildKeyer(route.Sources{Learner: a.Learner()})
	for _, o := range observationsOn(9, slugTraffic(9, 800, 100), keyer) {
		a.Observe(o)
	}
	for _, p := range []string{"/api/auth/session", "/API/Auth/session", "/api/AUTH/session"} {
		a.Observe(Observation{Route: keyer.Key("GET", p), Method: "GET", Skipped: SkipAuth})
	}
	s := a.Snapshot()
	for name, render := range map[string]func(*bytes.Buffer) error{
		"table":    func(b *bytes.Buffer) error { return RenderTable(b, s, RenderOptions{}) },
		"markdown": func(b *bytes.Buffer) error { return RenderMarkdown(b, s, RenderOptions{}) },
	} {
		var b bytes.Buffer
		if err := render(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, want := range []string{"/api/v1/workflows/:id", "- match: /api/v1/workflows/export", "never mirrored (by design)"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s report lacks %q:\n%s", name, want, out)
			}
		}
		if n := strings.Count(strings.ToLower(out), "get /api/auth/session"); n != 1 {
			t.Errorf("%s report shows the auth route %d times, want once:\n%s", name, n, out)
		}
	}
}
