package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/shadow/rules"
)

// The package's -update flag rewrites golden files. It is registered here only when no
// other test file of the package has registered it already (package-level variables
// are initialised before any init function runs).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

const responsesDir = "../../fixtures/responses"

// fixtureCase is one folder of fixtures/responses.
type fixtureCase struct {
	name string
	dir  string
}

func (fc fixtureCase) args(format string) []string {
	args := []string{"diff"}
	if _, err := os.Stat(filepath.Join(fc.dir, "parity.yaml")); err == nil {
		args = append(args, "--config", filepath.Join(fc.dir, "parity.yaml"))
	}
	if format != "" {
		args = append(args, "--format", format)
	}
	return append(args, filepath.Join(fc.dir, "primary.http"), filepath.Join(fc.dir, "candidate.http"))
}

func fixtureCases(t *testing.T) []fixtureCase {
	t.Helper()
	entries, err := os.ReadDir(responsesDir)
	if err != nil {
		t.Fatal(err)
	}
	var cases []fixtureCase
	for _, e := range entries {
		if e.IsDir() {
			cases = append(cases, fixtureCase{name: e.Name(), dir: filepath.Join(responsesDir, e.Name())})
		}
	}
	if len(cases) == 0 {
		t.Fatal("no fixtures")
	}
	return cases
}

// TestDiffGolden runs parity diff over every fixture pair, in text and JSON, against
// golden files in testdata/diff (go test ./cmd/parity -run DiffGolden -update).
func TestDiffGolden(t *testing.T) {
	for _, fc := range fixtureCases(t) {
		for _, format := range []string{"text", "json"} {
			t.Run(fc.name+"/"+format, func(t *testing.T) {
				args := fc.args(format)
				stdout, stderr, code := runInProcess(t, nil, args...)
				var b strings.Builder
				b.WriteString("$ parity " + strings.Join(args, " ") + "\n")
				b.WriteString("exit " + strconv.Itoa(code) + "\n")
				b.WriteString("-- stdout --\n" + stdout)
				b.WriteString("-- stderr --\n" + stderr)
				got := b.String()
				golden := filepath.Join("testdata", "diff", fc.name+"."+format)
				if updateGolden() {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("read golden file (run with -update to create it): %v", err)
				}
				if diff := cmp.Diff(string(want), got); diff != "" {
					t.Errorf("parity diff output (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// readmeRow is one line of the table in fixtures/responses/README.md.
type readmeRow struct {
	exit  int
	diffs []string // "path kind", or "error: <text>"
}

var (
	rowRe    = regexp.MustCompile("^\\| `([a-z0-9-]+)` \\|[^|]*\\| (\\d) \\| (.*) \\|$")
	itemRe   = regexp.MustCompile("^`([^`]+)` (changed|missing|extra|type)$")
	repeatRe = regexp.MustCompile(`\(([^×()]+)×(\d+)\)`)
)

func readREADME(t *testing.T) map[string]readmeRow {
	t.Helper()
	f, err := os.Open(filepath.Join(responsesDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string]readmeRow{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := rowRe.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		row := readmeRow{exit: int(m[2][0] - '0')}
		switch cell := m[3]; {
		case cell == "—":
		case strings.HasPrefix(cell, "error: "):
			row.diffs = []string{"error: " + strings.Trim(strings.TrimPrefix(cell, "error: "), "`")}
		default:
			for _, item := range strings.Split(cell, "; ") {
				im := itemRe.FindStringSubmatch(item)
				if im == nil {
					t.Fatalf("README row %s: cannot read %q", m[1], item)
				}
				path := repeatRe.ReplaceAllStringFunc(im[1], func(s string) string {
					r := repeatRe.FindStringSubmatch(s)
					n, _ := strconv.Atoi(r[2])
					return strings.Repeat(r[1], n)
				})
				row.diffs = append(row.diffs, path+" "+im[2])
			}
		}
		rows[m[1]] = row
	}
	return rows
}

// TestFixturesREADME holds the README's table to what parity diff reports for every
// fixture, and requires a row for each.
func TestFixturesREADME(t *testing.T) {
	rows := readREADME(t)
	cases := fixtureCases(t)
	if len(rows) != len(cases) {
		t.Errorf("README lists %d cases, fixtures/responses has %d", len(rows), len(cases))
	}
	for _, fc := range cases {
		t.Run(fc.name, func(t *testing.T) {
			row, ok := rows[fc.name]
			if !ok {
				t.Fatalf("README has no row for %s", fc.name)
			}
			stdout, stderr, code := runInProcess(t, nil, fc.args("json")...)
			if code != row.exit {
				t.Errorf("exit = %d, README says %d (stderr %q)", code, row.exit, stderr)
			}
			var got []string
			if code == exitUsage {
				got = []string{"error: " + strings.TrimSpace(stderr)}
				if len(row.diffs) != 1 || !strings.HasSuffix(got[0], strings.TrimPrefix(row.diffs[0], "error: ")) {
					t.Errorf("error = %q, README says %q", got, row.diffs)
				}
				return
			}
			var ds []diffJSON
			if err := json.Unmarshal([]byte(stdout), &ds); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, stdout)
			}
			for _, d := range ds {
				got = append(got, d.Path+" "+d.Kind)
			}
			if diff := cmp.Diff(row.diffs, got); diff != "" {
				t.Errorf("differences (-README +parity diff):\n%s", diff)
			}
		})
	}
}

// TestFixtureIgnoreEachPath: for every fixture, each reported path pasted into an
// ignore rule silences exactly that difference; the others stay. The pattern does too.
func TestFixtureIgnoreEachPath(t *testing.T) {
	for _, fc := range fixtureCases(t) {
		t.Run(fc.name, func(t *testing.T) {
			p, err1 := readResponseFile(filepath.Join(fc.dir, "primary.http"))
			c, err2 := readResponseFile(filepath.Join(fc.dir, "candidate.http"))
			if err1 != nil || err2 != nil {
				if fc.name == "truncated" {
					return // an input error, no differences
				}
				t.Fatal(err1, err2)
			}
			// A low decoding cap keeps the bomb quick to reject on every rerun; no
			// fixture decodes to more than a few kilobytes otherwise.
			base := []diff.Option{diff.MaxDecodedBytes(1 << 20)}
			if cfg := filepath.Join(fc.dir, "parity.yaml"); fileExists(cfg) {
				c, err := rules.LoadConfig(cfg)
				if err != nil {
					t.Fatal(err)
				}
				base = append(base, c.Compare.Options()...)
			}
			rules := func(extra ...string) *diff.Rules {
				r, err := diff.NewRules(append(slices.Clone(base), diff.Ignore(extra...))...)
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			all := diff.Compare(p, c, rules()).Differences
			for i, x := range all {
				others := slices.Delete(slices.Clone(all), i, i+1)
				got := diff.Compare(p, c, rules(x.Path)).Differences
				if diff := cmp.Diff(others, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("ignore %q (-want +got):\n%s", x.Path, diff)
				}
				for _, y := range diff.Compare(p, c, rules(x.Pattern)).Differences {
					if y.Path == x.Path {
						t.Errorf("ignore %q left %s", x.Pattern, y.Path)
					}
				}
			}
		})
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// TestDiffExitCodes runs the real binary: exit statuses and one-line errors that name
// the file, flag or value at fault.
func TestDiffExitCodes(t *testing.T) {
	changed := filepath.Join(responsesDir, "changed")
	equal := filepath.Join(responsesDir, "equal")
	dir := t.TempDir()
	badConfig := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badConfig, []byte("compare:\n  ignore: [bdy.x]\n"), 0o644)
	notYAML := filepath.Join(dir, "notyaml.yaml")
	os.WriteFile(notYAML, []byte("compare: [\n"), 0o644)
	typo := filepath.Join(dir, "typo.yaml")
	os.WriteFile(typo, []byte("compare:\n  ignore: [body.title]\n  ignroe: [body.tags]\n"), 0o644)
	badTolerance := filepath.Join(dir, "tolerance.yaml")
	os.WriteFile(badTolerance, []byte("compare:\n  tolerance: lots\n"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		out  string // substring of stdout
		err  string // substring of stderr
	}{
		{"equal", []string{"diff", equal + "/primary.http", equal + "/candidate.http"}, exitOK, "no differences", ""},
		{"different", []string{"diff", changed + "/primary.http", changed + "/candidate.http"}, exitDifferent, "body.title  changed  \"Quarterly report\" → \"Quarterly Report\"", ""},
		{"flags after the files", []string{"diff", changed + "/primary.http", changed + "/candidate.http", "--ignore", "body.title", "--ignore", "body.updatedAt", "--ignore", "body.tags"}, exitOK, "no differences", ""},
		{"help", []string{"diff", "-h"}, exitOK, "Usage: parity diff", ""},
		{"one file", []string{"diff", changed + "/primary.http"}, exitUsage, "", "diff: want two files, PRIMARY and CANDIDATE, got 1"},
		{"bad format", []string{"diff", "--format", "yaml", "a", "b"}, exitUsage, "", `diff: --format "yaml": want text or json`},
		{"unknown flag", []string{"diff", "--colour", "a", "b"}, exitUsage, "", "flag provided but not defined: -colour"},
		{"malformed ignore", []string{"diff", "--ignore", "body.a|b", changed + "/primary.http", changed + "/candidate.http"}, exitUsage, "", `diff: --ignore: ignore path "body.a|b": unescaped '|'`},
		{"missing file", []string{"diff", filepath.Join(dir, "nope.http"), changed + "/candidate.http"}, exitUsage, "", "nope.http: no such file or directory"},
		{"truncated", []string{"diff", changed + "/primary.http", filepath.Join(responsesDir, "truncated", "candidate.http")}, exitUsage, "", "truncated/candidate.http: truncated body: Content-Length is 56 but only 36 bytes follow the headers"},
		{"bad config rule", []string{"diff", "--config", badConfig, changed + "/primary.http", changed + "/candidate.http"}, exitUsage, "", `bad.yaml:2: compare.ignore[0]: ignore path "bdy.x": must start with`},
		{"config not YAML", []string{"diff", "--config", notYAML, changed + "/primary.http", changed + "/candidate.http"}, exitUsage, "", "notyaml.yaml:1: did not find expected node content"},
		{"unknown config key", []string{"diff", "--config", typo, changed + "/primary.http", changed + "/candidate.http"}, exitUsage, "", `typo.yaml:3: unknown key "ignroe" in compare`},
		{"config value of the wrong type", []string{"diff", "--config", badTolerance, changed + "/primary.http", changed + "/candidate.http"}, exitUsage, "", `tolerance.yaml:2: compare.tolerance: want a number, got "lots"`},
		{"missing config", []string{"diff", "--config", filepath.Join(dir, "none.yaml"), changed + "/primary.http", changed + "/candidate.http"}, exitUsage, "", "none.yaml: no such file or directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := runBinary(t, nil, tc.args...)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.Contains(stdout, tc.out) {
				t.Errorf("stdout = %q, want it to contain %q", stdout, tc.out)
			}
			if !strings.Contains(stderr, tc.err) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tc.err)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("error is not one line: %q", stderr)
			}
			if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
				t.Errorf("stack trace on stderr: %q", stderr)
			}
		})
	}
}

// TestDiffConfig: --config reads the file with the proxy's loader and applies its
// compare: section through the same mapping; routes: need a request and do not apply.
func TestDiffConfig(t *testing.T) {
	changed := filepath.Join(responsesDir, "changed")
	dir := t.TempDir()
	tests := []struct {
		name   string
		config string
		code   int
		stdout string
	}{
		{"no rules", "", exitDifferent,
			"body.tags.1  changed  \"q2\" → \"q3\"\n" +
				"body.title  changed  \"Quarterly report\" → \"Quarterly Report\"\n" +
				"body.updatedAt  changed  \"2025-05-01T10:00:00.000Z\" → \"2025-05-01T10:00:00Z\"\n"},
		{"compare rules apply, route rules do not",
			"compare:\n  ignore: [body.title, body.updatedAt]\n  unordered: [body.tags]\nroutes:\n  - match: GET /api/sessions/:id\n    ignore: [body.tags]\n",
			exitDifferent, "body.tags.1  changed  \"q2\" → \"q3\"\n"},
		{"every compare rule", "compare:\n  ignore: [body.title, body.tags.1]\n  shape: [body.updatedAt]\n", exitOK, "no differences\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"diff"}
			if tc.config != "" {
				cfg := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
				if err := os.WriteFile(cfg, []byte(tc.config), 0o644); err != nil {
					t.Fatal(err)
				}
				args = append(args, "--config", cfg)
			}
			args = append(args, changed+"/primary.http", changed+"/candidate.http")
			stdout, stderr, code := runInProcess(t, nil, args...)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if diff := cmp.Diff(tc.stdout, stdout); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDiffNoColourWhenNotATerminal: output to a pipe or a buffer carries no escape codes.
func TestDiffNoColourWhenNotATerminal(t *testing.T) {
	c := &cli{getenv: func(string) string { return "" }}
	if useColor(c, &bytes.Buffer{}) {
		t.Error("useColor(buffer) = true")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if useColor(c, w) {
		t.Error("useColor(pipe) = true")
	}
}
