package main

import "context"

// PLACEHOLDER: replaced by the command's real implementation.
func runGate(_ context.Context, c *cli, _ []string) int {
	return c.usagef("gate: not available in this build")
}
