package report

import "strings"

// seenLine says how much of its route a difference group affects and when it
// was seen: "12.5% of requests · first seen 2026-12-02 14:02 UTC · last seen
// 2026-12-02 15:10 UTC" (the times only when the snapshot has them).
func seenLine(d *DiffGroup) string {
	parts := []string{fmtPercent(d.Share) + " of requests"}
	if !d.FirstSeen.IsZero() {
		parts = append(parts, "first seen "+fmtClock(d.FirstSeen), "last seen "+fmtClock(d.LastSeen))
	}
	return strings.Join(parts, " · ")
}

// acceptedMark labels an accepted group in a table cell: "accepted", or
// "acceptance expired".
func acceptedMark(d *DiffGroup) string {
	switch {
	case d.Accepted == nil:
		return ""
	case d.Accepted.Expired:
		return "acceptance expired"
	}
	return "accepted"
}
