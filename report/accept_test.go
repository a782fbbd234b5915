package report

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/diff"
)

func acceptSnapshot(t *testing.T) *Snapshot {
	t.Helper()
	a := NewAggregator(Limits{})
	at := time.Date(2026, 12, 1, 14, 2, 0, 0, time.UTC)
	obs := func(n int, diffs ...diff.Difference) {
		for range n {
			a.Observe(Observation{Time: at, Route: "GET /api/x", PrimaryStatus: 200, CandidateStatus: 200, Differences: diffs})
		}
	}
	total := diff.Difference{Path: "body.total", Pattern: "body.total", Kind: diff.Changed, Primary: "1", Candidate: "2"}
	cache := diff.Difference{Path: "header.Cache-Control", Pattern: "header.Cache-Control", Kind: diff.Missing}
	obs(80)
	obs(15, total)       // only the accepted difference
	obs(5, total, cache) // the accepted one and another
	obs(0)
	return a.Snapshot()
}

// Accepting a group credits exactly the requests whose every difference is
// accepted; a request with another difference stays mismatched.
func TestAcceptCreditsOnlyWhollyAcceptedRequests(t *testing.T) {
	s := acceptSnapshot(t)
	acc := []Acceptance{{Route: "GET /api/x", Path: "body.total", Kind: "changed", Reason: "r", Owner: "o", Until: "2026-12-31"}}
	j := Accept(s, acc, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
	r := j.Route("GET /api/x")
	if r.Matched != 95 || r.AcceptedMatched != 15 || r.Parity != 0.95 {
		t.Errorf("matched %d (accepted %d), parity %v; want 95 (15), 0.95", r.Matched, r.AcceptedMatched, r.Parity)
	}
	if r.ParityLower != Wilson(95, 100) {
		t.Errorf("parity_lower %v, want Wilson(95, 100) = %v", r.ParityLower, Wilson(95, 100))
	}
	var marked []string
	for _, g := range r.Differences {
		if g.Accepted != nil {
			marked = append(marked, g.Path+" "+g.Accepted.Note)
		}
	}
	if d := cmp.Diff([]string{"body.total accepted until 2026-12-31 by o: r"}, marked); d != "" {
		t.Errorf("accepted groups (-want +got):\n%s", d)
	}
	if raw := s.Route("GET /api/x"); raw.Matched != 80 || raw.Differences[0].Accepted != nil {
		t.Errorf("Accept modified the snapshot: matched %d", raw.Matched)
	}

	both := append(acc, Acceptance{Route: "GET /api/x", Path: "header.Cache-Control", Reason: "r", Owner: "o", Until: "2026-12-31"})
	if r := Accept(s, both, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)).Route("GET /api/x"); r.Matched != 100 {
		t.Errorf("both accepted: matched %d, want 100", r.Matched)
	}
}

// From the day after until, the group counts again and the gate fails the
// route naming the expiry at once; on the day it is credited and the route
// waits for evidence like any other (100 requests decide nothing at 0.9).
func TestAcceptanceExpiryFailsTheRoute(t *testing.T) {
	s := acceptSnapshot(t)
	acc := []Acceptance{{Route: "GET /api/x", Path: "body.total", Reason: "rounding", Owner: "team", Until: "2026-12-01", Ticket: "T-1"}}
	th := DefaultThresholds
	th.MinParity = 0.9
	for _, tc := range []struct {
		name    string
		now     time.Time
		want    Verdict
		reason  string
		matched int64
	}{
		{"on the day", time.Date(2026, 12, 1, 23, 59, 59, 999, time.UTC), Inconclusive, "parity 0.9500", 95},
		{"the day after", time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), Fail,
			"acceptance expired on 2026-12-02: body.total any kind (accepted until 2026-12-01 by team: rounding) (T-1)", 80},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Accept(s, acc, tc.now).Route("GET /api/x")
			v, reason, _ := JudgeRoute(r, th)
			if v != tc.want || !strings.Contains(reason, tc.reason) || r.Matched != tc.matched {
				t.Errorf("verdict %s (%s), matched %d; want %s containing %q, matched %d", v, reason, r.Matched, tc.want, tc.reason, tc.matched)
			}
		})
	}
}

func TestExpiring(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	acc := []Acceptance{{Until: "2026-12-20"}, {Until: "2026-12-10"}, {Until: "2026-12-01"}, {Until: "2026-12-15"}}
	var got []string
	for _, a := range Expiring(acc, now, 14*24*time.Hour) {
		got = append(got, a.Until)
	}
	if d := cmp.Diff([]string{"2026-12-10", "2026-12-15"}, got); d != "" {
		t.Errorf("expiring (-want +got):\n%s", d)
	}
}
