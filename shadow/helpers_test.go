package shadow

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
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
	"github.com/parity-dev/parity/shadow/rules"
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
func decideFixed(serve rules.Backend, mirror bool) func(*http.Request) rules.Decision {
	return func(r *http.Request) rules.Decision {
		return rules.Decision{Path: r.URL.Path, API: true, Route: r.Method + " " + r.URL.Path, Serve: serve, Mirror: mirror}
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

// Helpers of the hardening suite (hardening_*_test.go): the fault, hostile-input,
// secret and reload cases of the proxy. The general proxy helpers are in
// proxy_helpers_test.go.

// teeObserver hands every observation to each of its observers in turn.
type teeObserver []Observer

func (t teeObserver) Observe(o report.Observation) {
	for _, ob := range t {
		ob.Observe(o)
	}
}

// leakForms are the spellings of secret that must never appear in an output:
// plain, URL-encoded (query and path escaping), and base64 in the standard and
// URL alphabets, padded or not, at each of the three alignments it can take
// inside a longer encoded text. For an unaligned secret only the characters that
// depend on its bytes alone are kept, so that the form is found whatever
// surrounds it.
func leakForms(secret string) []string {
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret)}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for shift := range 3 {
			s := enc.EncodeToString([]byte(strings.Repeat("\x00", shift) + secret))
			from := 0
			if shift > 0 {
				from = 4 // the first quantum mixes in the bytes before the secret
			}
			to := len(s)
			if (shift+len(secret))%3 != 0 {
				to -= 4 // the last quantum mixes in the bytes after it
			}
			if to-from >= 8 {
				forms = append(forms, s[from:to])
			}
		}
	}
	return forms
}

// assertNoLeak fails for every secret found, in any of its leakForms, in out.
func assertNoLeak(t *testing.T, where string, out []byte, secrets []string) {
	t.Helper()
	if len(out) == 0 {
		t.Errorf("%s: empty output, nothing was checked", where)
		return
	}
	for _, s := range secrets {
		for _, f := range leakForms(s) {
			if i := bytes.Index(out, []byte(f)); i >= 0 {
				from, to := max(0, i-80), min(len(out), i+len(f)+80)
				t.Errorf("%s holds secret %q as %q: …%s…", where, s, f, out[from:to])
				break
			}
		}
	}
}

// rawExchange writes request on a new connection to addr, then a last request
// for endPath that asks the server to close the connection, and returns every
// response read before the close (the last one's included, when it came).
// Half-closing the connection instead would tell Go's server that the client
// left.
func rawExchange(t *testing.T, addr, request string) []rawResponse {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(waitLimit))
	if _, err := io.WriteString(conn, request+"GET "+endPath+" HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatalf("write request: %v", err)
	}
	var out []rawResponse
	br := bufio.NewReader(conn)
	for {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			return out
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		out = append(out, rawResponse{status: res.StatusCode, body: string(b), err: err, closed: res.Close})
		if res.Close {
			return out
		}
	}
}

// endPath is the target of rawExchange's last request.
const endPath = "/end-of-exchange"

type rawResponse struct {
	status int
	body   string
	err    error
	closed bool // the answer closed the connection
}

// signal is a channel closed once, by whichever of several goroutines gets there
// first.
type signal struct {
	once sync.Once
	ch   chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

func (s *signal) fire() { s.once.Do(func() { close(s.ch) }) }

// fired reports whether the signal has fired, without waiting.
func (s *signal) fired() bool {
	select {
	case <-s.ch:
		return true
	default:
		return false
	}
}

// wait fails the test when the signal does not fire within the wait limit.
func (s *signal) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case <-s.ch:
	case <-time.After(waitLimit):
		t.Fatalf("%s did not happen", what)
	}
}

// metricValue is the value of the counter, gauge or histogram sample count named
// name whose labels include labels; 0 when there is none.
func metricValue(t *testing.T, m *Metrics, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, mt := range f.GetMetric() {
			have := map[string]string{}
			for _, lp := range mt.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue metrics
				}
			}
			switch {
			case mt.Counter != nil:
				sum += mt.GetCounter().GetValue()
			case mt.Gauge != nil:
				sum += mt.GetGauge().GetValue()
			case mt.Histogram != nil:
				sum += float64(mt.GetHistogram().GetSampleCount())
			}
		}
	}
	return sum
}

// yamlRouter is the Router of a configuration file's text.
func yamlRouter(t testing.TB, yaml string) *rules.Router {
	t.Helper()
	cfg, err := rules.ParseConfig("parity.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	rt, err := rules.NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}
