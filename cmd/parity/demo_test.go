package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/parity-dev/parity/fixtures/standin"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/report/route"
)

// optedInWrites are the writes fixtures/parity.yaml lets reach the candidate: the
// routes with mirror_writes and those under shadow.write_routes.
var optedInWrites = map[string]bool{
	"POST /api/chat": true, "POST /api/sessions": true,
	"POST /api/tools/execute": true, "POST /api/tools/approve": true,
}

// TestDemoLoop runs the demo's loop in process, on another data set than the
// recorded one, and checks its findings against what the stand-ins plant.
func TestDemoLoop(t *testing.T) {
	t.Parallel() // seconds of replay: overlap with the other demo run
	run, err := runDemoLoop(context.Background(), 7, 1)
	if err != nil {
		t.Fatal(err)
	}
	snap := run.snapshot
	if run.stats.Interrupted || run.stats.Compared < 800 {
		t.Fatalf("replay stats %+v: want a whole replay", run.stats)
	}

	t.Run("every planted regression is found at its route, path and kind", func(t *testing.T) {
		for _, r := range standin.Regressions {
			rs := snap.Route(r.Route)
			if rs == nil {
				t.Errorf("%s: route not in the snapshot", r.Route)
				continue
			}
			found := false
			for _, d := range rs.Differences {
				found = found || d.Path == r.Path && d.Kind == r.Kind
			}
			if !found {
				t.Errorf("%s: no %s difference at %s; got %v", r.Route, r.Kind, r.Path, groups(rs))
			}
		}
	})

	t.Run("routes at parity show no difference", func(t *testing.T) {
		regressed := map[string]bool{}
		for _, r := range standin.Regressions {
			regressed[r.Route] = true
		}
		checked := 0
		for _, rt := range standin.Routes() {
			rs := snap.Route(rt.Key())
			if !rt.Fastify || regressed[rt.Key()] || rs == nil || rs.Compared == 0 {
				continue
			}
			checked++
			if rs.Mismatched != 0 || len(rs.Differences) != 0 || rs.CandidateErrors != 0 {
				t.Errorf("%s: %d of %d mismatched, %d candidate errors: %v", rt.Key(), rs.Mismatched, rs.Compared, rs.CandidateErrors, groups(rs))
			}
		}
		if checked < 7 {
			t.Errorf("only %d routes at parity were compared", checked)
		}
	})

	t.Run("noise is learned, not reported", func(t *testing.T) {
		want := map[string][]string{
			"GET /api/health":       {"body.generatedAt", "body.uptime"},
			"GET /api/sessions/:id": {"body.meta.requestId"},
		}
		for route, paths := range want {
			rs := snap.Route(route)
			if rs == nil {
				t.Fatalf("%s: not in the snapshot", route)
			}
			var got []string
			for _, n := range rs.Noise {
				got = append(got, n.Path)
			}
			for _, p := range paths {
				if !contains(got, p) {
					t.Errorf("%s: noise %v lacks %s", route, got, p)
				}
			}
		}
	})

	t.Run("the candidate never got auth or an unopted write", func(t *testing.T) {
		var auth, writes []string
		for _, key := range run.candidate.Keys() {
			method, path, _ := strings.Cut(key, " ")
			if canon, _ := route.Canonicalize(path); report.IsAuthPath(canon) || strings.Contains(strings.ToLower(path), "auth") {
				auth = append(auth, key)
			}
			if method != "GET" && method != "HEAD" && method != "OPTIONS" && !optedInWrites[routeKeyOf(key)] {
				writes = append(writes, key)
			}
		}
		if len(auth) != 0 || len(writes) != 0 {
			t.Errorf("candidate received auth %v and unopted writes %v", auth, writes)
		}
		// The traffic did hold both, and the primary answered them.
		primaryAuth, primaryDeletes := 0, 0
		for key, n := range run.primary.Counts() {
			if strings.Contains(strings.ToLower(key), "auth/") {
				primaryAuth += n
			}
			if strings.HasPrefix(key, "DELETE ") {
				primaryDeletes += n
			}
		}
		if primaryAuth == 0 || primaryDeletes == 0 {
			t.Errorf("primary got %d auth requests and %d deletes: the traffic should hold both", primaryAuth, primaryDeletes)
		}
		if _, authLeaks, unopted := candidateProof(run); len(authLeaks) != 0 || len(unopted) != 0 {
			t.Errorf("the demo's own proof line disagrees: auth %v, unopted %v", authLeaks, unopted)
		}
	})

	t.Run("secrets stay out of the snapshot", func(t *testing.T) {
		var buf bytes.Buffer
		if err := report.WriteSnapshot(&buf, snap); err != nil {
			t.Fatal(err)
		}
		assertNoSecrets(t, "snapshot", buf.String())
		rs := snap.Route("GET /api/v1/workflows/:id")
		for _, d := range rs.Differences {
			for _, ex := range d.Examples {
				if d.Path == "body.createdBy.passwordHash" && !strings.HasPrefix(ex.Candidate, "[redacted") {
					t.Errorf("password hash example not redacted: %q", ex.Candidate)
				}
			}
		}
	})

	t.Run("every step is judged, and the regressed ones fail", func(t *testing.T) {
		var got []string
		for _, g := range run.gates {
			got = append(got, g.StepName+": "+string(g.Verdict))
		}
		// Step 1's routes match fully; whether they also pass depends on latency,
		// which a loaded machine decides. Steps 2 to 5 carry planted regressions.
		want := []string{"Health & Metrics Only", "Read-Only Routes: fail", "Write Routes: fail", "Versioned API: fail", "Full Proxy: fail"}
		if len(got) != len(want) {
			t.Fatalf("gates %v, want 5", got)
		}
		for i := 1; i < len(want); i++ {
			if got[i] != want[i] {
				t.Errorf("step %d: %s, want %s", i+1, got[i], want[i])
			}
		}
		for _, r := range run.gates[0].Routes {
			if r.Stats == nil || r.Stats.Matched != r.Stats.Compared || r.Stats.Compared < 50 {
				t.Errorf("step 1 route %s: want at least 50 compared, all matched; got %+v", r.Route, r.Stats)
			}
		}
	})
}

func groups(rs *report.RouteStats) []string {
	var out []string
	for _, d := range rs.Differences {
		out = append(out, d.Path+" "+d.Kind)
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// routeKeyOf turns a counter key, "DELETE /api/sessions/s1001", into the stand-ins'
// route key.
func routeKeyOf(key string) string {
	method, path, _ := strings.Cut(key, " ")
	for _, rt := range standin.Routes() {
		if rt.Matches(method, path) {
			return rt.Key()
		}
	}
	return key
}

// secretCanaries are the fake secrets the recorded traffic carries.
var secretCanaries = []string{"demo-token-0f3b9c2e5a7d41c8b6e2", "demo-session-3f9a1c0e7b2d4e68",
	"demo-session-81d0b6a2c4f95e37", "FakeHashForTestsOnly"}

func assertNoSecrets(t *testing.T, what, text string) {
	t.Helper()
	for _, c := range secretCanaries {
		if strings.Contains(text, c) {
			t.Errorf("%s holds the secret %q", what, c)
		}
	}
}

// TestDemoCommand runs `parity demo` in process as a user would. One run only: a
// demo replays the whole traffic, which takes seconds under the race detector.
func TestDemoCommand(t *testing.T) {
	t.Parallel()
	t.Run("--out DIR with JSON on stdout", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "new", "dir")
		stdout, stderr, code := runInProcess(t, nil, "demo", "--rounds", "1", "--format", "json", "--out", dir)
		if code != exitOK {
			t.Fatalf("exit %d, stderr %s", code, stderr)
		}
		// stdout is the snapshot, then one gate result per step.
		dec := json.NewDecoder(strings.NewReader(stdout))
		var snap report.Snapshot
		if err := dec.Decode(&snap); err != nil || len(snap.Routes) == 0 {
			t.Fatalf("first JSON document is not a snapshot: %v", err)
		}
		steps := 0
		for {
			var g report.GateResult
			err := dec.Decode(&g)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("gate result %d: %v", steps+1, err)
			}
			steps++
			if g.Step != steps || g.Verdict == "" {
				t.Errorf("gate result %d: step %d verdict %q", steps, g.Step, g.Verdict)
			}
		}
		if steps != 5 {
			t.Errorf("%d gate results, want 5", steps)
		}
		if !strings.Contains(stderr, "none under /api/auth;") || !strings.Contains(stderr, "all on routes the configuration opts in") {
			t.Errorf("stderr lacks the candidate's proof line:\n%s", stderr)
		}
		for _, name := range []string{demoHTML, "snapshot.json"} {
			if !strings.Contains(stderr, filepath.Join(dir, name)) {
				t.Errorf("stderr does not say where %s is:\n%s", name, stderr)
			}
		}
		page, err := os.ReadFile(filepath.Join(dir, demoHTML))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(page, []byte("parity demo")) {
			t.Errorf("HTML report lacks its title")
		}
		assertNoSecrets(t, "HTML report", string(page))
		saved, err := report.ReadSnapshotFile(filepath.Join(dir, "snapshot.json"))
		if err != nil {
			t.Fatal(err)
		}
		if saved.Route("GET /api/sessions/:id") == nil {
			t.Errorf("saved snapshot lacks GET /api/sessions/:id")
		}
		assertNoSecrets(t, "stdout", stdout)
	})
}

func TestDemoOutputs(t *testing.T) {
	t.Run("default is parity-report.html here", func(t *testing.T) {
		dir := t.TempDir()
		t.Chdir(dir)
		var o demoOutputs
		if err := o.prepare(); err != nil {
			t.Fatal(err)
		}
		lines, err := o.write(report.NewAggregator(report.Limits{}).Snapshot(), report.RenderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wd, _ := os.Getwd()
		if diff := cmp.Diff([]string{"HTML report: " + filepath.Join(wd, demoHTML)}, lines); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
		if _, err := os.Stat(filepath.Join(dir, demoHTML)); err != nil {
			t.Error(err)
		}
	})
	dir := t.TempDir()
	snap := report.NewAggregator(report.Limits{}).Snapshot()
	o := demoOutputs{html: filepath.Join(dir, "r.html")}
	if err := o.prepare(); err != nil {
		t.Fatal(err)
	}
	lines, err := o.write(snap, report.RenderOptions{Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"HTML report: " + filepath.Join(dir, "r.html")}, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, "r.html")); err != nil {
		t.Error(err)
	}
	if err := (&demoOutputs{html: dir}).prepare(); err == nil {
		t.Errorf("-o naming a directory: no error")
	}
}

func TestDemoUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		err  string
	}{
		{"an argument", []string{"demo", "extra"}, `unexpected argument "extra"`},
		{"unknown format", []string{"demo", "--format", "yaml"}, `--format "yaml"`},
		{"both outputs", []string{"demo", "-o", "x.html", "--out", "d"}, "not both"},
		{"bad seed", []string{"demo", "--seed", "many"}, "seed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runBinary(t, nil, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr, tc.err) || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("stderr %q: want one line with %q", stderr, tc.err)
			}
		})
	}
}

// TestExampleCIUsesRealFlags holds fixtures/ci/parity.yml to the commands: every
// parity invocation in its scripts names a command and flags that exist.
func TestExampleCIUsesRealFlags(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "fixtures", "ci", "parity.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("parity.yml: %v", err)
	}
	flagRE := regexp.MustCompile(`(?:^|[\s+])(--?[a-z][a-z-]*)`)
	seen := map[string]bool{}
	for _, job := range wf.Jobs {
		for _, st := range job.Steps {
			script := strings.ReplaceAll(st.Run, "\\\n", " ")
			for _, line := range strings.Split(script, "\n") {
				fields := strings.Fields(line)
				if len(fields) < 2 || fields[0] != "parity" {
					continue
				}
				cmd := fields[1]
				_, usage, code := runInProcessUsage(t, cmd)
				if code != exitOK {
					t.Errorf("parity %s -h: exit %d", cmd, code)
					continue
				}
				for _, m := range flagRE.FindAllStringSubmatch(strings.Join(fields[2:], " "), -1) {
					name := strings.TrimLeft(m[1], "-")
					if !regexp.MustCompile(`(?m)^\s+-` + regexp.QuoteMeta(name) + `\b`).MatchString(usage) {
						t.Errorf("parity %s: no flag -%s", cmd, name)
					}
				}
				seen[cmd] = true
			}
		}
	}
	if diff := cmp.Diff(map[string]bool{"replay": true, "report": true, "gate": true}, seen); diff != "" {
		t.Errorf("commands the job runs (-want +got):\n%s", diff)
	}
}

// runInProcessUsage returns a command's -h output.
func runInProcessUsage(t *testing.T, cmd string) (string, string, int) {
	t.Helper()
	stdout, _, code := runInProcess(t, nil, cmd, "-h")
	return cmd, stdout, code
}

// BenchmarkDemoLoop shows how long the demo's replay takes: stand-ins started, the
// built-in traffic replayed to three backends, every step judged.
func BenchmarkDemoLoop(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := runDemoLoop(context.Background(), 0, demoRounds); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDemoRouteKeysAreTheStandInsRoutes: on the demo's recorded traffic every
// compared route's key is a route of the stand-in backends (parameters named as keys
// name them), one row per route, whatever the ids in the paths. (Routes never
// mirrored — auth, the setup wizard — show the few values their parameter took, as
// the learning rule keeps few frequent values literal.)
func TestDemoRouteKeysAreTheStandInsRoutes(t *testing.T) {
	run, err := runDemoLoop(context.Background(), 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	real := map[string]bool{}
	for _, r := range standin.Routes() {
		real[anyParam(r.Method+" "+r.Pattern)] = true
		if r.Method == "GET" {
			real[anyParam("HEAD "+r.Pattern)] = true
		}
	}
	var unknown []string
	for _, rs := range run.snapshot.Routes {
		if rs.MirroredCount() > 0 && !real[anyParam(rs.Route)] {
			unknown = append(unknown, rs.Route)
		}
	}
	if len(unknown) > 0 {
		t.Errorf("route keys that are no route of the stand-ins: %q", unknown)
	}
}

// anyParam writes every ":name" segment of a route key as ":".
func anyParam(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = ":"
		}
	}
	return strings.Join(segs, "/")
}
