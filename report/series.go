package report

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
	"time"
)

// SeriesMinutes is how many minutes of per-minute traffic a snapshot carries:
// the last six hours, enough to watch a rollout step.
const SeriesMinutes = 360

// SeriesPoint is one minute of traffic over every route: what the dashboard
// charts as parity and mirrored requests per minute. Points of several snapshots
// add up by minute.
type SeriesPoint struct {
	Minute time.Time `json:"minute"` // start of the minute, RFC 3339, UTC
	// Observed counts every observation of the minute, skipped ones included.
	Observed int64 `json:"observed"`
	// Mirrored counts requests sent to both backends: Compared plus candidate
	// transport errors.
	Mirrored        int64 `json:"mirrored"`
	Compared        int64 `json:"compared"`
	Matched         int64 `json:"matched"`
	CandidateErrors int64 `json:"candidate_errors"`
}

// Parity is Matched over Compared, or -1 when the minute compared nothing.
func (p SeriesPoint) Parity() float64 {
	if p.Compared == 0 {
		return -1
	}
	return float64(p.Matched) / float64(p.Compared)
}

// tally is a route's running counts that a series point is made of; the
// difference of two tallies is what one observation added.
type tally struct {
	observed, compared, matched, candErrors, candTransport int64
}

func (t tally) sub(o tally) tally {
	return tally{t.observed - o.observed, t.compared - o.compared, t.matched - o.matched,
		t.candErrors - o.candErrors, t.candTransport - o.candTransport}
}

// tally reads r's counts. Called with r.mu held. Observed is left to the caller:
// every observation is one.
func (r *routeAcc) tally() tally {
	return tally{compared: r.compared, matched: r.matched, candErrors: r.candErrors, candTransport: r.candTransport}
}

// series is the Aggregator's ring of per-minute buckets, indexed by minute
// modulo SeriesMinutes: fixed memory however long the proxy runs. A bucket is
// reused when its slot's minute comes round again; what falls out of the window
// is gone from the chart but not from the route counts.
type series struct {
	mu      sync.Mutex
	latest  int64 // newest minute written (Unix minutes), valid when any
	any     bool
	buckets [SeriesMinutes]seriesBucket
}

type seriesBucket struct {
	minute int64
	used   bool
	tally
}

// add counts t at the minute of at. Observations without a time are not charted.
func (s *series) add(at time.Time, t tally) {
	if at.IsZero() {
		return
	}
	s.mu.Lock()
	s.addMinute(unixMinute(at), t)
	s.mu.Unlock()
}

// addMinute counts t at minute m. Called with s.mu held.
func (s *series) addMinute(m int64, t tally) {
	if s.any && m <= s.latest-SeriesMinutes {
		return // older than the window
	}
	b := &s.buckets[slot(m)]
	if !b.used || b.minute != m {
		// The slot holds a minute at least a window older (a newer one would
		// have made m older than the window).
		*b = seriesBucket{minute: m, used: true}
	}
	b.observed += t.observed
	b.compared += t.compared
	b.matched += t.matched
	b.candErrors += t.candErrors
	b.candTransport += t.candTransport
	if !s.any || m > s.latest {
		s.latest, s.any = m, true
	}
}

// restore adds the points of a saved snapshot.
func (s *series) restore(points []SeriesPoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range points {
		s.addMinute(unixMinute(p.Minute), tally{observed: p.Observed, compared: p.Compared, matched: p.Matched,
			candErrors: p.CandidateErrors, candTransport: p.Mirrored - p.Compared})
	}
}

// points returns the window's minutes that saw traffic, oldest first; nil when
// none did.
func (s *series) points() []SeriesPoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SeriesPoint
	for i := range s.buckets {
		b := &s.buckets[i]
		if !b.used || b.minute <= s.latest-SeriesMinutes {
			continue
		}
		out = append(out, b.point())
	}
	slices.SortFunc(out, func(a, b SeriesPoint) int { return a.Minute.Compare(b.Minute) })
	return out
}

func (b *seriesBucket) point() SeriesPoint {
	return SeriesPoint{Minute: time.Unix(b.minute*60, 0).UTC(), Observed: b.observed, Mirrored: b.compared + b.candTransport,
		Compared: b.compared, Matched: b.matched, CandidateErrors: b.candErrors}
}

func unixMinute(t time.Time) int64 {
	s := t.Unix()
	if s < 0 && s%60 != 0 {
		return s/60 - 1
	}
	return s / 60
}

func slot(m int64) int {
	i := m % SeriesMinutes
	if i < 0 {
		i += SeriesMinutes
	}
	return int(i)
}

// sumSeries adds points up by minute and keeps the SeriesMinutes minutes up to
// the newest, oldest first. Keeping the window ending at the newest minute of
// the union is commutative and associative, so Merge stays so.
func sumSeries(points []SeriesPoint) []SeriesPoint {
	if len(points) == 0 {
		return nil
	}
	by := make(map[int64]*SeriesPoint, len(points))
	latest := unixMinute(points[0].Minute)
	for _, p := range points {
		m := unixMinute(p.Minute)
		latest = max(latest, m)
		q := by[m]
		if q == nil {
			q = &SeriesPoint{Minute: time.Unix(m*60, 0).UTC()}
			by[m] = q
		}
		q.Observed += p.Observed
		q.Mirrored += p.Mirrored
		q.Compared += p.Compared
		q.Matched += p.Matched
		q.CandidateErrors += p.CandidateErrors
	}
	out := make([]SeriesPoint, 0, min(len(by), SeriesMinutes))
	for m, p := range by {
		if m > latest-SeriesMinutes {
			out = append(out, *p)
		}
	}
	slices.SortFunc(out, func(a, b SeriesPoint) int { return cmp.Compare(a.Minute.Unix(), b.Minute.Unix()) })
	return out
}

// validateSeries checks what charts and merges rely on: minutes on the minute,
// each once, and counts that nest (matched ≤ compared ≤ mirrored ≤ observed,
// candidate errors ≤ mirrored).
func validateSeries(points []SeriesPoint) error {
	seen := make(map[int64]bool, len(points))
	for _, p := range points {
		at := p.Minute.UTC().Format(time.RFC3339)
		if p.Minute.IsZero() || p.Minute.Nanosecond() != 0 || p.Minute.Unix()%60 != 0 {
			return fmt.Errorf("snapshot series point %s is not the start of a minute", at)
		}
		m := unixMinute(p.Minute)
		if seen[m] {
			return fmt.Errorf("snapshot series lists minute %s twice", at)
		}
		seen[m] = true
		if p.Matched < 0 || p.Matched > p.Compared || p.Compared > p.Mirrored || p.Mirrored > p.Observed ||
			p.CandidateErrors < 0 || p.CandidateErrors > p.Mirrored {
			return fmt.Errorf("snapshot series minute %s has inconsistent counts", at)
		}
	}
	return nil
}
