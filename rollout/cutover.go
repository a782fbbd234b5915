package rollout

import (
	"maps"
	"slices"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/report/route"
	"github.com/parity-dev/parity/shadow/rules"
)

// Applier puts a cutover in force — the prefixes wholly cut over (Routes; empty
// is none) and the percent of each other prefix's requests the candidate
// serves (Weights) — and tells whether the master switch, cutover.enabled,
// lets anything go to the candidate. *rules.Live is the Applier of a proxy.
type Applier interface {
	SetCutover(*rules.CutoverState) error
	Enabled() bool
}

// CatchAll stands for the routes a catch-all step (routes: []) sends and no
// earlier step does: every /api/* route but /api/auth, whose weight is the
// cutover's Rest.
const CatchAll = "/api/"

// groups returns each step's new prefixes: those no earlier step lists, in
// the step's order; a catch-all step's is CatchAll. Prefixes covering
// /api/auth are never the candidate's and are left out.
func groups(p *report.Plan) [][]string {
	out := make([][]string, len(p.Steps))
	seen := map[string]bool{}
	for i := range p.Steps {
		st := &p.Steps[i]
		g := []string{}
		if st.CatchAll() {
			g = append(g, CatchAll)
		}
		for _, pre := range st.Routes {
			if seen[pre] || route.CoversAuth(pre) {
				continue
			}
			seen[pre] = true
			g = append(g, pre)
		}
		out[i] = g
	}
	return out
}

// cutoverOf is the cutover of per-step weights over the steps' groups.
func cutoverOf(gs [][]string, weights []int) rules.CutoverState {
	c := rules.CutoverState{Routes: []string{}, Weights: map[string]int{}}
	for i, g := range gs {
		for _, pre := range g {
			switch w := weights[i]; {
			case pre == CatchAll:
				c.Rest = w
			case w >= 100:
				c.Routes = append(c.Routes, pre)
			case w > 0:
				c.Weights[pre] = w
			}
		}
	}
	return c
}

// shownWeights maps every prefix of the steps begun (up to step n, and any
// with a weight) to its weight, 0 and 100 included.
func shownWeights(gs [][]string, weights []int, n int) map[string]int {
	m := map[string]int{}
	for i, g := range gs {
		if i >= n && weights[i] == 0 {
			continue
		}
		for _, pre := range g {
			m[pre] = weights[i]
		}
	}
	return m
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
