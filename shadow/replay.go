package shadow

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/internal/hop"
	"github.com/parity-dev/parity/shadow/rules"
	"github.com/parity-dev/parity/shadow/traffic"
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
	Router *rules.Router

	// Transport carries the requests to every backend. nil: a transport of the
	// Replayer's own, the proxy's (no environment proxy, no implicit compression:
	// bodies are compared as the backends encode them), keeping 2×Concurrency idle
	// connections per backend and waiting Timeout for response headers. Redirects
	// are never followed: a 3xx is compared as such.
	Transport http.RoundTripper

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
	Read            int                       // requests taken from the traffic
	Compared        int                       // sent to both backends and compared (primary answered)
	CandidateErrors int                       // of those, candidate transport errors and timeouts
	Skipped         map[report.SkipReason]int // /api requests not compared, by reason
	NotAPI          int                       // outside /api: sent to the primary only
	Interrupted     bool                      // the context ended before the traffic did
	Elapsed         time.Duration
}

// Run replays every request of tr and returns what was done. When ctx is cancelled
// (Ctrl-C) it stops sending, lets the requests in flight finish and returns what was
// done with Interrupted set and a nil error. A traffic error (a truncated file) stops
// the replay the same way and is returned.
func (rp *Replayer) Run(ctx context.Context, tr traffic.Reader) (ReplayStats, error) {
	stats := ReplayStats{Skipped: map[report.SkipReason]int{}}
	if rp.Primary == nil || rp.Candidate == nil {
		return stats, errors.New("replay: primary and candidate URLs are required")
	}
	rt := rp.Router
	if rt == nil {
		var err error
		if rt, err = rules.NewRouter(&rules.Config{}); err != nil {
			return stats, err
		}
	}
	workers := orDefault(rp.Concurrency, DefaultReplayConcurrency)
	run := &replayRun{rp: rp, rt: rt.ForReplay(rp.AllowWrites), stats: &stats, ids: newRequestIDs(),
		transport: rp.Transport, timeout: orDefault(rp.Timeout, DefaultReplayTimeout),
		captureCap: orDefault(rp.CaptureCap, DefaultReplayCaptureCap)}
	if run.transport == nil {
		// The proxy's transport to a backend; a replay sends no upgrades, so an
		// https backend may speak HTTP/2.
		t := newTransport(run.timeout, 2*workers)
		t.TLSHandshakeTimeout = 5 * time.Second
		t.ForceAttemptHTTP2 = true
		defer t.CloseIdleConnections()
		run.transport = t
	}
	start := time.Now()
	jobs := make(chan *traffic.Request)
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
	rp         *Replayer
	rt         *rules.Router
	transport  http.RoundTripper
	ids        *requestIDs
	timeout    time.Duration
	captureCap int64

	mu    sync.Mutex // guards stats and done, serialises Progress
	stats *ReplayStats
	done  int

	reasks reaskLimiter // bounds the noise re-asks of the whole run
}

// feed reads the traffic and hands requests to the workers at the configured rate
// until the traffic ends, fails, or ctx is cancelled.
func (run *replayRun) feed(ctx context.Context, tr traffic.Reader, jobs chan<- *traffic.Request) error {
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
func (run *replayRun) one(ctx context.Context, req *traffic.Request) {
	ctx = context.WithoutCancel(ctx)
	defer run.progress()
	probe := &http.Request{Method: req.Method, RequestURI: req.URL, Header: req.Header}
	if probe.Header == nil {
		probe.Header = http.Header{}
	}
	d := run.rt.Decide(probe)
	id := req.Header.Get(HeaderRequestID)
	if id == "" {
		id = run.ids.next()
	}
	now := time.Now()
	skip := func(reason report.SkipReason) {
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
		f := run.send(ctx, run.rp.Primary, req, id)
		f.release()
		if !d.API {
			run.count(func(s *ReplayStats) { s.NotAPI++ })
			return
		}
		skip(d.Skip)
		return
	}
	var p, c fetched
	var wg sync.WaitGroup
	wg.Go(func() { p = run.send(ctx, run.rp.Primary, req, id) })
	wg.Go(func() { c = run.send(ctx, run.rp.Candidate, req, id) })
	wg.Wait()
	defer p.release()
	defer c.release()
	x := &Exchange{
		Decision: d, Method: req.Method, RequestID: id, Time: now,
		Primary: p.resp, PrimaryErr: p.err, PrimaryLatency: p.latency,
		Candidate: c.resp, CandidateErr: c.err, CandidateLatency: c.latency,
		Learned: learnedFor(run.rp.Observer, d.Route),
	}
	var again fetched
	defer func() { again.release() }()
	if target := run.reaskTarget(&d, req.Method); target != nil {
		x.Reask = func() *diff.Response {
			again = run.reask(ctx, target, &d, req, id)
			return again.resp
		}
	}
	var followed fetched
	defer func() { followed.release() }()
	x.Follow = func(b rules.Backend, target *url.URL) *diff.Response {
		followed = run.follow(ctx, b, target, &d, req, id)
		return followed.resp
	}
	o := x.Observation()
	scrubTraffic(&o, req, d.Rules.Redactor()) // a backend may have echoed the request's secrets
	if len(o.Differences) > 0 {
		o.Request = reproRequest(d.Rules.Redactor(), req.Method, req.URL, req.Header, req.Body)
	}
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
func (run *replayRun) reaskTarget(d *rules.Decision, method string) *url.URL {
	if method == "" {
		method = http.MethodGet
	}
	switch {
	case !rules.SafeMethod(method):
		return nil
	case run.rp.Secondary != nil:
		return run.rp.Secondary
	case d.Refetch:
		return run.rp.Primary
	}
	return nil
}

// reask sends req to target again once there is room under the re-ask limits,
// waiting for it no longer than the replay's deadline; its resp is nil when it
// could not be made or was not answered.
func (run *replayRun) reask(ctx context.Context, target *url.URL, d *rules.Decision, req *traffic.Request, id string) fetched {
	wait, cancel := context.WithTimeout(ctx, run.timeout)
	defer cancel()
	if !run.reasks.acquire(wait, d.Noise, true) {
		return fetched{}
	}
	defer run.reasks.release()
	return run.send(ctx, target, req, id)
}

// follow asks backend b for the target of a canonicalising redirect it answered to
// req (see redirects.go), under the re-ask limits and the replay's deadline; its resp
// is nil when it could not be made or was not answered.
func (run *replayRun) follow(ctx context.Context, b rules.Backend, target *url.URL, d *rules.Decision, req *traffic.Request, id string) fetched {
	base := run.rp.Primary
	if b == rules.Candidate {
		base = run.rp.Candidate
	}
	// The target is on the backend's own URL (backendRequest): back to the
	// recorded form, without the backend's path prefix.
	path, ok := strings.CutPrefix(target.EscapedPath(), strings.TrimSuffix(base.EscapedPath(), "/"))
	if !ok || !strings.HasPrefix(path, "/") {
		return fetched{}
	}
	if target.RawQuery != "" || target.ForceQuery {
		path += "?" + target.RawQuery
	}
	again := *req
	again.URL = path
	wait, cancel := context.WithTimeout(ctx, run.timeout)
	defer cancel()
	if !run.reasks.acquire(wait, d.Noise, true) {
		return fetched{}
	}
	defer run.reasks.release()
	return run.send(ctx, base, &again, id)
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

// send sends req to the backend at base and captures the answer, with the proxy's
// own fetch. The caller releases what it returns.
func (run *replayRun) send(ctx context.Context, base *url.URL, req *traffic.Request, id string) fetched {
	ctx, cancel := context.WithTimeout(ctx, run.timeout)
	defer cancel()
	out, err := outgoing(ctx, base, req, id)
	if err != nil {
		return fetched{err: err}
	}
	f := fetch(run.transport, out, run.captureCap)
	if f.resp != nil {
		f.resp.Request = backendRequest(base, req.URL, req.Header)
	}
	if f.err != nil {
		run.rp.Logger.Debug().Str("backend", base.Host).Str("request_id", id).Str("error", errorText(f.err)).Msg("replay request failed")
	}
	return f
}

// outgoing builds the request for one backend: the recorded target sent as is
// (escapes, dot segments and query untouched), after the backend's path prefix;
// hop-by-hop headers dropped as the proxy drops them, Host and Content-Length left
// to the transport; the request id set.
func outgoing(ctx context.Context, base *url.URL, req *traffic.Request, id string) (*http.Request, error) {
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
	hop.Remove(out.Header)
	out.Header.Del("Host")
	out.Header.Del("Content-Length")
	out.Header.Set(HeaderRequestID, id)
	return out, nil
}
