// Command parity shadows a backend migration: it serves clients from the primary,
// mirrors requests to the candidate, compares the answers and gates each rollout step.
// This package only translates flags, environment and config into the packages' types
// and turns their results into exit codes.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes, as DESIGN.md fixes them.
const (
	exitOK           = 0 // success, equal, gate passes
	exitDifferent    = 1 // differences found, gate fails, findings
	exitUsage        = 2 // usage, config or input error
	exitInconclusive = 3 // gate: not enough evidence yet
)

// cli is what every command is given: where to write and how to read the
// environment, so tests can run commands in-process.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, c *cli, args []string) int
}

// commands is the table `parity help` prints, in this order.
var commands []command

func init() {
	commands = []command{
		{"demo", "run the whole loop on built-in stand-in backends, no set-up", runDemo},
		{"proxy", "serve from the primary, mirror to the candidate, compare live", runProxy},
		{"replay", "send recorded traffic (HAR or NDJSON) to both backends and compare", runReplay},
		{"report", "render merged snapshots as table, markdown, json, junit or html", runReport},
		{"gate", "judge a rollout step from snapshots: pass, fail or inconclusive", runGate},
		{"plan", "plan check: hold a rollout plan against the route matrix", runPlan},
		{"routes", "list the route templates in force, where each came from and its traffic", runRoutes},
		{"diff", "compare two saved HTTP responses", runDiff},
		{"help", "list the commands", runHelp},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &cli{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 {
		runHelp(ctx, c, nil)
		return exitUsage
	}
	name := args[0]
	if name == "-h" || name == "--help" || name == "-help" {
		name = "help"
	}
	for _, cmd := range commands {
		if cmd.name == name {
			return cmd.run(ctx, c, args[1:])
		}
	}
	return c.usagef("unknown command %q (see 'parity help')", name)
}

func runHelp(_ context.Context, c *cli, _ []string) int {
	fmt.Fprintln(c.stdout, "parity makes a backend migration safe to roll out.")
	fmt.Fprintln(c.stdout, "\nUsage: parity <command> [flags] [args]\n\nCommands:")
	for _, cmd := range commands {
		fmt.Fprintf(c.stdout, "  %-8s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(c.stdout, "\nRun 'parity <command> -h' for a command's flags.")
	fmt.Fprintln(c.stdout, "Exit codes: 0 ok/equal/pass, 1 different/fail, 2 usage or input error, 3 inconclusive.")
	return exitOK
}

// usagef prints a one-line error and returns exitUsage.
func (c *cli) usagef(format string, args ...any) int {
	fmt.Fprintf(c.stderr, "parity: "+format+"\n", args...)
	return exitUsage
}

// fail prints err on one line and returns code.
func (c *cli) fail(code int, err error) int {
	fmt.Fprintf(c.stderr, "parity: %v\n", err)
	return code
}
