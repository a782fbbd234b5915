package report

import (
	"fmt"
	"strings"
)

// The kinds of plan check finding.
const (
	FindingSvelteKitOnly = "sveltekit-only" // a step sends a route the candidate does not serve
	FindingAuth          = "auth"           // a step lists /api/auth, which never moves
	FindingUnknownPrefix = "unknown-prefix" // a prefix covers no route of the matrix
	FindingCatchAllOnly  = "catch-all-only" // a served route no step lists; only a catch-all step sends it
	FindingNeverSent     = "never-sent"     // a served route no step sends
)

// Finding is one problem CheckPlan found.
type Finding struct {
	Step    int    // the step at fault (from 1); 0 for the plan as a whole
	Kind    string // one of the Finding* kinds
	Prefix  string // the step prefix at fault, if any
	Route   string // the matrix route concerned, as the matrix writes it
	Message string
}

func (f Finding) String() string {
	return f.Message
}

// CheckPlan holds a plan against a route matrix: a step that sends a route the
// candidate does not serve (reported at the first step that sends it), a step
// listing /api/auth, prefixes that match no route of the matrix, and served
// routes that no step lists (or that no step sends at all). Findings come in
// step order, plan-wide ones last.
func CheckPlan(p *Plan, m *Matrix) []Finding {
	var out []Finding
	reportedRoute := map[string]bool{}
	reportedPrefix := map[string]bool{}
	for i := range p.Steps {
		st := &p.Steps[i]
		label := fmt.Sprintf("step %d (%s)", st.Number, st.Name)
		for _, pre := range st.Routes {
			if IsAuthPath(pre) && !reportedPrefix[pre] {
				reportedPrefix[pre] = true
				out = append(out, Finding{Step: st.Number, Kind: FindingAuth, Prefix: pre,
					Message: fmt.Sprintf("%s: lists %s, but /api/auth/* must stay in SvelteKit and is never sent to Fastify", label, pre)})
			}
		}
		for j := range m.Routes {
			r := &m.Routes[j]
			if r.Fastify || reportedRoute[r.Route] || IsAuthPath(r.Path) {
				continue
			}
			via, ok := sendsAny(st, r)
			if !ok {
				continue
			}
			reportedRoute[r.Route] = true
			out = append(out, Finding{Step: st.Number, Kind: FindingSvelteKitOnly, Prefix: via, Route: r.Route,
				Message: fmt.Sprintf("%s: sends %s to Fastify (%s), but the matrix says Fastify does not serve it%s",
					label, r.Route, describeVia(via), notesSuffix(r.Notes, ": "))})
		}
		for _, pre := range st.Routes {
			if reportedPrefix[pre] || IsAuthPath(pre) {
				continue
			}
			if matchesAnyRoute(pre, m) {
				continue
			}
			reportedPrefix[pre] = true
			out = append(out, Finding{Step: st.Number, Kind: FindingUnknownPrefix, Prefix: pre,
				Message: fmt.Sprintf("%s: prefix %s matches no route in the matrix%s", label, pre, prefixHint(pre, m))})
		}
	}
	for j := range m.Routes {
		r := &m.Routes[j]
		if !r.Fastify {
			continue
		}
		explicit, catchAll := 0, 0
		for i := range p.Steps {
			st := &p.Steps[i]
			if !st.Sends(r.Path) {
				continue
			}
			if st.CatchAll() {
				if catchAll == 0 {
					catchAll = st.Number
				}
			} else if explicit == 0 {
				explicit = st.Number
			}
		}
		switch {
		case explicit != 0:
		case catchAll != 0:
			out = append(out, Finding{Kind: FindingCatchAllOnly, Route: r.Route,
				Message: fmt.Sprintf("plan: no step lists %s%s; it moves to Fastify only with step %d's catch-all", r.Route, notesParen(r.Notes), catchAll)})
		default:
			out = append(out, Finding{Kind: FindingNeverSent, Route: r.Route,
				Message: fmt.Sprintf("plan: no step sends %s%s to Fastify%s", r.Route, notesParen(r.Notes), outsideAPIHint(r.Path))})
		}
	}
	return out
}

// sendsAny reports whether step st sends any part of route r to the candidate,
// and through which prefix ("" for the catch-all).
func sendsAny(st *Step, r *MatrixRoute) (string, bool) {
	if st.CatchAll() {
		return "", st.Sends(r.Path)
	}
	for _, pre := range st.Routes {
		if PrefixMatch(pre, r.Path) || r.Covers(strings.TrimSuffix(pre, "/")) {
			return pre, true
		}
	}
	return "", false
}

func describeVia(via string) string {
	if via == "" {
		return "the empty route list sends every /api/* route"
	}
	return "prefix " + via
}

// matchesAnyRoute reports whether prefix covers, or lies under, a matrix route.
func matchesAnyRoute(prefix string, m *Matrix) bool {
	for j := range m.Routes {
		r := &m.Routes[j]
		if PrefixMatch(prefix, r.Path) || r.Covers(strings.TrimSuffix(prefix, "/")) {
			return true
		}
	}
	return false
}

// prefixHint names the matrix route a prefix under /api probably meant.
func prefixHint(prefix string, m *Matrix) string {
	bare := strings.TrimPrefix(prefix, "/api")
	if bare == prefix {
		return ""
	}
	for j := range m.Routes {
		if m.Routes[j].Path == bare {
			return fmt.Sprintf(" (the matrix lists %s, without /api)", m.Routes[j].Route)
		}
	}
	return ""
}

func outsideAPIHint(path string) string {
	if PrefixMatch("/api", path) {
		return ""
	}
	return " (it is outside /api, where the proxy's route list applies)"
}

func notesSuffix(notes, sep string) string {
	if notes == "" {
		return ""
	}
	return sep + notes
}

func notesParen(notes string) string {
	if notes == "" {
		return ""
	}
	return " (" + notes + ")"
}
