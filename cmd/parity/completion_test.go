package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// completeBash sources the bash script and runs its completion function on
// the words of a command line (the last one is the word being completed).
func completeBash(t *testing.T, script string, words ...string) []string {
	t.Helper()
	var quoted []string
	for _, w := range words {
		quoted = append(quoted, "'"+w+"'")
	}
	prog := "source " + script + "\n" +
		"complete -p parity >/dev/null || exit 9\n" +
		"COMP_WORDS=(" + strings.Join(quoted, " ") + "); COMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n" +
		"_parity; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", prog)
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("bash completion of %q: %v\n%s", words, err, out)
	}
	return strings.Fields(string(out))
}

func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	stdout, stderr, code := runInProcess(t, nil, "completion", "bash")
	if code != exitOK {
		t.Fatalf("completion bash: %d %s", code, stderr)
	}
	script := filepath.Join(t.TempDir(), "parity.bash")
	if err := os.WriteFile(script, []byte(stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		words []string
		want  []string
	}{
		{"commands", []string{"parity", "pr"}, []string{"proxy"}},
		{"every command", []string{"parity", ""}, commandNames()},
		{"a command's flags", []string{"parity", "proxy", "--admin"}, []string{"--admin-host", "--admin-listen"}},
		{"one-letter flags keep one dash", []string{"parity", "report", "-"}, []string{"--baseline", "--color", "--config", "--format", "-o", "--plan", "--title"}},
		{"a subcommand word", []string{"parity", "plan", "ch"}, []string{"check"}},
		{"a rollout action", []string{"parity", "rollout", "pro"}, []string{"promote"}},
		{"shells", []string{"parity", "completion", ""}, []string{"bash", "fish", "zsh"}},
		{"help takes commands", []string{"parity", "help", "ga"}, []string{"gate"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := completeBash(t, script, tc.words...)
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("completing %q = %q, want %q", tc.words, got, want)
			}
		})
	}
}

func commandNames() []string {
	var n []string
	for _, c := range commands {
		n = append(n, c.name)
	}
	return n
}

// TestZshAndFishCompletion checks that each script names every command and
// every flag, and that the shell parses it where the shell is installed.
func TestZshAndFishCompletion(t *testing.T) {
	specs := commandSpecs(t.Context())
	for _, shell := range []string{"zsh", "fish"} {
		t.Run(shell, func(t *testing.T) {
			stdout, stderr, code := runInProcess(t, nil, "completion", shell)
			if code != exitOK {
				t.Fatalf("completion %s: %d %s", shell, code, stderr)
			}
			for _, cs := range specs {
				if !strings.Contains(stdout, cs.name) {
					t.Errorf("%s script lacks command %s", shell, cs.name)
				}
				for _, f := range cs.flags {
					want := f.dashed() + "["
					if shell == "fish" {
						want = "-l " + f.name
						if len(f.name) == 1 {
							want = "-s " + f.name
						}
					}
					if !strings.Contains(stdout, want) {
						t.Errorf("%s script lacks %s's flag %s (%q)", shell, cs.name, f.name, want)
					}
				}
			}
			if _, err := exec.LookPath(shell); err != nil {
				t.Logf("%s not installed: script not parsed by the shell", shell)
				return
			}
			script := filepath.Join(t.TempDir(), "parity."+shell)
			if err := os.WriteFile(script, []byte(stdout), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(shell, "-n", script).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		})
	}
	_, stderr, code := runInProcess(t, nil, "completion", "tcsh")
	if code != exitUsage || !strings.Contains(stderr, "bash, zsh or fish") {
		t.Errorf("completion tcsh: code %d stderr %q", code, stderr)
	}
}
