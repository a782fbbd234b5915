package report

import (
	"fmt"
	"slices"
	"strings"
)

// Framework habits: what differed in two answers but means the same to a client
// (a canonicalising redirect followed to the same document), counted per route
// (RouteStats.Habits) and shown apart from differences, with the config line that
// silences each.

const habitsHeading = "Framework habits absorbed (not differences)"

// habitSilence is the config line that stops counting habit h.
func habitSilence(h string) string { return "compare: {quiet_habits: [" + yamlScalar(h) + "]}" }

// habitLines describes every route's habits, one line each: "route: habit ×n",
// in the view's route order.
func habitLines(v *view) (lines []string, habits []string) {
	for i := range v.Routes {
		r := &v.Routes[i]
		for _, h := range sortedKeys(r.Habits) {
			lines = append(lines, fmt.Sprintf("%s: %s ×%s", r.Route, h, fmtCount(r.Habits[h])))
			if !slices.Contains(habits, h) {
				habits = append(habits, h)
			}
		}
	}
	slices.Sort(habits)
	return lines, habits
}

// habitsMeta is a route's habits in one line for the HTML report, "" for none.
func habitsMeta(r *RouteStats) string {
	if len(r.Habits) == 0 {
		return ""
	}
	parts := make([]string, 0, len(r.Habits))
	for _, h := range sortedKeys(r.Habits) {
		parts = append(parts, fmt.Sprintf("%s ×%s (silence with %s)", h, fmtCount(r.Habits[h]), habitSilence(h)))
	}
	return "Habits absorbed, not differences: " + strings.Join(parts, ", ")
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
