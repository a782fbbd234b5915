package shadow

import (
	"bytes"
	"compress/gzip"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// The bucket admits comparisons while it is above its floor: empty for
// undecided routes, the reserve for decided ones; what a comparison spent is
// taken out after it ran, so a costly one puts the bucket in debt, and time
// earns the budget back at share × cores.
func TestCompareBudgetBucket(t *testing.T) {
	var now time.Duration
	b := newCompareBudget(0.25, 2, func() time.Duration { return now }) // 0.5 CPU-seconds a second; reserve 125 ms
	type step struct {
		name      string
		advance   time.Duration
		spend     time.Duration
		decided   bool
		undecided bool
	}
	for _, s := range []step{
		{name: "full", decided: true, undecided: true},
		{name: "above the reserve", spend: 370 * time.Millisecond, decided: true, undecided: true},
		{name: "at the reserve: undecided routes only", spend: 5 * time.Millisecond, decided: false, undecided: true},
		{name: "empty", spend: 125 * time.Millisecond, decided: false, undecided: false},
		{name: "a hostile comparison puts it in debt", spend: 2 * time.Second, decided: false, undecided: false},
		{name: "debt half paid back", advance: 2 * time.Second, decided: false, undecided: false},
		{name: "debt paid back, below the reserve", advance: 2*time.Second + 100*time.Millisecond, decided: false, undecided: true},
		{name: "refilled past the reserve", advance: 200 * time.Millisecond, decided: true, undecided: true},
		{name: "never more than a second of budget", advance: time.Hour, spend: 499 * time.Millisecond, decided: false, undecided: true},
	} {
		now += s.advance
		b.spend(s.spend)
		if got := b.admit(true); got != s.decided {
			t.Errorf("%s: decided route admitted %v, want %v (level %v)", s.name, got, s.decided, time.Duration(b.level))
		}
		if got := b.admit(false); got != s.undecided {
			t.Errorf("%s: undecided route admitted %v, want %v (level %v)", s.name, got, s.undecided, time.Duration(b.level))
		}
	}
	if newCompareBudget(1, 2, func() time.Duration { return 0 }) != nil {
		t.Error("a budget of the whole CPU is still a budget")
	}
}

// budgetedProxy is a proxy whose comparison budget runs on a clock that only
// the test moves and a meter that charges cost for every comparison.
func budgetedProxy(p *Proxy, now *atomic.Int64, cost time.Duration) *Proxy {
	p.budgetClock = func() time.Duration { return time.Duration(now.Load()) }
	p.budgetMeter = func() func() time.Duration { return func() time.Duration { return cost } }
	return p
}

// Under budget pressure the routes the gate has not decided keep their
// comparisons while decided routes are sampled down: decided routes stop at the
// reserve, undecided ones spend it. The pairs left out are observed as skipped
// compare_budget on their own route, the client gets every answer, and once
// the budget is earned back comparisons resume.
func TestCompareBudgetFavoursUndecidedRoutes(t *testing.T) {
	const decidedPath, undecidedPath = "/api/decided", "/api/undecided"
	ok := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}
	primary, candidate := newBackend(t, ok), newBackend(t, ok)
	// The bucket holds ten comparisons; the last two and a half are reserved.
	size := time.Duration(DefaultCompareBudget * float64(runtime.GOMAXPROCS(0)) * float64(time.Second))
	var now atomic.Int64
	agg := report.NewAggregator(report.Limits{})
	obs := newObserver()
	m := NewMetrics(0)
	h := newHarness(t, budgetedProxy(&Proxy{Primary: primary.url(t), Candidate: candidate.url(t),
		Decide: decideFixed(rules.Primary, true), Observer: teeObserver{agg, obs}, Metrics: m,
		Decided: func(route string) bool { return route == "GET "+decidedPath },
	}, &now, size/10))

	request := func(path string) report.Observation {
		t.Helper()
		res, body := h.get(t, path)
		if res.StatusCode != http.StatusOK || body != `{"ok":true}` {
			t.Fatalf("client got %d %q, want the primary's answer", res.StatusCode, body)
		}
		o := obs.next(t)
		settled(t, m)
		return o
	}
	var order []string
	for range 10 {
		for _, path := range []string{decidedPath, undecidedPath} {
			o := request(path)
			mark := "c"
			if o.Skipped == report.SkipCompareBudget {
				mark = "s"
			} else if o.Skipped != "" {
				t.Fatalf("%s skipped %q", path, o.Skipped)
			}
			order = append(order, mark)
		}
	}
	// decided, undecided, ...: both compared until the reserve, then undecided only.
	if got, want := strings.Join(order, ""), "cccccccc"+"sc"+"sc"+"ss"+"ss"+"ss"+"ss"; got != want {
		t.Errorf("compared (c) and skipped (s), alternating decided and undecided:\n got %s\nwant %s", got, want)
	}

	s := agg.Snapshot()
	for _, r := range s.Routes {
		want := map[string][2]int64{"GET " + decidedPath: {4, 6}, "GET " + undecidedPath: {6, 4}}[r.Route]
		if got := [2]int64{r.Compared, r.Skipped[string(report.SkipCompareBudget)]}; got != want {
			t.Errorf("%s: compared %d, skipped compare_budget %d; want %d and %d", r.Route, got[0], got[1], want[0], want[1])
		}
	}
	for state, want := range map[string]float64{"decided": 6, "undecided": 4} {
		if got := metricValue(t, m, "parity_compare_budget_skipped_total", map[string]string{"route_state": state}); got != want {
			t.Errorf("parity_compare_budget_skipped_total{route_state=%q} = %v, want %v", state, got, want)
		}
	}
	if got := metricValue(t, m, "parity_mirror_dropped_total", map[string]string{"reason": "compare_budget"}); got != 10 {
		t.Errorf("parity_mirror_dropped_total{reason=compare_budget} = %v, want 10", got)
	}
	if got, want := metricValue(t, m, "parity_compare_cpu_seconds_total", nil), 10*(size/10).Seconds(); got < want*0.999 || got > want*1.001 {
		t.Errorf("parity_compare_cpu_seconds_total = %v, want %v", got, want)
	}

	now.Add(int64(time.Second)) // a second earns the whole bucket back
	if o := request(decidedPath); o.Skipped != "" {
		t.Errorf("after the budget refilled, a decided route's pair skipped %q", o.Skipped)
	}
}

// The budget bounds hostile answers too: a gzip bomb within the caps is read
// (charged by its size) and decoded once, its comparison's CPU time (measured
// on the comparing thread) puts the budget in debt, and while the clock stands
// still every later bomb is skipped before it is mirrored: never sent, read nor
// decoded. A failed candidate is observed with its error, not skipped.
func TestCompareBudgetBoundsHostileAnswers(t *testing.T) {
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(bytes.Repeat([]byte(`{"a":[1,2,3,4,5,6,7,8]},`), 1<<16))
	zw.Close()
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	})
	var asked atomic.Int64
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if r.URL.Path == "/api/down" {
			panic(http.ErrAbortHandler)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb.Bytes())
	})
	ct := &countingTransport{RoundTripper: newTransport(time.Minute, 4)}
	defer ct.CloseIdleConnections()
	// Room to read one bomb, and 10 µs of CPU to start comparing it.
	room := time.Duration(bomb.Len())*readCost + 10*time.Microsecond
	var now atomic.Int64
	obs := newObserver()
	m := NewMetrics(0)
	p := &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), CandidateTransport: ct, Decide: decideFixed(rules.Primary, true),
		Observer: obs, Metrics: m, CompareBudget: float64(room) / float64(runtime.GOMAXPROCS(0)) / float64(time.Second),
		budgetClock: func() time.Duration { return time.Duration(now.Load()) }}
	h := newHarness(t, p)
	skipped := map[report.SkipReason]int{}
	for i := range 6 {
		path := "/api/bomb"
		if i == 0 {
			path = "/api/down"
		}
		if res, body := h.get(t, path); res.StatusCode != http.StatusOK || body != `{"ok":true}` {
			t.Fatalf("client got %d %q, want the primary's answer", res.StatusCode, body)
		}
		o := obs.next(t)
		settled(t, m)
		skipped[o.Skipped]++
		if path == "/api/down" {
			if o.CandidateError == "" {
				t.Errorf("a failed candidate observed as %+v, want its error", o)
			}
			now.Add(int64(time.Hour)) // what observing it cost is earned back
		}
	}
	if want := map[report.SkipReason]int{"": 2, report.SkipCompareBudget: 4}; skipped[""] != want[""] || skipped[report.SkipCompareBudget] != want[report.SkipCompareBudget] {
		t.Errorf("observations by skip reason %v, want %v (one bomb compared, four over the budget, the failure observed)", skipped, want)
	}
	if n := ct.read.Load(); n != int64(bomb.Len()) {
		t.Errorf("read %d bytes of the candidate's answers, want one bomb's %d", n, bomb.Len())
	}
	if n := asked.Load(); n != 2 {
		t.Errorf("the candidate was asked %d times, want 2 (the failure and one bomb): a pair over the budget is not mirrored", n)
	}
}

// settled waits until no mirror is in flight: a comparison is charged to the
// budget just after it is observed, and the next request must find it charged.
func settled(t *testing.T, m *Metrics) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for metricValue(t, m, "parity_mirror_in_flight", nil) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("a mirror still in flight")
		}
		time.Sleep(time.Millisecond)
	}
}

// A small answer left unread for the budget is still read to its end, so that
// its connection is kept: under budget pressure the mirrors do not each dial
// the candidate anew. Here the budget admits every request when it is served,
// and is spent while the candidate answers (its handler spends it), so each
// answer arrives over the budget.
func TestCompareBudgetKeepsConnections(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) })
	var conns atomic.Int64
	var p *Proxy
	var now atomic.Int64
	candidate := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mirrors.budget.spend(time.Hour)
		io.WriteString(w, `{"ok":true}`)
	}))
	candidate.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	candidate.Start()
	defer candidate.Close()
	cu, _ := url.Parse(candidate.URL)
	obs := newObserver()
	m := NewMetrics(0)
	p = budgetedProxy(&Proxy{Primary: primary.url(t), Candidate: cu, Decide: decideFixed(rules.Primary, true),
		Observer: obs, Metrics: m}, &now, time.Nanosecond)
	h := newHarness(t, p)
	var skipped int
	for range 5 {
		now.Add(int64(1000 * time.Hour)) // the budget admits the request when it is served
		h.get(t, "/api/items")
		if obs.next(t).Skipped == report.SkipCompareBudget {
			skipped++
		}
		settled(t, m)
	}
	if skipped != 5 || conns.Load() != 1 {
		t.Errorf("%d of 5 skipped over %d candidate connections, want 5 over 1", skipped, conns.Load())
	}
}

// The budget is consulted before a request is mirrored: a pair it cannot
// admit when the request is served is never sent to the candidate, and the
// served answer is not captured, yet it is counted exactly as one skipped
// later: compare_budget on its route in the report, in
// parity_mirror_dropped_total and in parity_compare_budget_skipped_total. Once
// the budget is earned back, requests are mirrored and compared again.
func TestCompareBudgetSkipsBeforeMirroring(t *testing.T) {
	ok := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}
	primary, candidate := newBackend(t, ok), newBackend(t, ok)
	var now atomic.Int64
	var captures atomic.Int64
	agg := report.NewAggregator(report.Limits{})
	obs := newObserver()
	m := NewMetrics(0)
	// Every comparison costs an hour: after the first, the budget is in debt.
	p := budgetedProxy(&Proxy{Primary: primary.url(t), Candidate: candidate.url(t),
		Decide: decideFixed(rules.Primary, true), Observer: teeObserver{agg, obs}, Metrics: m}, &now, time.Hour)
	p.onServeCapture = func() { captures.Add(1) }
	h := newHarness(t, p)

	request := func() report.Observation {
		t.Helper()
		if res, body := h.get(t, "/api/items"); res.StatusCode != http.StatusOK || body != `{"ok":true}` {
			t.Fatalf("client got %d %q, want the primary's answer", res.StatusCode, body)
		}
		o := obs.next(t)
		settled(t, m)
		return o
	}
	const sent = 6
	var compared, skipped int
	for range sent {
		switch o := request(); o.Skipped {
		case "":
			compared++
		case report.SkipCompareBudget:
			skipped++
		default:
			t.Fatalf("skipped %q", o.Skipped)
		}
	}
	if compared != 1 || skipped != sent-1 {
		t.Fatalf("%d compared and %d skipped compare_budget, want 1 and %d", compared, skipped, sent-1)
	}
	if n := candidate.count(); n != 1 {
		t.Errorf("the candidate was asked %d times, want once: a pair over the budget is not mirrored", n)
	}
	if n := captures.Load(); n != 1 {
		t.Errorf("%d served answers captured, want 1: a pair over the budget captures nothing", n)
	}
	if n := primary.count(); n != sent {
		t.Errorf("the primary served %d requests, want %d", n, sent)
	}

	s := agg.Snapshot()
	if len(s.Routes) != 1 {
		t.Fatalf("%d routes in the snapshot, want 1", len(s.Routes))
	}
	r := s.Routes[0]
	if r.Compared != 1 || r.Skipped[string(report.SkipCompareBudget)] != sent-1 || r.SkippedTotal() != sent-1 {
		t.Errorf("snapshot: compared %d, skipped %v; want 1 compared and %d skipped compare_budget", r.Compared, r.Skipped, sent-1)
	}
	if got := metricValue(t, m, "parity_mirror_dropped_total", map[string]string{"reason": "compare_budget"}); got != sent-1 {
		t.Errorf("parity_mirror_dropped_total{reason=compare_budget} = %v, want %d", got, sent-1)
	}
	if got := metricValue(t, m, "parity_compare_budget_skipped_total", map[string]string{"route_state": "undecided"}); got != sent-1 {
		t.Errorf("parity_compare_budget_skipped_total{route_state=undecided} = %v, want %d", got, sent-1)
	}
	if got := metricValue(t, m, "parity_comparisons_total", nil); got != 1 {
		t.Errorf("parity_comparisons_total = %v, want 1", got)
	}

	now.Add(int64(1000 * time.Hour)) // the debt is earned back
	if o := request(); o.Skipped != "" {
		t.Errorf("after the budget was earned back, the pair was skipped %q", o.Skipped)
	}
	if n, c := candidate.count(), captures.Load(); n != 2 || c != 2 {
		t.Errorf("after the budget was earned back: candidate asked %d times, %d captures; want 2 and 2", n, c)
	}
}
