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

// Requests the hostile back-off did not mirror are named in every report as
// well, beside the hostile answers that failed the route; and a skip reason a
// renderer has no words of its own for is still listed, by its name.
func TestHostileBackoffShownInEveryReport(t *testing.T) {
	const route = "GET /api/items"
	a := NewAggregator(Limits{})
	for _, o := range (traffic{route: route, matched: 200, mismatched: 50, primaryMs: 10, candidateMs: 12}).observations() {
		a.Observe(o)
	}
	for range 1234 {
		a.Observe(Observation{Route: route, Method: "GET", Skipped: SkipHostileBackoff})
	}
	for range 7 {
		a.Observe(Observation{Route: route, Method: "GET", Skipped: "a_reason_of_the_future"})
	}
	s := a.Snapshot()
	ev := RouteEvidence(&s.Routes[0], DefaultThresholds)
	if ev.Verdict != Fail {
		t.Fatalf("verdict %s (%s), want fail", ev.Verdict, ev.Reason)
	}
	const note = "1234 more not mirrored (hostile_backoff): the mirrored answers kept being hostile"
	if !strings.Contains(ev.Reason, note) {
		t.Errorf("reason %q does not say %q", ev.Reason, note)
	}

	for _, c := range []struct {
		name   string
		render func(*bytes.Buffer) error
		want   []string
	}{
		{"table", func(b *bytes.Buffer) error { return RenderTable(b, s, RenderOptions{}) }, []string{"1,241 skipped (1,234 not mirrored to a hostile backend)", note}},
		{"markdown", func(b *bytes.Buffer) error { return RenderMarkdown(b, s, RenderOptions{}) }, []string{"1,241 skipped (1,234 not mirrored to a hostile backend)", "| 1,241 (1,234 held back) |", `1234 more not mirrored (hostile\_backoff): the mirrored answers kept being hostile`}},
		{"html", func(b *bytes.Buffer) error { return RenderHTML(b, s, RenderOptions{}) }, []string{"1,234 not mirrored to a hostile backend", note, "hostile_backoff 1234", "a_reason_of_the_future 7"}},
		{"json", func(b *bytes.Buffer) error { return RenderJSON(b, s, RenderOptions{}) }, []string{`"hostile_backoff": 1234`, `"a_reason_of_the_future": 7`, note}},
		{"junit", func(b *bytes.Buffer) error { return RenderJUnit(b, s, RenderOptions{}) }, []string{"skipped 1,241 (1,234 held back)", note}},
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
