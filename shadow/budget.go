package shadow

import (
	"runtime"
	"sync"
	"time"
)

// DefaultCompareBudget is the share of the CPU comparisons may use when
// Proxy.CompareBudget is 0: a quarter of GOMAXPROCS cores.
const DefaultCompareBudget = 0.25

// Shape of the comparison budget's bucket: it holds budgetBurst of the budget
// (a quiet second lets a burst of comparisons through at once), and its last
// budgetReserve is spent only on routes the gate has not decided.
const (
	budgetBurst   = time.Second
	budgetReserve = 0.25
)

// compareBudget is a token bucket of CPU time for comparisons, refilled at
// share × GOMAXPROCS CPU-seconds per second. A comparison may start while the
// bucket is above its floor — empty for a route the gate has not decided yet,
// the reserve for one already decided — and what it spent is taken out after
// it ran, measured (cpuMeter), so the bucket may go below empty: a comparison
// that cost a second of CPU (a hostile body within the caps) keeps the next
// ones out until its second has been earned back. On average comparisons use
// no more than their share, whatever the candidate sends; under pressure the
// reserve keeps the routes still waiting for evidence compared, and decided
// routes are sampled down first.
//
// A nil *compareBudget admits everything.
type compareBudget struct {
	rate    float64 // CPU nanoseconds earned per nanosecond of wall time
	size    float64 // the bucket, in CPU nanoseconds
	reserve float64 // the floor for decided routes
	clock   func() time.Duration

	mu    sync.Mutex
	level float64
	last  time.Duration
}

// newCompareBudget is a full bucket for share of procs cores, or nil when the
// share is the whole CPU (or more): no budget then.
func newCompareBudget(share float64, procs int, clock func() time.Duration) *compareBudget {
	if share >= 1 {
		return nil
	}
	rate := share * float64(procs)
	size := rate * float64(budgetBurst)
	return &compareBudget{rate: rate, size: size, reserve: size * budgetReserve, clock: clock, level: size, last: clock()}
}

// admit reports whether a comparison may start now; decided says whether the
// gate has decided its route.
func (b *compareBudget) admit(decided bool) bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	floor := 0.0
	if decided {
		floor = b.reserve
	}
	return b.level > floor
}

// spend takes cpu, what a comparison used, out of the bucket.
func (b *compareBudget) spend(cpu time.Duration) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.refill()
	b.level -= float64(cpu)
	b.mu.Unlock()
}

// refill adds what was earned since the last call, up to the bucket's size.
// Called with b.mu held.
func (b *compareBudget) refill() {
	now := b.clock()
	if now > b.last {
		b.level = min(b.size, b.level+b.rate*float64(now-b.last))
		b.last = now
	}
}

// readCost is what reading a mirrored answer costs the budget per byte: about
// what moving a byte through a loopback socket and into the capture costs. It
// is charged by size because the reading goroutine waits on the network, where
// its thread's CPU time cannot be read without pinning it to a thread (which
// would cost every mirrored stream a thread switch per chunk).
const readCost = time.Nanosecond

// decided reports whether the gate has decided route (Decided).
func (p *Proxy) decided(route string) bool { return p.Decided != nil && p.Decided(route) }

// compareBudget is the Proxy's budget (nil: none); the clock and the meter
// are the tests' to replace.
func (p *Proxy) compareBudget() *compareBudget {
	share := p.CompareBudget
	if share <= 0 {
		share = DefaultCompareBudget
	}
	clock := p.budgetClock
	if clock == nil {
		start := time.Now()
		clock = func() time.Duration { return time.Since(start) }
	}
	return newCompareBudget(share, runtime.GOMAXPROCS(0), clock)
}

// cpuMeter starts measuring the CPU time the calling goroutine uses and returns
// the function that stops and reads it.
type cpuMeter func() (stop func() time.Duration)

// wallMeter measures wall time: the CPU time of a goroutine that does not
// wait, and the fallback where a thread's CPU time cannot be read.
func wallMeter() func() time.Duration {
	start := time.Now()
	return func() time.Duration { return time.Since(start) }
}

func (p *Proxy) cpuMeter() cpuMeter {
	if p.budgetMeter != nil {
		return p.budgetMeter
	}
	return threadCPUMeter
}
