package report

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/parity-dev/parity/report/route"
)

// Limits bound the Aggregator's memory whatever the traffic. Zero fields take the
// defaults below. What a cap cuts is counted in the snapshot: observations folded
// into OtherRoute, differences and noise patterns not grouped, examples not kept.
//
// With the defaults the worst case is about 50 KB per route for differences and
// examples and a few KB for its two sparse latency histograms; each difference
// group also keeps one reproducer request (the proxy caps it at about 12 KB),
// and a route counts up to 64 difference sets for acceptances.
type Limits struct {
	// Routes is the number of distinct routes kept; later routes are counted
	// under OtherRoute. Default 1000.
	Routes int `json:"routes"`
	// PathsPerRoute caps the distinct (path, kind) difference groups of a route,
	// and separately its noise patterns. Default 50.
	PathsPerRoute int `json:"paths_per_route"`
	// ExamplesPerPath is how many examples a difference group keeps. Default 3.
	ExamplesPerPath int `json:"examples_per_path"`
	// ValueBytes shortens example values and paths longer than this (on a UTF-8
	// boundary, with "…"). Default 160.
	ValueBytes int `json:"value_bytes"`
}

// The Limits defaults.
const (
	DefaultRoutes          = 1000
	DefaultPathsPerRoute   = 50
	DefaultExamplesPerPath = 3
	DefaultValueBytes      = 160
)

// Fixed caps on small per-route maps that only hostile input could grow.
const (
	maxSkipReasons  = 32
	maxErrorKinds   = 16
	maxHabits       = 16
	otherMapKey     = "other"
	shortenedSuffix = "…"
)

func (l Limits) withDefaults() Limits {
	if l.Routes <= 0 {
		l.Routes = DefaultRoutes
	}
	if l.PathsPerRoute <= 0 {
		l.PathsPerRoute = DefaultPathsPerRoute
	}
	if l.ExamplesPerPath <= 0 {
		l.ExamplesPerPath = DefaultExamplesPerPath
	}
	if l.ValueBytes <= 0 {
		l.ValueBytes = DefaultValueBytes
	}
	return l
}

func (l Limits) max(o Limits) Limits {
	return Limits{
		Routes:          max(l.Routes, o.Routes),
		PathsPerRoute:   max(l.PathsPerRoute, o.PathsPerRoute),
		ExamplesPerPath: max(l.ExamplesPerPath, o.ExamplesPerPath),
		ValueBytes:      max(l.ValueBytes, o.ValueBytes),
	}
}

// Aggregator keeps per-route statistics of observations. It is safe for
// concurrent use: Observe takes a read lock on the route table and the route's
// own lock, so routes do not contend with each other.
type Aggregator struct {
	lim     Limits
	mu      sync.RWMutex
	routes  map[string]*routeAcc
	started time.Time

	overflowed atomic.Int64
	series     series // per-minute counts over every route, for the dashboard chart
	learned    learnedIndex

	learner    *route.Learner
	foldedGen  atomic.Uint64    // the learner's generation rows were last folded at
	learnedSet route.LearnedSet // what they were folded by; guarded by mu
}

// NewAggregator returns an empty Aggregator with lim's caps (zero fields take
// the defaults).
func NewAggregator(lim Limits) *Aggregator {
	return &Aggregator{
		lim:     lim.withDefaults(),
		routes:  make(map[string]*routeAcc),
		started: time.Now().UTC(),
		learner: &route.Learner{},
	}
}

// Limits returns the caps in effect, defaults filled in.
func (a *Aggregator) Limits() Limits { return a.lim }

// Observe records one observation.
func (a *Aggregator) Observe(o Observation) {
	a.foldIfLearned()
	r := a.route(o.Route)
	r.mu.Lock()
	for r.into != nil { // folded into a learned template's row meanwhile
		next := r.into
		r.mu.Unlock()
		r = next
		r.mu.Lock()
	}
	before := r.tally()
	r.observe(&o, &a.lim)
	learned := r.learnNoise(&o, &a.lim)
	added := r.tally().sub(before)
	r.mu.Unlock()
	added.observed = 1
	a.series.add(o.Time, added)
	if learned {
		a.publishLearned(r)
	}
}

// route returns the accumulator of key, creating it while under the cap and
// folding into OtherRoute beyond.
func (a *Aggregator) route(key string) *routeAcc {
	if key == "" {
		key = OtherRoute
	}
	a.mu.RLock()
	r := a.routes[key]
	if r == nil && key != OtherRoute && a.countedRoutes() >= a.lim.Routes {
		// Full: fold into OTHER without the write lock, which unknown routes
		// would otherwise take on every request.
		r = a.routes[OtherRoute]
		if r != nil {
			a.overflowed.Add(1)
		}
	}
	a.mu.RUnlock()
	if r != nil {
		return r
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	// A request keyed before a template was learned and observed after the fold
	// goes to the template's row.
	key = a.learnedSet.Rekey(key)
	if r = a.routes[key]; r != nil {
		return r
	}
	if key != OtherRoute && a.countedRoutes() >= a.lim.Routes {
		a.overflowed.Add(1)
		key = OtherRoute
		if r = a.routes[key]; r != nil {
			return r
		}
	}
	r = newRouteAcc(key, methodOf(key))
	a.routes[key] = r
	return r
}

// countedRoutes is the number of routes held against the cap (OtherRoute is
// not). Called with a.mu held.
func (a *Aggregator) countedRoutes() int {
	n := len(a.routes)
	if _, ok := a.routes[OtherRoute]; ok {
		n--
	}
	return n
}

// Snapshot returns the current statistics. Observations keep flowing while it
// is taken; each route is copied under its own lock.
func (a *Aggregator) Snapshot() *Snapshot { return a.snapshot(withHistograms) }

// SnapshotSummary is Snapshot without the encoded latency histograms: the same
// counts and quantiles, for a reader that only shows them (the live dashboard,
// which asks every few seconds). Encoding a histogram that moved costs about a
// millisecond and a megabyte of garbage; a summary costs neither. A summary
// cannot be merged (see Merge).
func (a *Aggregator) SnapshotSummary() *Snapshot {
	s := a.snapshot(withoutHistograms)
	s.HistogramsOmitted = true
	return s
}

func (a *Aggregator) snapshot(hist histMode) *Snapshot {
	a.foldIfLearned()
	a.mu.RLock()
	learned := learnedRoutes(a.learnedSet)
	accs := make([]*routeAcc, 0, len(a.routes))
	for _, r := range a.routes {
		accs = append(accs, r)
	}
	started := a.started
	a.mu.RUnlock()
	s := &Snapshot{
		Version:          SnapshotVersion,
		Started:          started,
		Updated:          time.Now().UTC(),
		Limits:           a.lim,
		RoutesOverflowed: a.overflowed.Load(),
		Routes:           make([]RouteStats, 0, len(accs)),
		Series:           a.series.points(),
		Learned:          learned,
	}
	for _, r := range accs {
		r.mu.Lock()
		st, err := r.stats(a.lim.ExamplesPerPath, false, hist)
		r.noiseStats(&st)
		r.mu.Unlock()
		if err != nil {
			// Encoding a histogram the aggregator built cannot fail; keep the
			// counts rather than lose the route.
			st.Latency.Primary.HDR, st.Latency.Candidate.HDR = "", ""
		}
		s.Routes = append(s.Routes, st)
	}
	sortRoutes(s.Routes)
	return s
}

// Restore adds a saved snapshot to the aggregator, so a restarted proxy
// continues its counts. Restored routes are kept even beyond the route cap (the
// snapshot bounds them); new routes then go to OtherRoute.
func (a *Aggregator) Restore(s *Snapshot) error {
	if s == nil {
		return nil
	}
	if err := s.validate(); err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	set, err := s.learnedSet()
	if err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	a.learner.Restore(set)
	defer a.foldIfLearned()  // then rows keyed before the restored templates fold
	defer a.rebuildLearned() // runs after the unlock: restored learned noise applies at once
	a.mu.Lock()
	defer a.mu.Unlock()
	if !s.Started.IsZero() && s.Started.Before(a.started) {
		a.started = s.Started.UTC()
	}
	a.overflowed.Add(s.RoutesOverflowed)
	a.series.restore(s.Series)
	for i := range s.Routes {
		rs := &s.Routes[i]
		r := a.routes[rs.Route]
		if r == nil {
			r = newRouteAcc(rs.Route, rs.Method)
			a.routes[rs.Route] = r
		}
		r.mu.Lock()
		err := r.add(rs)
		r.addNoise(rs)
		r.trimExamples(a.lim.ExamplesPerPath)
		r.mu.Unlock()
		if err != nil {
			return fmt.Errorf("restore snapshot: route %q: %w", rs.Route, err)
		}
	}
	return nil
}

// methodOf returns the method part of a route key.
func methodOf(key string) string {
	if i := strings.IndexByte(key, ' '); i > 0 {
		return key[:i]
	}
	return ""
}

// routeAcc accumulates one route. The Aggregator guards it with mu; Merge uses
// it single-threaded.
type routeAcc struct {
	mu            sync.Mutex
	route, method string
	into          *routeAcc // the row this one was folded into (a learned template's); set once

	compared, matched         int64
	candErrors, candTransport int64
	candAuth                  int64
	errors                    map[string]int64
	skipped                   map[string]int64
	primary, candidate        *hdrhistogram.PackedHistogram
	latencyCache              [2]Latency // last summaries of primary and candidate, by count
	groups                    map[groupKey]*groupAcc
	groupsDropped             int64
	omitted                   int64 // differences comparisons left out of their results
	habits                    map[string]int64
	noise                     map[string]int64
	noiseDropped              int64
	learn                     noiseLearner
	sets                      mismatchSets
}

type groupKey struct{ path, kind string }

type groupAcc struct {
	count       int64
	security    string // the rule of a security-marked occurrence (markSecurity)
	examples    []Example
	first, last time.Time
}

func newRouteAcc(route, method string) *routeAcc {
	return &routeAcc{
		route:     route,
		method:    method,
		skipped:   map[string]int64{},
		errors:    map[string]int64{},
		habits:    map[string]int64{},
		groups:    map[groupKey]*groupAcc{},
		noise:     map[string]int64{},
		primary:   newHistogram(),
		candidate: newHistogram(),
	}
}

// observe records o under lim's caps. Called with r.mu held.
func (r *routeAcc) observe(o *Observation, lim *Limits) {
	if o.Skipped != "" {
		countCapped(r.skipped, string(o.Skipped), maxSkipReasons)
		return
	}
	recordLatency(r.primary, o.PrimaryLatency)
	if o.CandidateError != "" {
		r.candErrors++
		r.candTransport++
		countCapped(r.errors, o.CandidateError, maxErrorKinds)
		return
	}
	recordLatency(r.candidate, o.CandidateLatency)
	for _, h := range o.Habits {
		countCapped(r.habits, h, maxHabits)
	}
	r.compared++
	if len(o.Differences) == 0 && !o.Truncated {
		r.matched++
	}
	r.omitted += int64(o.Omitted)
	if o.CandidateStatus >= 500 && o.PrimaryStatus < 500 {
		r.candErrors++
	}
	if isAuthFailure(o.CandidateStatus) && !isAuthFailure(o.PrimaryStatus) {
		r.candAuth++
	}
	var seenBuf [8]groupKey
	seen := seenBuf[:0] // the request's difference set, for acceptances
	for i := range o.Differences {
		d := &o.Differences[i]
		pattern := d.Pattern
		if pattern == "" {
			pattern = d.Path
		}
		if len(pattern) > lim.ValueBytes {
			pattern = shorten(pattern, lim.ValueBytes)
		}
		seen = append(seen, groupKey{pattern, string(d.Kind)})
		g := r.groups[groupKey{pattern, string(d.Kind)}]
		if g == nil {
			if len(r.groups) >= lim.PathsPerRoute {
				r.groupsDropped++
				continue
			}
			g = &groupAcc{}
			r.groups[groupKey{strings.Clone(pattern), string(d.Kind)}] = g
		}
		g.count++
		g.seenAt(o.Time)
		markSecurity(&g.security, d.Security)
		if len(g.examples) < lim.ExamplesPerPath {
			e := Example{
				RequestID: shorten(o.RequestID, lim.ValueBytes),
				Path:      shorten(d.Path, lim.ValueBytes),
				Primary:   shorten(d.Primary, lim.ValueBytes),
				Candidate: shorten(d.Candidate, lim.ValueBytes),
			}
			if len(g.examples) == 0 {
				e.Request = o.Request // the group's first occurrence is its reproducer
			}
			g.examples = append(g.examples, e)
		}
	}
	if len(seen) > 0 {
		r.sets.add(seen, 1)
	}
	for _, p := range o.Noise {
		// Looked up as stored: a long pattern is kept shortened, so it is found
		// shortened, as difference groups are.
		if len(p) > lim.ValueBytes {
			p = shorten(p, lim.ValueBytes)
		}
		if _, ok := r.noise[p]; !ok {
			if len(r.noise) >= lim.PathsPerRoute {
				r.noiseDropped++
				continue
			}
			p = strings.Clone(p)
		}
		r.noise[p]++
	}
}

func isAuthFailure(status int) bool { return status == 401 || status == 403 }

// countCapped adds one to m[k], or to m["other"] once m holds limit keys.
func countCapped(m map[string]int64, k string, limit int) {
	if _, ok := m[k]; !ok {
		if len(m) >= limit-1 {
			k = otherMapKey
		} else {
			k = strings.Clone(k)
		}
	}
	m[k]++
}

// shorten returns a copy of s (never sharing the observation's memory) cut to
// at most n bytes on a rune boundary, marked with "…" when cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return strings.Clone(s)
	}
	cut := n - len(shortenedSuffix)
	if cut < 0 {
		cut = 0
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + shortenedSuffix
}
