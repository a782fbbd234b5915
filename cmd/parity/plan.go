package main

import "context"

// PLACEHOLDER: replaced by the command's real implementation.
func runPlan(_ context.Context, c *cli, _ []string) int {
	return c.usagef("plan: not available in this build")
}
