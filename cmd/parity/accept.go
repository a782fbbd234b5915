package main

import (
	"context"
	"fmt"
	"time"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// expiringWithin is how far ahead `parity config check` warns of acceptances
// that stop holding.
const expiringWithin = 14 * 24 * time.Hour

// clock is the time acceptances are judged at.
func (c *cli) clock() time.Time {
	if c.now != nil {
		return c.now()
	}
	return time.Now()
}

// liveAcceptances is the accept: section of the configuration in force.
func liveAcceptances(cfg *rules.Config) []report.Acceptance {
	if cfg == nil {
		return nil
	}
	return cfg.Accept
}

// acceptOptions loads the config at path (strictly, validated, errors naming
// the file and line) and returns render options that apply its acceptances at
// the command's clock; none when path is empty.
func (c *cli) acceptOptions(path string, opts report.RenderOptions) (report.RenderOptions, error) {
	if path == "" {
		return opts, nil
	}
	cfg, err := rules.LoadConfig(path)
	if err != nil {
		return opts, fmt.Errorf("--config: %s", oneLine(err.Error()))
	}
	acc := cfg.Accept
	opts.Accepted = func() []report.Acceptance { return acc }
	opts.Now = c.clock
	return opts, nil
}

const configSynopsis = "check --config F"

// runConfig validates a configuration and lists its acceptances that have
// expired or expire within 14 days. Exit 0 clean, 1 some do, 2 a bad config.
func runConfig(_ context.Context, c *cli, args []string) int {
	flags := c.newFlags("config", configSynopsis)
	path := flags.String("config", "", "config `file` to check (required)")
	pos, code, ok := c.parse(flags, args)
	if !ok {
		return code
	}
	if len(pos) != 1 || pos[0] != "check" {
		return c.usagef("config: want the subcommand check: parity config %s", configSynopsis)
	}
	if *path == "" {
		return c.usagef("config check: --config is required")
	}
	cfg, err := rules.LoadConfig(*path)
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("config check: %s", oneLine(err.Error())))
	}
	now := c.clock()
	var expired []report.Acceptance
	for _, a := range cfg.Accept {
		if !now.Before(a.Expires()) {
			expired = append(expired, a)
		}
	}
	soon := report.Expiring(cfg.Accept, now, expiringWithin)
	for _, a := range expired {
		fmt.Fprintf(c.stdout, "expired on %s: %s %s %s (owner %s: %s)\n", a.ExpiredOn(), a.Route, a.Path, kindOrAny(a.Kind), a.Owner, a.Reason)
	}
	for _, a := range soon {
		days := int(a.Expires().Sub(now).Hours() / 24)
		fmt.Fprintf(c.stdout, "expires on %s (in %d days): %s %s %s (owner %s: %s)\n", a.ExpiredOn(), days, a.Route, a.Path, kindOrAny(a.Kind), a.Owner, a.Reason)
	}
	if len(expired)+len(soon) > 0 {
		fmt.Fprintf(c.stderr, "parity: config check: %d acceptances expired, %d expire within 14 days\n", len(expired), len(soon))
		return exitDifferent
	}
	fmt.Fprintf(c.stdout, "config check: %s is valid; %d acceptances, none expiring within 14 days\n", *path, len(cfg.Accept))
	return exitOK
}

func kindOrAny(k string) string {
	if k == "" {
		return "(any kind)"
	}
	return k
}

const reproSynopsis = "[--kind K] SNAPSHOT ROUTE PATH"

// runRepro prints the reproducer of a difference group: the two curl commands
// that fetch both answers and the parity diff line on the saved pair. Exit 0,
// 2 usage or no such group.
func runRepro(ctx context.Context, c *cli, args []string) int {
	flags := c.newFlags("repro", reproSynopsis)
	kind := flags.String("kind", "", "only the group of this `kind` (changed, missing, extra, type); default every kind at PATH")
	pos, code, ok := c.parse(flags, args)
	if !ok {
		return code
	}
	if len(pos) != 3 {
		return c.usagef("repro: want SNAPSHOT ROUTE PATH, got %d arguments (see 'parity repro -h')", len(pos))
	}
	snap, err := loadSnapshots(ctx, pos[:1])
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("repro: %w", err))
	}
	rps, err := report.FindReproducers(snap, pos[1], pos[2], *kind)
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("repro: %w", err))
	}
	for i, rp := range rps {
		if i > 0 {
			fmt.Fprintln(c.stdout)
		}
		fmt.Fprint(c.stdout, rp.Script())
	}
	return exitOK
}
