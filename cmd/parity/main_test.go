package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parity-dev/parity/report/buildinfo"
)

// parityBin is the binary built once for tests that check real exit statuses.
var parityBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "parity-bin")
	if err != nil {
		panic(err)
	}
	parityBin = filepath.Join(dir, "parity")
	out, err := exec.Command("go", "build", "-o", parityBin, ".").CombinedOutput()
	if err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runBinary runs the built binary with args (env added to the environment) and
// returns its stdout, stderr and real exit status.
func runBinary(t *testing.T, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(parityBin, args...)
	cmd.Env = append(os.Environ(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run parity %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

// testBuild is the build in-process commands run as, so golden files do not
// change with the toolchain.
var testBuild = buildinfo.Info{Version: "v0.0.0-test", Commit: "0123456789abcdef", Date: "2026-03-01T00:00:00Z", GoVersion: "go1.x"}

// runInProcess runs a command through run() with captured output.
func runInProcess(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	c := &cli{stdout: &o, stderr: &e, getenv: func(k string) string { return env[k] }, build: testBuild}
	code = run(context.Background(), c, args)
	return o.String(), e.String(), code
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		err  string // substring of stderr
	}{
		{"no command is a usage error", nil, exitUsage, ""},
		{"unknown command names itself", []string{"frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"help succeeds", []string{"help"}, exitOK, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runBinary(t, nil, tc.args...)
			if code != tc.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tc.code, stderr)
			}
			if !strings.Contains(stderr, tc.err) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tc.err)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("error is not one line: %q", stderr)
			}
		})
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	stdout, _, code := runInProcess(t, nil, "help")
	if code != exitOK {
		t.Fatalf("help exit = %d", code)
	}
	for _, cmd := range commands {
		if !strings.Contains(stdout, "  "+cmd.name+" ") {
			t.Errorf("help does not list %q:\n%s", cmd.name, stdout)
		}
	}
}

// TestBadFlagIsOneLine: a bad flag is one line on stderr naming it, nothing on stdout;
// -h prints the usage once, on stdout, and succeeds.
func TestBadFlagIsOneLine(t *testing.T) {
	for _, cmd := range []string{"diff", "report", "gate", "replay", "proxy", "demo"} {
		t.Run(cmd, func(t *testing.T) {
			stdout, stderr, code := runInProcess(t, nil, cmd, "--no-such-flag")
			if code != exitUsage {
				t.Errorf("exit = %d, want %d", code, exitUsage)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if !strings.Contains(stderr, "no-such-flag") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("stderr = %q, want one line naming the flag", stderr)
			}
			stdout, _, code = runInProcess(t, nil, cmd, "-h")
			if code != exitOK || strings.Count(stdout, "Usage: parity "+cmd) != 1 {
				t.Errorf("-h: exit %d, stdout %q; want 0 and the usage once", code, stdout)
			}
		})
	}
}
