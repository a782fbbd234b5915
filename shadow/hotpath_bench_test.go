package shadow

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// The benchmarks of this file measure the proxy's own work, without a network:
// backends are in-memory round trippers and the client a discarding
// ResponseWriter, so that allocations per request and CPU profiles show parity's
// code rather than the kernel's loopback. fixtures/bench measures the same paths
// over real sockets against nginx.

// memTransport answers every request with a copy of one canned response.
type memTransport struct {
	status int
	header http.Header
	body   []byte
}

func newMemTransport(body []byte) *memTransport {
	return &memTransport{status: 200, body: body, header: http.Header{
		"Content-Type":   {"application/json; charset=utf-8"},
		"Content-Length": {strconv.Itoa(len(body))},
		"Date":           {"Wed, 25 Nov 2026 02:30:00 GMT"},
	}}
}

func (t *memTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	h := make(http.Header, len(t.header))
	for k, v := range t.header {
		h[k] = v
	}
	return &http.Response{
		StatusCode: t.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h,
		Body: io.NopCloser(bytes.NewReader(t.body)), ContentLength: int64(len(t.body)), Request: r,
	}, nil
}

// discardWriter is a client that takes everything and keeps nothing.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }
func (w *discardWriter) Flush()                      {}

func (w *discardWriter) reset() {
	clear(w.h)
	w.status, w.n = 0, 0
}

// benchJSON is a JSON list page of about size bytes. variant "reordered" has the
// keys of every object in another order (equal for parity, not byte for byte, as
// another framework would write it); "two-changed" differs in two values.
func benchJSON(size int, variant string) []byte {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < size-64; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		id, count := strconv.Itoa(100000+i), "12345"
		if variant == "two-changed" && (i == 3 || i == 40) {
			count = "12346"
		}
		if variant == "reordered" {
			b.WriteString(`{"tags":["a","b"],"count":` + count + `,"active":true,"title":"a session title","id":"sess-` + id + `"}`)
		} else {
			b.WriteString(`{"id":"sess-` + id + `","title":"a session title","active":true,"count":` + count + `,"tags":["a","b"]}`)
		}
	}
	if variant == "reordered" {
		b.WriteString(`],"meta":{"limit":50,"total":1000}}`)
	} else {
		b.WriteString(`],"meta":{"total":1000,"limit":50}}`)
	}
	return []byte(b.String())
}

// benchRouter routes as `parity proxy` does in shadow mode with sample 1.0.
func benchRouter(b *testing.B) func(*http.Request) rules.Decision {
	b.Helper()
	cfg, err := rules.ParseConfig("bench.yaml", []byte("shadow:\n  sample: 1.0\n  exclude: [/api/unmirrored/]\n"))
	if err != nil {
		b.Fatal(err)
	}
	rt, err := rules.NewRouter(cfg)
	if err != nil {
		b.Fatal(err)
	}
	return rt.Decide
}

// benchRequest is an inbound GET as a server hands it to the handler.
func benchRequest(path string) *http.Request {
	r, _ := http.NewRequest(http.MethodGet, "http://parity.test"+path+"?limit=50", nil)
	r.RequestURI = path + "?limit=50"
	r.RemoteAddr = "127.0.0.1:50000"
	r.Header = http.Header{
		"Accept":          {"application/json"},
		"User-Agent":      {"bench/1"},
		"Accept-Encoding": {"identity"},
	}
	return r
}

// waitObserver hands each observation to the benchmark loop, so that one
// iteration is one request served, mirrored and compared.
type waitObserver struct {
	agg  *report.Aggregator
	done chan report.Observation
}

func (w *waitObserver) Observe(o report.Observation) {
	w.agg.Observe(o)
	w.done <- o
}

// BenchmarkServePath is the cost of one request on the serving path, with
// in-memory backends: through a bare httputil.ReverseProxy, through parity on a
// route it does not mirror, and through parity mirroring and comparing (each
// iteration waits for its comparison, so ns/op and allocs/op are those of the
// whole request: serving, mirror, compare, aggregate; no comparison budget, so
// that every one is compared). "transport-only" is the
// in-memory backend's own share.
func BenchmarkServePath(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10} {
		body, reordered := benchJSON(size, ""), benchJSON(size, "reordered")
		kb := strconv.Itoa(size>>10) + "KB"
		primaryURL, _ := url.Parse("http://primary.test")
		candURL, _ := url.Parse("http://candidate.test")

		b.Run(kb+"/transport-only", func(b *testing.B) {
			t := newMemTransport(body)
			r := benchRequest("/api/bench/x")
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				res, _ := t.RoundTrip(r)
				io.Copy(io.Discard, res.Body)
			}
		})
		b.Run(kb+"/httputil", func(b *testing.B) {
			rp := httputil.NewSingleHostReverseProxy(primaryURL)
			rp.Transport = newMemTransport(body)
			serveLoop(b, rp, benchRequest("/api/bench/x"), len(body), nil)
		})
		b.Run(kb+"/parity-unmirrored", func(b *testing.B) {
			p := &Proxy{Primary: primaryURL, Transport: newMemTransport(body), Decide: benchRouter(b)}
			defer p.Close(context.Background())
			serveLoop(b, p, benchRequest("/api/unmirrored/x"), len(body), nil)
		})
		b.Run(kb+"/parity-mirrored-compared", func(b *testing.B) {
			obs := &waitObserver{agg: report.NewAggregator(report.Limits{}), done: make(chan report.Observation, 1)}
			p := &Proxy{Primary: primaryURL, Candidate: candURL, Transport: newMemTransport(body),
				CandidateTransport: newMemTransport(reordered), Decide: benchRouter(b), Observer: obs, CompareBudget: 1}
			defer p.Close(context.Background())
			serveLoop(b, p, benchRequest("/api/bench/x"), len(body), obs.done)
		})
		b.Run(kb+"/parity-mirrored-over-budget", func(b *testing.B) {
			// The comparison budget is spent (and its clock stands still): every
			// pair is skipped compare_budget. What is left is what a skipped
			// pair costs serving; candidate-requests/op says how many mirrors
			// were still sent.
			obs := &waitObserver{agg: report.NewAggregator(report.Limits{}), done: make(chan report.Observation, 1)}
			cand := &countingRoundTripper{RoundTripper: newMemTransport(reordered)}
			p := &Proxy{Primary: primaryURL, Candidate: candURL, Transport: newMemTransport(body),
				CandidateTransport: cand, Decide: benchRouter(b), Observer: obs,
				budgetClock: func() time.Duration { return 0 }}
			defer p.Close(context.Background())
			p.init()
			p.mirrors.budget.spend(1000 * time.Hour)
			w := &discardWriter{h: http.Header{}}
			r := benchRequest("/api/bench/x")
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				w.reset()
				p.ServeHTTP(w, r)
				if o := <-obs.done; o.Skipped != report.SkipCompareBudget {
					b.Fatalf("observation skipped %q, want compare_budget", o.Skipped)
				}
			}
			b.ReportMetric(float64(cand.n.Load())/float64(b.N), "candidate-requests/op")
		})
	}
}

// countingRoundTripper counts the requests sent through it.
type countingRoundTripper struct {
	http.RoundTripper
	n atomic.Int64
}

func (c *countingRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.RoundTripper.RoundTrip(r)
}

func serveLoop(b *testing.B, h http.Handler, r *http.Request, size int, observed chan report.Observation) {
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, r)
		if w.status != 200 || w.n != size {
			b.Fatalf("client got %d with %d bytes, want 200 with %d", w.status, w.n, size)
		}
		if observed != nil {
			select {
			case o := <-observed:
				if o.Skipped != "" || o.CandidateError != "" || len(o.Differences) > 0 {
					b.Fatalf("observation %+v, want a match", o)
				}
			case <-time.After(10 * time.Second):
				b.Fatal("no comparison within 10 s")
			}
		}
	}
}

// BenchmarkCompareExchange is the mirror path's comparison alone: an exchange of
// two answers turned into an observation (diff.Compare under the route's default
// rules) and aggregated. identical: byte-identical bodies; reordered: equal with
// the keys in another order; two-changed: two values differ (the differences are
// aggregated with their examples).
func BenchmarkCompareExchange(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10} {
		body := benchJSON(size, "")
		for _, variant := range []string{"identical", "reordered", "two-changed"} {
			other := bytes.Clone(body)
			if variant != "identical" {
				other = benchJSON(size, variant)
			}
			b.Run(strconv.Itoa(size>>10)+"KB/"+variant, func(b *testing.B) {
				decide := benchRouter(b)
				dec := decide(benchRequest("/api/bench/x"))
				h := newMemTransport(body).header
				x := Exchange{Decision: dec, Method: http.MethodGet, RequestID: "r1", Time: time.Now(),
					Primary: diffResponse(200, h, nil), Candidate: diffResponse(200, h, nil)}
				x.Primary.Body, x.Candidate.Body = body, other
				x.Primary.Size, x.Candidate.Size = int64(len(body)), int64(len(other))
				want := 0
				if variant == "two-changed" {
					want = 2
				}
				agg := report.NewAggregator(report.Limits{})
				b.ReportAllocs()
				b.SetBytes(int64(len(body) + len(other)))
				for b.Loop() {
					o := x.Observation()
					if len(o.Differences) != want {
						b.Fatalf("%d differences %+v, want %d", len(o.Differences), o.Differences, want)
					}
					agg.Observe(o)
				}
			})
		}
	}
}
