package main

import "context"

// PLACEHOLDER: replaced by the command's real implementation.
func runReport(_ context.Context, c *cli, _ []string) int {
	return c.usagef("report: not available in this build")
}
