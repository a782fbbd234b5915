package report

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/parity-dev/parity/diff"
)

// Security regressions in reports and the gate.
//
// A difference diff marks as weakening what protects the client (diff.Security) keeps
// its rule in its group (DiffGroup.Security); every renderer shows the group as a
// security regression with the rule's reason, and the gate fails the route whatever
// its parity unless the plan says security: warn.

// SecurityPolicy is what the gate does with a route that has a security-marked
// difference: the plan's thresholds.security.
type SecurityPolicy string

// The policies; the zero value is SecurityFail.
const (
	SecurityFail SecurityPolicy = "fail" // the route fails, whatever its parity or samples
	SecurityWarn SecurityPolicy = "warn" // the route's reason says so; the verdict is unchanged
)

// fails reports whether p fails a route on a security difference.
func (p SecurityPolicy) fails() bool { return p != SecurityWarn }

// markSecurity keeps the rule of a group: the first of the rules seen in order,
// so that merging is commutative.
func markSecurity(cur *string, rule diff.Security) {
	if rule != "" && (*cur == "" || string(rule) < *cur) {
		*cur = string(rule)
	}
}

// SecurityReason is the sentence that explains a rule, the rule itself when unknown.
func SecurityReason(rule string) string {
	if why := diff.Security(rule).Reason(); why != "" {
		return why
	}
	return rule
}

// SecurityDifferences returns r's security-marked difference groups, in r's order.
func (r *RouteStats) SecurityDifferences() []DiffGroup {
	var out []DiffGroup
	for _, d := range r.Differences {
		if d.Security != "" {
			out = append(out, d)
		}
	}
	return out
}

// securitySummary describes r's security regressions in one line, "" for none:
// "security: header.Set-Cookie.sid.HttpOnly missing ×3 (cookie_httponly_lost: a cookie lost HttpOnly: …)".
func securitySummary(r *RouteStats) string {
	groups := r.SecurityDifferences()
	if len(groups) == 0 {
		return ""
	}
	slices.SortStableFunc(groups, func(a, b DiffGroup) int { return cmp.Compare(a.Security, b.Security) })
	parts := make([]string, 0, len(groups))
	for _, g := range groups {
		parts = append(parts, fmt.Sprintf("%s %s ×%d (%s: %s)", g.Path, g.Kind, g.Count, g.Security, SecurityReason(g.Security)))
	}
	return "security regression: " + strings.Join(parts, "; ")
}

// securityFirst returns groups with the security-marked ones first, each part in
// its order, so that a report's top differences never hide a security regression
// behind more frequent ones.
func securityFirst(groups []DiffGroup) []DiffGroup {
	i := slices.IndexFunc(groups, func(g DiffGroup) bool { return g.Security != "" })
	if i < 0 {
		return groups
	}
	out := make([]DiffGroup, 0, len(groups))
	for _, sec := range []bool{true, false} {
		for _, g := range groups {
			if (g.Security != "") == sec {
				out = append(out, g)
			}
		}
	}
	return out
}

// securityReasons maps every rule to its reason, for the dashboard's script.
func securityReasons() map[string]string {
	m := map[string]string{}
	for _, s := range diff.SecurityRules() {
		m[string(s)] = s.Reason()
	}
	return m
}

// securityNote is how the text renderers mark a group: "" for none.
func securityNote(g *DiffGroup) string {
	if g.Security == "" {
		return ""
	}
	return "security regression, " + g.Security + ": " + SecurityReason(g.Security)
}

// judgeSecurity amends a route's verdict for its security regressions: under
// SecurityFail the route fails whatever else was found, with the regressions first
// in its reason; under SecurityWarn the reason says so and the verdict stands.
// routeEvidence defers it, so that it sees the verdict the other criteria reached.
func judgeSecurity(r *RouteStats, th Thresholds, v *Verdict, reason *string, needed *int64) {
	s := securitySummary(r)
	if s == "" {
		return
	}
	if !th.Security.fails() {
		*reason += "; warning: " + s
		return
	}
	if *v == Fail {
		*reason = s + "; " + *reason
	} else {
		*reason = s
	}
	*v, *needed = Fail, 0
}
