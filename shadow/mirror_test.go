package shadow

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// TestMirrorSendsAClone: the mirror gets the same method, target, body and request
// id as the serving backend, marked X-Parity-Shadow, and nothing of its answer
// reaches the client.
func TestMirrorSendsAClone(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":1}`)
	})
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "candidate=1")
		w.Header().Set("X-Candidate", "1")
		w.WriteHeader(201)
		io.WriteString(w, `{"id":2}`)
	})
	obs := newObserver()
	m := NewMetrics(0)
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true), Observer: obs, Metrics: m})

	req, _ := http.NewRequest("POST", h.server.URL+"/api/tools/execute?dry=1;x=%zz", strings.NewReader(`{"tool":"t"}`))
	req.Header.Set("X-Request-Id", "rid-1")
	req.Header.Set("X-Parity-Shadow", "0")
	res, body := h.do(t, req)
	if res.StatusCode != 200 || body != `{"id":1}` {
		t.Errorf("client got %d %q, want the primary's 200 {\"id\":1}", res.StatusCode, body)
	}
	for _, k := range []string{"Set-Cookie", "X-Candidate"} {
		if v := res.Header.Get(k); v != "" {
			t.Errorf("candidate header %s reached the client: %q", k, v)
		}
	}

	p, c := primary.next(t), candidate.next(t)
	want := seen{Method: "POST", RequestURI: "/api/tools/execute?dry=1;x=%zz", Body: `{"tool":"t"}`}
	for name, got := range map[string]seen{"primary": p, "candidate": c} {
		if diff := cmp.Diff(want, got, cmpIgnoreHeader, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Host" }, cmp.Ignore())); diff != "" {
			t.Errorf("%s received (-want +got):\n%s", name, diff)
		}
		if id := got.Header.Get("X-Request-Id"); id != "rid-1" {
			t.Errorf("%s X-Request-Id = %q, want rid-1", name, id)
		}
	}
	if diff := cmp.Diff([]string{"1"}, c.Header[HeaderShadow]); diff != "" {
		t.Errorf("candidate %s (-want +got):\n%s", HeaderShadow, diff)
	}
	if _, ok := p.Header[HeaderShadow]; ok {
		t.Errorf("primary received %s", HeaderShadow)
	}
	if p.Host != c.Host {
		t.Errorf("Host: primary %q, candidate %q", p.Host, c.Host)
	}

	ob := obs.next(t)
	if ob.RequestID != "rid-1" || ob.PrimaryStatus != 200 || ob.CandidateStatus != 201 || len(ob.Differences) == 0 {
		t.Errorf("observation %+v, want rid-1 200 vs 201 with differences", ob)
	}
	if v := metricValue(t, m, "parity_comparisons_total", map[string]string{"outcome": OutcomeMismatched}); v != 1 {
		t.Errorf("mismatched comparisons = %v, want 1", v)
	}
}

// TestMirrorBodyCap: a body up to the cap is read once and sent to both; one byte
// more streams whole to the primary and the mirror is skipped.
func TestMirrorBodyCap(t *testing.T) {
	const limit = 64
	tests := []struct {
		name     string
		size     int
		chunked  bool
		mirrored bool
	}{
		{"exactly the cap", limit, false, true},
		{"exactly the cap, chunked", limit, true, true},
		{"cap plus one by content length", limit + 1, false, false},
		{"cap plus one, chunked", limit + 1, true, false},
		{"far over the cap, chunked", 10 * limit, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			primary := newBackend(t, nil)
			candidate := newBackend(t, nil)
			obs := newObserver()
			h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true),
				Observer: obs, MirrorBodyCap: limit})
			payload := strings.Repeat("x", tc.size-1) + "!"
			var body io.Reader = strings.NewReader(payload)
			if tc.chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, _ := http.NewRequest("PUT", h.server.URL+"/api/blob", body)
			res, _ := h.do(t, req)
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if got := primary.next(t).Body; got != payload {
				t.Errorf("primary received %d bytes, want the %d sent", len(got), len(payload))
			}
			ob := obs.next(t)
			if tc.mirrored {
				if got := candidate.next(t).Body; got != payload {
					t.Errorf("candidate received %d bytes, want %d", len(got), len(payload))
				}
				if ob.Skipped != "" {
					t.Errorf("observation skipped %q, want compared", ob.Skipped)
				}
			} else {
				if ob.Skipped != report.SkipBodyTooLarge {
					t.Errorf("observation skipped %q, want %q", ob.Skipped, report.SkipBodyTooLarge)
				}
				if n := candidate.count(); n != 0 {
					t.Errorf("candidate received %d requests, want 0", n)
				}
			}
		})
	}
}

// openFDs counts this process's open file descriptors (-1 where /proc is absent).
func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(entries)
}

// checkFDs waits until the open descriptors are back to at most base.
func checkFDs(t *testing.T, base int) {
	t.Helper()
	if base < 0 {
		return
	}
	deadline := time.Now().Add(waitLimit)
	for {
		n := openFDs(t)
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d open file descriptors, want at most %d", n, base)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// rawServer accepts connections on loopback and hands each to serve; it is closed
// with the test.
func rawServer(t *testing.T, serve func(net.Conn)) *url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { defer c.Close(); serve(c) })
		}
	})
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return &url.URL{Scheme: "http", Host: l.Addr().String()}
}

func readRequest(c net.Conn) {
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err == nil {
		io.Copy(io.Discard, req.Body)
	}
}

// TestMirrorDrops: with the workers busy, a mirror finds no worker (no queue) or
// a full queue, and is dropped and counted by reason; the clients are served.
func TestMirrorDrops(t *testing.T) {
	tests := []struct {
		name   string
		queue  int
		reason report.SkipReason
	}{
		{"no queue: concurrency", -1, report.SkipConcurrency},
		{"queue of one: queue_full", 1, report.SkipQueueFull},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
			release := make(chan struct{})
			candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				<-release
				io.WriteString(w, "ok")
			})
			obs := newObserver()
			m := NewMetrics(0)
			h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true),
				Observer: obs, Metrics: m, MirrorConcurrency: 1, MirrorQueue: tc.queue})

			h.get(t, "/api/a")
			candidate.next(t) // the one worker is now busy
			n := 1
			if tc.queue > 0 {
				h.get(t, "/api/b") // waits in the queue
				n++
			}
			res, body := h.get(t, "/api/c")
			if res.StatusCode != 200 || body != "ok" {
				t.Errorf("client got %d %q", res.StatusCode, body)
			}
			ob := obs.next(t)
			if ob.Skipped != tc.reason || ob.Route != "GET /api/c" {
				t.Errorf("observation %+v, want GET /api/c skipped %s", ob, tc.reason)
			}
			if v := metricValue(t, m, "parity_mirror_dropped_total", map[string]string{"reason": string(tc.reason)}); v != 1 {
				t.Errorf("dropped{%s} = %v, want 1", tc.reason, v)
			}
			close(release)
			for range n {
				if ob := obs.next(t); ob.Skipped != "" {
					t.Errorf("queued mirror not compared: %+v", ob)
				}
			}
		})
	}
}

// TestMirrorOutlivesTheClient: the primary answers at once and the client leaves;
// the candidate answers later and the comparison still happens.
func TestMirrorOutlivesTheClient(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "same") })
	clientDone := make(chan struct{})
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-clientDone:
		case <-r.Context().Done():
			return
		}
		io.WriteString(w, "same")
	})
	obs := newObserver()
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true), Observer: obs})
	res, body := h.get(t, "/api/x")
	if res.StatusCode != 200 || body != "same" {
		t.Fatalf("client got %d %q", res.StatusCode, body)
	}
	h.client.CloseIdleConnections()
	close(clientDone)
	ob := obs.next(t)
	if ob.Skipped != "" || ob.CandidateError != "" || len(ob.Differences) != 0 {
		t.Errorf("observation %+v, want a matched pair", ob)
	}
}

// TestDecideSkipsAreObserved: an API request the rules do not mirror is counted
// with its reason, and nothing goes to the candidate.
func TestDecideSkipsAreObserved(t *testing.T) {
	primary := newBackend(t, nil)
	candidate := newBackend(t, nil)
	obs := newObserver()
	m := NewMetrics(0)
	decide := func(r *http.Request) rules.Decision {
		return rules.Decision{Path: r.URL.Path, API: true, Auth: true, Route: "GET /api/auth/:x", Serve: rules.Primary, Skip: report.SkipAuth}
	}
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decide, Observer: obs, Metrics: m})
	h.get(t, "/api/auth/login")
	ob := obs.next(t)
	if ob.Skipped != report.SkipAuth || ob.Route != "GET /api/auth/:x" || ob.Method != "GET" || ob.RequestID == "" {
		t.Errorf("observation %+v", ob)
	}
	if v := metricValue(t, m, "parity_mirror_skipped_total", map[string]string{"reason": string(report.SkipAuth)}); v != 1 {
		t.Errorf("skipped{auth} = %v, want 1", v)
	}
	if n := candidate.count(); n != 0 {
		t.Errorf("candidate received %d requests", n)
	}
}

// TestCloseFinishesPendingComparisons: Close waits for the mirrors in flight,
// and afterwards no goroutine of the proxy is left.
func TestCloseFinishesPendingComparisons(t *testing.T) {
	base := runtime.NumGoroutine()
	func() {
		release := make(chan struct{})
		primary := httptestServer(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "v") })
		defer primary.Close()
		candidate := httptestServer(func(w http.ResponseWriter, r *http.Request) { <-release; io.WriteString(w, "v") })
		defer candidate.Close()
		obs := newObserver()
		pu, _ := url.Parse(primary.URL)
		cu, _ := url.Parse(candidate.URL)
		p := &Proxy{Primary: pu, Candidate: cu, Decide: decideFixed(rules.Primary, true), Observer: obs, MirrorConcurrency: 2}
		srv := httptestServer(p.ServeHTTP)
		client := &http.Client{Transport: &http.Transport{}}
		const n = 5
		for i := range n {
			res, err := client.Get(srv.URL + "/api/x/" + string(rune('a'+i)))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		srv.Close()
		client.CloseIdleConnections()

		closed := make(chan error, 1)
		go func() { closed <- p.Close(context.Background()) }()
		select {
		case err := <-closed:
			t.Fatalf("Close returned (%v) with comparisons pending", err)
		default:
		}
		close(release)
		select {
		case err := <-closed:
			if err != nil {
				t.Errorf("Close: %v", err)
			}
		case <-time.After(waitLimit):
			t.Fatal("Close did not return")
		}
		if got := len(obs.all()); got != n {
			t.Errorf("%d observations after Close, want %d", got, n)
		}
	}()
	checkGoroutines(t, base)
}

// TestCloseCancelsWhenItsContextEnds: a Close whose context ends cancels the
// mirrors still running and returns the context's error.
func TestCloseCancelsWhenItsContextEnds(t *testing.T) {
	primary := newBackend(t, nil)
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	obs := newObserver()
	p := &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true), Observer: obs}
	h := newHarness(t, p)
	h.get(t, "/api/x")
	candidate.next(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Close(ctx); err != context.Canceled {
		t.Errorf("Close = %v, want context.Canceled", err)
	}
	if ob := obs.next(t); ob.CandidateError == "" {
		t.Errorf("cancelled mirror observed as %+v, want a candidate error", ob)
	}
}

func httptestServer(h http.HandlerFunc) *httptest.Server { return httptest.NewServer(h) }

// TestClientAbortCancelsBothUpstreams: a client that leaves before its answer
// takes both upstream requests with it; the pair is excluded.
func TestClientAbortCancelsBothUpstreams(t *testing.T) {
	primaryGone, candidateGone := make(chan struct{}), make(chan struct{})
	arrived := make(chan struct{}, 2)
	hold := func(gone chan struct{}) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			arrived <- struct{}{}
			select {
			case <-r.Context().Done():
				close(gone)
			case <-time.After(waitLimit):
			}
		}
	}
	primary, candidate := newBackend(t, hold(primaryGone)), newBackend(t, hold(candidateGone))
	obs := newObserver()
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true), Observer: obs})

	conn, err := net.Dial("tcp", h.server.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "GET /api/x HTTP/1.1\r\nHost: x\r\n\r\n")
	<-arrived
	<-arrived
	conn.Close()
	for name, gone := range map[string]chan struct{}{"primary": primaryGone, "candidate": candidateGone} {
		select {
		case <-gone:
		case <-time.After(waitLimit):
			t.Errorf("the %s request was not cancelled", name)
		}
	}
	if ob := obs.next(t); ob.Skipped != report.SkipPrimaryFailed {
		t.Errorf("observation %+v, want excluded as primary_failed", ob)
	}
}

// TestMirrorLearnsNoise: on a route that refetches, the request is asked again of
// a second primary (or the primary itself); paths that differ between the two
// primaries are noise, and only the rest counts against the candidate.
func TestMirrorLearnsNoise(t *testing.T) {
	for _, withSecondary := range []bool{false, true} {
		t.Run(fmt.Sprintf("secondary=%v", withSecondary), func(t *testing.T) {
			var calls atomic.Int64
			answer := func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprintf(w, `{"id":1,"requestId":"p-%d"}`, calls.Add(1))
			}
			primary, secondary := newBackend(t, answer), newBackend(t, answer)
			candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"id":2,"requestId":"c"}`)
			})
			obs := newObserver()
			decide := func(r *http.Request) rules.Decision {
				d := decideFixed(rules.Primary, true)(r)
				d.Refetch = true
				return d
			}
			p := &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decide, Observer: obs}
			if withSecondary {
				p.Secondary = secondary.url(t)
			}
			h := newHarness(t, p)
			h.get(t, "/api/sessions")
			ob := obs.next(t)
			var paths []string
			for _, d := range ob.Differences {
				paths = append(paths, d.Path)
			}
			if diff := cmp.Diff([]string{"body.id"}, paths); diff != "" {
				t.Errorf("differences (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"body.requestId"}, ob.Noise); diff != "" {
				t.Errorf("noise (-want +got):\n%s", diff)
			}
			// The primaries received the client's request, unmarked, and the re-ask,
			// marked as a shadow request, in either order.
			got := []seen{primary.next(t)}
			if withSecondary {
				got = append(got, secondary.next(t))
			} else {
				got = append(got, primary.next(t))
			}
			var marks []string
			for _, s := range got {
				marks = append(marks, s.Header.Get(HeaderShadow))
			}
			slices.Sort(marks)
			if diff := cmp.Diff([]string{"", "1"}, marks); diff != "" {
				t.Errorf("%s on the primaries' requests (-want +got):\n%s", HeaderShadow, diff)
			}
			if withSecondary && got[1].Header.Get(HeaderShadow) != "1" {
				t.Errorf("the secondary's request is not the marked re-ask")
			}
		})
	}
}

// TestMirrorStreamOutlivesDeadline: a serving response still streaming when the
// mirror's deadline ends is not compared, and is counted as an unfinished stream,
// not as a failure of the primary; the client still receives all of it.
func TestMirrorStreamOutlivesDeadline(t *testing.T) {
	release := make(chan struct{})
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-time.After(waitLimit):
		}
		io.WriteString(w, "data: two\n\n")
	})
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\ndata: two\n\n")
	})
	obs := newObserver()
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true),
		Observer: obs, MirrorTimeout: 50 * time.Millisecond})

	type answer struct {
		body string
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		res, err := h.client.Get(h.server.URL + "/api/chat")
		if err != nil {
			got <- answer{err: err}
			return
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		got <- answer{string(b), err}
	}()
	// The primary holds its stream open until the comparison has given up on it.
	ob := obs.next(t)
	close(release)
	if ob.Skipped != report.SkipStreamUnfinished || len(ob.Differences) != 0 || ob.CandidateError != "" {
		t.Errorf("observation %+v, want skipped as %s", ob, report.SkipStreamUnfinished)
	}
	a := <-got
	if a.err != nil || a.body != "data: one\n\ndata: two\n\n" {
		t.Errorf("client got %q, %v; want the whole stream", a.body, a.err)
	}
}
