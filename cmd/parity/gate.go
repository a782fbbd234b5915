package main

import (
	"context"
	"fmt"
	"io"

	"github.com/parity-dev/parity/report"
)

const gateSynopsis = "--step N [--plan F] [--config F] [--min-samples N] [--format text|markdown|json] SNAPSHOT..."

var gateRenderers = map[string]func(io.Writer, *report.GateResult) error{
	"text":     report.RenderGateText,
	"markdown": report.RenderGateMarkdown,
	"json":     report.RenderGateJSON,
}

// runGate merges snapshots and judges one rollout step: the routes it newly
// sends to the candidate and those of every earlier step. Exit 0 pass, 1 fail,
// 3 inconclusive, 2 usage or input error.
func runGate(ctx context.Context, c *cli, args []string) int {
	flags := c.newFlags("gate", gateSynopsis)
	step := flags.Int("step", 0, "rollout `step` to judge, from 1 as in the guide (required)")
	planPath := planFlag(flags)
	minSamples := flags.Int64("min-samples", -1, "compared requests a route needs, overriding the plan's min_samples (`N` ≥ 0)")
	format := flags.String("format", "text", "output `format`: text, markdown or json")
	configPath := flags.String("config", "", "config `file` whose accept: entries apply (an expired one fails its route)")
	pos, code, ok := c.parse(flags, args)
	if !ok {
		return code
	}
	render, known := gateRenderers[*format]
	if !known {
		return c.usagef("gate: --format %q: want text, markdown or json", *format)
	}
	if *step == 0 {
		return c.usagef("gate: --step is required (see 'parity gate -h')")
	}
	if *minSamples < -1 {
		return c.usagef("gate: --min-samples %d: want 0 or more", *minSamples)
	}
	if len(pos) == 0 {
		return c.usagef("gate: want at least one SNAPSHOT file or URL (see 'parity gate -h')")
	}
	plan, err := loadPlanFile(*planPath)
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("gate: %w", err))
	}
	if plan.Step(*step) == nil {
		return c.usagef("gate: --step %d: unknown step (the plan has steps 1..%d)", *step, len(plan.Steps))
	}
	th := plan.Thresholds
	if *minSamples >= 0 {
		th.MinSamples = *minSamples
	}
	accept, err := c.acceptOptions(*configPath, report.RenderOptions{})
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("gate: %w", err))
	}
	snap, err := loadSnapshots(ctx, pos)
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("gate: %w", err))
	}
	res, err := report.Judge(accept.Judged(snap), plan, *step, th)
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("gate: %w", err))
	}
	if err := render(c.stdout, res); err != nil {
		return c.fail(exitUsage, fmt.Errorf("gate: %w", err))
	}
	switch res.Verdict {
	case report.Pass:
		return exitOK
	case report.Fail:
		return exitDifferent
	}
	return exitInconclusive
}
