package shadow

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/fixtures"
	"github.com/parity-dev/parity/fixtures/standin"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
	"github.com/parity-dev/parity/shadow/traffic"
)

// standinNoise is the noise the stand-ins plant on the routes the example config
// lets learn it (refetch), as fixtures/standin/README.md lists it.
var standinNoise = map[string][]string{
	"GET /api/health":       {"body.generatedAt", "body.uptime"},
	"GET /api/sessions":     {"body.generatedAt"},
	"GET /api/sessions/:id": {"body.meta.requestId"},
	"GET /api/activity":     {"body.generatedAt"},
}

// standins are the stand-in backends on httptest servers: the SvelteKit primary,
// a second SvelteKit instance and the Fastify candidate, each counting what it got.
type standins struct {
	primary, secondary, candidate *httptest.Server
	counts                        struct{ primary, secondary, candidate standin.Counter }
}

func startStandins(t *testing.T) *standins {
	t.Helper()
	s := &standins{}
	s.primary = httptest.NewServer(standin.NewSvelteKit(standin.Options{Instance: "sveltekit-1", Counter: &s.counts.primary}))
	s.secondary = httptest.NewServer(standin.NewSvelteKit(standin.Options{Instance: "sveltekit-2", Counter: &s.counts.secondary}))
	s.candidate = httptest.NewServer(standin.NewFastify(standin.Options{Instance: "fastify-1", Counter: &s.counts.candidate}))
	t.Cleanup(func() { s.primary.Close(); s.secondary.Close(); s.candidate.Close() })
	return s
}

func exampleRouter(t *testing.T) *rules.Router {
	t.Helper()
	return yamlRouter(t, string(fixtures.ExampleConfig))
}

// step1Routes are the routes of the plan's first step: all their recorded
// requests are kept, so that the gate has the samples it needs.
var step1Routes = []string{"GET /api/health", "GET /api/healthz", "GET /api/metrics"}

// portalTraffic is the recorded portal traffic, cut to keep the test short under
// -race: every request of step 1's routes and the first perRoute of each other
// route (enough to learn noise and meet every planted regression).
func portalTraffic(t *testing.T, rt *rules.Router, perRoute int) traffic.Reader {
	t.Helper()
	tr, err := traffic.Open("portal.ndjson", bytes.NewReader(fixtures.TrafficNDJSON))
	if err != nil {
		t.Fatal(err)
	}
	kept := &sliceTraffic{}
	seen := map[string]int{}
	for {
		req, err := tr.Next()
		if err == io.EOF {
			return kept
		}
		if err != nil {
			t.Fatal(err)
		}
		route := rt.Decide(&http.Request{Method: req.Method, RequestURI: req.URL, Header: http.Header{}}).Route
		if seen[route]++; seen[route] <= perRoute || slices.Contains(step1Routes, route) {
			kept.reqs = append(kept.reqs, req)
		}
	}
}

// sliceTraffic serves requests held in memory.
type sliceTraffic struct {
	reqs []*traffic.Request
	next int
}

func (s *sliceTraffic) Next() (*traffic.Request, error) {
	if s.next == len(s.reqs) {
		return nil, io.EOF
	}
	s.next++
	return s.reqs[s.next-1], nil
}

func (s *sliceTraffic) Skipped() []traffic.LineError { return nil }
func (s *sliceTraffic) SkippedCount() int            { return 0 }

// checkStandinFindings checks what a run over the stand-ins must find:
// their noise is classified as noise and learned on its route, the routes whose
// only differences are noise reach full parity, every planted regression is still
// found, and the gate passes step 1, whose routes differ only by noise.
func checkStandinFindings(t *testing.T, agg *report.Aggregator) *report.Snapshot {
	t.Helper()
	snap := agg.Snapshot()
	for route, paths := range standinNoise {
		rs := snap.Route(route)
		if rs == nil {
			t.Errorf("%s: not observed", route)
			continue
		}
		for _, p := range paths {
			i := slices.IndexFunc(rs.Noise, func(n report.NoiseCount) bool { return n.Path == p })
			if i < 0 {
				t.Errorf("%s: %s not classified as noise; noise %v, differences %v", route, p, rs.Noise, groupsOf(rs))
				continue
			}
			if n := rs.Noise[i]; !n.Learned || n.Confirmed < report.DefaultNoiseConfirm {
				t.Errorf("%s: %s confirmed %d of %d re-asks, learned %v; want learned", route, p, n.Confirmed, n.Reasks, n.Learned)
			}
		}
		if !slices.Equal(agg.Learned(route), paths) {
			t.Errorf("%s: learned %v, want %v", route, agg.Learned(route), paths)
		}
	}

	regressed := map[string]bool{}
	for _, r := range standin.Regressions {
		regressed[r.Route] = true
		rs := snap.Route(r.Route)
		found := rs != nil && slices.ContainsFunc(rs.Differences, func(g report.DiffGroup) bool { return g.Path == r.Path && g.Kind == string(r.Kind) })
		if !found {
			t.Errorf("%s: planted regression %s %s not found", r.Route, r.Path, r.Kind)
		}
	}
	atParity := 0
	for _, rt := range standin.Routes() {
		rs := snap.Route(rt.Key())
		if !rt.Fastify || regressed[rt.Key()] || rs == nil || rs.Compared == 0 {
			continue
		}
		atParity++
		if rs.Matched != rs.Compared || len(rs.Differences) != 0 {
			t.Errorf("%s: %d of %d matched: %v", rt.Key(), rs.Matched, rs.Compared, groupsOf(rs))
		}
	}
	if atParity < 7 || snap.Route("GET /api/health").Matched == 0 {
		t.Errorf("only %d routes at parity compared", atParity)
	}

	plan, err := report.ParsePlan("plan.yaml", fixtures.Plan)
	if err != nil {
		t.Fatal(err)
	}
	// The guide's thresholds, but for latency: a loaded test machine's p99s say
	// nothing about noise.
	th := plan.Thresholds
	th.MaxP99Ratio = 0
	g, err := report.Judge(snap, plan, 1, th)
	if err != nil {
		t.Fatal(err)
	}
	// A few dozen requests per route are too few for the gate to pass a route
	// at the plan's confidence; what noise must not do is fail one or lower
	// its parity.
	for _, r := range g.Routes {
		if g.Verdict == report.Fail || r.Evidence != nil && r.Evidence.Parity.Estimate != 1 {
			var b bytes.Buffer
			report.RenderGateText(&b, g)
			t.Errorf("gate of step 1: %s, want every route at parity 1 and nothing failing:\n%s", g.Verdict, b.String())
			break
		}
	}
	return snap
}

func groupsOf(rs *report.RouteStats) []string {
	var out []string
	for _, g := range rs.Differences {
		out = append(out, fmt.Sprintf("%s %s ×%d", g.Path, g.Kind, g.Count))
	}
	return out
}

// TestNoiseReplayStandins replays the recorded portal traffic against the
// stand-ins, learning noise from a second SvelteKit instance, or without one from
// the primary itself on the example config's refetch routes.
func TestNoiseReplayStandins(t *testing.T) {
	for _, withSecondary := range []bool{true, false} {
		t.Run(fmt.Sprintf("secondary=%v", withSecondary), func(t *testing.T) {
			t.Parallel()
			s := startStandins(t)
			agg := report.NewAggregator(report.Limits{})
			rt := exampleRouter(t)
			rp := &Replayer{Primary: mustURL(t, s.primary.URL), Candidate: mustURL(t, s.candidate.URL), Router: rt, Observer: agg}
			asked := &s.counts.primary
			if withSecondary {
				rp.Secondary, asked = mustURL(t, s.secondary.URL), &s.counts.secondary
			}
			stats, err := rp.Run(context.Background(), portalTraffic(t, rt, 8))
			if err != nil || stats.Interrupted {
				t.Fatalf("replay: %v, %+v", err, stats)
			}
			snap := checkStandinFindings(t, agg)

			// Once learned, noise costs no re-ask: /api/health, whose only
			// differences are noise, was asked again a few times only.
			health := snap.Route("GET /api/health")
			reasks := asked.Count("GET", "/api/health")
			if !withSecondary {
				reasks -= int(health.Compared) // the primary's own answers
			}
			if int64(reasks) != health.Reasks || reasks < report.DefaultNoiseConfirm || reasks > report.DefaultNoiseConfirm+DefaultReplayConcurrency-1 {
				t.Errorf("/api/health asked again %d times (%d re-asks counted) for %d compared; want %d to %d",
					reasks, health.Reasks, health.Compared, report.DefaultNoiseConfirm, report.DefaultNoiseConfirm+DefaultReplayConcurrency-1)
			}
			// Writes are never asked twice.
			for key, n := range s.counts.secondary.Counts() {
				if method, _, _ := strings.Cut(key, " "); !rules.SafeMethod(method) {
					t.Errorf("the secondary got %d × %s", n, key)
				}
			}
		})
	}
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestNoiseProxyStandins sends the recorded portal traffic through the live proxy
// in front of the stand-ins; the example config's refetch routes re-ask the
// primary itself.
func TestNoiseProxyStandins(t *testing.T) {
	s := startStandins(t)
	agg := report.NewAggregator(report.Limits{})
	rt := exampleRouter(t)
	metrics := NewMetrics(0)
	p := &Proxy{Primary: mustURL(t, s.primary.URL), Candidate: mustURL(t, s.candidate.URL), Decide: rt.Decide,
		Observer: agg, Metrics: metrics}
	srv := httptest.NewServer(p)
	defer srv.Close()

	tr := portalTraffic(t, rt, 8)
	reqs := make(chan *traffic.Request)
	var wg sync.WaitGroup
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range 4 {
		wg.Go(func() {
			for req := range reqs {
				out, err := outgoing(context.Background(), mustURL(t, srv.URL), req, fmt.Sprintf("proxy-%d", req.Line))
				if err != nil {
					t.Error(err)
					continue
				}
				res, err := client.Do(out)
				if err != nil {
					t.Errorf("%s %s: %v", req.Method, req.URL, err)
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		})
	}
	sent := 0
	for {
		req, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if req.BodyMissing == "" {
			reqs <- req
			sent++
		}
	}
	close(reqs)
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}

	snap := checkStandinFindings(t, agg)
	health := snap.Route("GET /api/health")
	if reasks := s.counts.primary.Count("GET", "/api/health") - int(health.Compared); int64(reasks) != health.Reasks ||
		reasks < report.DefaultNoiseConfirm || reasks > int(health.Compared)/2 {
		t.Errorf("/api/health asked again %d times (%d counted) for %d compared: learned noise should spare most re-asks",
			reasks, health.Reasks, health.Compared)
	}
	answered := metricValue(t, metrics, "parity_noise_reasks_total", map[string]string{"result": reaskAnswered})
	var total int64
	for _, r := range snap.Routes {
		total += r.Reasks
	}
	if int64(answered) != total || metricValue(t, metrics, "parity_noise_reasks_total", map[string]string{"result": reaskDropped}) != 0 {
		t.Errorf("parity_noise_reasks_total answered %v, dropped %v; the snapshot counts %d re-asks",
			answered, metricValue(t, metrics, "parity_noise_reasks_total", map[string]string{"result": reaskDropped}), total)
	}
	if s.counts.secondary.Total() != 0 {
		t.Errorf("the unused secondary got %d requests", s.counts.secondary.Total())
	}
}

// TestExchangeNoise: learned patterns are noise without a re-ask; the re-ask is
// made only for what is left, and excuses only what differs between the
// primaries at the same pattern and of the same kind.
func TestExchangeNoise(t *testing.T) {
	resp := func(body string) *diff.Response {
		return &diff.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body), Size: int64(len(body))}
	}
	const primary = `{"at":"t1","id":"r1","n":1}`
	tests := []struct {
		name      string
		candidate string
		learned   []string
		again     string // "" = the re-ask is dropped
		want      report.Observation
		asked     bool
	}{
		{
			name: "equal answers need no re-ask", candidate: primary, again: `{}`,
			want: report.Observation{},
		},
		{
			name: "all differences learned: no re-ask", candidate: `{"at":"t2","id":"r2","n":1}`, learned: []string{"body.at", "body.id"}, again: `{}`,
			want: report.Observation{Noise: []string{"body.at", "body.id"}},
		},
		{
			name: "a regression beside learned noise is asked about and stays", candidate: `{"at":"t2","id":"r1","n":2}`,
			learned: []string{"body.at"}, again: `{"at":"t3","id":"r1","n":1}`, asked: true,
			want: report.Observation{Noise: []string{"body.at"}, NoiseChecked: []string{"body.n"},
				Differences: []diff.Difference{{Path: "body.n", Pattern: "body.n", Kind: diff.Changed, Primary: "1", Candidate: "2"}}},
		},
		{
			name: "the re-ask confirms noise and leaves the regression", candidate: `{"at":"t2","id":"r2","n":2}`,
			again: `{"at":"t3","id":"r3","n":1}`, asked: true,
			want: report.Observation{Noise: []string{"body.at", "body.id"}, NoiseChecked: []string{"body.at", "body.id", "body.n"},
				Differences: []diff.Difference{{Path: "body.n", Pattern: "body.n", Kind: diff.Changed, Primary: "1", Candidate: "2"}}},
		},
		{
			name: "a field the candidate lost is not excused by its value changing", candidate: `{"id":"r1","n":1}`,
			again: `{"at":"t3","id":"r1","n":1}`, asked: true,
			want: report.Observation{NoiseChecked: []string{"body.at"},
				Differences: []diff.Difference{{Path: "body.at", Pattern: "body.at", Kind: diff.Missing, Primary: `"t1"`}}},
		},
		{
			name: "a dropped re-ask is said so", candidate: `{"at":"t2","id":"r1","n":1}`, asked: true,
			want: report.Observation{ReaskDropped: true,
				Differences: []diff.Difference{{Path: "body.at", Pattern: "body.at", Kind: diff.Changed, Primary: `"t1"`, Candidate: `"t2"`}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dr, err := diff.NewRules()
			if err != nil {
				t.Fatal(err)
			}
			asked := false
			x := Exchange{
				Decision: rules.Decision{Route: "GET /api/x", Rules: dr, Noise: rules.NoisePolicy{Rule: report.NoiseRule{Confirm: 2, Window: 4}}},
				Primary:  resp(primary), Candidate: resp(tc.candidate), Learned: tc.learned,
				Reask: func() *diff.Response {
					asked = true
					if tc.again == "" {
						return nil
					}
					return resp(tc.again)
				},
			}
			got := x.Observation()
			want := tc.want
			want.Route, want.PrimaryStatus, want.CandidateStatus = "GET /api/x", 200, 200
			want.NoiseRule = report.NoiseRule{Confirm: 2, Window: 4}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("observation (-want +got):\n%s", d)
			}
			if asked != tc.asked {
				t.Errorf("re-asked %v, want %v", asked, tc.asked)
			}
		})
	}
}

// TestReaskLimiter: the concurrency bound drops or makes a caller wait, and the
// rate bound holds one second's worth of re-asks, on a clock the test moves.
func TestReaskLimiter(t *testing.T) {
	t.Run("concurrency", func(t *testing.T) {
		var l reaskLimiter
		pol := rules.NoisePolicy{ReaskConcurrency: 2}
		ctx := context.Background()
		first, second := l.acquire(ctx, pol, false), l.acquire(ctx, pol, false)
		if !first || !second {
			t.Fatal("two slots not granted")
		}
		if l.acquire(ctx, pol, false) {
			t.Fatal("a third slot granted without waiting")
		}
		got := make(chan bool)
		go func() { got <- l.acquire(ctx, pol, true) }()
		l.release()
		select {
		case ok := <-got:
			if !ok {
				t.Error("the waiter was refused a freed slot")
			}
		case <-time.After(waitLimit):
			t.Fatal("the waiter was not woken")
		}
		cancelled, cancel := context.WithCancel(ctx)
		go func() { got <- l.acquire(cancelled, pol, true) }()
		cancel()
		if <-got {
			t.Error("a cancelled waiter got a slot")
		}
	})
	t.Run("rate", func(t *testing.T) {
		now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		l := reaskLimiter{now: func() time.Time { return now }}
		pol := rules.NoisePolicy{ReaskConcurrency: 100, ReaskRate: 2}
		granted := func() int {
			n := 0
			for l.acquire(context.Background(), pol, false) {
				n++
				l.release()
			}
			return n
		}
		if n := granted(); n != 2 {
			t.Errorf("a full bucket granted %d, want 2", n)
		}
		now = now.Add(500 * time.Millisecond)
		if n := granted(); n != 1 {
			t.Errorf("half a second later: %d, want 1", n)
		}
		now = now.Add(time.Hour)
		if n := granted(); n != 2 {
			t.Errorf("an hour later: %d, want 2 (the bucket holds one second)", n)
		}
	})
}

// TestProxyReaskDropped: a re-ask over the rate is dropped, never waited for:
// the client is answered, the comparison keeps its differences, and the drop is
// counted in the observation and in parity_noise_reasks_total.
func TestProxyReaskDropped(t *testing.T) {
	var n int
	var mu sync.Mutex
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		mu.Lock()
		n++
		fmt.Fprintf(w, `{"at":"p%d"}`, n)
		mu.Unlock()
	})
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"at":"c"}`)
	})
	decide := func(r *http.Request) rules.Decision {
		d := decideFixed(rules.Primary, true)(r)
		d.Refetch = true
		d.Noise = rules.NoisePolicy{ReaskRate: 0.001} // one re-ask, then none for a long while
		return d
	}
	obs := newObserver()
	m := NewMetrics(0)
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decide, Observer: obs, Metrics: m})
	h.get(t, "/api/x")
	if o := obs.next(t); o.ReaskDropped || !slices.Equal(o.NoiseChecked, []string{"body.at"}) || !slices.Equal(o.Noise, []string{"body.at"}) {
		t.Errorf("first observation: dropped %v, checked %v, noise %v; want the re-ask made and confirming body.at", o.ReaskDropped, o.NoiseChecked, o.Noise)
	}
	h.get(t, "/api/x")
	if o := obs.next(t); !o.ReaskDropped || o.NoiseChecked != nil || len(o.Differences) != 1 {
		t.Errorf("second observation: dropped %v, checked %v, differences %v; want the re-ask dropped", o.ReaskDropped, o.NoiseChecked, o.Differences)
	}
	got := []float64{metricValue(t, m, "parity_noise_reasks_total", map[string]string{"result": reaskAnswered}), metricValue(t, m, "parity_noise_reasks_total", map[string]string{"result": reaskDropped})}
	if d := cmp.Diff([]float64{1, 1}, got); d != "" {
		t.Errorf("re-asks answered, dropped (-want +got):\n%s", d)
	}
	mu.Lock()
	defer mu.Unlock()
	if n != 3 {
		t.Errorf("primary got %d requests, want 3 (two clients, one re-ask)", n)
	}
}

// TestLearnedNoiseNeverSilencesAnotherRoute: through the proxy, a pattern learned
// on one route is still a difference on another.
func TestLearnedNoiseNeverSilencesAnotherRoute(t *testing.T) {
	var n int
	var mu sync.Mutex
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		mu.Lock()
		n++
		fmt.Fprintf(w, `{"at":"p%d"}`, n)
		mu.Unlock()
	})
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"at":"c"}`)
	})
	agg := report.NewAggregator(report.Limits{})
	decide := func(r *http.Request) rules.Decision {
		d := decideFixed(rules.Primary, true)(r)
		d.Route = "GET " + r.URL.Path
		d.Refetch = r.URL.Path == "/api/a" // only route a may re-ask
		return d
	}
	obs := &learningObserver{agg: agg, next: newObserver()}
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decide, Observer: obs})
	for range report.DefaultNoiseConfirm {
		h.get(t, "/api/a")
		obs.next.next(t)
	}
	if l := agg.Learned("GET /api/a"); !slices.Equal(l, []string{"body.at"}) {
		t.Fatalf("route a learned %v", l)
	}
	h.get(t, "/api/b")
	if o := obs.next.next(t); len(o.Differences) != 1 || o.Noise != nil {
		t.Errorf("route b: differences %v, noise %v; want body.at still a difference", o.Differences, o.Noise)
	}
	h.get(t, "/api/a")
	if o := obs.next.next(t); len(o.Differences) != 0 || o.NoiseChecked != nil || !slices.Equal(o.Noise, []string{"body.at"}) {
		t.Errorf("route a: differences %v, checked %v, noise %v; want learned noise without a re-ask", o.Differences, o.NoiseChecked, o.Noise)
	}
}

// learningObserver feeds an aggregator (which learns) and a test observer.
type learningObserver struct {
	agg  *report.Aggregator
	next *observer
}

func (o *learningObserver) Observe(ob report.Observation) { o.agg.Observe(ob); o.next.Observe(ob) }
func (o *learningObserver) Learned(route string) []string { return o.agg.Learned(route) }

// BenchmarkObservationLearnedNoise is the comparison of a health answer whose
// only differences are learned noise: no re-ask, the differences moved to noise.
func BenchmarkObservationLearnedNoise(b *testing.B) {
	dr, err := diff.NewRules()
	if err != nil {
		b.Fatal(err)
	}
	resp := func(body string) *diff.Response {
		return &diff.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(body), Size: int64(len(body))}
	}
	x := Exchange{
		Decision:  rules.Decision{Route: "GET /api/health", Rules: dr},
		Primary:   resp(`{"status":"ok","version":"2.4.1","uptime":1234.5,"checks":{"database":{"status":"ok"}},"generatedAt":"2025-06-02T08:00:00.250Z"}`),
		Candidate: resp(`{"status":"ok","version":"2.4.1","uptime":1301.25,"checks":{"database":{"status":"ok"}},"generatedAt":"2025-06-02T08:00:07.500Z"}`),
		Learned:   []string{"body.generatedAt", "body.uptime"},
		Reask:     func() *diff.Response { b.Fatal("re-asked learned noise"); return nil },
	}
	b.ReportAllocs()
	for b.Loop() {
		if o := x.Observation(); len(o.Differences) != 0 || len(o.Noise) != 2 {
			b.Fatalf("differences %v, noise %v", o.Differences, o.Noise)
		}
	}
}
