// Command parity shadows a backend migration: it serves clients from the primary,
// mirrors requests to the candidate, compares the answers and gates each rollout step.
// This package only translates flags, environment and config into the packages' types
// and turns their results into exit codes.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/parity-dev/parity/report/buildinfo"
	"github.com/parity-dev/parity/shadow"
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
	// build is the build that reports and `parity version` name; zero means
	// the running binary's (buildinfo.Get).
	build buildinfo.Info
	// onFlags, when set, is given every FlagSet a command makes (completion
	// reads the commands' flags through it).
	onFlags func(*flag.FlagSet)
	// now is the clock acceptances are judged by; nil = time.Now.
	now func() time.Time
}

// buildInfo is the build this command runs as.
func (c *cli) buildInfo() buildinfo.Info {
	if c.build == (buildinfo.Info{}) {
		return buildinfo.Get()
	}
	return c.build
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
		{"rollout", "the autopilot: status, pause, resume, promote, abort; run, the fleet's decider", runRollout},
		{"plan", "plan check: hold a rollout plan against the route matrix", runPlan},
		{"routes", "list the route templates in force, where each came from and its traffic", runRoutes},
		{"diff", "compare two saved HTTP responses", runDiff},
		{"repro", "print the reproducer of a difference: two curl commands and the diff line", runRepro},
		{"config", "config check: validate a config and list acceptances expiring soon", runConfig},
		{"version", "print the version, commit, build date and Go version", runVersion},
		{"healthcheck", "probe a URL (the admin /healthz): exit 0 when it answers 2xx", runHealthcheck},
		{"completion", "print a shell completion script: bash, zsh or fish", runCompletion},
		{"help", "list the commands, or show one command's flags (help CMD)", runHelp},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// Go's HTTP transport writes what a broken backend sent through the standard
	// log; until a command names its logger, that goes nowhere.
	routeStandardLog(zerolog.Nop())
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
	switch name {
	case "-h", "--help", "-help":
		name = "help"
	case "--version", "-version":
		name = "version"
	}
	if cmd, ok := lookupCommand(name); ok {
		return cmd.run(ctx, c, args[1:])
	}
	return c.usagef("unknown command %q (see 'parity help')", name)
}

// routeStandardLog sends the standard log package's lines to logger, scrubbed,
// at debug level (shadow.NetLog), and returns what puts the previous output back.
func routeStandardLog(logger zerolog.Logger) (restore func()) {
	w, flags, prefix := log.Writer(), log.Flags(), log.Prefix()
	log.SetOutput(shadow.NetLog(logger).Writer())
	log.SetFlags(0)
	log.SetPrefix("")
	return func() {
		log.SetOutput(w)
		log.SetFlags(flags)
		log.SetPrefix(prefix)
	}
}

func lookupCommand(name string) (command, bool) {
	for _, cmd := range commands {
		if cmd.name == name {
			return cmd, true
		}
	}
	return command{}, false
}

// runHelp lists the commands; `parity help CMD` is `parity CMD -h`.
func runHelp(ctx context.Context, c *cli, args []string) int {
	if len(args) > 0 {
		cmd, ok := lookupCommand(args[0])
		if !ok || cmd.name == "help" {
			return c.usagef("help: unknown command %q (see 'parity help')", args[0])
		}
		return cmd.run(ctx, c, []string{"-h"})
	}
	fmt.Fprintln(c.stdout, "parity makes a backend migration safe to roll out.")
	fmt.Fprintln(c.stdout, "\nUsage: parity <command> [flags] [args]\n\nCommands:")
	for _, cmd := range commands {
		fmt.Fprintf(c.stdout, "  %-12s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprintln(c.stdout, "\nRun 'parity help <command>' or 'parity <command> -h' for a command's flags.")
	fmt.Fprintln(c.stdout, "Every flag can also be set in the environment: PARITY_<FLAG>, e.g. PARITY_ADMIN_LISTEN.")
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
