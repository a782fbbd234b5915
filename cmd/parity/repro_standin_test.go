package main

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/parity-dev/parity/fixtures/standin"
	"github.com/parity-dev/parity/report"
)

// The demo's secrets, as its recorded traffic carries them.
var demoSecrets = []string{"demo-token-", "demo-session-"}

// Each planted regression's difference group carries a reproducer in the
// Markdown and HTML reports and from `parity repro`; its curl commands, run by
// the real curl against the stand-ins, fetch answers that `parity diff` finds
// differing at the group's path; no secret is in the text.
func TestReproducersReproduceThePlantedRegressions(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	t.Parallel()
	run, err := runDemoLoop(context.Background(), 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	var md, page bytes.Buffer
	opts := report.RenderOptions{Plan: run.plan, TopDifferences: 50, Build: testBuild}
	if err := report.RenderMarkdown(&md, run.snapshot, opts); err != nil {
		t.Fatal(err)
	}
	if err := report.RenderStaticHTML(&page, run.snapshot, opts); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	snapPath := filepath.Join(dir, "snapshot.json")
	if err := report.WriteSnapshotFile(snapPath, run.snapshot); err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{md.String(), page.String()} {
		for _, s := range demoSecrets {
			if strings.Contains(text, s) {
				t.Errorf("a report holds the secret %q", s)
			}
		}
	}

	primary, candidate := startStandin(t, standin.NewSvelteKit(standin.Options{})), startStandin(t, standin.NewFastify(standin.Options{}))
	for _, r := range standin.Regressions {
		t.Run(r.Route+" "+r.Path, func(t *testing.T) {
			out, errOut, code := runInProcess(t, nil, "repro", "--kind", r.Kind, snapPath, r.Route, r.Path)
			if code != exitOK {
				t.Fatalf("parity repro: exit %d: %s", code, errOut)
			}
			if !strings.Contains(md.String(), "  "+strings.ReplaceAll(strings.TrimSuffix(out, "\n"), "\n", "\n  ")) {
				t.Errorf("the Markdown report lacks the reproducer:\n%s", out)
			}
			if !strings.Contains(page.String(), html.EscapeString(out)) {
				t.Errorf("the HTML report lacks the reproducer:\n%s", out)
			}
			for _, s := range demoSecrets {
				if strings.Contains(out, s) {
					t.Fatalf("the reproducer holds the secret %q:\n%s", s, out)
				}
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			diffLine := lines[len(lines)-1]
			work := t.TempDir()
			// The engineer fills in the placeholders: any signed-in user will do.
			env := append(os.Environ(), "PRIMARY="+primary, "CANDIDATE="+candidate,
				"AUTHORIZATION=Bearer engineer-token", "COOKIE=portal_session=engineer-session", "BODY_SECRET_1=s1001")
			for _, l := range lines[:len(lines)-1] {
				if strings.HasPrefix(l, "#") {
					continue
				}
				if !strings.HasPrefix(l, "curl ") {
					t.Fatalf("unexpected line %q", l)
				}
				sh := exec.Command("sh", "-c", strings.Replace(l, "curl", curl, 1))
				sh.Dir, sh.Env = work, env
				if b, err := sh.CombinedOutput(); err != nil {
					t.Fatalf("%s: %v\n%s", l, err, b)
				}
			}
			args := strings.Fields(strings.TrimPrefix(diffLine, "parity "))
			for i, a := range args {
				if !strings.HasPrefix(a, "-") && i > 0 {
					args[i] = filepath.Join(work, a)
				}
			}
			got, errOut, code := runInProcess(t, nil, args...)
			if code != exitDifferent {
				t.Fatalf("%s: exit %d, want 1 (different): %s%s", diffLine, code, got, errOut)
			}
			if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(wantDiffPath(r.Path))).MatchString(got) {
				t.Errorf("%s shows no difference at %s:\n%s", diffLine, r.Path, got)
			}
		})
	}
}

// wantDiffPath is the start of the path parity diff prints for a pattern: up
// to its first "#", where the exact index stands.
func wantDiffPath(pattern string) string {
	p, _, _ := strings.Cut(pattern, "#")
	return p
}

func startStandin(t *testing.T, h interface {
	ServeHTTP(w http.ResponseWriter, r *http.Request)
}) string {
	t.Helper()
	srv, err := standin.Start(h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(context.Background()) })
	return srv.URL
}
