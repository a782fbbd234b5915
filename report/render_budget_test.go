package report

import (
	"bytes"
	"strings"
	"testing"
)

// Requests the comparison budget left uncompared are named in every report:
// the summary lines and the route's verdict reason say how many, so that a
// verdict never reads as resting on more requests than were compared.
func TestBudgetSkipsShownInEveryReport(t *testing.T) {
	const route = "GET /api/health"
	a := NewAggregator(Limits{})
	for _, o := range (traffic{route: route, matched: 1000, primaryMs: 10, candidateMs: 12}).observations() {
		a.Observe(o)
	}
	for range 4321 {
		a.Observe(Observation{Route: route, Method: "GET", Skipped: SkipCompareBudget})
	}
	s := a.Snapshot()
	ev := RouteEvidence(&s.Routes[0], DefaultThresholds)
	if ev.Verdict != Pass {
		t.Fatalf("verdict %s (%s), want pass on the compared sample", ev.Verdict, ev.Reason)
	}
	const note = "4321 more not compared, over the comparison budget (compare_budget): the verdict rests on the 1000 compared"
	if !strings.Contains(ev.Reason, note) {
		t.Errorf("reason %q does not say %q", ev.Reason, note)
	}

	for _, c := range []struct {
		name   string
		render func(*bytes.Buffer) error
		want   []string
	}{
		{"table", func(b *bytes.Buffer) error { return RenderTable(b, s, RenderOptions{}) }, []string{"4,321 skipped (4,321 over the comparison budget)", "over the comparison budget (compare_budget)"}},
		{"markdown", func(b *bytes.Buffer) error { return RenderMarkdown(b, s, RenderOptions{}) }, []string{"4,321 skipped (4,321 over the comparison budget)", "| 4,321 (4,321 budget) |", "4321 more not compared, over the comparison budget"}},
		{"html", func(b *bytes.Buffer) error { return RenderHTML(b, s, RenderOptions{}) }, []string{"4,321 over the comparison budget", note, "compare_budget 4321"}},
		{"json", func(b *bytes.Buffer) error { return RenderJSON(b, s, RenderOptions{}) }, []string{`"compare_budget": 4321`, note}},
		{"junit", func(b *bytes.Buffer) error { return RenderJUnit(b, s, RenderOptions{}) }, []string{"skipped 4,321 (4,321 budget)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := c.render(&b); err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("%s report does not say %q", c.name, w)
				}
			}
		})
	}
}
