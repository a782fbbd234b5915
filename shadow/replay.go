package shadow

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
)

// Defaults of the Replayer.
const (
	DefaultReplayConcurrency = 4
	DefaultReplayTimeout     = 10 * time.Second
	DefaultReplayCaptureCap  = 4 << 20
)

// Replayer sends recorded traffic to both backends and compares their answers
// through the same path as the proxy: Decide, both answers captured, an Exchange,
// Observer.Observe. It applies the proxy's eligibility rules — /api/auth, ambiguous
// paths and exclusions go to the primary only, never to the candidate; writes go to
// the candidate only with AllowWrites or where a route opts in — but not the
// cutover flags nor the sample rate, which are about live traffic: a replay compares
// every eligible request, so the gate can re-check the routes of earlier steps.
//
// Each eligible request is sent to both backends concurrently (so that both reads
// see the same data) with the same X-Request-Id, recorded or generated. Requests
// outside /api are sent to the primary only and not observed, as the proxy serves
// them. The zero value of every field but Primary and Candidate is usable.
type Replayer struct {
	// Primary and Candidate are the backends' base URLs (scheme, host, optional path
	// prefix). Both are required.
	Primary, Candidate *url.URL
	// Secondary is an optional second primary. A safe request whose answers differ
	// at paths not yet learned as noise is asked of it again (without it, of the
	// primary itself on refetch routes), and what differs between the two
	// primaries' answers is reported as noise, not difference. Re-asks wait for
	// room under the config's noise: limits, within Timeout.
	Secondary *url.URL

	// Router decides each request; nil = the Router of the default configuration.
	Router *Router

	// Client sends the requests. nil: a client of the Replayer's own that never
	// follows redirects (a 3xx is compared as such), never asks for compression
	// (bodies are compared as the backends encode them), ignores proxy environment
	// variables and keeps 2×Concurrency idle connections per backend.
	Client *http.Client

	// Concurrency is how many requests are in flight at once (0 = 4).
	Concurrency int
	// Rate caps requests started per second (0 = unlimited).
	Rate float64
	// Timeout bounds each request, answer body included (0 = 10 s).
	Timeout time.Duration
	// CaptureCap is how much of each response body is kept for the comparison
	// (0 = 4 MiB); a longer body is marked Truncated with its full Size.
	CaptureCap int64
	// AllowWrites sends writes to the candidate too, for staging backends whose
	// data may change.
	AllowWrites bool

	// Observer receives one observation per /api request: compared, or skipped
	// with its reason. nil = dropped.
	Observer Observer
	// Progress, when set, is called after each request with the number done and
	// Total; calls are serialised.
	Progress func(done, total int)
	// Total is the number of requests expected, for Progress (0 = unknown).
	Total int
	// Logger receives transport errors at debug level; the zero value logs nothing.
	Logger zerolog.Logger
}

// ReplayStats says what a replay did.
type ReplayStats struct {
	Read            int            // requests taken from the traffic
	Compared        int            // sent to both backends and compared (primary answered)
	CandidateErrors int            // of those, candidate transport errors and timeouts
	Skipped         map[string]int // /api requests not compared, by report.Skip* reason
	NotAPI          int            // outside /api: sent to the primary only
	Interrupted     bool           // the context ended before the traffic did
	Elapsed         time.Duration
}

// Run replays every request of tr and returns what was done. When ctx is cancelled
// (Ctrl-C) it stops sending, lets the requests in flight finish and returns what was
// done with Interrupted set and a nil error. A traffic error (a truncated file) stops
// the replay the same way and is returned.
func (rp *Replayer) Run(ctx context.Context, tr TrafficReader) (ReplayStats, error) {
	stats := ReplayStats{Skipped: map[string]int{}}
	if rp.Primary == nil || rp.Candidate == nil {
		return stats, errors.New("replay: primary and candidate URLs are required")
	}
	rt := rp.Router
	if rt == nil {
		var err error
		if rt, err = NewRouter(&Config{}); err != nil {
			return stats, err
		}
	}
	run := &replayRun{rp: rp, rt: rt.forReplay(rp.AllowWrites), stats: &stats}
	run.client = rp.Client
	if run.client == nil {
		t := rp.transport()
		defer t.CloseIdleConnections()
		run.client = &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	workers := rp.Concurrency
	if workers <= 0 {
		workers = DefaultReplayConcurrency
	}
	start := time.Now()
	jobs := make(chan *TrafficRequest)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for req := range jobs {
				run.one(ctx, req)
			}
		}()
	}
	readErr := run.feed(ctx, tr, jobs)
	close(jobs)
	wg.Wait()
	stats.Elapsed = time.Since(start)
	return stats, readErr
}

// replayRun is one Run's shared state.
type replayRun struct {
	rp     *Replayer
	rt     *Router
	client *http.Client

	mu    sync.Mutex // guards stats and done, serialises Progress
	stats *ReplayStats
	done  int

	reasks reaskLimiter // bounds the noise re-asks of the whole run
}

// feed reads the traffic and hands requests to the workers at the configured rate
// until the traffic ends, fails, or ctx is cancelled.
func (run *replayRun) feed(ctx context.Context, tr TrafficReader, jobs chan<- *TrafficRequest) error {
	var interval time.Duration
	if run.rp.Rate > 0 {
		interval = time.Duration(float64(time.Second) / run.rp.Rate)
	}
	next := time.Now()
	for {
		if ctx.Err() != nil {
			run.interrupted()
			return nil
		}
		req, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if interval > 0 {
			if wait := time.Until(next); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					run.interrupted()
					return nil
				}
			}
			next = later(next, time.Now()).Add(interval)
		}
		select {
		case jobs <- req:
			run.mu.Lock()
			run.stats.Read++
			run.mu.Unlock()
		case <-ctx.Done():
			run.interrupted()
			return nil
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (run *replayRun) interrupted() {
	run.mu.Lock()
	run.stats.Interrupted = true
	run.mu.Unlock()
}

// one replays one request. Requests in flight finish even after ctx is cancelled:
// each has its own deadline.
func (run *replayRun) one(ctx context.Context, req *TrafficRequest) {
	ctx = context.WithoutCancel(ctx)
	defer run.progress()
	probe := &http.Request{Method: req.Method, RequestURI: req.URL, Header: req.Header}
	if probe.Header == nil {
		probe.Header = http.Header{}
	}
	d := run.rt.Decide(probe)
	id := req.Header.Get(HeaderRequestID)
	if id == "" {
		id = newReplayID()
	}
	now := time.Now()
	skip := func(reason string) {
		run.count(func(s *ReplayStats) { s.Skipped[reason]++ })
		run.observe(report.Observation{Time: now, Route: d.Route, Method: req.Method, RequestID: id, Skipped: reason})
	}
	if req.BodyMissing != "" {
		// A cut or redacted body is not the request that was made: send it nowhere.
		if d.API {
			skip(report.SkipBodyTooLarge)
		}
		return
	}
	if !d.Mirror {
		run.send(ctx, run.rp.Primary, req, id)
		if !d.API {
			run.count(func(s *ReplayStats) { s.NotAPI++ })
			return
		}
		skip(d.Skip)
		return
	}
	var p, c sideResult
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p = run.send(ctx, run.rp.Primary, req, id) }()
	go func() { defer wg.Done(); c = run.send(ctx, run.rp.Candidate, req, id) }()
	wg.Wait()
	x := &Exchange{
		Decision: d, Method: req.Method, RequestID: id, Time: now,
		Primary: p.resp, PrimaryErr: p.err, PrimaryLatency: p.latency,
		Candidate: c.resp, CandidateErr: c.err, CandidateLatency: c.latency,
		Learned: learnedFor(run.rp.Observer, d.Route),
	}
	if target := run.reaskTarget(&d, req.Method); target != nil {
		x.Reask = func() *diff.Response { return run.reask(ctx, target, &d, req, id) }
	}
	o := x.Observation()
	scrubTraffic(&o, req) // a backend may have echoed the request's secrets
	run.count(func(st *ReplayStats) {
		switch {
		case o.Skipped != "":
			st.Skipped[o.Skipped]++
		default:
			st.Compared++
			if o.CandidateError != "" {
				st.CandidateErrors++
			}
		}
	})
	run.observe(o)
}

// reaskTarget is where a request's noise re-ask goes: the secondary, or the
// primary itself on a refetch route; nil for none. Writes are never asked twice.
func (run *replayRun) reaskTarget(d *Decision, method string) *url.URL {
	if method == "" {
		method = http.MethodGet
	}
	switch {
	case !safeMethods[method]:
		return nil
	case run.rp.Secondary != nil:
		return run.rp.Secondary
	case d.Refetch:
		return run.rp.Primary
	}
	return nil
}

// reask sends req to target again once there is room under the re-ask limits,
// waiting for it no longer than the replay's deadline; nil when it could not be
// made or was not answered.
func (run *replayRun) reask(ctx context.Context, target *url.URL, d *Decision, req *TrafficRequest, id string) *diff.Response {
	wait, cancel := context.WithTimeout(ctx, run.timeout())
	defer cancel()
	if !run.reasks.acquire(wait, d.Noise, true) {
		return nil
	}
	defer run.reasks.release()
	return run.send(ctx, target, req, id).resp
}

func (run *replayRun) count(f func(*ReplayStats)) {
	run.mu.Lock()
	f(run.stats)
	run.mu.Unlock()
}

func (run *replayRun) observe(o report.Observation) {
	if run.rp.Observer != nil {
		run.rp.Observer.Observe(o)
	}
}

func (run *replayRun) progress() {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.done++
	if run.rp.Progress != nil {
		run.rp.Progress(run.done, run.rp.Total)
	}
}

// sideResult is one backend's answer.
type sideResult struct {
	resp    *diff.Response
	err     error
	latency time.Duration
}

// send sends req to the backend at base and captures the answer.
func (run *replayRun) send(ctx context.Context, base *url.URL, req *TrafficRequest, id string) sideResult {
	ctx, cancel := context.WithTimeout(ctx, run.timeout())
	defer cancel()
	out, err := outgoing(ctx, base, req, id)
	if err != nil {
		return sideResult{err: err}
	}
	start := time.Now()
	resp, err := run.client.Do(out)
	if err != nil {
		run.rp.Logger.Debug().Str("backend", base.Host).Str("request_id", id).Err(transportErr(err)).Msg("replay request failed")
		return sideResult{err: err, latency: time.Since(start)}
	}
	defer resp.Body.Close()
	captured, size, truncated, err := captureBody(resp.Body, run.captureCap())
	latency := time.Since(start)
	if err != nil {
		return sideResult{err: fmt.Errorf("read body: %w", err), latency: latency}
	}
	return sideResult{resp: &diff.Response{
		Status: resp.StatusCode, Header: resp.Header, Body: captured, Truncated: truncated, Size: size,
	}, latency: latency}
}

func (run *replayRun) timeout() time.Duration {
	if run.rp.Timeout > 0 {
		return run.rp.Timeout
	}
	return DefaultReplayTimeout
}

func (run *replayRun) captureCap() int64 {
	if run.rp.CaptureCap > 0 {
		return run.rp.CaptureCap
	}
	return DefaultReplayCaptureCap
}

// captureBody reads a body: the first limit bytes kept, the rest counted.
func captureBody(r io.Reader, limit int64) (body []byte, size int64, truncated bool, err error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, limit))
	if err != nil {
		return nil, n, false, err
	}
	rest, err := io.Copy(io.Discard, r)
	if err != nil {
		return nil, n + rest, rest > 0, err
	}
	return buf.Bytes(), n + rest, rest > 0, nil
}

// transportErr drops the URL from a client error: its query may hold secrets.
func transportErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// outgoing builds the request for one backend: the recorded target sent as is
// (escapes, dot segments and query untouched), after the backend's path prefix;
// connection headers, Host and Content-Length left to the client; the request id set.
func outgoing(ctx context.Context, base *url.URL, req *TrafficRequest, id string) (*http.Request, error) {
	var body io.Reader = http.NoBody
	if len(req.Body) > 0 {
		body = bytes.NewReader(req.Body)
	}
	out, err := http.NewRequestWithContext(ctx, req.Method, base.Scheme+"://"+base.Host+"/", body)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	path, query, hasQuery := strings.Cut(req.URL, "?")
	full := strings.TrimSuffix(base.EscapedPath(), "/") + path
	if strings.HasPrefix(full, "//") {
		// Origin-form cannot start with "//" on the wire; absolute-form keeps it.
		full = "//" + base.Host + full
	}
	out.URL.Path, out.URL.RawPath, out.URL.Opaque = "", "", full
	out.URL.RawQuery, out.URL.ForceQuery = query, hasQuery && query == ""
	out.Header = make(http.Header, len(req.Header)+1)
	for name, vs := range req.Header {
		out.Header[name] = append([]string(nil), vs...)
	}
	for _, name := range recordDropHeaders {
		out.Header.Del(name)
	}
	for _, v := range req.Header.Values("Connection") {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				out.Header.Del(name)
			}
		}
	}
	out.Header.Set(HeaderRequestID, id)
	return out, nil
}

// newReplayID returns a fresh request id.
func newReplayID() string {
	var b [12]byte
	rand.Read(b[:])
	return "replay-" + hex.EncodeToString(b[:])
}

func (rp *Replayer) transport() *http.Transport {
	n := rp.Concurrency
	if n <= 0 {
		n = DefaultReplayConcurrency
	}
	timeout := rp.Timeout
	if timeout <= 0 {
		timeout = DefaultReplayTimeout
	}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          6 * n,
		MaxIdleConnsPerHost:   2 * n,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ForceAttemptHTTP2:     true,
	}
}
