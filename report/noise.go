package report

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Noise learning.
//
// When the primary and the candidate differ, the proxy or the replay may ask a
// primary the same request again (a re-ask) and compare primary with primary: the
// patterns that differ there too are noise for that request. The Observation says
// which patterns a re-ask tested (NoiseChecked) and which of them it confirmed (also
// in Noise). A pattern confirmed NoiseRule.Confirm times among the last
// NoiseRule.Window re-asks that tested it on a route is learned: from then on the
// proxy and the replay treat it as noise on that route without asking again
// (Aggregator.Learned), and it stays learned across restarts through the snapshot
// (NoiseCount.Learned, restored by Restore).
//
// Learning is per route: a pattern learned on one route is never noise on another,
// and nothing is learned on OtherRoute, which mixes routes. The window of recent
// outcomes lives in memory only; the snapshot keeps the totals (NoiseCount.Confirmed
// of NoiseCount.Reasks) and the learned mark. Merge sums the totals and ORs the mark:
// a pattern learned by any process stays learned, because the totals alone cannot
// tell which re-asks were the last ones.

// NoiseRule says when a pattern is learned as noise on a route: Confirm
// confirmations among the last Window re-asks that tested it. Zero fields take the
// defaults; Window is at most MaxNoiseWindow and Confirm at most Window.
type NoiseRule struct {
	Confirm int // K: confirmations needed
	Window  int // N: re-asks looked at
}

// The NoiseRule defaults and bound.
const (
	DefaultNoiseConfirm = 3
	DefaultNoiseWindow  = 5
	MaxNoiseWindow      = 64
)

// withDefaults fills zero fields and clamps the rule into range.
func (r NoiseRule) withDefaults() NoiseRule {
	if r.Window <= 0 {
		r.Window = DefaultNoiseWindow
	}
	r.Window = min(r.Window, MaxNoiseWindow)
	if r.Confirm <= 0 {
		r.Confirm = DefaultNoiseConfirm
	}
	r.Confirm = min(r.Confirm, r.Window)
	return r
}

// noiseLearner is one route's learning state, guarded by its routeAcc's mutex.
type noiseLearner struct {
	pats         map[string]*noiseState
	reasks       int64 // re-asks that answered
	reaskDropped int64 // re-asks due but not made or not answered
}

// noiseState is one pattern's learning state on one route.
type noiseState struct {
	confirmed int64  // re-asks that confirmed it as noise
	reasks    int64  // re-asks that tested it
	recent    uint64 // outcomes of the last re-asks that tested it, newest in bit 0; 1 = confirmed
	learned   bool
}

// learnNoise records what o says about re-asks and reports whether a pattern was
// newly learned. Called with r.mu held, after r.observe.
//
// Patterns longer than lim.ValueBytes are not learned (the snapshot would keep them
// shortened, so they could never match again). At lim.PathsPerRoute patterns, one
// that never proved to be noise makes room; when none can, the new pattern is not
// tracked — the route's noise table is then full too, and r.observe has counted
// the occurrence in NoiseDropped.
func (r *routeAcc) learnNoise(o *Observation, lim *Limits) bool {
	if o.Skipped != "" {
		return false
	}
	l := &r.learn
	if o.ReaskDropped {
		l.reaskDropped++
	}
	if len(o.NoiseChecked) == 0 {
		return false
	}
	l.reasks++
	rule := o.NoiseRule.withDefaults()
	mask := uint64(1)<<rule.Window - 1 // all ones for a window of 64
	newly := false
	for _, p := range o.NoiseChecked {
		confirmed := slices.Contains(o.Noise, p)
		st := l.state(p, lim)
		if st == nil {
			continue
		}
		st.reasks++
		st.recent <<= 1
		if confirmed {
			st.confirmed++
			st.recent |= 1
		}
		if !st.learned && confirmed && r.route != OtherRoute && bits.OnesCount64(st.recent&mask) >= rule.Confirm {
			st.learned = true
			newly = true
		}
	}
	return newly
}

// state returns the state of pattern p, making room for it under the caps, or nil
// when it is not tracked.
func (l *noiseLearner) state(p string, lim *Limits) *noiseState {
	if st := l.pats[p]; st != nil {
		return st
	}
	if len(p) > lim.ValueBytes {
		return nil
	}
	if l.pats == nil {
		l.pats = map[string]*noiseState{}
	}
	if len(l.pats) >= lim.PathsPerRoute && !l.evictUnconfirmed() {
		return nil
	}
	st := &noiseState{}
	l.pats[strings.Clone(p)] = st
	return st
}

// evictUnconfirmed forgets one pattern that never proved to be noise (the least,
// for determinism) and reports whether there was one.
func (l *noiseLearner) evictUnconfirmed() bool {
	victim, found := "", false
	for p, st := range l.pats {
		if st.confirmed == 0 && !st.learned && (!found || p < victim) {
			victim, found = p, true
		}
	}
	if found {
		delete(l.pats, victim)
	}
	return found
}

// learnedPatterns returns the route's learned patterns, sorted. Called with r.mu
// held.
func (r *routeAcc) learnedPatterns() []string {
	var out []string
	for p, st := range r.learn.pats {
		if st.learned {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// noiseStats adds the learning state to st, which r.stats made: the route's re-ask
// counts, and each noise pattern's confirmations, re-asks and learned mark.
// Patterns that proved to be noise but were not counted in r.noise (its cap) are
// listed with a Count of 0, so that what was learned is never lost. Called with
// r.mu held or single-threaded.
func (r *routeAcc) noiseStats(st *RouteStats) {
	l := &r.learn
	st.Reasks, st.ReaskDropped = l.reasks, l.reaskDropped
	if len(l.pats) == 0 {
		return
	}
	listed := make(map[string]bool, len(st.Noise))
	for i := range st.Noise {
		n := &st.Noise[i]
		listed[n.Path] = true
		if s := l.pats[n.Path]; s != nil {
			n.Confirmed, n.Reasks, n.Learned = s.confirmed, s.reasks, s.learned
		}
	}
	added := false
	for p, s := range l.pats {
		if !listed[p] && (s.confirmed > 0 || s.learned) {
			st.Noise = append(st.Noise, NoiseCount{Path: p, Confirmed: s.confirmed, Reasks: s.reasks, Learned: s.learned})
			added = true
		}
	}
	if added {
		st.finish()
	}
}

// addNoise adds a snapshot route's learning totals and marks to r, without caps
// (the snapshot bounds them). The window of recent outcomes starts empty. Called
// with r.mu held or single-threaded, beside r.add.
func (r *routeAcc) addNoise(s *RouteStats) {
	l := &r.learn
	l.reasks += s.Reasks
	l.reaskDropped += s.ReaskDropped
	for _, n := range s.Noise {
		if n.Confirmed == 0 && n.Reasks == 0 && !n.Learned {
			continue
		}
		if l.pats == nil {
			l.pats = map[string]*noiseState{}
		}
		st := l.pats[n.Path]
		if st == nil {
			st = &noiseState{}
			l.pats[n.Path] = st
		}
		st.confirmed += n.Confirmed
		st.reasks += n.Reasks
		st.learned = st.learned || n.Learned
	}
}

// learnedIndex is the Aggregator's read-mostly view of every route's learned
// patterns: an immutable map swapped whole when something is newly learned, so
// that Learned, read on every comparison, takes no lock and allocates nothing.
type learnedIndex struct {
	mu  sync.Mutex // serialises rebuilds
	cur atomic.Pointer[map[string][]string]
}

// Learned returns the patterns learned as noise on route, sorted. The slice is
// shared: callers must not modify it. Safe for concurrent use; it takes no lock.
func (a *Aggregator) Learned(route string) []string {
	m := a.learned.cur.Load()
	if m == nil {
		return nil
	}
	return (*m)[route]
}

// publishLearned replaces route's entry in the learned index with what r holds now.
func (a *Aggregator) publishLearned(r *routeAcc) {
	a.learned.mu.Lock()
	defer a.learned.mu.Unlock()
	r.mu.Lock()
	pats := r.learnedPatterns()
	r.mu.Unlock()
	old := a.learned.cur.Load()
	next := make(map[string][]string, 1)
	if old != nil {
		next = make(map[string][]string, len(*old)+1)
		for k, v := range *old {
			next[k] = v
		}
	}
	next[r.route] = pats
	a.learned.cur.Store(&next)
}

// rebuildLearned rebuilds the learned index from every route (after Restore).
func (a *Aggregator) rebuildLearned() {
	a.learned.mu.Lock()
	defer a.learned.mu.Unlock()
	a.mu.RLock()
	accs := make([]*routeAcc, 0, len(a.routes))
	for _, r := range a.routes {
		accs = append(accs, r)
	}
	a.mu.RUnlock()
	next := map[string][]string{}
	for _, r := range accs {
		if r.route == OtherRoute {
			continue
		}
		r.mu.Lock()
		pats := r.learnedPatterns()
		r.mu.Unlock()
		if len(pats) > 0 {
			next[r.route] = pats
		}
	}
	a.learned.cur.Store(&next)
}

// validateNoise checks a snapshot route's noise and re-ask counts: non-negative,
// and no pattern confirmed more often than it was tested.
func validateNoise(r *RouteStats) error {
	if r.Reasks < 0 || r.ReaskDropped < 0 || r.NoiseDropped < 0 {
		return fmt.Errorf("snapshot route %q has inconsistent noise counts", r.Route)
	}
	for _, n := range r.Noise {
		if n.Count < 0 || n.Confirmed < 0 || n.Reasks < n.Confirmed {
			return fmt.Errorf("snapshot route %q has inconsistent counts for noise %q", r.Route, n.Path)
		}
	}
	return nil
}

// noiseConfig is the configuration that ignores pattern p on route for good, ""
// for OtherRoute, which no match can name.
func noiseConfig(route, p string) string {
	if route == OtherRoute || route == "" {
		return ""
	}
	return silenceYAML(route, p)
}
