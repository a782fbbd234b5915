package report

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Interval is a two-sided confidence interval for a proportion, successes out
// of n: what a build-to-build comparison calls "beyond its confidence". The
// gate's statistics provide it (SequenceInterval); WilsonInterval is the one
// snapshots carry.
type Interval func(successes, n int64) (lo, hi float64)

// WilsonInterval is the Wilson score interval at 95%, whose lower bound is a
// route's parity_lower.
func WilsonInterval(successes, n int64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	return Wilson(successes, n), round6(1 - Wilson(n-successes, n))
}

// The changes of a difference group between two snapshots.
const (
	GroupNew     = "new"     // seen only in the new snapshot
	GroupGone    = "gone"    // seen only in the old one
	GroupChanged = "changed" // in both, its share of requests moved beyond confidence
	GroupSame    = "same"    // in both, its share within confidence
)

// Comparison is what changed from an old snapshot to a new one, route by
// route: parity, candidate errors and latency, and difference groups new, gone
// or changed in frequency. Worse is the CI verdict: some route got worse
// beyond its confidence.
type Comparison struct {
	Old    SnapshotSpan  `json:"old"`
	New    SnapshotSpan  `json:"new"`
	Worse  bool          `json:"worse"`
	Reason string        `json:"reason"`
	Routes []RouteChange `json:"routes"`
}

// SnapshotSpan is the span a compared snapshot observed.
type SnapshotSpan struct {
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
}

// RouteChange is one route in a Comparison. In is "both", "new" (only in the
// new snapshot) or "gone".
type RouteChange struct {
	Route string `json:"route"`
	In    string `json:"in"`

	OldCompared int64   `json:"old_compared"`
	NewCompared int64   `json:"new_compared"`
	OldParity   float64 `json:"old_parity"`
	NewParity   float64 `json:"new_parity"`
	// ParityInterval are the intervals both parities were judged on.
	OldParityInterval [2]float64 `json:"old_parity_interval"`
	NewParityInterval [2]float64 `json:"new_parity_interval"`
	OldErrorRate      float64    `json:"old_candidate_error_rate"`
	NewErrorRate      float64    `json:"new_candidate_error_rate"`
	// Candidate latency quantiles, milliseconds.
	OldP50 float64 `json:"old_candidate_p50_ms"`
	NewP50 float64 `json:"new_candidate_p50_ms"`
	OldP99 float64 `json:"old_candidate_p99_ms"`
	NewP99 float64 `json:"new_candidate_p99_ms"`

	Worse  bool          `json:"worse"`
	Why    string        `json:"why,omitempty"`
	Groups []GroupChange `json:"differences"`
}

// GroupChange is one difference group in a RouteChange.
type GroupChange struct {
	Path      string    `json:"path"`
	Kind      string    `json:"kind"`
	Change    string    `json:"change"` // GroupNew, GroupGone, GroupChanged or GroupSame
	OldCount  int64     `json:"old_count"`
	NewCount  int64     `json:"new_count"`
	OldShare  float64   `json:"old_share"`
	NewShare  float64   `json:"new_share"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
}

// CompareSnapshots compares old with new under interval (nil = WilsonInterval).
// A route got worse when its new parity's interval lies wholly below the old
// one's, or its new candidate error rate's wholly above; routes only in one
// snapshot never count as worse.
func CompareSnapshots(old, new *Snapshot, interval Interval) *Comparison {
	if interval == nil {
		interval = WilsonInterval
	}
	c := &Comparison{Old: SnapshotSpan{old.Started, old.Updated}, New: SnapshotSpan{new.Started, new.Updated}}
	keys := map[string]bool{}
	for _, r := range old.Routes {
		keys[r.Route] = true
	}
	for _, r := range new.Routes {
		keys[r.Route] = true
	}
	var worse []string
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		rc := compareRoute(old.Route(k), new.Route(k), interval)
		rc.Route = k
		if rc.Worse {
			worse = append(worse, k)
		}
		c.Routes = append(c.Routes, rc)
	}
	c.Worse = len(worse) > 0
	if c.Worse {
		c.Reason = fmt.Sprintf("%d of %d routes got worse: %s", len(worse), len(c.Routes), strings.Join(worse, ", "))
	} else {
		c.Reason = fmt.Sprintf("no route of %d got worse beyond its confidence", len(c.Routes))
	}
	return c
}

var emptyRoute RouteStats

func compareRoute(o, n *RouteStats, interval Interval) RouteChange {
	rc := RouteChange{In: "both"}
	switch {
	case o == nil:
		rc.In, o = "new", &emptyRoute
	case n == nil:
		rc.In, n = "gone", &emptyRoute
	}
	rc.OldCompared, rc.NewCompared = o.Compared, n.Compared
	rc.OldParity, rc.NewParity = o.Parity, n.Parity
	olo, ohi := interval(o.Matched, o.Compared)
	nlo, nhi := interval(n.Matched, n.Compared)
	rc.OldParityInterval, rc.NewParityInterval = [2]float64{olo, ohi}, [2]float64{nlo, nhi}
	rc.OldErrorRate, rc.NewErrorRate = o.CandidateErrorRate(), n.CandidateErrorRate()
	rc.OldP50, rc.NewP50 = o.Latency.Candidate.P50, n.Latency.Candidate.P50
	rc.OldP99, rc.NewP99 = o.Latency.Candidate.P99, n.Latency.Candidate.P99
	if rc.In == "both" {
		var why []string
		if o.Compared > 0 && n.Compared > 0 && nhi < olo {
			why = append(why, fmt.Sprintf("parity %s → %s (interval [%s, %s] below [%s, %s])",
				fmtRatio(o.Parity), fmtRatio(n.Parity), fmtRatio(nlo), fmtRatio(nhi), fmtRatio(olo), fmtRatio(ohi)))
		}
		// The candidate's error rate, as its rate of good answers on the same interval.
		om, nm := o.MirroredCount(), n.MirroredCount()
		eolo, _ := interval(om-o.CandidateErrors, om)
		_, enhi := interval(nm-n.CandidateErrors, nm)
		if om > 0 && nm > 0 && enhi < eolo {
			why = append(why, fmt.Sprintf("candidate error rate %s → %s", fmtPercent(rc.OldErrorRate), fmtPercent(rc.NewErrorRate)))
		}
		rc.Worse, rc.Why = len(why) > 0, strings.Join(why, "; ")
	}
	rc.Groups = compareGroups(o, n, interval)
	return rc
}

func compareGroups(o, n *RouteStats, interval Interval) []GroupChange {
	type pair struct{ o, n *DiffGroup }
	groups := map[GroupRef]*pair{}
	for i := range o.Differences {
		g := &o.Differences[i]
		groups[GroupRef{g.Path, g.Kind}] = &pair{o: g}
	}
	for i := range n.Differences {
		g := &n.Differences[i]
		k := GroupRef{g.Path, g.Kind}
		if p := groups[k]; p != nil {
			p.n = g
		} else {
			groups[k] = &pair{n: g}
		}
	}
	out := make([]GroupChange, 0, len(groups))
	for k, p := range groups {
		gc := GroupChange{Path: k.Path, Kind: k.Kind}
		switch {
		case p.o == nil:
			gc.Change = GroupNew
		case p.n == nil:
			gc.Change = GroupGone
		default:
			gc.Change = GroupSame
			olo, ohi := interval(p.o.Count, o.Compared)
			nlo, nhi := interval(p.n.Count, n.Compared)
			if nhi < olo || nlo > ohi {
				gc.Change = GroupChanged
			}
		}
		for _, g := range []*DiffGroup{p.o, p.n} {
			if g == nil {
				continue
			}
			if gc.FirstSeen.IsZero() || (!g.FirstSeen.IsZero() && g.FirstSeen.Before(gc.FirstSeen)) {
				gc.FirstSeen = g.FirstSeen
			}
			if g.LastSeen.After(gc.LastSeen) {
				gc.LastSeen = g.LastSeen
			}
		}
		if p.o != nil {
			gc.OldCount, gc.OldShare = p.o.Count, p.o.Share
		}
		if p.n != nil {
			gc.NewCount, gc.NewShare = p.n.Count, p.n.Share
		}
		out = append(out, gc)
	}
	slices.SortFunc(out, func(a, b GroupChange) int {
		return cmp.Or(cmp.Compare(changeRank(a.Change), changeRank(b.Change)), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Kind, b.Kind))
	})
	return out
}

func changeRank(c string) int {
	return slices.Index([]string{GroupNew, GroupChanged, GroupGone, GroupSame}, c)
}
