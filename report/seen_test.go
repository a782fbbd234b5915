package report

import (
	"bytes"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/diff"
)

func seenSnapshot(route string, times ...time.Time) *Snapshot {
	a := NewAggregator(Limits{})
	for i, at := range times {
		a.Observe(Observation{Time: at, Route: route, PrimaryStatus: 200, CandidateStatus: 200})
		o := Observation{Time: at, Route: route, PrimaryStatus: 200, CandidateStatus: 200,
			Differences: []diff.Difference{{Path: "body.a", Pattern: "body.a", Kind: diff.Changed}}}
		if i%2 == 1 {
			o.Differences = append(o.Differences, diff.Difference{Path: "body.b", Pattern: "body.b", Kind: diff.Missing})
		}
		a.Observe(o)
	}
	return a.Snapshot()
}

// Each difference group says when it was first and last seen and what share
// of its route's requests it affects; Merge keeps them exactly, in any order.
func TestFirstAndLastSeenMergeExactly(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 12, 2, h, m, 0, 0, time.UTC) }
	x := seenSnapshot("GET /api/x", at(14, 2), at(14, 30))
	y := seenSnapshot("GET /api/x", at(13, 55), at(15, 10), at(14, 0))
	g := x.Route("GET /api/x").Differences[0]
	if g.FirstSeen != at(14, 2) || g.LastSeen != at(14, 30) || g.Share != 0.5 {
		t.Errorf("one snapshot: first %v last %v share %v", g.FirstSeen, g.LastSeen, g.Share)
	}
	xy, err := Merge(x, y)
	if err != nil {
		t.Fatal(err)
	}
	yx, err := Merge(y, x)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(xy, yx); d != "" {
		t.Errorf("Merge is not commutative (-xy +yx):\n%s", d)
	}
	r := xy.Route("GET /api/x")
	want := map[string][3]any{
		"body.a": {at(13, 55), at(15, 10), 0.5},
		"body.b": {at(14, 30), at(15, 10), 0.2}, // odd observations: 14:30 of x, 15:10 of y
	}
	for _, g := range r.Differences {
		w := want[g.Path]
		if g.FirstSeen != w[0] || g.LastSeen != w[1] || g.Share != w[2] {
			t.Errorf("%s: first %v last %v share %v; want %v", g.Path, g.FirstSeen, g.LastSeen, g.Share, w)
		}
	}
	wantSets := []MismatchSet{
		{Groups: []GroupRef{{"body.a", "changed"}}, Count: 3},
		{Groups: []GroupRef{{"body.a", "changed"}, {"body.b", "missing"}}, Count: 2},
	}
	if d := cmp.Diff(wantSets, r.MismatchSets); d != "" {
		t.Errorf("mismatch sets (-want +got):\n%s", d)
	}
	back := roundTrip(t, xy)
	if d := cmp.Diff(xy.Routes, back.Routes); d != "" {
		t.Errorf("the snapshot does not read back (-want +got):\n%s", d)
	}
}

func roundTrip(t *testing.T, s *Snapshot) *Snapshot {
	t.Helper()
	var b bytes.Buffer
	if err := WriteSnapshot(&b, s); err != nil {
		t.Fatal(err)
	}
	back, err := ReadSnapshot(&b)
	if err != nil {
		t.Fatal(err)
	}
	return back
}
