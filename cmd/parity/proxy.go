package main

import "context"

// PLACEHOLDER: replaced by the command's real implementation.
func runProxy(_ context.Context, c *cli, _ []string) int {
	return c.usagef("proxy: not available in this build")
}
