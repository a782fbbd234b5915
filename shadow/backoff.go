package shadow

import (
	"sync"
	"time"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// The back-off from a mirror target whose answers on a route keep being
// hostile: after backoffStrikes hostile answers in a row the route is mirrored
// only as a probe, the first after backoffFirst, each further hostile probe
// doubling the wait up to backoffMax; the first answer that is not hostile
// ends it. The requests not mirrored meanwhile are counted as skipped
// hostile_backoff on their route. Like a circuit breaker, or Envoy's outlier
// detection (5 consecutive failures by default), but for one route of one
// backend, and for answers that cost parity rather than for failures: the
// route's evidence already holds the hostile answers (each is a difference),
// and sending more of them would only take CPU and connections from serving.
const (
	backoffStrikes = 5
	backoffFirst   = 250 * time.Millisecond
	backoffMax     = 4 * time.Second
	// backoffRoutes bounds the routes tracked at once; a route beyond it is
	// not backed off.
	backoffRoutes = 1024
)

// hostility is what a mirrored answer says to the back-off.
type hostility uint8

const (
	answerUnknown hostility = iota // not read far enough to tell (budget, failure): changes nothing
	answerNormal                   // read whole within the caps: ends a back-off
	answerHostile                  // over the capture cap, a decompression bomb, or unending
)

// backoffKey is one route of one mirror target.
type backoffKey struct {
	route string
	to    rules.Backend
}

// routeBackoff is one route's state: strikes hostile answers in a row; once
// they reach backoffStrikes, the route is probed no sooner than next, and wait
// is the interval the next hostile probe doubles.
type routeBackoff struct {
	strikes int
	wait    time.Duration
	next    time.Duration
}

// hostileBackoff tracks the routes whose mirrors are backed off. The zero
// value is ready; clock nil is the wall clock since first use.
type hostileBackoff struct {
	clock func() time.Duration

	mu     sync.Mutex
	routes map[backoffKey]*routeBackoff
}

// admit reports whether a request on route may be mirrored to to now, and
// whether it goes as a probe of a backed-off route. A probe moves the next one
// a wait further on, so at most one goes per wait whatever becomes of it.
func (b *hostileBackoff) admit(route string, to rules.Backend) (ok, probe bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.routes[backoffKey{route, to}]
	if r == nil || r.strikes < backoffStrikes {
		return true, false
	}
	now := b.clock()
	if now < r.next {
		return false, false
	}
	r.next = now + r.wait
	return true, true
}

// answered records what a mirrored answer on route said; probe is whether it
// was sent as one. It reports whether the answer began a back-off.
func (b *hostileBackoff) answered(route string, to rules.Backend, h hostility, probe bool) (began bool) {
	if h == answerUnknown {
		return false
	}
	k := backoffKey{route, to}
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.routes[k]
	if h == answerNormal {
		if r != nil {
			delete(b.routes, k)
		}
		return false
	}
	if r == nil {
		if len(b.routes) >= backoffRoutes {
			return false
		}
		if b.routes == nil {
			b.routes = map[backoffKey]*routeBackoff{}
		}
		r = &routeBackoff{}
		b.routes[k] = r
	}
	r.strikes++
	switch {
	case r.strikes == backoffStrikes:
		r.wait = backoffFirst
		r.next = b.clock() + r.wait
	case r.strikes > backoffStrikes && probe:
		// Answers sent before the back-off began change nothing; a probe
		// that is hostile again doubles the wait.
		r.wait = min(2*r.wait, backoffMax)
		r.next = b.clock() + r.wait
	}
	return r.strikes == backoffStrikes
}

// backingOff is how many routes are backed off now.
func (b *hostileBackoff) backingOff() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, r := range b.routes {
		if r.strikes >= backoffStrikes {
			n++
		}
	}
	return n
}

// admitMirror decides, before a request is served, whether its mirror is sent:
// not when the comparison budget could not admit its comparison now (counted
// compare_budget, as when it is over the budget later), nor when the route is
// backed off from its mirror target (hostile_backoff). A pair skipped here
// costs nothing: no mirror, no capture of the served answer. probe says the
// mirror goes as a probe of a backed-off route.
func (p *Proxy) admitMirror(route string, to rules.Backend) (probe bool, reason report.SkipReason) {
	decided := p.decided(route)
	if !p.mirrors.budget.admit(decided) {
		p.Metrics.budgetSkip(decided)
		return false, report.SkipCompareBudget
	}
	ok, probe := p.mirrors.backoff.admit(route, to)
	if !ok {
		return false, report.SkipHostileBackoff
	}
	return probe, ""
}

// backoffClock is the back-off's clock: the tests', or the wall clock.
func (p *Proxy) backoffClock() func() time.Duration {
	if p.backoffNow != nil {
		return p.backoffNow
	}
	start := time.Now()
	return func() time.Duration { return time.Since(start) }
}

// decodeBomb reports whether o says the answer of side ("primary" or
// "candidate") decodes to more than the comparison decodes: a decompression
// bomb, found by the comparison (diff's body note).
func decodeBomb(o *report.Observation, side string) bool {
	for _, d := range o.Differences {
		if d.Path != "body" {
			continue
		}
		if diff.DecodedOverCap(d.Note, side) {
			return true
		}
	}
	return false
}

// mirrorSide is how the comparison names the side of a mirror sent to to.
func mirrorSide(to rules.Backend) string {
	if to == rules.Candidate {
		return "candidate"
	}
	return "primary"
}
