package report

import (
	"fmt"
	"slices"
	"strings"

	"github.com/parity-dev/parity/report/route"
)

// Route templates learned from traffic (route.Learner) live in the snapshot as
// LearnedRoutes, so that a restarted proxy keeps them and replicas share them. A
// request keyed before its template was learned was filed under its own key ("GET
// /api/v1/workflows/quarterly-report"); when the template is learned, that row is
// folded into the template's row ("GET /api/v1/workflows/:id") exactly as Merge adds
// routes up — counts, differences, histograms, noise — by the Aggregator at once,
// and by Merge and Restore for rows of snapshots that learned less. Merge joins the
// learned templates of its inputs (route.LearnedSet.Join) before it folds, which
// keeps it exact, associative and commutative.

// LearnedRoute is one learned template: a parameter at a position of the path, the
// literal values kept beside it, and the configuration that pins it.
type LearnedRoute struct {
	Template string   `json:"template"`       // "/api/v1/workflows/:id"
	Keep     []string `json:"keep,omitempty"` // values that stay routes of their own: "export"
	// Config is the routes: entries that declare the template (and what it keeps)
	// for good, first match wins (derived: recomputed whenever a snapshot is read or
	// made).
	Config string `json:"config"`
}

// learnedRoutes writes a learned set as the snapshot lists it, sorted by template.
func learnedRoutes(set route.LearnedSet) []LearnedRoute {
	if len(set) == 0 {
		return nil
	}
	out := make([]LearnedRoute, 0, len(set))
	for _, p := range set.Positions() {
		out = append(out, LearnedRoute{Template: p.Template(), Keep: p.Keep})
	}
	finishLearned(out)
	return out
}

// finishLearned sorts learned routes and derives their Config.
func finishLearned(ls []LearnedRoute) {
	for i := range ls {
		l := &ls[i]
		var b strings.Builder
		b.WriteString("routes:\n")
		parent := strings.TrimSuffix(l.Template[:strings.LastIndexByte(l.Template, '/')], "/")
		for _, k := range l.Keep {
			fmt.Fprintf(&b, "  - match: %s\n", yamlScalar(parent+"/"+k))
		}
		fmt.Fprintf(&b, "  - match: %s\n", yamlScalar(l.Template))
		l.Config = b.String()
	}
	slices.SortFunc(ls, func(a, b LearnedRoute) int { return strings.Compare(a.Template, b.Template) })
}

// learnedSet reads a snapshot's learned routes back.
func (s *Snapshot) learnedSet() (route.LearnedSet, error) {
	set := route.LearnedSet{}
	var err error
	for _, l := range s.Learned {
		p, ok := route.ParsePosition(l.Template, l.Keep)
		if !ok {
			err = fmt.Errorf("snapshot learned template %q: want a path ending in a parameter", l.Template)
			continue
		}
		set.Add(p)
	}
	return set, err
}

// foldLearned moves every row that the learned set rekeys into its template's row.
// Called with a.mu held for writing.
func (a *Aggregator) foldLearned(set route.LearnedSet) {
	a.learnedSet = set
	keys := make([]string, 0, len(a.routes))
	for k := range a.routes {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic order of folding (examples are trimmed by request id anyway)
	for _, k := range keys {
		nk := set.Rekey(k)
		if nk == k {
			continue
		}
		src := a.routes[k]
		dst := a.routes[nk]
		if dst == nil {
			dst = newRouteAcc(nk, methodOf(nk))
			a.routes[nk] = dst
		}
		src.mu.Lock()
		st, err := src.stats(a.lim.ExamplesPerPath, false, withHistograms)
		src.noiseStats(&st)
		src.into = dst
		src.mu.Unlock()
		dst.mu.Lock()
		if err == nil {
			// The histograms were encoded by this aggregator: decoding them
			// cannot fail, and add has nothing to report.
			_ = dst.add(&st)
		}
		dst.addNoise(&st)
		dst.trimExamples(a.lim.ExamplesPerPath)
		dst.mu.Unlock()
		delete(a.routes, k)
	}
}

// foldIfLearned folds rows when the learner learned something since the last fold.
func (a *Aggregator) foldIfLearned() {
	g := a.learner.Generation()
	if g == a.foldedGen.Load() {
		return
	}
	set := a.learner.Learned()
	a.mu.Lock()
	a.foldLearned(set)
	a.foldedGen.Store(g)
	a.mu.Unlock()
	a.rebuildLearned()
}

// Learner returns the route learner whose templates the Aggregator persists and
// folds rows by: the proxy's and the replay's router key requests with it
// (rules.Sources.Learner).
func (a *Aggregator) Learner() *route.Learner { return a.learner }
