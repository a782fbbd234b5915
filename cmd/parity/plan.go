package main

import (
	"context"
	"fmt"

	"github.com/parity-dev/parity/fixtures"
	"github.com/parity-dev/parity/report"
)

const planSynopsis = "check [--plan F] [--routes F]"

// runPlan runs plan subcommands; "check" holds a rollout plan against the route
// matrix. Exit 0 no findings, 1 findings, 2 usage or input error.
func runPlan(_ context.Context, c *cli, args []string) int {
	flags := c.newFlags("plan", planSynopsis)
	planPath := planFlag(flags)
	routesPath := flags.String("routes", "", "route matrix `file` (default: the guide's Route Parity Matrix, built in)")
	pos, code, ok := c.parse(flags, args)
	if !ok {
		return code
	}
	if len(pos) != 1 || pos[0] != "check" {
		return c.usagef("plan: want the subcommand check: parity plan %s", planSynopsis)
	}
	plan, err := loadPlanFile(*planPath)
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("plan check: %w", err))
	}
	matrix, err := loadMatrixFile(*routesPath)
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("plan check: %w", err))
	}
	findings := report.CheckPlan(plan, matrix)
	for _, f := range findings {
		fmt.Fprintln(c.stdout, f)
	}
	if len(findings) > 0 {
		fmt.Fprintf(c.stderr, "parity: plan check: %d findings\n", len(findings))
		return exitDifferent
	}
	fmt.Fprintf(c.stdout, "plan check: %d steps hold against %d routes of the matrix\n", len(plan.Steps), len(matrix.Routes))
	return exitOK
}

// loadMatrixFile reads the route matrix at path, or the built-in one when path
// is empty.
func loadMatrixFile(path string) (*report.Matrix, error) {
	return parseFileOr(path, "route matrix", "routes.yaml", fixtures.Routes, report.ParseMatrix)
}
