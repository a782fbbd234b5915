package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/report/buildinfo"
)

func TestHelpCommandIsCommandDashH(t *testing.T) {
	for _, cmd := range commands {
		if cmd.name == "help" {
			continue
		}
		t.Run(cmd.name, func(t *testing.T) {
			help, _, hcode := runInProcess(t, nil, "help", cmd.name)
			dashH, _, dcode := runInProcess(t, nil, cmd.name, "-h")
			if hcode != exitOK || dcode != exitOK {
				t.Fatalf("exit codes: help %d, -h %d; want 0", hcode, dcode)
			}
			if !strings.HasPrefix(help, "Usage: parity "+cmd.name) {
				t.Errorf("parity help %s printed %q, want the command's usage", cmd.name, help)
			}
			if d := cmp.Diff(dashH, help); d != "" {
				t.Errorf("parity help %s differs from parity %s -h (-h +help):\n%s", cmd.name, cmd.name, d)
			}
		})
	}
	_, stderr, code := runInProcess(t, nil, "help", "frobnicate")
	if code != exitUsage || !strings.Contains(stderr, `"frobnicate"`) {
		t.Errorf("help frobnicate: code %d stderr %q, want 2 naming the command", code, stderr)
	}
}

func TestVersion(t *testing.T) {
	want := buildinfo.Info{Version: "v9.9.9", Commit: "0123456789abcdef", Date: "2026-11-30T10:00:00Z", GoVersion: "go1.26.8"}
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		c, out := bufferedCLI(nil)
		c.build = want
		code := run(t.Context(), c, args)
		if code != exitOK {
			t.Fatalf("%v: exit %d", args, code)
		}
		if got := out.String(); got != want.String()+"\n" {
			t.Errorf("%v printed %q, want %q", args, got, want.String()+"\n")
		}
	}
	c, out := bufferedCLI(nil)
	c.build = want
	if code := run(t.Context(), c, []string{"version", "--json"}); code != exitOK {
		t.Fatalf("version --json: exit %d", code)
	}
	var got buildinfo.Info
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("version --json: %v in %q", err, out.String())
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("version --json (-want +got):\n%s", d)
	}
}

// TestVersionFromLdflags builds parity as a release would and asks it.
func TestVersionFromLdflags(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "parity")
	pkg := "github.com/parity-dev/parity/report/buildinfo"
	ld := "-X " + pkg + ".version=v1.2.3 -X " + pkg + ".commit=abcdef0123456789abcdef -X " + pkg + ".date=2026-12-01T00:00:00Z"
	if out, err := exec.Command("go", "build", "-ldflags", ld, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "parity v1.2.3 (commit abcdef012345, built 2026-12-01T00:00:00Z, go1.") {
		t.Errorf("--version = %q", out)
	}
}

func TestFlagsFromEnvironment(t *testing.T) {
	_, snap, _ := fleet(t)
	// PARITY_FORMAT picks the format; a flag on the command line wins over it.
	stdout, stderr, code := runInProcess(t, map[string]string{"PARITY_FORMAT": "junit"}, "report", snap)
	if code != exitOK || !strings.Contains(stdout, "<testsuites") {
		t.Errorf("PARITY_FORMAT=junit: code %d, stderr %q, stdout %.80q", code, stderr, stdout)
	}
	stdout, _, code = runInProcess(t, map[string]string{"PARITY_FORMAT": "junit"}, "report", "--format", "markdown", snap)
	if code != exitOK || strings.Contains(stdout, "<testsuites") {
		t.Errorf("--format markdown over PARITY_FORMAT=junit: code %d, stdout %.80q", code, stdout)
	}
	// A bad value is a usage error naming the variable.
	_, stderr, code = runInProcess(t, map[string]string{"PARITY_GRACE": "soon"}, "proxy")
	if code != exitUsage || !strings.Contains(stderr, "PARITY_GRACE") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("PARITY_GRACE=soon: code %d, stderr %q; want 2 and one line naming PARITY_GRACE", code, stderr)
	}
	// Every command's help says so.
	stdout, _, _ = runInProcess(t, nil, "proxy", "-h")
	if !strings.Contains(stdout, "PARITY_<FLAG>") {
		t.Errorf("proxy -h does not document the environment:\n%s", stdout)
	}
}

// bufferedCLI is a cli writing stdout to the returned buffer and stderr nowhere.
func bufferedCLI(env map[string]string) (*cli, *bytes.Buffer) {
	var out bytes.Buffer
	return &cli{stdout: &out, stderr: io.Discard, getenv: func(k string) string { return env[k] }}, &out
}

func TestFlagEnvNames(t *testing.T) {
	for name, want := range map[string]string{"admin-listen": "PARITY_ADMIN_LISTEN", "grace": "PARITY_GRACE", "o": ""} {
		if got := flagEnv(name); got != want {
			t.Errorf("flagEnv(%q) = %q, want %q", name, got, want)
		}
	}
}
