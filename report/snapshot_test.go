package report

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/parity-dev/parity/diff"
)

// randomObservations returns n observations over a few routes, seeded.
func randomObservations(seed uint64, n int) []Observation {
	rng := rand.New(rand.NewPCG(seed, 1))
	routes := []string{"GET /api/sessions", "GET /api/sessions/:id", "POST /api/chat", "GET /api/activity", "GET /api/v1/search"}
	paths := []string{"body.items.#.id", "body.total", "header.Etag", "status"}
	out := make([]Observation, n)
	for i := range out {
		r := routes[rng.IntN(len(routes))]
		o := Observation{Route: r, Method: methodOf(r), RequestID: fmt.Sprintf("s%d-%04d", seed, i),
			PrimaryStatus: 200, CandidateStatus: 200,
			PrimaryLatency:   time.Duration(200+rng.IntN(50_000)) * time.Microsecond,
			CandidateLatency: time.Duration(200+rng.IntN(90_000)) * time.Microsecond}
		switch x := rng.IntN(20); {
		case x < 3:
			p := paths[rng.IntN(len(paths))]
			o.Differences = []diff.Difference{{Path: strings.ReplaceAll(p, "#", fmt.Sprint(rng.IntN(3))), Pattern: p,
				Kind: diff.Changed, Primary: fmt.Sprint(rng.IntN(9)), Candidate: fmt.Sprint(rng.IntN(9))}}
		case x == 3:
			o.CandidateError, o.CandidateStatus = "timeout", 0
		case x == 4:
			o = Observation{Route: r, Skipped: SkipWriteMethod}
		case x == 5:
			o.CandidateStatus = 503
			o.Differences = []diff.Difference{{Path: "status", Pattern: "status", Kind: diff.Changed, Primary: "200", Candidate: "503"}}
		case x == 6:
			o.Noise = []string{"body.meta.requestId"}
		}
		out[i] = o
	}
	return out
}

func snapshotOf(t testing.TB, started time.Time, obs ...[]Observation) *Snapshot {
	t.Helper()
	a := NewAggregator(Limits{})
	for _, os := range obs {
		for _, o := range os {
			a.Observe(o)
		}
	}
	s := a.Snapshot()
	s.Started, s.Updated = started, started.Add(time.Hour)
	return s
}

func TestMergeAlgebra(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	oa, ob, oc := randomObservations(1, 400), randomObservations(2, 300), randomObservations(3, 500)
	a, b, c := snapshotOf(t, t0, oa), snapshotOf(t, t0.Add(time.Minute), ob), snapshotOf(t, t0.Add(-time.Minute), oc)
	must := func(s *Snapshot, err error) *Snapshot {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ab, ba := must(Merge(a, b)), must(Merge(b, a))
	if d := cmp.Diff(ab, ba); d != "" {
		t.Errorf("Merge(a, b) != Merge(b, a) (-ab +ba):\n%s", d)
	}
	left, right, flat := must(Merge(ab, c)), must(Merge(a, must(Merge(b, c)))), must(Merge(c, b, a))
	if d := cmp.Diff(left, right); d != "" {
		t.Errorf("(a+b)+c != a+(b+c):\n%s", d)
	}
	if d := cmp.Diff(left, flat); d != "" {
		t.Errorf("(a+b)+c != c+b+a:\n%s", d)
	}
	if !left.Started.Equal(t0.Add(-time.Minute)) || !left.Updated.Equal(t0.Add(time.Minute+time.Hour)) {
		t.Errorf("merged times %v..%v, want the earliest start and the latest update", left.Started, left.Updated)
	}

	// The merge is the sum: the same as one aggregator that saw everything,
	// histograms bucket for bucket. Examples are chosen differently (the first
	// seen, against the least request ids), so they are compared apart.
	all := snapshotOf(t, t0, oa, ob, oc)
	opts := []cmp.Option{cmpopts.IgnoreFields(Snapshot{}, "Started", "Updated"), cmpopts.IgnoreFields(DiffGroup{}, "Examples", "ExamplesDropped")}
	if d := cmp.Diff(all, left, opts...); d != "" {
		t.Errorf("merge is not the sum (-one aggregator +merged):\n%s", d)
	}
	for _, r := range left.Routes {
		for _, g := range r.Differences {
			if len(g.Examples) != min(int(g.Count), DefaultExamplesPerPath) {
				t.Errorf("%s %s: %d examples of %d", r.Route, g.Path, len(g.Examples), g.Count)
			}
		}
	}
}

func TestMergeErrors(t *testing.T) {
	good := snapshotOf(t, time.Now(), randomObservations(1, 10))
	tests := []struct {
		name  string
		snaps []*Snapshot
		want  string
	}{
		{"nothing to merge", nil, "none given"},
		{"nil snapshot", []*Snapshot{good, nil}, "snapshot 1 is nil"},
		{"other version", []*Snapshot{{Version: 9}}, "version 9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Merge(tc.snaps...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Merge error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	s := snapshotOf(t, time.Date(2026, 3, 1, 12, 0, 0, 0, time.FixedZone("x", 3600)).UTC(), randomObservations(4, 200))
	path := filepath.Join(t.TempDir(), "snap.json")
	if err := WriteSnapshotFile(path, s); err != nil {
		t.Fatal(err)
	}
	if err := WriteSnapshotFile(path, s); err != nil { // over an existing file
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the snapshot (no temporary files left)", len(entries))
	}
	got, err := ReadSnapshotFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(s, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
	raw, _ := os.ReadFile(path)
	for _, want := range []string{`"version": 1`, `"started": "2026-03-01T11:00:00Z"`, `"routes": [`, `"parity_lower":`, `"p99_ms":`, `"hdr": "`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("snapshot JSON lacks %s", want)
		}
	}
}

func TestWriteSnapshotFileFailureLeavesNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	if err := WriteSnapshotFile(filepath.Join(dir, "s.json"), &Snapshot{Version: 1}); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func TestReadSnapshotErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"not json", "{", "decode snapshot"},
		{"wrong version", `{"version": 2, "routes": []}`, "version 2"},
		{"duplicate route", `{"version": 1, "routes": [{"route": "GET /a"}, {"route": "GET /a"}]}`, "twice"},
		{"route without key", `{"version": 1, "routes": [{"compared": 1}]}`, "no route key"},
		{"more matched than compared", `{"version": 1, "routes": [{"route": "GET /a", "compared": 1, "matched": 2}]}`, "inconsistent"},
		{"bad histogram", `{"version": 1, "routes": [{"route": "GET /a", "latency": {"primary": {"count": 1, "hdr": "bm9wZQ=="}}}]}`, "histogram"},
		{"count without histogram", `{"version": 1, "routes": [{"route": "GET /a", "latency": {"primary": {"count": 3}}}]}`, "no histogram"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadSnapshot(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want it to mention %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestWilson(t *testing.T) {
	tests := []struct {
		name       string
		matched, n int64
		want       float64
	}{
		{"nothing observed", 0, 0, 0},
		{"50 of 50", 50, 50, 0.928652},
		{"99 of 100", 99, 100, 0.945514},
		{"none of 10", 0, 10, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := Wilson(tc.matched, tc.n); got != tc.want {
				t.Errorf("Wilson(%d, %d) = %v, want %v", tc.matched, tc.n, got, tc.want)
			}
		})
	}
}

// TestSnapshotSummary: a summary has the full snapshot's counts and quantiles and
// no histogram encodings, follows observations made since the last full
// snapshot, and cannot be merged.
func TestSnapshotSummary(t *testing.T) {
	a := NewAggregator(Limits{})
	observe := func(from, to int) {
		for i := from; i < to; i++ {
			a.Observe(Observation{Route: "GET /api/a", Method: "GET", PrimaryStatus: 200, CandidateStatus: 200,
				PrimaryLatency: time.Duration(i+1) * time.Millisecond, CandidateLatency: time.Duration(2*i+1) * time.Millisecond})
		}
	}
	stripped := func(s *Snapshot) []RouteStats {
		rs := slices.Clone(s.Routes)
		for i := range rs {
			rs[i].Latency.Primary.HDR, rs[i].Latency.Candidate.HDR = "", ""
		}
		return rs
	}
	for _, step := range []struct {
		name     string
		from, to int
	}{{"fresh", 0, 100}, {"cached", 100, 100}, {"moved since", 100, 250}} {
		observe(step.from, step.to)
		sum := a.SnapshotSummary()
		full := a.Snapshot()
		if diff := cmp.Diff(stripped(full), sum.Routes); diff != "" {
			t.Errorf("%s: summary differs from the full snapshot (-full +summary):\n%s", step.name, diff)
		}
		if l := full.Routes[0].Latency.Primary; l.HDR == "" || l.Count != int64(max(step.to, 100)) {
			t.Errorf("%s: full snapshot latency %+v, want an encoding of %d values", step.name, l, step.to)
		}
		if !sum.HistogramsOmitted || full.HistogramsOmitted {
			t.Errorf("%s: HistogramsOmitted %v (summary), %v (full); want true, false", step.name, sum.HistogramsOmitted, full.HistogramsOmitted)
		}
		if _, err := Merge(sum); err == nil || !strings.Contains(err.Error(), "summary without latency histograms") {
			t.Errorf("%s: Merge(summary) = %v, want an error saying it is a summary", step.name, err)
		}
		var buf bytes.Buffer
		if err := WriteSnapshot(&buf, sum); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadSnapshot(&buf); err == nil || !strings.Contains(err.Error(), "histograms=0") {
			t.Errorf("%s: ReadSnapshot(summary) = %v, want an error naming the query", step.name, err)
		}
	}
}
