package report

import (
	"testing"
	"time"
)

// DecidedRoutes calls a route decided once the gate passes or fails it, and
// judges again only when Every has passed: between two judgements it answers
// from the set in force, whatever was observed meanwhile.
func TestDecidedRoutesRefreshedPeriodically(t *testing.T) {
	const passing, failing, young = "GET /api/health", "GET /api/sessions", "GET /api/models"
	a := NewAggregator(Limits{})
	observe := func(trs ...traffic) {
		for _, tr := range trs {
			for _, o := range tr.observations() {
				a.Observe(o)
			}
		}
	}
	observe(traffic{route: passing, matched: 1000, primaryMs: 10, candidateMs: 12},
		traffic{route: failing, matched: 50, mismatched: 50, primaryMs: 10, candidateMs: 10},
		traffic{route: young, matched: 3, primaryMs: 10, candidateMs: 10})

	now := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	d := &DecidedRoutes{Aggregator: a, Every: time.Minute, Now: func() time.Time { return now }}
	for route, want := range map[string]bool{passing: true, failing: true, young: false, "GET /api/unseen": false} {
		if got := d.Decided(route); got != want {
			t.Errorf("Decided(%q) = %v, want %v", route, got, want)
		}
	}

	observe(traffic{route: young, matched: 1000, primaryMs: 10, candidateMs: 12})
	now = now.Add(59 * time.Second)
	if d.Decided(young) {
		t.Errorf("%s decided before the set was due to be judged again", young)
	}
	now = now.Add(time.Second)
	if !d.Decided(young) {
		t.Errorf("%s with 1000 matches still undecided after Every passed", young)
	}
}
