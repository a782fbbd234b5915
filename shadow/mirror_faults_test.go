package shadow

import (
	"bufio"
	"bytes"
	stdcmp "cmp"
	"compress/gzip"
	"context"
	"fmt"

	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// faultAnswer is the primary's answer in the fault cases.
const faultAnswer = `{"sessions":[1,2,3]}`

// clientView is what a client sees of an answer: status, headers but Date, body;
// the request id each proxy makes is only said to be there.
type clientView struct {
	Status int
	Header http.Header
	Body   string
}

func viewOf(res *http.Response, body []byte) clientView {
	h := res.Header.Clone()
	h.Del("Date")
	if h.Get(HeaderRequestID) != "" {
		h.Set(HeaderRequestID, "(set)")
	}
	return clientView{Status: res.StatusCode, Header: h, Body: string(body)}
}

// candidateFault is one way a candidate misbehaves.
type candidateFault struct {
	name      string
	candidate func(t *testing.T) *url.URL
	method    string // default GET
	body      string
	header    http.Header
	clients   int           // concurrent requests (default 1)
	bodyCap   int64         // MirrorBodyCap (default the Proxy's)
	hangs     bool          // the candidate never ends on its own: the mirror deadline ends it
	deadline  time.Duration // of the mirror when it hangs (default hangDeadline)
	outcomes  []string      // acceptable outcomes of each comparison
}

// hangDeadline ends the mirrors of candidates that never answer. The clients'
// answers must all be in long before it, with every case running at once under
// -race on a loaded machine.
const hangDeadline = 4 * time.Second

func candidateFaults() []candidateFault {
	zeroWindowBody := strings.Repeat("z", 6<<20) // beyond what the kernel buffers when nobody reads
	return []candidateFault{
		{name: "refuses connections", candidate: deadURL, outcomes: []string{OutcomeCandidateError}},
		{name: "accepts TCP and never answers", hangs: true, candidate: func(t *testing.T) *url.URL {
			return rawServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
		}, outcomes: []string{OutcomeCandidateError}},
		{name: "resets mid-body", candidate: func(t *testing.T) *url.URL {
			return rawServer(t, func(c net.Conn) {
				readRequest(c)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"sess")
				resetConn(c)
			})
		}, outcomes: []string{OutcomeCandidateError}},
		{name: "answers garbage", candidate: func(t *testing.T) *url.URL {
			return rawServer(t, func(c net.Conn) { readRequest(c); io.WriteString(c, "SSH-2.0-OpenSSH_9.6\r\n\r\n") })
		}, outcomes: []string{OutcomeCandidateError}},
		{name: "slower than the mirror deadline", hangs: true, candidate: func(t *testing.T) *url.URL {
			return newBackend(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }).url(t)
		}, outcomes: []string{OutcomeCandidateError}},
		{name: "stops reading a mirrored body under the cap", method: "POST", body: strings.Repeat("x", 900<<10), hangs: true,
			deadline: 5 * time.Second, candidate: func(t *testing.T) *url.URL {
				stop := make(chan struct{})
				u := rawServer(t, func(c net.Conn) {
					bufio.NewReader(c).ReadString('\n') // the request line, then nothing more
					<-stop
				})
				t.Cleanup(func() { close(stop) }) // runs before rawServer's own cleanup
				return u
			}, outcomes: []string{OutcomeCandidateError}},
		// The client's 6 MiB must reach the primary before the deadline, under -race.
		{name: "stops reading a large mirrored body (zero window)", method: "POST", body: zeroWindowBody, bodyCap: 8 << 20,
			hangs: true, deadline: 5 * time.Second,
			candidate: func(t *testing.T) *url.URL {
				stop := make(chan struct{})
				u := rawServer(t, func(c net.Conn) {
					c.Read(make([]byte, 512)) // the request line, then never another byte
					<-stop
				})
				t.Cleanup(func() { close(stop) }) // before rawServer's own cleanup
				return u
			}, outcomes: []string{OutcomeCandidateError}},
		{name: "Connection: close on every response, under load", clients: 24, candidate: func(t *testing.T) *url.URL {
			return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Connection", "close")
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, faultAnswer)
			}).url(t)
		}, outcomes: []string{OutcomeMatched}},
		{name: "gzip bomb", candidate: func(t *testing.T) *url.URL {
			var member, bomb bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&member, gzip.BestCompression)
			zw.Write(make([]byte, 1<<20))
			zw.Close()
			for range 40 { // 40 MiB of zeros from about 40 KiB, over the differ's decoding cap
				bomb.Write(member.Bytes())
			}
			return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Encoding", "gzip")
				w.Write(bomb.Bytes())
			}).url(t)
		}, outcomes: []string{OutcomeMismatched}},
		{name: "endless concatenated gzip members", hangs: true, candidate: func(t *testing.T) *url.URL {
			var member bytes.Buffer
			zw := gzip.NewWriter(&member)
			io.WriteString(zw, `{"a":1}`)
			zw.Close()
			return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Content-Encoding", "gzip")
				tick := time.NewTicker(time.Millisecond)
				defer tick.Stop()
				for {
					if _, err := w.Write(member.Bytes()); err != nil {
						return
					}
					select {
					case <-r.Context().Done():
						return
					case <-tick.C:
					}
				}
			}).url(t)
		}, outcomes: []string{OutcomeCandidateError}},
		// Transfer-Encoding wins over Content-Length (RFC 9112 section 6.3): the body
		// read as chunked differs from the primary's.
		{name: "both Transfer-Encoding: chunked and Content-Length", candidate: func(t *testing.T) *url.URL {
			return rawServer(t, func(c net.Conn) {
				readRequest(c)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n5\r\nhello\r\n0\r\n\r\n")
			})
		}, outcomes: []string{OutcomeMismatched, OutcomeCandidateError}},
		{name: "chunk size line ending in a bare LF", candidate: func(t *testing.T) *url.URL {
			return rawServer(t, func(c net.Conn) {
				readRequest(c)
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n14\n{\"sessions\":[1,2,3]}\r\n0\r\n\r\n")
			})
		}, outcomes: []string{OutcomeCandidateError}},
		{name: "417 to 100-continue without reading the body", method: "POST", body: "payload",
			header: http.Header{"Expect": {"100-continue"}}, candidate: func(t *testing.T) *url.URL {
				return rawServer(t, func(c net.Conn) {
					http.ReadRequest(bufio.NewReader(c)) // headers only
					io.WriteString(c, "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
				})
			}, outcomes: []string{OutcomeMismatched, OutcomeCandidateError}},
		{name: "100 Continue, then never reads the body nor answers", method: "POST", body: "payload", hangs: true,
			header: http.Header{"Expect": {"100-continue"}}, candidate: func(t *testing.T) *url.URL {
				return rawServer(t, func(c net.Conn) {
					br := bufio.NewReader(c)
					http.ReadRequest(br)
					io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n")
					io.Copy(io.Discard, br)
				})
			}, outcomes: []string{OutcomeCandidateError}},
		{name: "event stream kept open after the client left", hangs: true, candidate: func(t *testing.T) *url.URL {
			return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/event-stream")
				tick := time.NewTicker(5 * time.Millisecond)
				defer tick.Stop()
				for {
					if _, err := io.WriteString(w, "data: {\"tick\":1}\n\n"); err != nil {
						return
					}
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						return
					case <-tick.C:
					}
				}
			}).url(t)
		}, outcomes: []string{OutcomeCandidateError}},
	}
}

// TestMirrorCandidateFaults runs every candidate fault at once, each behind its own
// proxy: each client gets exactly what it gets when the candidate is down (status,
// headers, bytes), and gets it before the mirror ends — for a candidate that never
// ends on its own, the mirror ends at its deadline with a timeout; every mirror is
// observed and counted; afterwards goroutines and file descriptors are back to
// their baseline.
func TestMirrorCandidateFaults(t *testing.T) {
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)
	// All at once, whatever -parallel says: most cases wait for a deadline.
	var wg sync.WaitGroup
	for _, tc := range candidateFaults() {
		wg.Go(func() { t.Run(tc.name, func(t *testing.T) { runCandidateFault(t, tc) }) })
	}
	wg.Wait()
	checkGoroutines(t, goroutines)
	checkFDs(t, fds)
}

func runCandidateFault(t *testing.T, tc candidateFault) {
	primarySrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, faultAnswer)
	}))
	t.Cleanup(primarySrv.Close)
	primary, _ := url.Parse(primarySrv.URL)
	method := stdcmp.Or(tc.method, "GET")
	ask := func(h *harness, body string) (clientView, error) {
		req, _ := http.NewRequest(method, h.server.URL+"/api/sessions", strings.NewReader(body))
		maps.Copy(req.Header, tc.header)
		res, err := h.client.Do(req)
		if err != nil {
			return clientView{}, err
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		return viewOf(res, b), err
	}

	// The baseline: the same request with the candidate down (the primary's
	// answer does not depend on the body).
	down := newHarness(t, &Proxy{Primary: primary, Candidate: deadURL(t), Decide: decideFixed(rules.Primary, true)})
	want, err := ask(down, "x")
	if err != nil || want.Status != 200 || want.Body != faultAnswer {
		t.Fatalf("baseline with the candidate down: %+v, %v", want, err)
	}

	obs := newObserver()
	m := NewMetrics(0)
	deadline := waitLimit // the primary must answer well within it, even under -race
	if tc.hangs {
		deadline = stdcmp.Or(tc.deadline, hangDeadline)
	}
	h := newHarness(t, &Proxy{Primary: primary, Candidate: tc.candidate(t), Decide: decideFixed(rules.Primary, true),
		Observer: obs, Metrics: m, MirrorTimeout: deadline, MirrorBodyCap: tc.bodyCap})
	clients := max(tc.clients, 1)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			got, err := ask(h, tc.body)
			if tc.hangs && len(obs.ch) > 0 {
				t.Errorf("the client's answer was complete only after the mirror ended")
			}
			if err != nil {
				t.Errorf("client: %v", err)
				return
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("client's answer differs from the candidate-down baseline (-want +got):\n%s", d)
			}
		})
	}
	wg.Wait()
	for range clients {
		ob := obs.next(t)
		if got := outcomeOf(&ob); !slices.Contains(tc.outcomes, got) {
			t.Errorf("outcome %s of %+v, want one of %v", got, ob, tc.outcomes)
		}
		if tc.hangs && ob.CandidateError != "timeout" {
			t.Errorf("candidate error %q, want the mirror deadline's timeout", ob.CandidateError)
		}
	}
	counted := 0.0
	for _, o := range tc.outcomes {
		counted += metricValue(t, m, "parity_comparisons_total", map[string]string{"outcome": o})
	}
	if counted != float64(clients) {
		t.Errorf("comparisons counted %v, want %d", counted, clients)
	}
}

// TestFaultsPrimaryFailedWhileQueued: a pair whose primary fails while it waits
// for the one mirror worker is excluded as primary_failed when the worker reaches
// it, not dropped as if the queue had been too slow (the serving side's failure
// stops the pair before the worker sees it).
func TestFaultsPrimaryFailedWhileQueued(t *testing.T) {
	primary := rawServer(t, func(c net.Conn) {
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		if req.URL.Path == "/api/busy" {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
			c.Close()
			return
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"sess\":")
		resetConn(c)
	})
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/busy" {
			entered <- struct{}{}
			<-release
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{}`)
	})
	obs := newObserver()
	m := NewMetrics(0)
	h := newHarness(t, &Proxy{Primary: primary, Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true),
		Observer: obs, Metrics: m, Logger: zerolog.Nop(), MirrorConcurrency: 1, MirrorQueue: 1})
	res, err := h.client.Get(h.server.URL + "/api/busy")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	select {
	case <-entered: // the only worker is held by /api/busy's mirror
	case <-time.After(waitLimit):
		t.Fatal("the busy mirror never reached the candidate")
	}
	// Served and failed (the client sees the broken stream) while its pair waits.
	if res, err := h.client.Get(h.server.URL + "/api/sessions"); err == nil {
		_, err = io.ReadAll(res.Body)
		res.Body.Close()
		if err == nil {
			t.Fatal("client read a whole answer from a primary that reset mid-body")
		}
	}
	close(release)
	got := map[string]report.SkipReason{}
	for range 2 {
		ob := obs.next(t)
		got[ob.Route] = ob.Skipped
	}
	if got["GET /api/sessions"] != report.SkipPrimaryFailed || got["GET /api/busy"] != "" {
		t.Errorf("skips by route %v, want GET /api/sessions excluded as %s and GET /api/busy compared", got, report.SkipPrimaryFailed)
	}
	if v := metricValue(t, m, "parity_mirror_dropped_total", map[string]string{"reason": string(report.SkipConcurrency)}); v != 0 {
		t.Errorf("parity_mirror_dropped_total{reason=concurrency} = %v, want 0", v)
	}
	closeProxy(t, h.proxy)
}

// TestFaultsPrimaryResetMidBody: a primary that resets its connection mid-body,
// by Content-Length or chunked, gives the client exactly the bytes it sent, then
// a broken stream; the pair is excluded as primary_failed — counted as excluded,
// never as a difference — and the failure is logged as the backend's.
func TestFaultsPrimaryResetMidBody(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		t.Run(fmt.Sprintf("chunked=%v", chunked), func(t *testing.T) {
			primary := rawServer(t, func(c net.Conn) {
				readRequest(c)
				if chunked {
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n{\"sess\":\r\n")
				} else {
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"sess\":")
				}
				resetConn(c)
			})
			candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"sess":[1]}`)
			})
			var logs syncBuffer
			obs := newObserver()
			m := NewMetrics(0)
			h := newHarness(t, &Proxy{Primary: primary, Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true),
				Observer: obs, Metrics: m, Logger: zerolog.New(&logs)})
			res, err := h.client.Get(h.server.URL + "/api/sessions")
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || string(b) != `{"sess":` || err == nil {
				t.Errorf("client got %d %q, %v; want 200, exactly the 8 bytes sent, then an error", res.StatusCode, b, err)
			}
			if ob := obs.next(t); ob.Skipped != report.SkipPrimaryFailed || len(ob.Differences) != 0 {
				t.Errorf("observation %+v, want excluded as %s", ob, report.SkipPrimaryFailed)
			}
			for outcome, want := range map[string]float64{OutcomeExcluded: 1, OutcomeMismatched: 0, OutcomeMatched: 0, OutcomeCandidateError: 0} {
				if v := metricValue(t, m, "parity_comparisons_total", map[string]string{"outcome": outcome}); v != want {
					t.Errorf("comparisons{%s} = %v, want %v", outcome, v, want)
				}
			}
			closeProxy(t, h.proxy)
			if line := findLogLine(t, logs.String(), "Backend failed mid-body"); line["backend"] != "primary" {
				t.Errorf("log line %v", line)
			}
		})
	}
}

// TestFaultsClientAbortAfterHeaders: a client that leaves once it has the
// response headers takes both upstream requests with it within a second — the
// serving one and the mirror — as their request contexts show; the pair is
// excluded, and the access line says the client left, not that the backend
// failed.
func TestFaultsClientAbortAfterHeaders(t *testing.T) {
	primaryGone, candidateGone := newSignal(), newSignal()
	candidateIn := newSignal()
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			primaryGone.fire()
		case <-time.After(waitLimit):
		}
	})
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		candidateIn.fire()
		select {
		case <-r.Context().Done():
			candidateGone.fire()
		case <-time.After(waitLimit):
		}
	})
	var logs syncBuffer
	obs := newObserver()
	m := NewMetrics(0)
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true),
		Observer: obs, Metrics: m, Logger: zerolog.New(&logs)})

	conn, err := net.Dial("tcp", h.server.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /api/chat HTTP/1.1\r\nHost: app\r\n\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("response headers: %v %v", res, err)
	}
	candidateIn.wait(t, "the mirror's arrival at the candidate")
	conn.Close()
	left := time.After(time.Second)
	for name, gone := range map[string]*signal{"primary": primaryGone, "candidate": candidateGone} {
		select {
		case <-gone.ch:
		case <-left:
			t.Errorf("the %s request was not cancelled within a second of the client leaving", name)
		}
	}
	if ob := obs.next(t); ob.Skipped != report.SkipPrimaryFailed {
		t.Errorf("observation %+v, want excluded as %s", ob, report.SkipPrimaryFailed)
	}
	if v := metricValue(t, m, "parity_comparisons_total", map[string]string{"outcome": OutcomeExcluded}); v != 1 {
		t.Errorf("excluded comparisons = %v, want 1", v)
	}
	closeProxy(t, h.proxy) // the access line is written by now
	line := findLogLine(t, logs.String(), "request")
	if line["status"] != float64(statusClientClosed) {
		t.Errorf("access line %v, want status %d (client closed)", line, statusClientClosed)
	}
	if strings.Contains(logs.String(), "Backend failed mid-body") {
		t.Errorf("a client leaving is logged as a backend failure:\n%s", logs.String())
	}
}

// TestFaultsSlowCandidateStillCompared: the primary answers at once, the
// candidate only after the client's handler has returned (200 ms later in
// production); the pair is still compared, the candidate gets the whole body,
// and nothing reads the client's request body after the handler returned.
func TestFaultsSlowCandidateStillCompared(t *testing.T) {
	const payload = `{"tool":"ls","args":["-l"]}`
	returned := newSignal()
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	})
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-returned.ch:
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	})
	obs := newObserver()
	p := &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true), Observer: obs}
	var lateReads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		done := &atomic.Bool{}
		r.Body = &watchedBody{ReadCloser: r.Body, done: done, late: &lateReads}
		p.ServeHTTP(w, r)
		done.Store(true)
		returned.fire()
	}))
	defer srv.Close()
	defer closeProxy(t, p)

	res, err := http.Post(srv.URL+"/api/tools/execute", "application/json", strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(b) != `{"ok":true}` {
		t.Fatalf("client got %d %q", res.StatusCode, b)
	}
	ob := obs.next(t)
	if ob.Skipped != "" || ob.CandidateError != "" || len(ob.Differences) != 0 {
		t.Errorf("observation %+v, want a matched comparison", ob)
	}
	if got := candidate.next(t).Body; got != payload {
		t.Errorf("candidate received %q, want %q", got, payload)
	}
	if n := lateReads.Load(); n != 0 {
		t.Errorf("the client's request body was read %d times after the handler returned", n)
	}
}

// watchedBody counts reads of a request body after its handler returned.
type watchedBody struct {
	io.ReadCloser
	done *atomic.Bool
	late *atomic.Int64
}

func (w *watchedBody) Read(p []byte) (int, error) {
	if w.done.Load() {
		w.late.Add(1)
	}
	return w.ReadCloser.Read(p)
}

// BenchmarkFaultsClientP99 measures what a client sees with each kind of faulty
// candidate, against the candidate-down baseline: ns/op and the p50 and p99 of
// single requests (p99-ms should stay that of "down").
//
//	go test -run '^$' -bench FaultsClientP99 -benchtime 2000x ./shadow
func BenchmarkFaultsClientP99(b *testing.B) {
	hung := func(b *testing.B) *url.URL {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		b.Cleanup(s.Close)
		u, _ := url.Parse(s.URL)
		return u
	}
	tests := []struct {
		name      string
		candidate func(b *testing.B) *url.URL
	}{
		{"down", func(b *testing.B) *url.URL {
			l, _ := net.Listen("tcp", "127.0.0.1:0")
			addr := l.Addr().String()
			l.Close()
			return &url.URL{Scheme: "http", Host: addr}
		}},
		{"healthy", benchBackend},
		{"hung", hung},
		{"slow-200ms", func(b *testing.B) *url.URL {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				select {
				case <-time.After(200 * time.Millisecond):
					io.WriteString(w, benchBody)
				case <-r.Context().Done():
				}
			}))
			b.Cleanup(s.Close)
			u, _ := url.Parse(s.URL)
			return u
		}},
		{"resets", func(b *testing.B) *url.URL {
			l, _ := net.Listen("tcp", "127.0.0.1:0")
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					go func() { readRequest(c); resetConn(c) }()
				}
			}()
			b.Cleanup(func() { l.Close() })
			return &url.URL{Scheme: "http", Host: l.Addr().String()}
		}},
	}
	for _, bc := range tests {
		b.Run(bc.name, func(b *testing.B) {
			p := &Proxy{Primary: benchBackend(b), Candidate: bc.candidate(b), Decide: decideFixed(rules.Primary, true),
				MirrorTimeout: time.Second}
			srv := httptest.NewServer(p)
			defer srv.Close()
			tr := &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			lat := make([]time.Duration, 0, b.N)
			var mu sync.Mutex
			b.ReportAllocs()
			b.ResetTimer()
			b.SetParallelism(2)
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					start := time.Now()
					res, err := client.Get(srv.URL + "/api/sessions")
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					mine = append(mine, time.Since(start))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			p.Close(ctx)
			if len(lat) > 0 {
				sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
				q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))]) / 1e6 }
				b.ReportMetric(q(0.5), "p50-ms")
				b.ReportMetric(q(0.99), "p99-ms")
			}
		})
	}
}
