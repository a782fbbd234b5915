package report

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/parity-dev/parity/diff"
)

// add adds a snapshot route's counts, histograms, groups and noise to r, without
// caps (the snapshot bounds them). Called with r.mu held or single-threaded.
func (r *routeAcc) add(s *RouteStats) error {
	if r.method == "" {
		r.method = s.Method
	}
	r.compared += s.Compared
	r.matched += s.Matched
	r.candErrors += s.CandidateErrors
	r.candTransport += s.CandidateTransportErrors
	r.candAuth += s.CandidateAuthFailures
	for k, v := range s.Errors {
		r.errors[k] += v
	}
	for k, v := range s.Skipped {
		r.skipped[k] += v
	}
	for k, v := range s.Habits {
		r.habits[k] += v
	}
	for _, side := range []struct {
		dst *packedHist
		l   Latency
	}{{r.primary, s.Latency.Primary}, {r.candidate, s.Latency.Candidate}} {
		h, err := side.l.histogram()
		if err != nil {
			return err
		}
		if dropped := side.dst.Merge(h); dropped != 0 {
			return fmt.Errorf("merge latency histogram: %d values out of range", dropped)
		}
	}
	for _, d := range s.Differences {
		k := groupKey{d.Path, d.Kind}
		g := r.groups[k]
		if g == nil {
			g = &groupAcc{}
			r.groups[k] = g
		}
		g.count += d.Count
		markSecurity(&g.security, diff.Security(d.Security))
		g.examples = append(g.examples, d.Examples...)
		g.seenAt(d.FirstSeen)
		g.seenAt(d.LastSeen)
	}
	for _, m := range s.MismatchSets {
		r.sets.addSet(m)
	}
	r.sets.dropped += s.MismatchSetsDropped
	r.groupsDropped += s.DifferencesDropped
	r.omitted += s.DifferencesOmitted
	for _, n := range s.Noise {
		r.noise[n.Path] += n.Count
	}
	r.noiseDropped += s.NoiseDropped
	return nil
}

// trimExamples keeps each group's first n examples in request-id order. Taking
// the least n of a union is commutative and associative, which keeps Merge so.
func (r *routeAcc) trimExamples(n int) {
	for _, g := range r.groups {
		if len(g.examples) > 1 {
			slices.SortFunc(g.examples, compareExamples)
		}
		if len(g.examples) > n {
			g.examples = slices.Clip(g.examples[:n])
		}
	}
}

// stats returns r as snapshot statistics. With trim, examples are first cut to
// n per group (Merge); the Aggregator already holds at most n.
func (r *routeAcc) stats(n int, trim bool, hist histMode) (RouteStats, error) {
	if trim {
		r.trimExamples(n)
	}
	s := RouteStats{
		Route:                    r.route,
		Method:                   r.method,
		Compared:                 r.compared,
		Matched:                  r.matched,
		CandidateErrors:          r.candErrors,
		CandidateTransportErrors: r.candTransport,
		CandidateAuthFailures:    r.candAuth,
		Skipped:                  make(map[string]int64, len(r.skipped)),
		DifferencesDropped:       r.groupsDropped,
		DifferencesOmitted:       r.omitted,
		NoiseDropped:             r.noiseDropped,
		Differences:              make([]DiffGroup, 0, len(r.groups)),
		Noise:                    make([]NoiseCount, 0, len(r.noise)),
	}
	for k, v := range r.skipped {
		s.Skipped[k] = v
	}
	if len(r.habits) > 0 {
		s.Habits = make(map[string]int64, len(r.habits))
		for k, v := range r.habits {
			s.Habits[k] = v
		}
	}
	if len(r.errors) > 0 {
		s.Errors = make(map[string]int64, len(r.errors))
		for k, v := range r.errors {
			s.Errors[k] = v
		}
	}
	if hist == withoutHistograms {
		s.Latency.Primary = quantilesOf(r.primary, &r.latencyCache[0])
		s.Latency.Candidate = quantilesOf(r.candidate, &r.latencyCache[1])
	} else {
		var err error
		if s.Latency.Primary, err = cachedLatencyOf(r.primary, &r.latencyCache[0]); err != nil {
			return s, err
		}
		if s.Latency.Candidate, err = cachedLatencyOf(r.candidate, &r.latencyCache[1]); err != nil {
			return s, err
		}
	}
	for k, g := range r.groups {
		s.Differences = append(s.Differences, DiffGroup{
			Path: k.path, Kind: k.kind, Count: g.count, Security: g.security,
			Examples:  slices.Clone(g.examples),
			FirstSeen: g.first, LastSeen: g.last,
		})
	}
	for p, c := range r.noise {
		s.Noise = append(s.Noise, NoiseCount{Path: p, Count: c})
	}
	s.MismatchSets, s.MismatchSetsDropped = r.sets.list(), r.sets.dropped
	s.finish()
	return s, nil
}

func sortRoutes(rs []RouteStats) {
	slices.SortFunc(rs, func(a, b RouteStats) int { return cmp.Compare(a.Route, b.Route) })
}
