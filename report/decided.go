package report

import (
	"sync"
	"sync/atomic"
	"time"
)

// DefaultDecidedEvery is how often DecidedRoutes judges the routes again.
const DefaultDecidedEvery = 5 * time.Second

// DecidedRoutes tells whether the gate has reached a conclusive verdict (pass
// or fail) on a route, for a caller that asks on every comparison: the
// comparison budget, which gives undecided routes its last share. Verdicts are
// judged on Aggregator's statistics as the live dashboard judges them (Options'
// plan thresholds and acceptances), at most once per Every, on a goroutine of
// their own started by the first ask after the set is due: askers — requests
// being served among them — never judge, and read the set in force meanwhile,
// so an answer is a map lookup. A route the set has not seen (before the first
// judging ends, any route) is undecided. It is safe for concurrent use.
type DecidedRoutes struct {
	Aggregator *Aggregator
	Options    RenderOptions
	// Every is how often verdicts are judged again (0 = DefaultDecidedEvery).
	Every time.Duration
	// Now is the clock; nil = time.Now.
	Now func() time.Time

	set     atomic.Pointer[map[string]bool]
	due     atomic.Int64 // unix nanoseconds at which the set is judged again
	judging sync.Mutex   // held from the ask that starts a judging to its end
	judge   func()       // nil = Refresh; tests hold a judging open with it
}

// Decided reports whether route's verdict was pass or fail when last judged.
// When the set is due, it starts judging it again in the background and
// answers from the set in force.
func (d *DecidedRoutes) Decided(route string) bool {
	if d.now().UnixNano() >= d.due.Load() && d.judging.TryLock() {
		if d.now().UnixNano() >= d.due.Load() { // not judged meanwhile
			judge := d.judge
			if judge == nil {
				judge = d.Refresh
			}
			go func() {
				defer d.judging.Unlock()
				judge()
			}()
		} else {
			d.judging.Unlock()
		}
	}
	if m := d.set.Load(); m != nil {
		return (*m)[route]
	}
	return false
}

// Refresh judges every route now.
func (d *DecidedRoutes) Refresh() {
	every := d.Every
	if every <= 0 {
		every = DefaultDecidedEvery
	}
	d.due.Store(d.now().Add(every).UnixNano())
	if d.Aggregator == nil {
		return
	}
	s, opts := d.Aggregator.ForDisplay(d.Options)
	s = opts.Judged(s)
	th := opts.thresholds()
	m := make(map[string]bool, len(s.Routes))
	for i := range s.Routes {
		r := &s.Routes[i]
		if v := routeEvidence(r, th, opts.held).Verdict; v == Pass || v == Fail {
			m[r.Route] = true
		}
	}
	d.set.Store(&m)
}

func (d *DecidedRoutes) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}
