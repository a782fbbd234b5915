package report

import (
	"errors"
	"fmt"
	"slices"
)

// Delta returns what happened between two snapshots of the same aggregator (or
// of the same merged fleet), base taken before cur: the evidence of a window,
// which the gate judges as it judges a whole snapshot.
//
// Every count is cur's minus base's: compared, matched, candidate errors and
// transport errors, auth failures, skips by reason, errors by message, habits,
// latency histograms bucket by bucket, difference groups by (path, kind) (a
// security-marked group keeps its rule), noise by pattern (with its re-asks and
// confirmations), mismatch sets, what the caps dropped, the series by minute and
// the routes folded into OtherRoute. A route, group, pattern or set that base
// lacks is taken whole; one that is left with nothing in the window is left
// out. Examples are cur's, those base did not have first, at most one per
// occurrence in the window; FirstSeen and LastSeen are cur's. Learned templates
// and noise marks are cur's (base is rekeyed by them first, as Merge does); the
// result starts when base was taken (Started is base.Updated).
//
// A count that went down (the proxy restarted without its snapshot, the
// snapshot was reset, a replica is missing from a merge) means cur does not
// follow base: Delta returns an error, and there is no window to judge.
// Judged copies (Accept) are refused: take the delta of raw snapshots and judge
// it.
func Delta(cur, base *Snapshot) (*Snapshot, error) {
	s, _, err := delta(cur, base, withHistograms)
	return s, err
}

// JudgeWindow judges step n of plan p under th on the window between base and
// cur, as Judge(judged(Delta(cur, base)), …) does, without encoding the
// window's latency histograms (which costs about a megabyte of garbage a
// route): the gate reads their buckets in memory. judged applies the
// acceptances in force (nil = none). The result's route statistics are of a
// summary snapshot, which cannot be merged or read back. Delta's errors are
// its errors.
func JudgeWindow(cur, base *Snapshot, judged func(*Snapshot) *Snapshot, p *Plan, n int, th Thresholds) (*GateResult, error) {
	s, held, err := delta(cur, base, withoutHistograms)
	if err != nil {
		return nil, err
	}
	if judged != nil {
		s = judged(s)
	}
	return judge(s, p, n, th, held)
}

// delta is Delta; without histograms the changed routes' latency carries
// quantiles only, and their buckets are returned in held.
func delta(cur, base *Snapshot, hist histMode) (*Snapshot, heldLatency, error) {
	if cur == nil || base == nil {
		return nil, nil, errors.New("delta: a snapshot is missing")
	}
	for _, s := range []*Snapshot{cur, base} {
		switch {
		case s.Version != SnapshotVersion:
			return nil, nil, fmt.Errorf("delta: snapshot version %d, want %d", s.Version, SnapshotVersion)
		case s.HistogramsOmitted:
			return nil, nil, errors.New("delta: a snapshot is a summary without latency histograms")
		case s.judged():
			return nil, nil, errors.New("delta: a snapshot is a judged copy (acceptances applied); take the delta of raw snapshots")
		}
	}
	if !slices.EqualFunc(cur.Learned, base.Learned, func(a, b LearnedRoute) bool {
		return a.Template == b.Template && slices.Equal(a.Keep, b.Keep)
	}) {
		// Rows base keyed before cur learned a template are in the template's
		// row in cur: fold them the same way.
		rekeyed, err := Merge(base, &Snapshot{Version: SnapshotVersion, Learned: cur.Learned})
		if err != nil {
			return nil, nil, fmt.Errorf("delta: %w", err)
		}
		rekeyed.Started, rekeyed.Updated = base.Started, base.Updated
		base = rekeyed
	}
	d := deltas{}
	held := heldLatency{}
	out := &Snapshot{
		HistogramsOmitted: hist == withoutHistograms,
		Version:           SnapshotVersion,
		Started:           base.Updated,
		Updated:           cur.Updated,
		Limits:            cur.Limits,
		RoutesOverflowed:  d.sub("routes_overflowed", cur.RoutesOverflowed, base.RoutesOverflowed),
		Series:            d.series(cur.Series, base.Series),
		Learned:           slices.Clone(cur.Learned),
		Routes:            make([]RouteStats, 0, len(cur.Routes)),
	}
	for i := range base.Routes {
		if cur.Route(base.Routes[i].Route) == nil {
			return nil, nil, fmt.Errorf("delta: route %q is gone", base.Routes[i].Route)
		}
	}
	for i := range cur.Routes {
		c := &cur.Routes[i]
		b := base.Route(c.Route)
		if b == nil {
			out.Routes = append(out.Routes, *c)
			continue
		}
		r, h, err := deltaRoute(c, b, hist)
		if err != nil {
			return nil, nil, fmt.Errorf("delta: route %q: %w", c.Route, err)
		}
		if r.MirroredCount() > 0 || r.SkippedTotal() > 0 || r.Reasks > 0 || r.ReaskDropped > 0 {
			out.Routes = append(out.Routes, r)
			if h != nil {
				held[r.Route] = h
			}
		}
	}
	if d.err != nil {
		return nil, nil, fmt.Errorf("delta: %w", d.err)
	}
	return out, held, nil
}

// judged reports whether s carries acceptances (a copy made by Accept).
func (s *Snapshot) judged() bool {
	for i := range s.Routes {
		r := &s.Routes[i]
		if r.AcceptedMatched != 0 || len(r.AcceptanceExpired) > 0 ||
			slices.ContainsFunc(r.Differences, func(g DiffGroup) bool { return g.Accepted != nil }) {
			return true
		}
	}
	return false
}

// deltas subtracts counts, keeping the first that went down.
type deltas struct{ err error }

func (d *deltas) sub(name string, cur, base int64) int64 {
	if cur < base && d.err == nil {
		d.err = fmt.Errorf("%s went down from %d to %d", name, base, cur)
	}
	return cur - base
}

// counts subtracts two maps of counts; keys left at 0 are dropped, nil when
// none is left.
func (d *deltas) counts(name string, cur, base map[string]int64) map[string]int64 {
	for k, v := range base {
		if _, ok := cur[k]; !ok && v > 0 {
			d.sub(name+" "+k, 0, v)
		}
	}
	var out map[string]int64
	for k, v := range cur {
		if n := d.sub(name+" "+k, v, base[k]); n != 0 {
			if out == nil {
				out = map[string]int64{}
			}
			out[k] = n
		}
	}
	return out
}

func (d *deltas) series(cur, base []SeriesPoint) []SeriesPoint {
	before := make(map[int64]SeriesPoint, len(base))
	for _, p := range base {
		before[p.Minute.Unix()] = p
	}
	var out []SeriesPoint
	for _, p := range cur {
		if b, ok := before[p.Minute.Unix()]; ok {
			name := "series " + p.Minute.Format("15:04")
			p.Observed = d.sub(name+" observed", p.Observed, b.Observed)
			p.Mirrored = d.sub(name+" mirrored", p.Mirrored, b.Mirrored)
			p.Compared = d.sub(name+" compared", p.Compared, b.Compared)
			p.Matched = d.sub(name+" matched", p.Matched, b.Matched)
			p.CandidateErrors = d.sub(name+" candidate_errors", p.CandidateErrors, b.CandidateErrors)
		}
		if p.Observed != 0 {
			out = append(out, p)
		}
	}
	return out
}

// deltaRoute is c minus b, the same route in a later and an earlier snapshot.
// Without histograms, the latency's buckets are returned instead of encoded.
func deltaRoute(c, b *RouteStats, hist histMode) (RouteStats, *[2]buckets, error) {
	d := deltas{}
	r := RouteStats{
		Route:                    c.Route,
		Method:                   c.Method,
		Compared:                 d.sub("compared", c.Compared, b.Compared),
		Matched:                  d.sub("matched", c.Matched, b.Matched),
		CandidateErrors:          d.sub("candidate_errors", c.CandidateErrors, b.CandidateErrors),
		CandidateTransportErrors: d.sub("candidate_transport_errors", c.CandidateTransportErrors, b.CandidateTransportErrors),
		CandidateAuthFailures:    d.sub("candidate_auth_failures", c.CandidateAuthFailures, b.CandidateAuthFailures),
		Errors:                   d.counts("errors", c.Errors, b.Errors),
		Skipped:                  d.counts("skipped", c.Skipped, b.Skipped),
		Habits:                   d.counts("habits", c.Habits, b.Habits),
		DifferencesDropped:       d.sub("differences_dropped", c.DifferencesDropped, b.DifferencesDropped),
		DifferencesOmitted:       d.sub("differences_omitted", c.DifferencesOmitted, b.DifferencesOmitted),
		NoiseDropped:             d.sub("noise_dropped", c.NoiseDropped, b.NoiseDropped),
		Reasks:                   d.sub("reasks", c.Reasks, b.Reasks),
		ReaskDropped:             d.sub("reask_dropped", c.ReaskDropped, b.ReaskDropped),
		MismatchSetsDropped:      d.sub("mismatch_sets_dropped", c.MismatchSetsDropped, b.MismatchSetsDropped),
	}
	if d.err == nil && (r.Matched > r.Compared || r.CandidateTransportErrors > r.CandidateErrors) {
		d.err = errors.New("counts are inconsistent")
	}
	r.Differences = d.groups(c.Differences, b.Differences)
	r.Noise = d.noise(c.Noise, b.Noise)
	r.MismatchSets = d.sets(c.MismatchSets, b.MismatchSets)
	if d.err != nil {
		return r, nil, d.err
	}
	var held *[2]buckets
	for i, side := range []struct {
		name     string
		dst      *Latency
		cur, old Latency
	}{{"primary", &r.Latency.Primary, c.Latency.Primary, b.Latency.Primary}, {"candidate", &r.Latency.Candidate, c.Latency.Candidate, b.Latency.Candidate}} {
		h, err := deltaHistogram(side.cur, side.old)
		if err != nil {
			return r, nil, fmt.Errorf("%s latency: %w", side.name, err)
		}
		if hist == withHistograms {
			if *side.dst, err = latencyOf(h); err != nil {
				return r, nil, err
			}
			continue
		}
		if held == nil {
			held = &[2]buckets{}
		}
		held[i] = bucketsOf(h)
		if h.TotalCount() > 0 {
			*side.dst = quantiles(h)
		}
	}
	r.finish()
	return r, held, nil
}

func (d *deltas) groups(cur, base []DiffGroup) []DiffGroup {
	before := make(map[GroupRef]*DiffGroup, len(base))
	for i := range base {
		before[GroupRef{base[i].Path, base[i].Kind}] = &base[i]
	}
	var out []DiffGroup
	for _, g := range cur {
		k := GroupRef{g.Path, g.Kind}
		b := before[k]
		delete(before, k)
		if b == nil {
			out = append(out, g)
			continue
		}
		name := "difference " + g.Path + " " + g.Kind
		if n := d.sub(name, g.Count, b.Count); n > 0 {
			g.Count = n
			g.Examples = windowExamples(g.Examples, b.Examples, n)
			out = append(out, g)
		}
	}
	for k, b := range before {
		d.sub("difference "+k.Path+" "+k.Kind, 0, b.Count)
	}
	return out
}

// windowExamples picks a window's examples among cur's: those base did not
// have first, at most n in all.
func windowExamples(cur, base []Example, n int64) []Example {
	old := func(e Example) bool {
		return slices.ContainsFunc(base, func(b Example) bool {
			return b.RequestID == e.RequestID && b.Path == e.Path && b.Primary == e.Primary && b.Candidate == e.Candidate
		})
	}
	out := make([]Example, 0, len(cur))
	for _, e := range cur {
		if !old(e) {
			out = append(out, e)
		}
	}
	for _, e := range cur {
		if old(e) {
			out = append(out, e)
		}
	}
	return out[:min(int64(len(out)), n)]
}

func (d *deltas) noise(cur, base []NoiseCount) []NoiseCount {
	before := make(map[string]*NoiseCount, len(base))
	for i := range base {
		before[base[i].Path] = &base[i]
	}
	var out []NoiseCount
	for _, n := range cur {
		if b := before[n.Path]; b != nil {
			delete(before, n.Path)
			name := "noise " + n.Path
			n.Count = d.sub(name, n.Count, b.Count)
			n.Confirmed = d.sub(name+" confirmed", n.Confirmed, b.Confirmed)
			n.Reasks = d.sub(name+" reasks", n.Reasks, b.Reasks)
		}
		if n.Count > 0 || n.Confirmed > 0 || n.Reasks > 0 || n.Learned {
			out = append(out, n)
		}
	}
	for p, b := range before {
		d.sub("noise "+p, 0, b.Count+b.Reasks)
	}
	return out
}

func (d *deltas) sets(cur, base []MismatchSet) []MismatchSet {
	before := make(map[string]int64, len(base))
	for _, m := range base {
		before[setKey(m.Groups)] += m.Count
	}
	var out []MismatchSet
	for _, m := range cur {
		k := setKey(m.Groups)
		b := before[k]
		delete(before, k)
		if n := d.sub("mismatch set", m.Count, b); n > 0 {
			out = append(out, MismatchSet{Groups: slices.Clone(m.Groups), Count: n})
		}
	}
	for _, b := range before {
		d.sub("mismatch set", 0, b)
	}
	return out
}

// deltaHistogram subtracts base's histogram from cur's, bucket by bucket.
func deltaHistogram(cur, base Latency) (*packedHist, error) {
	out := newHistogram()
	if cur.HDR == base.HDR && cur.Count == base.Count {
		return out, nil
	}
	hc, err := cur.histogram()
	if err != nil {
		return nil, err
	}
	hb, err := base.histogram()
	if err != nil {
		return nil, err
	}
	for v, n := range hb.ForEachBucket {
		if hc.CountAtValue(v) < n {
			return nil, fmt.Errorf("the histogram's bucket at %d µs went down from %d to %d", v, n, hc.CountAtValue(v))
		}
	}
	for v, n := range hc.ForEachBucket {
		if k := n - hb.CountAtValue(v); k > 0 {
			if err := out.RecordValues(v, k); err != nil {
				return nil, fmt.Errorf("latency histogram: %w", err)
			}
		}
	}
	return out, nil
}
