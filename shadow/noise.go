package shadow

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/shadow/rules"
)

// Telling noise from regressions.
//
// A difference between the primary and the candidate may be the candidate's
// fault, or a value that differs between any two answers of the primary itself —
// a timestamp, an uptime, a per-response id. The proxy and the replay tell them
// apart by asking a primary the same safe request again (a re-ask: the secondary
// when there is one, else the primary itself on routes with refetch) and comparing
// primary with primary: the differences found there too, at the same pattern and of
// the same kind, are noise for that request. The aggregator learns the patterns
// that keep proving to be noise on a route (report.NoiseRule); from then on
// differences at them are noise without a re-ask, and a request whose differences
// are all learned noise costs no re-ask at all.
//
// Re-asks are bounded like mirrors: a concurrency and a rate over every route
// (noise: in the config), a deadline each; one that cannot be made is counted as
// reask_dropped on its route. They run after the client was answered, never on its
// path.

// NoiseLearner is an Observer that also says which patterns it has learned as
// noise on a route; report.Aggregator is one. When the Proxy's or the Replayer's
// Observer is a NoiseLearner, differences at learned patterns are noise without a
// re-ask.
type NoiseLearner interface {
	// Learned returns the route's learned patterns, sorted; the caller does not
	// modify the slice. It is called for every comparison and must be cheap.
	Learned(route string) []string
}

// learnedFor returns what obs has learned as noise on route, nil when obs does not
// learn.
func learnedFor(obs Observer, route string) []string {
	if l, ok := obs.(NoiseLearner); ok {
		return l.Learned(route)
	}
	return nil
}

// learnedNoise moves the differences at learned patterns (sorted) out of diffs:
// it returns those left and the learned patterns that were hit, sorted. A
// security-marked difference is never noise: it stays whatever was learned.
func learnedNoise(diffs []diff.Difference, learned []string) (kept []diff.Difference, noise []string) {
	if len(learned) == 0 || len(diffs) == 0 {
		return diffs, nil
	}
	for i, d := range diffs {
		p := pattern(d)
		if _, hit := slices.BinarySearch(learned, p); !hit || d.Security != "" {
			if kept != nil {
				kept = append(kept, d)
			}
			continue
		}
		if kept == nil {
			kept = append(make([]diff.Difference, 0, len(diffs)-1), diffs[:i]...)
		}
		if !slices.Contains(noise, p) {
			noise = append(noise, p)
		}
	}
	if noise == nil {
		return diffs, nil
	}
	if len(kept) == 0 {
		kept = nil
	}
	slices.Sort(noise)
	return kept, noise
}

// splitNoise moves the differences that also show between the two primaries, at
// the same pattern and of the same kind, out of diffs, returning those left and the
// noise patterns, sorted. A field the candidate lost (missing) is never excused by
// its value changing between the primaries (changed), nor a security-marked
// difference by anything.
func splitNoise(diffs, between []diff.Difference) (kept []diff.Difference, noise []string) {
	if len(between) == 0 {
		return diffs, nil
	}
	type key struct {
		pattern string
		kind    diff.Kind
	}
	noisy := make(map[key]bool, len(between))
	for _, d := range between {
		noisy[key{pattern(d), d.Kind}] = true
	}
	for _, d := range diffs {
		p := pattern(d)
		if !noisy[key{p, d.Kind}] || d.Security != "" {
			kept = append(kept, d)
			continue
		}
		if !slices.Contains(noise, p) {
			noise = append(noise, p)
		}
	}
	slices.Sort(noise)
	return kept, noise
}

// patterns returns the distinct patterns of diffs, sorted.
func patterns(diffs []diff.Difference) []string {
	out := make([]string, 0, len(diffs))
	for _, d := range diffs {
		if p := pattern(d); !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

func pattern(d diff.Difference) string {
	if d.Pattern != "" {
		return d.Pattern
	}
	return d.Path
}

// reaskLimiter bounds re-asks over every route: at most a policy's
// ReaskConcurrency in flight and, with a ReaskRate, a token bucket holding one
// second's worth. Limits come with each call, so a reloaded config applies at
// once. The zero value is ready.
type reaskLimiter struct {
	mu       sync.Mutex
	inFlight int
	tokens   float64
	last     time.Time
	freed    chan struct{} // closed when a slot frees; nil until someone waits

	now func() time.Time // tests; nil = time.Now
}

// acquire takes a re-ask slot under pol. Without wait it fails at once when there
// is none; with wait it waits for one until ctx ends. A successful acquire must be
// followed by release.
func (l *reaskLimiter) acquire(ctx context.Context, pol rules.NoisePolicy, wait bool) bool {
	limit := pol.ReaskConcurrency
	if limit <= 0 {
		limit = rules.DefaultReaskConcurrency
	}
	for {
		l.mu.Lock()
		delay, ok := l.take(limit, pol.ReaskRate)
		if ok {
			l.mu.Unlock()
			return true
		}
		if !wait {
			l.mu.Unlock()
			return false
		}
		if l.freed == nil {
			l.freed = make(chan struct{})
		}
		freed := l.freed
		l.mu.Unlock()
		var timer <-chan time.Time
		if delay > 0 {
			t := time.NewTimer(delay)
			defer t.Stop()
			timer = t.C
		}
		select {
		case <-freed:
		case <-timer:
		case <-ctx.Done():
			return false
		}
	}
}

// take takes a slot and a token when both are there; otherwise it says how long
// until the next token (0 when a slot is what is missing). Called with l.mu held.
func (l *reaskLimiter) take(limit int, rate float64) (time.Duration, bool) {
	if l.inFlight >= limit {
		return 0, false
	}
	if rate > 0 {
		now := time.Now()
		if l.now != nil {
			now = l.now()
		}
		burst := max(1, rate)
		if l.last.IsZero() {
			l.tokens = burst
		} else {
			l.tokens = min(burst, l.tokens+now.Sub(l.last).Seconds()*rate)
		}
		l.last = now
		if l.tokens < 1 {
			return time.Duration((1 - l.tokens) / rate * float64(time.Second)), false
		}
		l.tokens--
	}
	l.inFlight++
	return 0, true
}

// release frees a slot taken by acquire and wakes the waiters.
func (l *reaskLimiter) release() {
	l.mu.Lock()
	l.inFlight--
	if l.freed != nil {
		close(l.freed)
		l.freed = nil
	}
	l.mu.Unlock()
}

// Results of a re-ask, the values of parity_noise_reasks_total's result label.
const (
	reaskAnswered = "answered"
	reaskDropped  = "dropped" // no room under the re-ask limits
	reaskFailed   = "failed"  // transport error or deadline
)

// reasker returns the Exchange hook that asks pr's request again of a primary (the
// secondary, or the primary itself), and a release for what its answer holds. The
// hook is nil when pr's route does not re-ask. A re-ask never waits: without room
// under the re-ask limits it is dropped. It has a deadline of its own
// (MirrorTimeout) and is cancelled by Close.
func (p *Proxy) reasker(pr *pair) (ask func() *diff.Response, release func()) {
	if pr.again == nil {
		return nil, func() {}
	}
	var got fetched
	ask = func() *diff.Response {
		got = p.reaskOnce(pr, p.Metrics.reask, func(ctx context.Context) fetched {
			return fetch(p.primaryT, pr.again.WithContext(ctx), p.captureCap())
		})
		if got.resp == nil {
			return nil
		}
		got.resp.Request = pr.client
		return got.resp
	}
	return ask, func() { got.release() }
}

// reaskOnce makes one exchange for pr under the re-ask limits — a re-ask or a
// redirect followed —, counting its result through count: it never waits for
// room under the limits (dropped without), and do's context has a deadline of
// its own (MirrorTimeout) and is cancelled by Close. The answer is do's, with
// no response when it was dropped or failed.
func (p *Proxy) reaskOnce(pr *pair, count func(result string), do func(context.Context) fetched) fetched {
	if !p.mirrors.reasks.acquire(pr.ctx, pr.dec.Noise, false) {
		count(reaskDropped)
		return fetched{}
	}
	defer p.mirrors.reasks.release()
	ctx, cancel := context.WithTimeout(p.mirrors.ctx, p.mirrorTimeout())
	defer cancel()
	got := do(ctx)
	if got.resp == nil {
		count(reaskFailed)
	} else {
		count(reaskAnswered)
	}
	return got
}
