package main

import "context"

// PLACEHOLDER: replaced by the command's real implementation.
func runDiff(_ context.Context, c *cli, _ []string) int {
	return c.usagef("diff: not available in this build")
}
