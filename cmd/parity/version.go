package main

import (
	"context"
	"encoding/json"
	"fmt"
)

// runVersion prints the build: one line, or JSON with --json. Exit 0.
func runVersion(_ context.Context, c *cli, args []string) int {
	fs := c.newFlags("version", "[--json]")
	asJSON := fs.Bool("json", false, "print version, commit, date and go_version as a JSON object")
	pos, code, ok := c.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.usagef("version: unexpected argument %q", pos[0])
	}
	b := c.buildInfo()
	if !*asJSON {
		fmt.Fprintln(c.stdout, b)
		return exitOK
	}
	out, err := json.Marshal(b)
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("version: %w", err))
	}
	fmt.Fprintf(c.stdout, "%s\n", out)
	return exitOK
}
