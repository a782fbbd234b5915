package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
	"golang.org/x/term"
)

const diffSynopsis = "[--config F] [--ignore PATH]... [--url URL] [--format text|json] PRIMARY CANDIDATE"

// runDiff compares two saved responses (curl -si output or bare JSON) and prints one
// line per difference. Exit 0 equal, 1 different, 2 usage or input error.
func runDiff(_ context.Context, c *cli, args []string) int {
	flags := c.newFlags("diff", diffSynopsis)
	configPath := flags.String("config", "", "config `file` whose compare: section (ignore, unordered, tolerance, shape) applies; routes: need a request and do not")
	var ignores stringList
	flags.Var(&ignores, "ignore", "`path` to ignore, repeatable: status, header.<Name>, body.<gjson path> (# = any index)")
	format := flags.String("format", "text", "output `format`: text or json")
	requestURL := flags.String("url", "", "the request's absolute `URL`, against which Location and Content-Location are resolved (\"/x\" equals \"http://host/x\"); without it they compare as written")
	pos, code, ok := c.parse(flags, args)
	if !ok {
		return code
	}
	if len(pos) != 2 {
		return c.usagef("diff: want two files, PRIMARY and CANDIDATE, got %d (see 'parity diff -h')", len(pos))
	}
	if *format != "text" && *format != "json" {
		return c.usagef("diff: --format %q: want text or json", *format)
	}

	var req *diff.Request
	if *requestURL != "" {
		u, err := url.Parse(*requestURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c.usagef("diff: --url %q: want an absolute http or https URL", *requestURL)
		}
		req = &diff.Request{URL: u}
	}

	var opts []diff.Option
	if *configPath != "" {
		// The same loader and mapping as the proxy's: strict, validated, errors
		// naming the file and line.
		cfg, err := rules.LoadConfig(*configPath)
		if err != nil {
			return c.fail(exitUsage, fmt.Errorf("diff: --config: %s", oneLine(err.Error())))
		}
		opts = append(opts, cfg.Compare.Options()...)
	}
	for _, p := range ignores {
		if _, err := diff.NewRules(diff.Ignore(p)); err != nil {
			return c.fail(exitUsage, fmt.Errorf("diff: --ignore: %w", err))
		}
	}
	opts = append(opts, diff.Ignore(ignores...))
	rules, err := diff.NewRules(opts...)
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("diff: %w", err))
	}

	primary, err := readResponseFile(pos[0])
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("diff: %w", err))
	}
	candidate, err := readResponseFile(pos[1])
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("diff: %w", err))
	}

	primary.Request, candidate.Request = req, req
	res := diff.Compare(primary, candidate, rules)
	if *format == "json" {
		err = writeDiffJSON(c.stdout, res.Differences)
	} else {
		err = report.WriteDifferences(c.stdout, res.Differences, useColor(c, c.stdout))
	}
	if err != nil {
		return c.fail(exitUsage, fmt.Errorf("diff: write output: %w", err))
	}
	if res.Omitted > 0 {
		fmt.Fprintf(c.stderr, "parity: diff: %d differences left out: listing them would take the result over its bound\n", res.Omitted)
	}
	if res.Stopped {
		fmt.Fprintf(c.stderr, "parity: diff: stopped looking after %d differences; more may exist\n", diff.DefaultMaxDifferences)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(c.stderr, "parity: diff: note: %s\n", report.Printable(n))
	}
	if res.Equal() {
		return exitOK
	}
	return exitDifferent
}

// readResponseFile reads and parses one saved response; errors name the file.
func readResponseFile(path string) (*diff.Response, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, fileError(err))
	}
	r, err := diff.ParseResponse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", path, oneLine(err.Error()))
	}
	return r, nil
}

// fileError drops the path an *fs.PathError repeats.
func fileError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", "; ")), " ")
}

// useColor is true when w is a terminal and the environment does not refuse colour.
func useColor(c *cli, w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || c.getenv("NO_COLOR") != "" || c.getenv("TERM") == "dumb" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

// diffJSON is one element of --format json.
type diffJSON struct {
	Path      string `json:"path"`
	Kind      string `json:"kind"`
	Primary   string `json:"primary"`
	Candidate string `json:"candidate"`
	Note      string `json:"note"`
	// Security is the rule a security regression breaks (diff.Security), "" for none.
	Security string `json:"security"`
}

func writeDiffJSON(w io.Writer, ds []diff.Difference) error {
	out := make([]diffJSON, len(ds))
	for i, d := range ds {
		out[i] = diffJSON{Path: d.Path, Kind: string(d.Kind), Primary: d.Primary, Candidate: d.Candidate, Note: d.Note, Security: string(d.Security)}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
