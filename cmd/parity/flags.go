package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/parity-dev/parity/shadow/rules"
)

// newFlags returns a FlagSet for a command whose errors parse reports on one line.
func (c *cli) newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("parity "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(c.stdout, "Usage: parity %s %s\n\nFlags:\n", name, synopsis)
		fs.SetOutput(c.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		var example string
		fs.VisitAll(func(f *flag.Flag) {
			if example == "" && flagEnv(f.Name) != "" {
				example = flagEnv(f.Name)
			}
		})
		if example != "" {
			fmt.Fprintf(c.stdout, "\nEvery flag of more than one letter can also be set in the environment as\n"+
				"PARITY_<FLAG> (upper case, '-' as '_'; e.g. %s); the command line wins.\n", example)
		}
	}
	if c.onFlags != nil {
		c.onFlags(fs)
	}
	return fs
}

// flagEnv is the environment variable that sets flag name: "admin-listen" is
// PARITY_ADMIN_LISTEN. One-letter flags (-o) have none.
func flagEnv(name string) string {
	if len(name) < 2 {
		return ""
	}
	return "PARITY_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// setFromEnv sets every flag whose PARITY_<FLAG> variable is set and not
// empty; flags on the command line, parsed afterwards, win.
func (c *cli) setFromEnv(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		env := flagEnv(f.Name)
		if err != nil || env == "" || c.getenv == nil {
			return
		}
		if v := c.getenv(env); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q (--%s): %v", env, v, f.Name, e)
			}
		}
	})
	return err
}

// parse parses flags wherever they stand among the positional arguments (so
// `parity diff a.http b.http --format json` works; "--" ends the flags) and returns
// the positional arguments. ok is false when the command should exit with code:
// 0 after -h, 2 after a bad flag, reported on one line.
func (c *cli) parse(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	// flag.Parse prints the usage itself on every error; keep it for -h only.
	usage := fs.Usage
	fs.Usage = func() {}
	defer func() { fs.Usage = usage }()
	if err := c.setFromEnv(fs); err != nil {
		return nil, c.usagef("%s: %v", strings.TrimPrefix(fs.Name(), "parity "), err), false
	}
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			usage()
			return nil, exitOK, false
		}
		if err != nil {
			return nil, c.usagef("%s: %v (see '%s -h')", strings.TrimPrefix(fs.Name(), "parity "), err, fs.Name()), false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, exitOK, true
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), exitOK, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// stringList is a repeatable string flag (--ignore a --ignore b).
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// overrideBackends sets the backend URLs given as flags over those of the environment
// and the config file; an empty flag leaves the value as it is.
func overrideBackends(cfg *rules.Config, primary, candidate, secondary string) {
	for _, o := range []struct {
		dst *string
		v   string
	}{{&cfg.Primary, primary}, {&cfg.Candidate, candidate}, {&cfg.Secondary, secondary}} {
		if o.v != "" {
			*o.dst = o.v
		}
	}
}

// planFlag is --plan of the commands that take the plan as it is.
func planFlag(flags *flag.FlagSet) *string {
	return flags.String("plan", "", "rollout plan `file` (default: the guide's plan, built in)")
}
