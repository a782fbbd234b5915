package rules

import (
	"fmt"
	"strings"

	"github.com/parity-dev/parity/report"
)

// Redirect policies: compare.follow_redirects (global, or a route's own).
const (
	// FollowCanonical follows one hop of a canonicalising redirect — one side
	// answers a safe request with a redirect to the same origin and the same path
	// up to a trailing slash (or the path's canonical form), the other answers
	// directly — and compares the final answers; the redirect is counted as the
	// habit report.HabitCanonicalRedirect. The default.
	FollowCanonical = "canonical"
	// FollowNone compares every redirect as it was answered.
	FollowNone = "none"
)

// Habits quiet_habits may name: framework habits parity absorbs and counts.
var knownHabits = []string{report.HabitCanonicalRedirect}

// redirectPolicy is how a route treats canonicalising redirects: the route's
// follow_redirects and quiet_habits over the global ones.
type redirectPolicy struct {
	follow bool // follow canonicalising redirects
	quiet  bool // and do not count the habit
}

func redirectPolicyOf(global CompareConfig, route *CompareConfig) redirectPolicy {
	mode, quiet := global.FollowRedirects, global.QuietHabits
	if route != nil {
		if route.FollowRedirects != "" {
			mode = route.FollowRedirects
		}
		quiet = append(quiet[:len(quiet):len(quiet)], route.QuietHabits...)
	}
	p := redirectPolicy{follow: mode != FollowNone}
	for _, h := range quiet {
		if h == report.HabitCanonicalRedirect {
			p.quiet = true
		}
	}
	return p
}

// checkRedirects validates follow_redirects and quiet_habits of the rule set at key.
func (c *Config) checkRedirects(key string, cc CompareConfig) error {
	switch cc.FollowRedirects {
	case "", FollowCanonical, FollowNone:
	default:
		return c.fieldError(key+".follow_redirects", cc.FollowRedirects, "%q: want %s or %s", cc.FollowRedirects, FollowCanonical, FollowNone)
	}
	for i, h := range cc.QuietHabits {
		known := false
		for _, k := range knownHabits {
			known = known || h == k
		}
		if !known {
			return c.fieldError(fmt.Sprintf("%s.quiet_habits[%d]", key, i), h, "unknown habit %q (want %s)", h, strings.Join(knownHabits, ", "))
		}
	}
	return nil
}
