package report_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/report/route"
)

func ExampleAggregator() {
	agg := report.NewAggregator(report.Limits{}) // the default caps
	k := route.NewKeyer(nil)
	route := k.Key("GET", "/api/sessions/42")
	for i := 0; i < 99; i++ {
		agg.Observe(report.Observation{Route: route, Method: "GET", PrimaryStatus: 200, CandidateStatus: 200,
			PrimaryLatency: 8 * time.Millisecond, CandidateLatency: 9 * time.Millisecond})
	}
	agg.Observe(report.Observation{Route: route, Method: "GET", RequestID: "r-100", PrimaryStatus: 200, CandidateStatus: 200,
		Differences: []diff.Difference{{Path: "body.items.0.avatarUrl", Pattern: "body.items.#.avatarUrl", Kind: diff.Changed,
			Primary: `"a.png"`, Candidate: `"b.png"`}}})
	agg.Observe(report.Observation{Route: route, Method: "DELETE", Skipped: report.SkipWriteMethod})

	s := agg.Snapshot()
	r := s.Route("GET /api/sessions/:id")
	fmt.Printf("%s: %d compared, %d matched, parity %.2f (lower bound %.3f), skipped %v\n",
		r.Route, r.Compared, r.Matched, r.Parity, r.ParityLower, r.Skipped)
	d := r.Differences[0]
	fmt.Printf("%s %s ×%d, e.g. %s: %s → %s\n", d.Path, d.Kind, d.Count, d.Examples[0].RequestID, d.Examples[0].Primary, d.Examples[0].Candidate)
	// Output:
	// GET /api/sessions/:id: 100 compared, 99 matched, parity 0.99 (lower bound 0.946), skipped map[write_method:1]
	// body.items.#.avatarUrl changed ×1, e.g. r-100: "a.png" → "b.png"
}

func ExampleMerge() {
	a, b := report.NewAggregator(report.Limits{}), report.NewAggregator(report.Limits{})
	for i := 0; i < 30; i++ {
		a.Observe(report.Observation{Route: "GET /api/activity", PrimaryStatus: 200, CandidateStatus: 200})
		b.Observe(report.Observation{Route: "GET /api/activity", PrimaryStatus: 200, CandidateStatus: 200})
	}
	b.Observe(report.Observation{Route: "GET /api/activity", PrimaryStatus: 200, CandidateError: "timeout"})
	merged, err := report.Merge(a.Snapshot(), b.Snapshot())
	if err != nil {
		fmt.Println(err)
		return
	}
	r := merged.Route("GET /api/activity")
	fmt.Println(r.Compared, r.CandidateErrors, r.Latency.Primary.Count)
	// Output: 60 1 61
}

func ExampleJudge() {
	plan, err := report.ParsePlan("plan.yaml", []byte(`
thresholds: {min_samples: 20}
steps:
  - name: Health
    routes: [/api/health, /api/metrics]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	agg := report.NewAggregator(report.Limits{})
	for i := 0; i < 1000; i++ {
		agg.Observe(report.Observation{Route: "GET /api/health", PrimaryStatus: 200, CandidateStatus: 200,
			PrimaryLatency: 2 * time.Millisecond, CandidateLatency: 3 * time.Millisecond})
	}
	res, err := report.Judge(agg.Snapshot(), plan, 1, plan.Thresholds)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Routes {
		fmt.Printf("%s %s: %s\n", r.Verdict, r.Route, r.Reason)
	}
	fmt.Println("step:", res.Verdict)
	// Output:
	// inconclusive /api/metrics: no evidence: no request observed under this prefix
	// pass GET /api/health: parity 1.0000 [0.9946, 1.0000] over 1000 compared; candidate errors 0% [0%, 0.54%]; p99 3ms [3ms, 3ms] of 1000 vs 2ms [2ms, 2ms] of 1000 (at 95%)
	// step: inconclusive
}

func ExampleRenderMarkdown() {
	agg := report.NewAggregator(report.Limits{})
	for i := range 5 {
		agg.Observe(report.Observation{Route: "GET /api/x", RequestID: fmt.Sprint("r", i), PrimaryStatus: 200, CandidateStatus: 200,
			Differences: []diff.Difference{{Path: "body.meta.requestId", Pattern: "body.meta.requestId", Kind: diff.Changed, Primary: `"a"`, Candidate: `"b"`}}})
	}
	var b strings.Builder
	if err := report.RenderMarkdown(&b, agg.Snapshot(), report.RenderOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	lines := strings.Split(b.String(), "\n")
	fmt.Println(lines[0])
	fmt.Println(lines[2])
	// Output:
	// # parity report
	// **Verdict: ❌ fail** — 1 of 1 routes fail, 0 inconclusive, 0 pass
}
