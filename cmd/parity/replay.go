package main

import "context"

// PLACEHOLDER: replaced by the command's real implementation.
func runReplay(_ context.Context, c *cli, _ []string) int {
	return c.usagef("replay: not available in this build")
}
