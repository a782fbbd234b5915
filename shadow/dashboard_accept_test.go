package shadow

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
)

// The live dashboard judges with the acceptances in force; the live snapshot
// that report and gate merge keeps the raw counts.
func TestDashboardAppliesAcceptances(t *testing.T) {
	agg := report.NewAggregator(report.Limits{})
	agg.Observe(report.Observation{Route: "GET /api/x", PrimaryStatus: 200, CandidateStatus: 200,
		Differences: []diff.Difference{{Path: "body.a", Pattern: "body.a", Kind: diff.Changed, Primary: "1", Candidate: "2"}}})
	acc := []report.Acceptance{{Route: "GET /api/x", Path: "body.a", Reason: "rounding", Owner: "team-api", Until: "2999-01-01"}}
	rs := startServer(t, &Server{Proxy: newShadowProxy(t, agg), Aggregator: agg,
		RenderOptions: report.RenderOptions{Accepted: func() []report.Acceptance { return acc }}})
	admin := "http://" + rs.srv.AdminAddress().String()

	for query, want := range map[string]int64{"": 0, "?histograms=0": 1} {
		_, body := get(t, http.DefaultClient, admin+"/parity/report.json"+query)
		// A summary cannot be read back as a snapshot; its counts are what matter.
		s := mustDecode(t, body)
		if r := s.Route("GET /api/x"); r == nil || r.Matched != want {
			t.Errorf("report.json%s: route %+v, want %d matched", query, r, want)
		}
		if accepted := strings.Contains(body, "accepted until 2999-01-01 by team-api: rounding"); accepted != (want == 1) {
			t.Errorf("report.json%s: shows the acceptance: %v", query, accepted)
		}
	}
	if _, body := get(t, http.DefaultClient, admin+"/parity/report"); !strings.Contains(body, "accepted until 2999-01-01 by team-api: rounding") {
		t.Errorf("the dashboard page does not show the acceptance")
	}
}

func mustDecode(t *testing.T, body string) *report.Snapshot {
	t.Helper()
	var s report.Snapshot
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	return &s
}
