package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/report"
)

// replayBackend is a loopback backend that records the request lines it receives.
type replayBackend struct {
	*httptest.Server
	mu  sync.Mutex
	got []string
}

func newReplayBackend(t *testing.T, answer string) *replayBackend {
	t.Helper()
	b := &replayBackend{}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		b.mu.Lock()
		b.got = append(b.got, r.Method+" "+r.RequestURI)
		b.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, answer)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *replayBackend) requests() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := append([]string(nil), b.got...)
	sort.Strings(out)
	return out
}

func writeTemp(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const replayNDJSON = `{"method":"GET","url":"/api/sessions?limit=10"}
{"method":"GET","url":"/api/sessions/42"}
{"method":"GET","url":"/api/auth/session"}
{"method":"POST","url":"/api/sessions","body":"{}"}
{"method":"GET","url":"/api/activity"
{"method":"GET","url":"/API/%61uth/x"}
`

func TestReplayCommand(t *testing.T) {
	primary := newReplayBackend(t, `{"items":[1,2]}`)
	candidate := newReplayBackend(t, `{"items":[1,3]}`)
	traffic := writeTemp(t, "traffic.ndjson", replayNDJSON)
	snapshot := filepath.Join(t.TempDir(), "out", "snap.json")
	if err := os.MkdirAll(filepath.Dir(snapshot), 0o755); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := runInProcess(t, map[string]string{"SVELTEKIT_URL": primary.URL, "FASTIFY_URL": "http://127.0.0.1:1"},
		"replay", "--traffic", traffic, "--candidate", candidate.URL, "--snapshot", snapshot, "--concurrency", "2")
	if code != exitOK {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	// The environment gives the primary, the flag overrides the environment's candidate.
	if diff := cmp.Diff([]string{"GET /api/sessions/42", "GET /api/sessions?limit=10"}, candidate.requests()); diff != "" {
		t.Errorf("candidate received (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"GET /API/%61uth/x", "GET /api/auth/session", "GET /api/sessions/42", "GET /api/sessions?limit=10", "POST /api/sessions"}, primary.requests()); diff != "" {
		t.Errorf("primary received (-want +got):\n%s", diff)
	}
	for _, want := range []string{
		"parity: replay: " + traffic + ": skipped line 5: bad JSON",
		"replayed 5 requests in ",
		": 2 compared, 3 skipped (auth 2, write_method 1); snapshot written to " + snapshot,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	}
	snap, err := report.ReadSnapshotFile(snapshot)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][3]int64{}
	for _, r := range snap.Routes {
		got[r.Route] = [3]int64{r.Compared, r.Mismatched, r.Skipped[string(report.SkipAuth)] + r.Skipped[string(report.SkipWriteMethod)]}
	}
	want := map[string][3]int64{
		"GET /api/sessions":     {1, 1, 0},
		"GET /api/sessions/:id": {1, 1, 0},
		"GET /api/auth/session": {0, 0, 1},
		"GET /api/auth/x":       {0, 0, 1},
		"POST /api/sessions":    {0, 0, 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("snapshot routes [compared mismatched skipped] (-want +got):\n%s", diff)
	}
	if !strings.Contains(stdout, "/api/sessions") {
		t.Errorf("no report on stdout:\n%s", stdout)
	}
}

func TestReplayCommandConfigAndWrites(t *testing.T) {
	primary, candidate := newReplayBackend(t, `{}`), newReplayBackend(t, `{}`)
	cfg := writeTemp(t, "parity.yaml", "candidate: "+candidate.URL+"\nshadow:\n  exclude: [/api/sessions/]\n")
	traffic := writeTemp(t, "t.ndjson", replayNDJSON)
	_, stderr, code := runInProcess(t, nil, "replay", traffic, "--config", cfg, "--primary", primary.URL, "--allow-writes")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if diff := cmp.Diff([]string{"GET /api/sessions?limit=10", "POST /api/sessions"}, candidate.requests()); diff != "" {
		t.Errorf("candidate received (-want +got):\n%s", diff)
	}
}

// TestReplayCommandBadInput: every bad input is one line and exit 2, and nothing is
// sent before the input is known good.
func TestReplayCommandBadInput(t *testing.T) {
	primary, candidate := newReplayBackend(t, `{}`), newReplayBackend(t, `{}`)
	good := writeTemp(t, "good.ndjson", replayNDJSON)
	truncated := writeTemp(t, "cut.har", `{"log":{"entries":[{"request":{"method":"GET","url":"https://h/api/a"}},{"request":{"meth`)
	html := writeTemp(t, "page.html", "<html></html>\n")
	badCfg := writeTemp(t, "parity.yaml", "cutover:\n  routes: [/api/auth]\n")
	backends := []string{"--primary", primary.URL, "--candidate", candidate.URL}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no traffic", backends, "parity: replay: no traffic: give --traffic FILE"},
		{"missing file", append([]string{"--traffic", filepath.Join(t.TempDir(), "none.har")}, backends...), "parity: replay: read traffic: open "},
		{"truncated HAR after a good file", append([]string{"--traffic", good, "--traffic", truncated}, backends...), "parity: replay: " + truncated + ": truncated HAR: the file ends in entry 2, at byte"},
		{"not traffic", append([]string{"--traffic", html}, backends...), "parity: replay: " + html + `: not HAR or NDJSON traffic (starts with "<html></html>")`},
		{"bad config", append([]string{"--traffic", good, "--config", badCfg}, backends...), "parity: replay: " + badCfg + `:2: cutover.routes[0]: prefix "/api/auth" covers /api/auth`},
		{"bad candidate", []string{"--traffic", good, "--candidate", "ftp://x"}, `parity: replay: --candidate "ftp://x": want an http or https URL with a host`},
		{"bad candidate from the environment", []string{"--traffic", good, "--primary", primary.URL}, `parity: replay: FASTIFY_URL: URL "localhost:3001": scheme must be http or https`},
		{"bad concurrency", append([]string{"--traffic", good, "--concurrency", "0"}, backends...), "parity: replay: --concurrency 0: want at least 1"},
		{"bad rate", append([]string{"--traffic", good, "--rate", "-1"}, backends...), "parity: replay: --rate -1: want 0"},
		{"bad timeout", append([]string{"--traffic", good, "--timeout", "soon"}, backends...), "parity: replay: invalid value \"soon\" for flag -timeout"},
		{"unknown flag", append([]string{"--traffic", good, "--wat"}, backends...), "parity: replay: flag provided but not defined: -wat"},
		{"bad plan", append([]string{"--traffic", good, "--plan", html}, backends...), "parity: replay: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := []string{"FASTIFY_URL=", "SVELTEKIT_URL="}
			if strings.Contains(tc.name, "environment") {
				env = []string{"FASTIFY_URL=localhost:3001"}
			}
			_, stderr, code := runBinary(t, env, append([]string{"replay"}, tc.args...)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr %q", code, exitUsage, stderr)
			}
			if !strings.HasPrefix(stderr, tc.want) {
				t.Errorf("stderr = %q, want it to start with %q", stderr, tc.want)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("error is not one line: %q", stderr)
			}
		})
	}
	if got := len(primary.requests()) + len(candidate.requests()); got != 0 {
		t.Errorf("%d requests sent on bad input", got)
	}
}
