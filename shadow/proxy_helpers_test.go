package shadow

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parity-dev/parity/report"
)

// waitLimit bounds every wait on a channel in these tests: far beyond any
// expected delay, it only turns a hang into a failure.
const waitLimit = 10 * time.Second

// seen is one request as a test backend received it.
type seen struct {
	Method     string
	RequestURI string
	Host       string
	Header     http.Header
	Body       string
}

// backend is a real loopback server that records what it receives and then runs
// its handler.
type backend struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []seen
	got  chan seen
}

func newBackend(t *testing.T, h http.HandlerFunc) *backend {
	t.Helper()
	b := &backend{got: make(chan seen, 1024)}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s := seen{Method: r.Method, RequestURI: r.RequestURI, Host: r.Host, Header: r.Header.Clone(), Body: string(body)}
		b.mu.Lock()
		b.reqs = append(b.reqs, s)
		b.mu.Unlock()
		b.got <- s
		if h != nil {
			h(w, r)
		}
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.reqs)
}

func (b *backend) url(t *testing.T) *url.URL {
	t.Helper()
	u, err := url.Parse(b.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// next returns the next request the backend received.
func (b *backend) next(t *testing.T) seen {
	t.Helper()
	select {
	case s := <-b.got:
		return s
	case <-time.After(waitLimit):
		t.Fatal("backend received no request")
		return seen{}
	}
}

// observer collects observations.
type observer struct {
	mu  sync.Mutex
	obs []report.Observation
	ch  chan report.Observation
}

func newObserver() *observer { return &observer{ch: make(chan report.Observation, 1024)} }

func (o *observer) Observe(ob report.Observation) {
	o.mu.Lock()
	o.obs = append(o.obs, ob)
	o.mu.Unlock()
	o.ch <- ob
}

func (o *observer) next(t *testing.T) report.Observation {
	t.Helper()
	select {
	case ob := <-o.ch:
		return ob
	case <-time.After(waitLimit):
		t.Fatal("no observation")
		return report.Observation{}
	}
}

func (o *observer) all() []report.Observation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]report.Observation(nil), o.obs...)
}

// decideFixed routes every request the same way, with a route key of method and path.
func decideFixed(serve Backend, mirror bool) func(*http.Request) Decision {
	return func(r *http.Request) Decision {
		return Decision{Path: r.URL.Path, API: true, Route: r.Method + " " + r.URL.Path, Serve: serve, Mirror: mirror}
	}
}

// harness is a proxy behind a real server, and a client of its own.
type harness struct {
	proxy  *Proxy
	server *httptest.Server
	client *http.Client
}

func newHarness(t *testing.T, p *Proxy) *harness {
	t.Helper()
	h := &harness{proxy: p, server: httptest.NewServer(p)}
	h.server.Config.ErrorLog = quietLog()
	h.client = &http.Client{Transport: &http.Transport{DisableCompression: true, Proxy: nil}}
	t.Cleanup(func() {
		h.server.Close()
		h.client.CloseIdleConnections()
		closeProxy(t, p)
	})
	return h
}

func closeProxy(t *testing.T, p *Proxy) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.Close(context.Background()) }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("close proxy: %v", err)
		}
	case <-time.After(waitLimit):
		t.Error("proxy Close did not return")
	}
}

func (h *harness) do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	res, err := h.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read body of %s %s: %v", req.Method, req.URL, err)
	}
	return res, string(b)
}

func (h *harness) get(t *testing.T, path string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, h.server.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h.do(t, req)
}

// raw writes a request exactly as given on a new connection and returns the
// response.
func (h *harness) raw(t *testing.T, request string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", h.server.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(waitLimit))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response to %q: %v", firstLine(request), err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

// quietLog keeps the test servers' own error lines (expected aborts) out of the
// test output.
func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

// goroutines waits until the goroutine count is back to at most base, and fails
// with a dump if it is not within the wait limit.
func checkGoroutines(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		n := runtime.NumGoroutine()
		if n <= base {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines, want at most %d:\n%s", n, base, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// syncBuffer is a log sink safe for the proxy's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
