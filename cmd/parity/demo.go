package main

import "context"

// PLACEHOLDER: replaced by the command's real implementation.
func runDemo(_ context.Context, c *cli, _ []string) int {
	return c.usagef("demo: not available in this build")
}
