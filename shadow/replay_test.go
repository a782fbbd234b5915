package shadow

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/traffic"
)

// countingBackend is a real loopback server that records what it receives.
type countingBackend struct {
	*httptest.Server
	mu   sync.Mutex
	got  []receivedRequest
	body func(r *http.Request) (int, string) // the answer; nil = 200 {"ok":true}
}

type receivedRequest struct {
	Method, Target, RequestID, Body string
}

func newCountingBackend(t *testing.T, answer func(r *http.Request) (int, string)) *countingBackend {
	t.Helper()
	b := &countingBackend{body: answer}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.got = append(b.got, receivedRequest{r.Method, r.RequestURI, r.Header.Get("X-Request-Id"), string(body)})
		b.mu.Unlock()
		status, text := 200, `{"ok":true}`
		if b.body != nil {
			status, text = b.body(r)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, text)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *countingBackend) targets() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, r := range b.got {
		out = append(out, r.Method+" "+r.Target)
	}
	sort.Strings(out)
	return out
}

func (b *countingBackend) requests() []receivedRequest {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]receivedRequest(nil), b.got...)
}

func parseTestURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// observationLog collects what a replay observes.
type observationLog struct {
	mu  sync.Mutex
	all []report.Observation
}

func (o *observationLog) Observe(x report.Observation) {
	o.mu.Lock()
	o.all = append(o.all, x)
	o.mu.Unlock()
}

func ndjsonTraffic(t testing.TB, lines ...string) traffic.Reader {
	t.Helper()
	tr, err := traffic.Open("test.ndjson", strings.NewReader(strings.Join(lines, "\n")+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// replayTraffic is every kind of request the eligibility rules tell apart.
var replayTraffic = []string{
	`{"method":"GET","url":"/api/sessions?limit=10","headers":{"X-Request-Id":["rec-1"]}}`,
	`{"method":"GET","url":"/api/auth/session"}`,
	`{"method":"GET","url":"/API/%61uth/callback?code=x"}`,
	`{"method":"POST","url":"/api//auth/sign-in","body":"{\"email\":\"a@b\"}"}`,
	`{"method":"GET","url":"/api/sessions%2F..%2Fauth"}`,
	`{"method":"POST","url":"/api/sessions","body":"{\"title\":\"new\"}"}`,
	`{"method":"DELETE","url":"/api/sessions/7"}`,
	`{"method":"POST","url":"/api/tools/execute","body":"{\"tool\":\"ls\"}"}`,
	`{"method":"GET","url":"/api/metrics"}`,
	`{"method":"GET","url":"/dashboard"}`,
	`{"method":"GET","url":"/api/v1/search?q=a;b=2&c=%zz","headers":{"X-Http-Method-Override":["DELETE"]}}`,
	`{"method":"PUT","url":"/api/v1/workflows/9","body_missing":"truncated","body":"{"}`,
	`{"method":"GET","url":"/api/v1/workflows/9/../8/./runs"}`,
}

const replayConfig = "cutover:\n  enabled: true\n  routes: [/api/sessions]\nshadow:\n  sample: 0\n  write_routes: [/api/tools/]\n  exclude: [/api/metrics]\n"

func TestReplayEligibility(t *testing.T) {
	for _, allowWrites := range []bool{false, true} {
		t.Run(fmt.Sprintf("allow writes %v", allowWrites), func(t *testing.T) {
			primary, candidate := newCountingBackend(t, nil), newCountingBackend(t, nil)
			obs := &observationLog{}
			rp := &Replayer{
				Primary: parseTestURL(t, primary.URL), Candidate: parseTestURL(t, candidate.URL),
				Router: yamlRouter(t, replayConfig), Observer: obs, AllowWrites: allowWrites,
			}
			stats, err := rp.Run(context.Background(), ndjsonTraffic(t, replayTraffic...))
			if err != nil {
				t.Fatal(err)
			}
			wantPrimary := []string{
				"DELETE /api/sessions/7",
				"GET /API/%61uth/callback?code=x",
				"GET /api/auth/session",
				"GET /api/metrics",
				"GET /api/sessions%2F..%2Fauth",
				"GET /api/sessions?limit=10",
				"GET /api/v1/search?q=a;b=2&c=%zz",
				"GET /api/v1/workflows/9/../8/./runs",
				"GET /dashboard",
				"POST /api//auth/sign-in",
				"POST /api/sessions",
				"POST /api/tools/execute",
			}
			// Cut-over and sampled-out routes are compared all the same; auth,
			// ambiguous and excluded paths never reach the candidate; writes only
			// where opted in, or all of them with AllowWrites.
			wantCandidate := []string{
				"GET /api/sessions?limit=10",
				"GET /api/v1/workflows/9/../8/./runs",
				"POST /api/tools/execute",
			}
			wantSkips := map[report.SkipReason]int{report.SkipAuth: 3, report.SkipAmbiguous: 1, report.SkipExcluded: 1,
				report.SkipWriteMethod: 3, report.SkipBodyTooLarge: 1}
			if allowWrites {
				wantCandidate = append(wantCandidate, "DELETE /api/sessions/7", "GET /api/v1/search?q=a;b=2&c=%zz", "POST /api/sessions")
				sort.Strings(wantCandidate)
				wantSkips = map[report.SkipReason]int{report.SkipAuth: 3, report.SkipAmbiguous: 1, report.SkipExcluded: 1, report.SkipBodyTooLarge: 1}
			}
			if diff := cmp.Diff(wantPrimary, primary.targets()); diff != "" {
				t.Errorf("primary receivedRequest (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantCandidate, candidate.targets()); diff != "" {
				t.Errorf("candidate receivedRequest (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantSkips, stats.Skipped); diff != "" {
				t.Errorf("skips (-want +got):\n%s", diff)
			}
			if stats.Read != len(replayTraffic) || stats.Compared != len(wantCandidate) || stats.NotAPI != 1 || stats.Interrupted {
				t.Errorf("stats = %+v", stats)
			}
			if got := len(obs.all); got != len(replayTraffic)-1 {
				t.Errorf("%d observationLog, want one per /api request (%d)", got, len(replayTraffic)-1)
			}
		})
	}
}

// TestReplaySameRequestID: both backends get the same id, the recorded one or a
// generated one, and the observation carries it.
func TestReplaySameRequestID(t *testing.T) {
	primary, candidate := newCountingBackend(t, nil), newCountingBackend(t, nil)
	obs := &observationLog{}
	rp := &Replayer{Primary: parseTestURL(t, primary.URL), Candidate: parseTestURL(t, candidate.URL), Observer: obs, Concurrency: 3}
	var lines []string
	for i := range 12 {
		id := ""
		if i%2 == 0 {
			id = fmt.Sprintf(`,"headers":{"X-Request-Id":["rec-%d"]}`, i)
		}
		lines = append(lines, fmt.Sprintf(`{"method":"GET","url":"/api/sessions/%d"%s}`, i, id))
	}
	if _, err := rp.Run(context.Background(), ndjsonTraffic(t, lines...)); err != nil {
		t.Fatal(err)
	}
	ids := func(b *countingBackend) map[string]string {
		m := map[string]string{}
		for _, r := range b.requests() {
			m[r.Target] = r.RequestID
		}
		return m
	}
	p, c := ids(primary), ids(candidate)
	if diff := cmp.Diff(p, c); diff != "" {
		t.Errorf("request ids differ between backends (-primary +candidate):\n%s", diff)
	}
	seen := map[string]bool{}
	for target, id := range p {
		if id == "" || seen[id] {
			t.Errorf("%s: id %q empty or reused", target, id)
		}
		seen[id] = true
	}
	if p["/api/sessions/4"] != "rec-4" {
		t.Errorf("recorded id not kept: %q", p["/api/sessions/4"])
	}
	for _, o := range obs.all {
		if !seen[o.RequestID] {
			t.Errorf("observation id %q was not sent", o.RequestID)
		}
	}
}

// TestReplayConcurrentPerRequest: a request goes to both backends at once — each
// backend holds its answer until the other one has the request too.
func TestReplayConcurrentPerRequest(t *testing.T) {
	arrived := map[string]chan struct{}{"p": make(chan struct{}), "c": make(chan struct{})}
	hold := func(me, other string) func(*http.Request) (int, string) {
		return func(r *http.Request) (int, string) {
			close(arrived[me])
			select {
			case <-arrived[other]:
				return 200, `{"ok":true}`
			case <-time.After(waitLimit):
				return 599, `{"sequential":true}`
			}
		}
	}
	primary, candidate := newCountingBackend(t, hold("p", "c")), newCountingBackend(t, hold("c", "p"))
	obs := &observationLog{}
	rp := &Replayer{Primary: parseTestURL(t, primary.URL), Candidate: parseTestURL(t, candidate.URL), Observer: obs, Timeout: 2 * waitLimit}
	if _, err := rp.Run(context.Background(), ndjsonTraffic(t, `{"method":"GET","url":"/api/activity"}`)); err != nil {
		t.Fatal(err)
	}
	if len(obs.all) != 1 || obs.all[0].PrimaryStatus != 200 || obs.all[0].CandidateStatus != 200 {
		t.Errorf("observationLog = %+v, want both answered 200", obs.all)
	}
}

func TestReplayComparesAndLearnsNoise(t *testing.T) {
	n := 0
	var mu sync.Mutex
	stamp := func() int { mu.Lock(); defer mu.Unlock(); n++; return n }
	primary := newCountingBackend(t, func(*http.Request) (int, string) {
		return 200, fmt.Sprintf(`{"items":[1,2],"generatedAt":"t%d"}`, stamp())
	})
	secondary := newCountingBackend(t, func(*http.Request) (int, string) {
		return 200, fmt.Sprintf(`{"items":[1,2],"generatedAt":"t%d"}`, stamp())
	})
	candidate := newCountingBackend(t, func(*http.Request) (int, string) {
		return 200, fmt.Sprintf(`{"items":[1,3],"generatedAt":"t%d"}`, stamp())
	})
	obs := &observationLog{}
	rp := &Replayer{Primary: parseTestURL(t, primary.URL), Candidate: parseTestURL(t, candidate.URL), Secondary: parseTestURL(t, secondary.URL), Observer: obs}
	if _, err := rp.Run(context.Background(), ndjsonTraffic(t, `{"method":"GET","url":"/api/activity"}`)); err != nil {
		t.Fatal(err)
	}
	if len(obs.all) != 1 {
		t.Fatalf("%d observationLog", len(obs.all))
	}
	o := obs.all[0]
	var paths []string
	for _, d := range o.Differences {
		paths = append(paths, d.Path)
	}
	if diff := cmp.Diff([]string{"body.items.1"}, paths); diff != "" {
		t.Errorf("differences (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"body.generatedAt"}, o.Noise); diff != "" {
		t.Errorf("noise (-want +got):\n%s", diff)
	}
	if len(secondary.requests()) != 1 {
		t.Errorf("secondary got %d requests", len(secondary.requests()))
	}
}

func TestReplayFailures(t *testing.T) {
	primary := newCountingBackend(t, nil)
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := parseTestURL(t, down.URL)
	down.Close() // refuses connections from now on
	obs := &observationLog{}
	rp := &Replayer{Primary: parseTestURL(t, primary.URL), Candidate: downURL, Observer: obs}
	stats, err := rp.Run(context.Background(), ndjsonTraffic(t, `{"method":"GET","url":"/api/activity"}`))
	if err != nil {
		t.Fatal(err)
	}
	if stats.Compared != 1 || stats.CandidateErrors != 1 || obs.all[0].CandidateError == "" {
		t.Errorf("candidate down: stats %+v, observation %+v", stats, obs.all)
	}
	obs = &observationLog{}
	rp = &Replayer{Primary: downURL, Candidate: parseTestURL(t, primary.URL), Observer: obs}
	stats, err = rp.Run(context.Background(), ndjsonTraffic(t, `{"method":"GET","url":"/api/activity"}`))
	if err != nil {
		t.Fatal(err)
	}
	if stats.Skipped[report.SkipPrimaryFailed] != 1 || obs.all[0].Skipped != report.SkipPrimaryFailed {
		t.Errorf("primary down: stats %+v, observation %+v", stats, obs.all)
	}
	if _, err := (&Replayer{}).Run(context.Background(), ndjsonTraffic(t, `{"method":"GET","url":"/"}`)); err == nil {
		t.Error("Run without backends did not fail")
	}
}

func TestReplayTruncatedTraffic(t *testing.T) {
	primary, candidate := newCountingBackend(t, nil), newCountingBackend(t, nil)
	har := `{"log":{"entries":[{"request":{"method":"GET","url":"https://h/api/a"}},{"request":{"method":"GET","url":"https://h/api/b"}},{"requ`
	tr, err := traffic.Open("cut.har", strings.NewReader(har))
	if err != nil {
		t.Fatal(err)
	}
	rp := &Replayer{Primary: parseTestURL(t, primary.URL), Candidate: parseTestURL(t, candidate.URL)}
	stats, err := rp.Run(context.Background(), tr)
	if err == nil || !strings.HasPrefix(err.Error(), "cut.har: truncated HAR") {
		t.Fatalf("err = %v, want the truncation", err)
	}
	if stats.Compared != 2 || len(candidate.requests()) != 2 {
		t.Errorf("stats %+v, candidate got %d: the requests before the break are replayed", stats, len(candidate.requests()))
	}
}

// TestReplayInterrupted cancels the replay while two requests are in flight: no new
// request is sent, the two finish and are observed.
func TestReplayInterrupted(t *testing.T) {
	release := make(chan struct{})
	arrivals := make(chan string, 100)
	handler := func(r *http.Request) (int, string) {
		arrivals <- r.RequestURI
		<-release
		return 200, `{"ok":true}`
	}
	primary, candidate := newCountingBackend(t, handler), newCountingBackend(t, handler)
	var lines []string
	for i := range 50 {
		lines = append(lines, fmt.Sprintf(`{"method":"GET","url":"/api/sessions/%d"}`, i))
	}
	obs := &observationLog{}
	var progress []int
	rp := &Replayer{Primary: parseTestURL(t, primary.URL), Candidate: parseTestURL(t, candidate.URL), Observer: obs,
		Concurrency: 2, Timeout: 2 * waitLimit, Total: 50, Progress: func(done, total int) { progress = append(progress, done) }}
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		stats ReplayStats
		err   error
	}
	done := make(chan result, 1)
	go func() {
		s, err := rp.Run(ctx, ndjsonTraffic(t, lines...))
		done <- result{s, err}
	}()
	// Two requests in flight, each at both backends.
	for range 4 {
		select {
		case <-arrivals:
		case <-time.After(waitLimit):
			t.Fatal("requests did not arrive")
		}
	}
	cancel()
	close(release)
	var res result
	select {
	case res = <-done:
	case <-time.After(waitLimit):
		t.Fatal("Run did not return after cancel")
	}
	if res.err != nil {
		t.Fatal(res.err)
	}
	s := res.stats
	if !s.Interrupted || s.Read != s.Compared || s.Compared < 2 || s.Compared > 3 {
		t.Errorf("stats = %+v, want interrupted after the 2 in flight (3 if one was handed over as ctx ended)", s)
	}
	if got := len(primary.requests()); got != s.Compared || len(candidate.requests()) != got || len(obs.all) != got {
		t.Errorf("primary %d, candidate %d, observed %d, compared %d: in-flight work lost or more sent", got, len(candidate.requests()), len(obs.all), s.Compared)
	}
	if len(progress) != s.Compared || progress[len(progress)-1] != s.Compared {
		t.Errorf("progress calls %v", progress)
	}
}

func TestReplayRawTargetAndBody(t *testing.T) {
	primary, candidate := newCountingBackend(t, nil), newCountingBackend(t, nil)
	prefixed := parseTestURL(t, candidate.URL+"/base/")
	rp := &Replayer{Primary: parseTestURL(t, primary.URL), Candidate: prefixed, Router: yamlRouter(t, "shadow:\n  write_routes: [/api/tools/]\n")}
	_, err := rp.Run(context.Background(), ndjsonTraffic(t,
		`{"method":"POST","url":"/api/tools/x/%7Euser/./a?z=1&a=%zz;b","headers":{"Content-Length":["999"],"Connection":["X-Drop"],"X-Drop":["1"],"Host":["evil"]},"body":"{\"a\":1}"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []receivedRequest{{Method: "POST", Target: "/api/tools/x/%7Euser/./a?z=1&a=%zz;b", Body: `{"a":1}`}}
	ignoreID := cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".RequestID" }, cmp.Ignore())
	if diff := cmp.Diff(want, primary.requests(), ignoreID); diff != "" {
		t.Errorf("primary (-want +got):\n%s", diff)
	}
	want[0].Target = "/base" + want[0].Target
	if diff := cmp.Diff(want, candidate.requests(), ignoreID); diff != "" {
		t.Errorf("candidate with a path prefix (-want +got):\n%s", diff)
	}
}

func TestReplayRate(t *testing.T) {
	primary, candidate := newCountingBackend(t, nil), newCountingBackend(t, nil)
	rp := &Replayer{Primary: parseTestURL(t, primary.URL), Candidate: parseTestURL(t, candidate.URL), Rate: 1000}
	stats, err := rp.Run(context.Background(), ndjsonTraffic(t, `{"method":"GET","url":"/api/a"}`, `{"method":"GET","url":"/api/b"}`, `{"method":"GET","url":"/api/c"}`))
	if err != nil || stats.Compared != 3 {
		t.Errorf("stats %+v, err %v", stats, err)
	}
}

func BenchmarkReplay(b *testing.B) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"items":[1,2,3]}`) })
	p, c := httptest.NewServer(h), httptest.NewServer(h)
	defer p.Close()
	defer c.Close()
	pu, _ := url.Parse(p.URL)
	cu, _ := url.Parse(c.URL)
	lines := make([]string, 100)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"method":"GET","url":"/api/sessions/%d"}`, i)
	}
	b.ReportAllocs()
	for b.Loop() {
		rp := &Replayer{Primary: pu, Candidate: cu, Concurrency: 4}
		if _, err := rp.Run(context.Background(), ndjsonTraffic(b, lines...)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReplayNeverSendsAuthByDotSegments: a recorded target that leaves /api/auth
// only once its dot segments are resolved is auth to a backend that does not
// resolve them, and the replay sends its targets as recorded: it stays with the
// primary, as it does in the proxy.
func TestReplayNeverSendsAuthByDotSegments(t *testing.T) {
	primary, candidate := newCountingBackend(t, nil), newCountingBackend(t, nil)
	rp := &Replayer{Primary: parseTestURL(t, primary.URL), Candidate: parseTestURL(t, candidate.URL), AllowWrites: true}
	stats, err := rp.Run(context.Background(), ndjsonTraffic(t,
		`{"method":"GET","url":"/api/sessions"}`,
		`{"method":"GET","url":"/api/auth/../sessions"}`,
		`{"method":"POST","url":"/api/auth/%2e%2e/sessions"}`,
		`{"method":"GET","url":"/API/Auth/./../v1/search?q=x"}`,
	))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := candidate.targets(), []string{"GET /api/sessions"}; !slices.Equal(got, want) {
		t.Errorf("the candidate received %q, want only %q", got, want)
	}
	if stats.Skipped[report.SkipAuth] != 3 || len(primary.targets()) != 4 {
		t.Errorf("skipped %v, primary received %q: want 3 auth skips and all 4 at the primary", stats.Skipped, primary.targets())
	}
}
