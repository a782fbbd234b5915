package report

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/diff"
)

var seriesT0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func minute(m int) time.Time { return seriesT0.Add(time.Duration(m) * time.Minute) }

// at returns o observed s seconds after minute m.
func at(o Observation, m, s int) Observation {
	o.Time = minute(m).Add(time.Duration(s) * time.Second)
	return o
}

func TestSeriesCounts(t *testing.T) {
	status := changed("status", "status", "200", "503")
	fivexx := differing("GET /api/a", "r5", status)
	fivexx.CandidateStatus = 503
	transport := matched("GET /api/a", 2, 0)
	transport.CandidateStatus, transport.CandidateError = 0, "timeout"
	skipped := Observation{Route: "GET /api/a", Skipped: SkipWriteMethod}

	tests := []struct {
		name string
		obs  []Observation
		want []SeriesPoint
	}{
		{"nothing observed", nil, nil},
		{"untimed observations are counted but not charted", []Observation{matched("GET /api/a", 1, 1)}, nil},
		{"one minute of each outcome", []Observation{
			at(matched("GET /api/a", 1, 1), 0, 1),
			at(differing("GET /api/b", "r1", changed("body.x", "body.x", "1", "2")), 0, 20),
			at(fivexx, 0, 30), at(transport, 0, 40), at(skipped, 0, 59),
		}, []SeriesPoint{{Minute: minute(0), Observed: 5, Mirrored: 4, Compared: 3, Matched: 1, CandidateErrors: 2}}},
		{"minutes apart, out of order, gaps left out", []Observation{
			at(matched("GET /api/a", 1, 1), 7, 0), at(matched("GET /api/a", 1, 1), 2, 59),
			at(skipped, 2, 0), at(matched("GET /api/b", 1, 1), 7, 30),
		}, []SeriesPoint{
			{Minute: minute(2), Observed: 2, Mirrored: 1, Compared: 1, Matched: 1},
			{Minute: minute(7), Observed: 2, Mirrored: 2, Compared: 2, Matched: 2},
		}},
		{"the window keeps the last six hours", []Observation{
			at(matched("GET /api/a", 1, 1), 0, 0),   // out of the window once minute 400 is seen
			at(matched("GET /api/a", 1, 1), 41, 0),  // the oldest minute kept
			at(matched("GET /api/a", 1, 1), 400, 0), // the newest; shares minute 40's slot
			at(matched("GET /api/a", 1, 1), 40, 0),  // arrives late, older than the window
		}, []SeriesPoint{
			{Minute: minute(41), Observed: 1, Mirrored: 1, Compared: 1, Matched: 1},
			{Minute: minute(400), Observed: 1, Mirrored: 1, Compared: 1, Matched: 1},
		}},
		{"a reused slot starts from zero", []Observation{
			at(matched("GET /api/a", 1, 1), 10, 0), at(matched("GET /api/a", 1, 1), 10, 1),
			at(matched("GET /api/a", 1, 1), 370, 0),
		}, []SeriesPoint{
			{Minute: minute(370), Observed: 1, Mirrored: 1, Compared: 1, Matched: 1},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := NewAggregator(Limits{})
			for _, o := range tc.obs {
				a.Observe(o)
			}
			if d := cmp.Diff(tc.want, a.Snapshot().Series); d != "" {
				t.Errorf("series (-want +got):\n%s", d)
			}
		})
	}
}

// TestSeriesWindowEdges: with minutes 0..359 and then 360, exactly minute 0
// falls out.
func TestSeriesWindowEdges(t *testing.T) {
	a := NewAggregator(Limits{})
	for m := 0; m <= SeriesMinutes; m++ {
		a.Observe(at(matched("GET /api/a", 1, 1), m, 0))
	}
	got := a.Snapshot().Series
	if len(got) != SeriesMinutes || !got[0].Minute.Equal(minute(1)) || !got[len(got)-1].Minute.Equal(minute(SeriesMinutes)) {
		t.Errorf("got %d points from %v to %v, want %d from %v to %v", len(got), got[0].Minute, got[len(got)-1].Minute,
			SeriesMinutes, minute(1), minute(SeriesMinutes))
	}
}

// randomTimed spreads randomObservations over minutes from..from+span.
func randomTimed(seed uint64, n, from, span int) []Observation {
	rng := rand.New(rand.NewPCG(seed, 7))
	obs := randomObservations(seed, n)
	for i := range obs {
		obs[i].Time = minute(from + rng.IntN(span)).Add(time.Duration(rng.IntN(60_000)) * time.Millisecond)
	}
	return obs
}

func TestSeriesMerge(t *testing.T) {
	oa, ob, oc := randomTimed(1, 500, 0, 200), randomTimed(2, 400, 150, 300), randomTimed(3, 300, 300, 120)
	a, b, c := snapshotOf(t, seriesT0, oa), snapshotOf(t, seriesT0, ob), snapshotOf(t, seriesT0, oc)
	must := func(s *Snapshot, err error) []SeriesPoint {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s.Series
	}
	ab, _ := Merge(a, b)
	bc, _ := Merge(b, c)
	orders := map[string][]SeriesPoint{
		"b+a":     must(Merge(b, a)),
		"(a+b)+c": must(Merge(ab, c)),
		"a+(b+c)": must(Merge(a, bc)),
		"c+b+a":   must(Merge(c, b, a)),
	}
	want := must(Merge(a, b, c))
	for name, got := range orders {
		if name == "b+a" {
			if d := cmp.Diff(ab.Series, got); d != "" {
				t.Errorf("a+b != b+a (-want +got):\n%s", d)
			}
			continue
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("a+b+c != %s (-want +got):\n%s", name, d)
		}
	}
	// The merge is one aggregator that saw everything, over the same window.
	if d := cmp.Diff(snapshotOf(t, seriesT0, oa, ob, oc).Series, want); d != "" {
		t.Errorf("merged series is not the sum (-one aggregator +merged):\n%s", d)
	}
	newest := want[len(want)-1].Minute
	if len(want) > SeriesMinutes || !want[0].Minute.After(newest.Add(-SeriesMinutes*time.Minute)) || !newest.Before(minute(450)) {
		t.Errorf("merged series spans %v..%v (%d points), want at most the %d minutes up to the newest",
			want[0].Minute, want[len(want)-1].Minute, len(want), SeriesMinutes)
	}
}

func TestSeriesRoundTripAndRestore(t *testing.T) {
	s := snapshotOf(t, seriesT0, randomTimed(4, 300, 0, 90))
	var b bytes.Buffer
	if err := WriteSnapshot(&b, s); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"minute": "2026-03-01T09:`) {
		t.Errorf("series minutes are not RFC 3339 UTC:\n%.400s", b.String())
	}
	got, err := ReadSnapshot(&b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(s.Series, got.Series); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}

	// A restarted proxy continues the chart: restored points add to new ones.
	a := NewAggregator(Limits{})
	if err := a.Restore(got); err != nil {
		t.Fatal(err)
	}
	a.Observe(at(matched("GET /api/a", 1, 1), 89, 0))
	want := slicesClone(s.Series)
	if last := &want[len(want)-1]; last.Minute.Equal(minute(89)) {
		last.Observed++
		last.Mirrored++
		last.Compared++
		last.Matched++
	} else {
		want = append(want, SeriesPoint{Minute: minute(89), Observed: 1, Mirrored: 1, Compared: 1, Matched: 1})
	}
	if d := cmp.Diff(want, a.Snapshot().Series); d != "" {
		t.Errorf("restored series (-want +got):\n%s", d)
	}
}

func slicesClone[T any](s []T) []T { return append([]T(nil), s...) }

func TestReadSnapshotSeriesErrors(t *testing.T) {
	point := func(at string, obs, mir, cmp, match, errs int) string {
		return fmt.Sprintf(`{"minute":%q,"observed":%d,"mirrored":%d,"compared":%d,"matched":%d,"candidate_errors":%d}`, at, obs, mir, cmp, match, errs)
	}
	tests := []struct{ name, series, want string }{
		{"not on the minute", point("2026-03-01T09:00:30Z", 1, 1, 1, 1, 0), "not the start of a minute"},
		{"zero time", point("0001-01-01T00:00:00Z", 1, 1, 1, 1, 0), "not the start of a minute"},
		{"minute twice", point("2026-03-01T09:00:00Z", 1, 1, 1, 1, 0) + "," + point("2026-03-01T10:00:00+01:00", 1, 1, 1, 1, 0), "twice"},
		{"matched over compared", point("2026-03-01T09:00:00Z", 2, 2, 1, 2, 0), "inconsistent"},
		{"compared over mirrored", point("2026-03-01T09:00:00Z", 3, 1, 2, 1, 0), "inconsistent"},
		{"mirrored over observed", point("2026-03-01T09:00:00Z", 1, 2, 2, 1, 0), "inconsistent"},
		{"errors over mirrored", point("2026-03-01T09:00:00Z", 3, 1, 1, 1, 2), "inconsistent"},
		{"negative", point("2026-03-01T09:00:00Z", 0, 0, 0, -1, 0), "inconsistent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := `{"version":1,"started":"2026-03-01T09:00:00Z","updated":"2026-03-01T09:00:00Z","routes":[],"series":[` + tc.series + `]}`
			_, err := ReadSnapshot(strings.NewReader(in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	// Points out of order and beyond the window are read sorted and trimmed.
	in := `{"version":1,"started":"2026-03-01T09:00:00Z","updated":"2026-03-01T09:00:00Z","routes":[],"series":[` +
		point("2026-03-01T16:00:00Z", 1, 1, 1, 1, 0) + "," + point("2026-03-01T09:00:00Z", 1, 1, 1, 1, 0) + "," +
		point("2026-03-01T15:00:00Z", 2, 1, 1, 0, 1) + `]}`
	s, err := ReadSnapshot(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []SeriesPoint{
		{Minute: minute(360), Observed: 2, Mirrored: 1, Compared: 1, CandidateErrors: 1},
		{Minute: minute(420), Observed: 1, Mirrored: 1, Compared: 1, Matched: 1},
	}
	if d := cmp.Diff(want, s.Series); d != "" {
		t.Errorf("read series (-want +got):\n%s", d)
	}
}

// TestSeriesConcurrent: the series adds up under concurrent observers and
// snapshots (run with -race).
func TestSeriesConcurrent(t *testing.T) {
	a := NewAggregator(Limits{})
	const workers, each = 8, 500
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				o := at(matched(fmt.Sprintf("GET /api/r%d", w), 1, 1), i%5, w)
				if i%3 == 0 {
					o.Differences = []diff.Difference{changed("body.x", "body.x", "1", "2")}
				}
				a.Observe(o)
			}
		})
	}
	wg.Go(func() {
		for range 8 {
			for _, p := range a.Snapshot().Series {
				if p.Matched > p.Compared || p.Compared > p.Mirrored || p.Mirrored > p.Observed {
					t.Errorf("inconsistent point while observing: %+v", p)
					return
				}
			}
		}
	})
	wg.Wait()
	var total SeriesPoint
	for _, p := range a.Snapshot().Series {
		total.Observed += p.Observed
		total.Matched += p.Matched
	}
	if total.Observed != workers*each || total.Matched != workers*(each-(each+2)/3) {
		t.Errorf("observed %d, matched %d; want %d, %d", total.Observed, total.Matched, workers*each, workers*(each-(each+2)/3))
	}
}

func TestSeriesPointParity(t *testing.T) {
	tests := []struct {
		name string
		p    SeriesPoint
		want float64
	}{
		{"nothing compared", SeriesPoint{Observed: 3}, -1},
		{"all matched", SeriesPoint{Compared: 4, Matched: 4}, 1},
		{"half", SeriesPoint{Compared: 4, Matched: 2}, 0.5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Parity(); got != tc.want {
				t.Errorf("Parity() = %v, want %v", got, tc.want)
			}
		})
	}
}

// BenchmarkObserveCharted is BenchmarkObserve with timed observations, so each
// also lands in the per-minute series.
func BenchmarkObserveCharted(b *testing.B) {
	a := NewAggregator(Limits{})
	keys := []string{"GET /api/sessions/:id", "GET /api/activity", "POST /api/chat", "GET /api/v1/search"}
	obs := make([]Observation, len(keys)*2)
	now := time.Now()
	for i, k := range keys {
		obs[2*i] = matched(k, 12, 14)
		obs[2*i+1] = differing(k, "req-1", changed("body.items.2.id", "body.items.#.id", "1", "2"))
		obs[2*i].Time, obs[2*i+1].Time = now, now
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
