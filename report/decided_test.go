package report

import (
	"sync/atomic"
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

	var now atomic.Int64 // the clock, read by the judging goroutine too
	now.Store(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	advance := func(by time.Duration) { now.Add(int64(by)) }
	d := &DecidedRoutes{Aggregator: a, Every: time.Minute, Now: func() time.Time { return time.Unix(0, now.Load()) }}
	// The first ask starts the judging; until it ends, every route is undecided.
	waitDecided(t, d, passing)
	for route, want := range map[string]bool{passing: true, failing: true, young: false, "GET /api/unseen": false} {
		if got := d.Decided(route); got != want {
			t.Errorf("Decided(%q) = %v, want %v", route, got, want)
		}
	}

	observe(traffic{route: young, matched: 1000, primaryMs: 10, candidateMs: 12})
	advance(59 * time.Second)
	for range 3 {
		if d.Decided(young) {
			t.Fatalf("%s decided before the set was due to be judged again", young)
		}
	}
	advance(time.Second)
	waitDecided(t, d, young)
}

// waitDecided asks until route is decided: the judging an ask starts runs on
// its own goroutine.
func waitDecided(t *testing.T, d *DecidedRoutes, route string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !d.Decided(route) {
		if time.Now().After(deadline) {
			t.Fatalf("%s still undecided after its set was due", route)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestDecidedNeverJudgesOnTheAskingGoroutine: the ask that finds the set due
// answers at once from the set in force, while the judging it started is still
// running; further asks neither wait nor start another.
func TestDecidedNeverJudgesOnTheAskingGoroutine(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var judgings atomic.Int32
	d := &DecidedRoutes{}
	d.judge = func() {
		judgings.Add(1)
		close(started)
		<-release
		d.Refresh()
	}
	answered := make(chan bool)
	go func() {
		a := d.Decided("GET /api/health")
		b := d.Decided("GET /api/health")
		answered <- a || b
	}()
	select {
	case got := <-answered:
		if got {
			t.Error("a route was decided before any judging ended")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Decided waited for the judging it started")
	}
	<-started
	close(release)
	if n := judgings.Load(); n != 1 {
		t.Errorf("%d judgings started, want 1", n)
	}
}
