package report

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/parity-dev/parity/diff"
)

// matched is a compared request with no difference left.
func matched(route string, primaryMs, candidateMs int) Observation {
	return Observation{Route: route, Method: methodOf(route), RequestID: "req", PrimaryStatus: 200, CandidateStatus: 200,
		PrimaryLatency: time.Duration(primaryMs) * time.Millisecond, CandidateLatency: time.Duration(candidateMs) * time.Millisecond}
}

// differing is a compared request with differences.
func differing(route, id string, ds ...diff.Difference) Observation {
	o := matched(route, 10, 10)
	o.RequestID = id
	o.Differences = ds
	return o
}

func changed(path, pattern, p, c string) diff.Difference {
	return diff.Difference{Path: path, Pattern: pattern, Kind: diff.Changed, Primary: p, Candidate: c}
}

func TestAggregatorCounts(t *testing.T) {
	const route = "GET /api/sessions/:id"
	status := func(p, c int) Observation {
		o := matched(route, 5, 5)
		o.PrimaryStatus, o.CandidateStatus = p, c
		if p != c {
			o.Differences = []diff.Difference{{Path: "status", Pattern: "status", Kind: diff.Changed,
				Primary: fmt.Sprint(p), Candidate: fmt.Sprint(c)}}
		}
		return o
	}
	tests := []struct {
		name string
		obs  []Observation
		want RouteStats
	}{
		{
			name: "matches count toward parity",
			obs:  []Observation{matched(route, 5, 6), matched(route, 5, 6)},
			want: RouteStats{Compared: 2, Matched: 2, Parity: 1, ParityLower: Wilson(2, 2)},
		},
		{
			name: "differences make a mismatch and group by pattern and kind",
			obs: []Observation{
				differing(route, "r1", changed("body.items.0.id", "body.items.#.id", "1", "2")),
				differing(route, "r2", changed("body.items.3.id", "body.items.#.id", "4", "5")),
				matched(route, 1, 1),
			},
			want: RouteStats{Compared: 3, Matched: 1, Mismatched: 2, Parity: 0.333333, ParityLower: Wilson(1, 3),
				Differences: []DiffGroup{{Path: "body.items.#.id", Kind: "changed", Count: 2, Examples: []Example{
					{RequestID: "r1", Path: "body.items.0.id", Primary: "1", Candidate: "2"},
					{RequestID: "r2", Path: "body.items.3.id", Primary: "4", Candidate: "5"},
				}}}},
		},
		{
			name: "a transport error is a candidate error, not a comparison",
			obs:  []Observation{{Route: route, PrimaryStatus: 200, CandidateError: "timeout"}},
			want: RouteStats{CandidateErrors: 1, CandidateTransportErrors: 1, Errors: map[string]int64{"timeout": 1}},
		},
		{
			name: "a candidate 5xx where the primary had none is a candidate error",
			obs:  []Observation{status(200, 502), status(500, 500), status(503, 500)},
			want: RouteStats{Compared: 3, Matched: 1, Mismatched: 2, CandidateErrors: 1, Parity: 0.333333, ParityLower: Wilson(1, 3),
				Differences: []DiffGroup{{Path: "status", Kind: "changed", Count: 2, Examples: []Example{
					{RequestID: "req", Path: "status", Primary: "200", Candidate: "502"},
					{RequestID: "req", Path: "status", Primary: "503", Candidate: "500"},
				}}}},
		},
		{
			name: "candidate 401 or 403 where the primary had neither is an auth failure",
			obs:  []Observation{status(200, 401), status(200, 403), status(401, 401), status(403, 401)},
			want: RouteStats{Compared: 4, Matched: 1, Mismatched: 3, CandidateAuthFailures: 2, Parity: 0.25, ParityLower: Wilson(1, 4),
				Differences: []DiffGroup{{Path: "status", Kind: "changed", Count: 3, Examples: []Example{
					{RequestID: "req", Path: "status", Primary: "200", Candidate: "401"},
					{RequestID: "req", Path: "status", Primary: "200", Candidate: "403"},
					{RequestID: "req", Path: "status", Primary: "403", Candidate: "401"},
				}}}},
		},
		{
			name: "skips count by reason only",
			obs: []Observation{{Route: route, Skipped: SkipWriteMethod}, {Route: route, Skipped: SkipWriteMethod},
				{Route: route, Skipped: SkipSampledOut, PrimaryStatus: 200}},
			want: RouteStats{Skipped: map[string]int64{string(SkipWriteMethod): 2, string(SkipSampledOut): 1}},
		},
		{
			name: "noise is counted per pattern and does not cost parity",
			obs: []Observation{
				{Route: route, PrimaryStatus: 200, CandidateStatus: 200, Noise: []string{"body.meta.requestId"}},
				{Route: route, PrimaryStatus: 200, CandidateStatus: 200, Noise: []string{"body.meta.requestId", "header.Date"}},
			},
			want: RouteStats{Compared: 2, Matched: 2, Parity: 1, ParityLower: Wilson(2, 2),
				Noise: []NoiseCount{{Path: "body.meta.requestId", Count: 2}, {Path: "header.Date", Count: 1}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAggregator(Limits{})
			for _, o := range tc.obs {
				a.Observe(o)
			}
			s := a.Snapshot()
			if len(s.Routes) != 1 {
				t.Fatalf("got %d routes, want 1", len(s.Routes))
			}
			want := tc.want
			want.Route, want.Method = route, "GET"
			want.finish()
			if diff := cmp.Diff(want, s.Routes[0], cmpopts.IgnoreFields(RouteStats{}, "Latency"), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("route stats (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAggregatorLatency(t *testing.T) {
	a := NewAggregator(Limits{})
	for i := 1; i <= 100; i++ {
		a.Observe(matched("GET /x", i, 2*i))
	}
	a.Observe(Observation{Route: "GET /x", PrimaryStatus: 200, PrimaryLatency: 7 * time.Millisecond, CandidateError: "timeout",
		CandidateLatency: time.Hour})
	l := a.Snapshot().Routes[0].Latency
	// Two significant figures: quantiles are within 1% of the exact values.
	checks := []struct {
		name      string
		got, want float64
	}{
		{"primary p50", l.Primary.P50, 50}, {"primary p90", l.Primary.P90, 90}, {"primary p99", l.Primary.P99, 99},
		{"candidate p50", l.Candidate.P50, 100}, {"candidate p99", l.Candidate.P99, 198},
	}
	for _, c := range checks {
		if c.got < c.want*0.99 || c.got > c.want*1.01 {
			t.Errorf("%s = %vms, want %vms ±1%%", c.name, c.got, c.want)
		}
	}
	if l.Primary.Count != 101 || l.Candidate.Count != 100 {
		t.Errorf("counts = %d primary, %d candidate; want 101 (the timeout's primary too), 100", l.Primary.Count, l.Candidate.Count)
	}
	if l.Primary.HDR == "" || l.Candidate.HDR == "" {
		t.Error("histograms not encoded")
	}
}

func TestAggregatorConcurrent(t *testing.T) {
	a := NewAggregator(Limits{Routes: 4})
	const workers, each = 8, 400
	routes := []string{"GET /a", "GET /b", "GET /c", "GET /d", "GET /e", "GET /f"}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	snapshots := make(chan int, 1)
	go func() { // read while writing
		n := 0
		for {
			select {
			case <-stop:
				snapshots <- n
				return
			default:
				a.Snapshot()
				n++
			}
		}
	}()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				r := routes[(w+i)%len(routes)]
				switch i % 4 {
				case 0:
					a.Observe(matched(r, 3, 4))
				case 1:
					a.Observe(differing(r, fmt.Sprintf("w%d-%d", w, i), changed("body.x", "body.x", "1", "2")))
				case 2:
					a.Observe(Observation{Route: r, PrimaryStatus: 200, CandidateError: "timeout"})
				default:
					a.Observe(Observation{Route: r, Skipped: SkipQueueFull, Noise: []string{"ignored"}})
				}
			}
		}(w)
	}
	wg.Wait()
	close(stop)
	<-snapshots
	s := a.Snapshot()
	var compared, matchedN, errs, skipped, diffs int64
	for _, r := range s.Routes {
		compared += r.Compared
		matchedN += r.Matched
		errs += r.CandidateErrors
		skipped += r.Skipped[string(SkipQueueFull)]
		for _, d := range r.Differences {
			diffs += d.Count
		}
	}
	total := int64(workers * each)
	got := []int64{compared, matchedN, errs, skipped, diffs}
	want := []int64{total / 2, total / 4, total / 4, total / 4, total / 4}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("totals compared, matched, errors, skipped, differences (-want +got):\n%s", d)
	}
	if len(s.Routes) != 5 || s.Route(OtherRoute) == nil {
		t.Errorf("got %d routes (OTHER present: %v), want 4 under the cap plus OTHER", len(s.Routes), s.Route(OtherRoute) != nil)
	}
}

func TestAggregatorCaps(t *testing.T) {
	const n = 100_000
	lim := Limits{Routes: 100, PathsPerRoute: 20, ExamplesPerPath: 2, ValueBytes: 16}

	t.Run("distinct routes overflow into OTHER", func(t *testing.T) {
		a := NewAggregator(lim)
		for i := 0; i < n; i++ {
			a.Observe(matched(fmt.Sprintf("GET /api/r%d", i), 1, 1))
		}
		s := a.Snapshot()
		if len(s.Routes) != lim.Routes+1 {
			t.Errorf("routes = %d, want %d plus OTHER", len(s.Routes), lim.Routes)
		}
		if s.RoutesOverflowed != n-int64(lim.Routes) {
			t.Errorf("routes overflowed = %d, want %d", s.RoutesOverflowed, n-lim.Routes)
		}
		if o := s.Route(OtherRoute); o == nil || o.Compared != n-int64(lim.Routes) {
			t.Errorf("OTHER = %+v, want %d compared", o, n-lim.Routes)
		}
	})

	t.Run("distinct paths per route and examples per path", func(t *testing.T) {
		a := NewAggregator(lim)
		for i := 0; i < n; i++ {
			p := fmt.Sprintf("body.field%d", i%(n/2)) // each path twice
			a.Observe(differing("GET /api/x", fmt.Sprintf("req-%06d", i), changed(p, p, `"a very long primary value"`, "2")))
		}
		r := a.Snapshot().Route("GET /api/x")
		if len(r.Differences) != lim.PathsPerRoute {
			t.Fatalf("difference groups = %d, want %d", len(r.Differences), lim.PathsPerRoute)
		}
		var kept int64
		for _, d := range r.Differences {
			kept += d.Count
			if len(d.Examples) > lim.ExamplesPerPath || d.ExamplesDropped != d.Count-int64(len(d.Examples)) {
				t.Errorf("group %s: %d examples, %d dropped of %d", d.Path, len(d.Examples), d.ExamplesDropped, d.Count)
			}
			for _, e := range d.Examples {
				if len(e.Primary) > lim.ValueBytes {
					t.Errorf("example value %q longer than %d bytes", e.Primary, lim.ValueBytes)
				}
			}
		}
		if kept+r.DifferencesDropped != n {
			t.Errorf("grouped %d + dropped %d = %d, want %d", kept, r.DifferencesDropped, kept+r.DifferencesDropped, n)
		}
		if r.Compared != n || r.Mismatched != n {
			t.Errorf("compared %d mismatched %d, want %d each", r.Compared, r.Mismatched, n)
		}
	})

	t.Run("noise patterns per route", func(t *testing.T) {
		a := NewAggregator(lim)
		for i := 0; i < n; i++ {
			a.Observe(Observation{Route: "GET /api/x", PrimaryStatus: 200, CandidateStatus: 200, Noise: []string{fmt.Sprintf("body.n%d", i)}})
		}
		r := a.Snapshot().Route("GET /api/x")
		if len(r.Noise) != lim.PathsPerRoute || r.NoiseDropped != n-int64(lim.PathsPerRoute) {
			t.Errorf("noise patterns %d, dropped %d; want %d, %d", len(r.Noise), r.NoiseDropped, lim.PathsPerRoute, n-lim.PathsPerRoute)
		}
	})

	// A long pattern is stored shortened; it must be found again as stored, so
	// that a full map keeps counting it instead of dropping it as overflow.
	t.Run("long noise patterns keep counting once the map is full", func(t *testing.T) {
		a := NewAggregator(lim)
		long := "body.items.#.a-very-long-field-name-that-is-over-the-value-cap"
		for i := 0; i < lim.PathsPerRoute-1; i++ {
			a.Observe(Observation{Route: "GET /api/x", PrimaryStatus: 200, CandidateStatus: 200, Noise: []string{fmt.Sprintf("body.n%d", i)}})
		}
		for range 3 {
			a.Observe(Observation{Route: "GET /api/x", PrimaryStatus: 200, CandidateStatus: 200, Noise: []string{long}})
		}
		r := a.Snapshot().Route("GET /api/x")
		var got int64
		for _, nc := range r.Noise {
			if nc.Path == shorten(long, lim.ValueBytes) {
				got = nc.Count
			}
		}
		if got != 3 || r.NoiseDropped != 0 {
			t.Errorf("long pattern counted %d, %d dropped; want 3, 0 dropped", got, r.NoiseDropped)
		}
	})

	t.Run("skip reasons and error messages", func(t *testing.T) {
		a := NewAggregator(lim)
		for i := 0; i < 1000; i++ {
			a.Observe(Observation{Route: "GET /api/x", Skipped: SkipReason(fmt.Sprintf("reason%d", i))})
			a.Observe(Observation{Route: "GET /api/x", PrimaryStatus: 200, CandidateError: fmt.Sprintf("dial tcp: port %d", i)})
		}
		r := a.Snapshot().Route("GET /api/x")
		if len(r.Skipped) != maxSkipReasons || r.SkippedTotal() != 1000 {
			t.Errorf("skip reasons %d totalling %d, want %d totalling 1000", len(r.Skipped), r.SkippedTotal(), maxSkipReasons)
		}
		if len(r.Errors) != maxErrorKinds || r.Errors[otherMapKey] != 1000-maxErrorKinds+1 {
			t.Errorf("error kinds %d, other %d", len(r.Errors), r.Errors[otherMapKey])
		}
	})
}

func TestAggregatorMemory(t *testing.T) {
	// 1,000 routes with a wide, realistic latency spread on both sides: the
	// histograms stay far below the 100 MB budget.
	a := NewAggregator(Limits{})
	for r := 0; r < DefaultRoutes; r++ {
		route := fmt.Sprintf("GET /api/r%d", r)
		for i := 0; i < 200; i++ {
			us := 300 + (i*i*37+r)%2_000_000
			o := matched(route, 0, 0)
			o.PrimaryLatency = time.Duration(us) * time.Microsecond
			o.CandidateLatency = time.Duration(us*3) * time.Microsecond
			a.Observe(o)
		}
	}
	var bytes int
	for _, r := range a.routes {
		bytes += r.primary.GetMemorySize() + r.candidate.GetMemorySize()
	}
	if bytes > 20<<20 {
		t.Errorf("1,000 routes' histograms hold %d bytes, want under 20 MB", bytes)
	}
	t.Logf("1,000 routes × 2 histograms: %.1f MB", float64(bytes)/(1<<20))
}

func TestAggregatorRestore(t *testing.T) {
	a := NewAggregator(Limits{})
	a.Observe(differing("GET /api/x", "r1", changed("body.a", "body.a", "1", "2")))
	a.Observe(matched("GET /api/x", 3, 4))
	a.Observe(Observation{Route: "GET /api/y", Skipped: SkipAuth})
	saved := a.Snapshot()

	b := NewAggregator(Limits{})
	if err := b.Restore(saved); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(saved, b.Snapshot(), cmpopts.IgnoreFields(Snapshot{}, "Started", "Updated")); d != "" {
		t.Errorf("restored snapshot (-want +got):\n%s", d)
	}
	b.Observe(matched("GET /api/x", 3, 4))
	if got := b.Snapshot().Route("GET /api/x").Compared; got != 3 {
		t.Errorf("compared after restore and one more = %d, want 3", got)
	}
}

func BenchmarkObserve(b *testing.B) {
	a := NewAggregator(Limits{})
	keys := []string{"GET /api/sessions/:id", "GET /api/activity", "POST /api/chat", "GET /api/v1/search"}
	obs := make([]Observation, len(keys)*2)
	for i, k := range keys {
		obs[2*i] = matched(k, 12, 14)
		obs[2*i+1] = differing(k, "req-1", changed("body.items.2.id", "body.items.#.id", "1", "2"))
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			a.Observe(obs[i%len(obs)])
			i++
		}
	})
}
