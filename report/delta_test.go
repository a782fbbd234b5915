package report

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/parity-dev/parity/diff"
)

// windowTraffic is the i-th observation of a mixed, deterministic traffic: matches
// at varied latencies, differences (one security-marked), candidate transport
// errors, 5xx and 401s, skips, habits, noise, re-asks and truncated comparisons,
// on three routes, four observations a second from t0.
func windowTraffic(i int, t0 time.Time) Observation {
	route := []string{"GET /api/a", "GET /api/b", "POST /api/c"}[i%3]
	if i < 300 && route == "POST /api/c" {
		route = "GET /api/a" // /api/c appears only later
	}
	o := matched(route, 3+i%17, 4+i%23)
	o.RequestID = fmt.Sprintf("r%04d", i)
	o.Time = t0.Add(time.Duration(i) * 250 * time.Millisecond)
	switch i % 11 {
	case 1:
		o.Differences = []diff.Difference{changed("body.total", "body.total", "3", fmt.Sprint(i))}
	case 2:
		o.Differences = []diff.Difference{changed("body.total", "body.total", "3", "4"),
			{Path: "headers.set-cookie.sid", Pattern: "headers.set-cookie.sid", Kind: diff.Missing, Primary: "HttpOnly", Security: diff.CookieHttpOnlyLost}}
	case 3:
		o.CandidateError, o.CandidateStatus = []string{"timeout", "connection refused"}[i%2], 0
	case 4:
		o.CandidateStatus = 500
		o.Differences = []diff.Difference{changed("status", "status", "200", "500")}
	case 5:
		o.CandidateStatus = 401
		o.Differences = []diff.Difference{changed("status", "status", "200", "401")}
	case 6:
		o.Skipped = []SkipReason{SkipSampledOut, SkipQueueFull, SkipWriteMethod}[i%3]
	case 7:
		o.Habits = []string{HabitCanonicalRedirect}
		o.Noise = []string{"body.generated_at"}
	case 8:
		// A re-ask that tests two patterns and confirms one, too rarely to learn.
		o.Differences = []diff.Difference{changed("body.id", "body.id", "1", "2")}
		o.NoiseChecked = []string{"body.id", "body.etag"}
		if i%4 == 0 {
			o.Noise = []string{"body.etag"}
		}
		o.NoiseRule = NoiseRule{Confirm: 60, Window: 64}
	case 9:
		o.ReaskDropped = true
		o.Omitted = 2
		o.Truncated = true
	}
	return o
}

// Delta of a snapshot taken after N observations and one taken after M more
// is the snapshot of an aggregator fed only the M: every count, histogram,
// group, pattern, set, series point and route. Only what cannot be equal is
// left out: when the snapshots were taken and when groups were first seen,
// and which examples were kept.
func TestDeltaIsWhatCameBetween(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	all, only := NewAggregator(Limits{}), NewAggregator(Limits{})
	const n, m = 300, 500
	for i := range n {
		all.Observe(windowTraffic(i, t0))
	}
	base := all.Snapshot()
	for i := n; i < n+m; i++ {
		o := windowTraffic(i, t0)
		all.Observe(o)
		only.Observe(o)
	}
	cur := all.Snapshot()
	got, err := Delta(cur, base)
	if err != nil {
		t.Fatal(err)
	}
	want := only.Snapshot()
	ignore := cmp.Options{
		cmpopts.IgnoreFields(Snapshot{}, "Started", "Updated"),
		cmpopts.IgnoreFields(DiffGroup{}, "Examples", "ExamplesDropped", "Reproducer", "FirstSeen", "LastSeen"),
		cmpopts.EquateEmpty(),
	}
	if d := cmp.Diff(want, got, ignore); d != "" {
		t.Errorf("delta (-fed only the later observations +delta):\n%s", d)
	}
	if !got.Started.Equal(base.Updated) || !got.Updated.Equal(cur.Updated) {
		t.Errorf("delta spans %v..%v, want %v..%v", got.Started, got.Updated, base.Updated, cur.Updated)
	}
	// The cases the mix must cover, so that the comparison above means something.
	a := got.Route("GET /api/a")
	if a == nil || a.CandidateTransportErrors == 0 || a.CandidateAuthFailures == 0 || len(a.Skipped) == 0 || len(a.Habits) == 0 ||
		len(a.Noise) == 0 || a.Reasks == 0 || a.ReaskDropped == 0 || a.DifferencesOmitted == 0 || len(a.MismatchSets) == 0 ||
		len(a.SecurityDifferences()) == 0 || a.Latency.Candidate.Count == 0 || got.Route("POST /api/c") == nil || len(got.Series) != 3 {
		t.Fatalf("the traffic misses a case: %+v", a)
	}
	for _, r := range got.Routes {
		for _, g := range r.Differences {
			if int64(len(g.Examples)) > g.Count || g.ExamplesDropped < 0 {
				t.Errorf("%s %s: %d examples of %d occurrences", r.Route, g.Path, len(g.Examples), g.Count)
			}
		}
	}
}

// A window's examples are those base did not have, first; a group with
// nothing new in the window is left out.
func TestDeltaExamples(t *testing.T) {
	agg := NewAggregator(Limits{ExamplesPerPath: 2})
	agg.Observe(differing("GET /api/a", "r1", changed("body.x", "body.x", "1", "2")))
	agg.Observe(differing("GET /api/a", "r2", changed("body.y", "body.y", "1", "2")))
	base := agg.Snapshot()
	agg.Observe(differing("GET /api/a", "r3", changed("body.x", "body.x", "1", "3")))
	got, err := Delta(agg.Snapshot(), base)
	if err != nil {
		t.Fatal(err)
	}
	want := []DiffGroup{{Path: "body.x", Kind: "changed", Count: 1, Examples: []Example{{RequestID: "r3", Path: "body.x", Primary: "1", Candidate: "3"}}}}
	if d := cmp.Diff(want, got.Route("GET /api/a").Differences,
		cmpopts.IgnoreFields(DiffGroup{}, "Share", "Reproducer", "FirstSeen", "LastSeen")); d != "" {
		t.Errorf("groups (-want +got):\n%s", d)
	}
}

// A count that went down means the later snapshot does not follow the
// earlier one (a restart, a reset): no window.
func TestDeltaRefusesCountsThatWentDown(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	feed := func(n int) *Snapshot {
		a := NewAggregator(Limits{})
		for i := range n {
			a.Observe(windowTraffic(i, t0))
		}
		return a.Snapshot()
	}
	long, short := feed(400), feed(350)
	if _, err := Delta(short, long); err == nil || !strings.Contains(err.Error(), "went down") {
		t.Errorf("restarted: %v, want counts that went down", err)
	}
	gone := feed(400)
	gone.Routes = slices.DeleteFunc(gone.Routes, func(r RouteStats) bool { return r.Route == "GET /api/b" })
	if _, err := Delta(gone, long); err == nil || !strings.Contains(err.Error(), `route "GET /api/b" is gone`) {
		t.Errorf("route gone: %v", err)
	}
	// Only a latency bucket went down.
	slow := feed(400)
	a := NewAggregator(Limits{})
	o := matched("GET /api/a", 5, 5)
	a.Observe(o)
	o.PrimaryLatency = 900 * time.Millisecond
	a.Observe(o)
	later := NewAggregator(Limits{})
	o.PrimaryLatency = 5 * time.Millisecond
	later.Observe(o)
	later.Observe(o)
	later.Observe(o)
	if _, err := Delta(later.Snapshot(), a.Snapshot()); err == nil || !strings.Contains(err.Error(), "bucket") {
		t.Errorf("a latency bucket went down: %v", err)
	}
	if _, err := Delta(Accept(slow, []Acceptance{{Route: "GET /api/a", Path: "body.total", Reason: "x", Until: "2099-01-01"}}, t0), long); err == nil ||
		!strings.Contains(err.Error(), "judged") {
		t.Errorf("a judged copy: %v", err)
	}
	if d, err := Delta(long, long); err != nil || len(d.Routes) != 0 || len(d.Series) != 0 {
		t.Errorf("a snapshot less itself: %v, %+v", err, d)
	}
}

// Every field of the snapshot's types is one Delta decided on: a new field
// fails here until it is handled in Delta and listed below. Counters are
// checked by filling them: cur holds 7, base 3, the delta must hold 4.
func TestDeltaHandlesEveryField(t *testing.T) {
	decided := map[reflect.Type]struct{ counters, other []string }{
		reflect.TypeFor[Snapshot](): {
			counters: []string{"RoutesOverflowed"},
			// Version: the current one; Started, Updated: base's update and cur's;
			// Limits, Learned: cur's; Series: subtracted by minute; Routes: below;
			// HistogramsOmitted: refused.
			other: []string{"Version", "Started", "Updated", "Limits", "Series", "Learned", "Routes", "HistogramsOmitted"},
		},
		reflect.TypeFor[RouteStats](): {
			counters: []string{"Compared", "Matched", "CandidateErrors", "CandidateTransportErrors", "CandidateAuthFailures",
				"DifferencesDropped", "DifferencesOmitted", "NoiseDropped", "Reasks", "ReaskDropped", "MismatchSetsDropped"},
			// Route, Method: the key; Errors, Skipped, Habits: subtracted by key;
			// Mismatched, Parity, ParityLower: derived; Latency: by bucket;
			// Differences, Noise, MismatchSets: by key, below; AcceptedMatched,
			// AcceptanceExpired: a judged copy, refused.
			other: []string{"Route", "Method", "Mismatched", "Errors", "Skipped", "Habits", "Parity", "ParityLower", "Latency",
				"Differences", "Noise", "MismatchSets", "AcceptedMatched", "AcceptanceExpired"},
		},
		reflect.TypeFor[DiffGroup](): {
			counters: []string{"Count"},
			// Path, Kind: the key; Security: cur's rule; Examples: cur's, new
			// first; ExamplesDropped, Share, Reproducer: derived; FirstSeen,
			// LastSeen: cur's; Accepted: a judged copy, refused.
			other: []string{"Path", "Kind", "Security", "Examples", "ExamplesDropped", "FirstSeen", "LastSeen", "Share", "Reproducer", "Accepted"},
		},
		reflect.TypeFor[NoiseCount](): {
			counters: []string{"Count", "Confirmed", "Reasks"},
			other:    []string{"Path", "Learned", "Config"}, // the key, cur's mark, derived
		},
		reflect.TypeFor[MismatchSet](): {counters: []string{"Count"}, other: []string{"Groups"}},
		reflect.TypeFor[SeriesPoint](): {
			counters: []string{"Observed", "Mirrored", "Compared", "Matched", "CandidateErrors"},
			other:    []string{"Minute"},
		},
	}
	for typ, d := range decided {
		for f := range typ.Fields() {
			if !slices.Contains(d.counters, f.Name) && !slices.Contains(d.other, f.Name) {
				t.Errorf("%s.%s: Delta does not say what a window holds of it; handle it and list it here", typ.Name(), f.Name)
			}
		}
	}

	fill := func(v reflect.Value, names []string, n int64) {
		for _, name := range names {
			v.FieldByName(name).SetInt(n)
		}
	}
	minute := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	mk := func(n int64) *Snapshot {
		s := &Snapshot{Version: SnapshotVersion}
		fill(reflect.ValueOf(s).Elem(), decided[reflect.TypeFor[Snapshot]()].counters, n)
		r := RouteStats{Route: "GET /api/a", Method: "GET"}
		fill(reflect.ValueOf(&r).Elem(), decided[reflect.TypeFor[RouteStats]()].counters, n)
		r.Matched, r.CandidateTransportErrors = n-1, n-2 // consistent with Compared and CandidateErrors
		r.Differences = []DiffGroup{{Path: "body.x", Kind: "changed"}}
		fill(reflect.ValueOf(&r.Differences[0]).Elem(), decided[reflect.TypeFor[DiffGroup]()].counters, n)
		r.Noise = []NoiseCount{{Path: "body.y"}}
		fill(reflect.ValueOf(&r.Noise[0]).Elem(), decided[reflect.TypeFor[NoiseCount]()].counters, n)
		r.MismatchSets = []MismatchSet{{Groups: []GroupRef{{"body.x", "changed"}}}}
		fill(reflect.ValueOf(&r.MismatchSets[0]).Elem(), decided[reflect.TypeFor[MismatchSet]()].counters, n)
		s.Routes = []RouteStats{r}
		s.Series = []SeriesPoint{{Minute: minute}}
		fill(reflect.ValueOf(&s.Series[0]).Elem(), decided[reflect.TypeFor[SeriesPoint]()].counters, n)
		return s
	}
	got, err := Delta(mk(7), mk(3))
	if err != nil {
		t.Fatal(err)
	}
	check := func(v reflect.Value, names []string) {
		for _, name := range names {
			want := int64(4)
			if name == "Matched" || name == "CandidateTransportErrors" {
				want = 4 // (7-1)-(3-1), (7-2)-(3-2)
			}
			if g := v.FieldByName(name).Int(); g != want {
				t.Errorf("%s.%s = %d, want %d", v.Type().Name(), name, g, want)
			}
		}
	}
	check(reflect.ValueOf(got).Elem(), decided[reflect.TypeFor[Snapshot]()].counters)
	r := got.Route("GET /api/a")
	if r == nil || len(r.Differences) != 1 || len(r.Noise) != 1 || len(r.MismatchSets) != 1 || len(got.Series) != 1 {
		t.Fatalf("delta lost a route, group, pattern, set or point: %+v", got)
	}
	check(reflect.ValueOf(r).Elem(), decided[reflect.TypeFor[RouteStats]()].counters)
	check(reflect.ValueOf(&r.Differences[0]).Elem(), decided[reflect.TypeFor[DiffGroup]()].counters)
	check(reflect.ValueOf(&r.Noise[0]).Elem(), decided[reflect.TypeFor[NoiseCount]()].counters)
	check(reflect.ValueOf(&r.MismatchSets[0]).Elem(), decided[reflect.TypeFor[MismatchSet]()].counters)
	check(reflect.ValueOf(&got.Series[0]).Elem(), decided[reflect.TypeFor[SeriesPoint]()].counters)
}

// Rows keyed before a template was learned are folded into the template's row
// in the later snapshot; Delta folds the earlier one alike, so the window
// holds only what came after.
func TestDeltaFoldsWhatWasLearnedSince(t *testing.T) {
	agg := NewAggregator(Limits{})
	for i := range 15 {
		agg.Observe(matched([]string{"GET /api/w/a", "GET /api/w/b", "GET /api/w/c"}[i%3], 5, 5))
	}
	base := agg.Snapshot()
	for range 4 {
		agg.Observe(differing("GET /api/w/d", "r9", changed("body.x", "body.x", "1", "2")))
	}
	cur, err := Merge(agg.Snapshot(), &Snapshot{Version: SnapshotVersion, Learned: []LearnedRoute{{Template: "/api/w/:id"}}})
	if err != nil {
		t.Fatal(err)
	}
	if cur.Route("GET /api/w/:id") == nil || cur.Route("GET /api/w/a") != nil {
		t.Fatalf("the later snapshot did not fold: %v", cur.Routes)
	}
	got, err := Delta(cur, base)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Routes) != 1 || got.Routes[0].Route != "GET /api/w/:id" || got.Routes[0].Compared != 4 || got.Routes[0].Matched != 0 {
		t.Errorf("delta routes %+v, want GET /api/w/:id with the 4 later mismatches", got.Routes)
	}
}

// BenchmarkWindow is one evaluation's window of a proxy with 200 routes that
// all saw traffic since the window began: Delta then Judge, and JudgeWindow.
func BenchmarkWindow(b *testing.B) {
	t0 := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	agg := NewAggregator(Limits{})
	feed := func(from, to int) {
		for i := from; i < to; i++ {
			o := windowTraffic(i, t0)
			o.Route = fmt.Sprintf("GET /api/r%03d", i%200)
			agg.Observe(o)
		}
	}
	feed(0, 100000)
	base := agg.Snapshot()
	feed(100000, 120000)
	cur := agg.Snapshot()
	plan, err := ParsePlan("plan.yaml", []byte("steps: [{name: All, routes: [/api]}]\n"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Delta+Judge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			d, err := Delta(cur, base)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Judge(d, plan, 1, plan.Thresholds); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("JudgeWindow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := JudgeWindow(cur, base, nil, plan, 1, plan.Thresholds); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// JudgeWindow judges as Judge does on the judged Delta, latency included,
// without encoding the window's histograms.
func TestJudgeWindowIsJudgeOfDelta(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	agg := NewAggregator(Limits{})
	for i := range 3000 {
		agg.Observe(windowTraffic(i, t0))
	}
	base := agg.Snapshot()
	for i := 3000; i < 5000; i++ {
		agg.Observe(windowTraffic(i, t0))
	}
	cur := agg.Snapshot()
	plan, err := ParsePlan("plan.yaml", []byte("thresholds: {min_samples: 10, max_p99_ratio: 1.5}\nsteps:\n  - {name: All, routes: [/api/a, /api/b, /api/c]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	judged := func(s *Snapshot) *Snapshot {
		return Accept(s, []Acceptance{{Route: "GET /api/b", Path: "body.total", Kind: "changed", Reason: "rounding", Owner: "ada", Until: "2099-01-01"}}, t0)
	}
	d, err := Delta(cur, base)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Judge(judged(d), plan, 1, plan.Thresholds)
	if err != nil {
		t.Fatal(err)
	}
	got, err := JudgeWindow(cur, base, judged, plan, 1, plan.Thresholds)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(RouteVerdict{}, "Stats")); d != "" {
		t.Errorf("JudgeWindow (-Judge of Delta +JudgeWindow):\n%s", d)
	}
	if got.Routes[0].Evidence.Latency.Primary.Samples == 0 {
		t.Error("no latency judged: the comparison proves nothing")
	}
	if _, err := JudgeWindow(base, cur, judged, plan, 1, plan.Thresholds); err == nil {
		t.Error("a window whose counts went down was judged")
	}
}

// A fleet replica replaced without its snapshot takes its counts out of the
// merge; even when the others' new traffic outgrows them, its past minutes in
// the series went down, and there is no window.
func TestDeltaSeesAReplicaLostFromAMerge(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	a, b := NewAggregator(Limits{}), NewAggregator(Limits{})
	for i := range 400 {
		o := matched("GET /api/a", 5, 5)
		o.Time = t0.Add(time.Duration(i) * time.Second)
		[]*Aggregator{a, b}[i%2].Observe(o)
	}
	base, err := Merge(a.Snapshot(), b.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	for i := 400; i < 2000; i++ { // b alone, after a was replaced
		o := matched("GET /api/a", 5, 5)
		o.Time = t0.Add(time.Duration(i) * time.Second)
		b.Observe(o)
	}
	cur, err := Merge(b.Snapshot(), NewAggregator(Limits{}).Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	if r := cur.Route("GET /api/a"); r.Compared <= base.Route("GET /api/a").Compared {
		t.Fatalf("the route's counts went down (%d): the test needs them to grow", r.Compared)
	}
	if _, err := Delta(cur, base); err == nil || !strings.Contains(err.Error(), "series") {
		t.Errorf("a replica lost from the merge: %v, want the series gone down", err)
	}
}
