package shadow

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/net/http/httpguts"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/report/route"
	"github.com/parity-dev/parity/shadow/internal/hop"
	"github.com/parity-dev/parity/shadow/rules"
)

// Default timeouts of the Proxy.
const (
	DefaultHeaderTimeout = 60 * time.Second // serving backend's response headers, default transports
	DefaultMirrorTimeout = 10 * time.Second // a whole mirror: queue wait, request, response
)

// Default bounds of the mirror work.
const (
	DefaultMirrorConcurrency = 64
	DefaultMirrorQueue       = 256
)

// DefaultMaxHeaderCount is how many header fields a request may carry by default:
// browsers send a few dozen; HAProxy allows 101, Envoy 100.
const DefaultMaxHeaderCount = 100

// Headers the proxy owns.
const (
	HeaderRequestID = "X-Request-Id"
	HeaderShadow    = "X-Parity-Shadow" // "1" on every mirrored request
	parityPrefix    = "X-Parity-"       // client-sent headers with this prefix are dropped
)

// Proxy is parity's live shadow proxy, an http.Handler. Each request is served by
// the backend its Decision names, streamed to the client as it comes; when the
// decision says so, a clone of the request goes concurrently to the other backend,
// and the two answers are compared off the serving path and handed to Observer.
// Nothing of the mirrored answer ever reaches the client, and a slow, failing or
// absent mirror backend never changes what the client gets, nor when.
//
// The inbound request is never modified. The zero value of every field but Primary
// is usable and documented; fields must not change after the first request. A
// Proxy owns the goroutines of its mirror work: Close waits for them.
type Proxy struct {
	// Primary and Candidate are the backends' base URLs: scheme and host, and an
	// optional path prefix. Primary is required; without Candidate nothing is mirrored
	// and a decision to serve from the candidate is answered 502.
	Primary, Candidate *url.URL

	// Secondary is a second primary instance. On routes whose Decision.Refetch is
	// set, a comparison that leaves differences which are not yet learned noise
	// re-asks it (nil: the primary again), and what differs the same way between the
	// two primaries' answers is reported as noise rather than as the candidate's
	// difference.
	Secondary *url.URL

	// Decide routes one request; it must not modify it. nil: every request is
	// served by the primary and none is mirrored.
	Decide func(*http.Request) rules.Decision

	// Observer receives one observation per compared request, and one per API
	// request that was not compared (with the reason). nil: observations are dropped
	// (metrics still count them).
	Observer Observer

	// Logger receives one access line per request and the errors. Its zero value
	// logs nothing.
	Logger zerolog.Logger

	// Metrics records request durations, comparisons and drops. nil: none.
	Metrics *Metrics

	// Transport and CandidateTransport carry the requests to the primary and to the
	// candidate, each with its own connection pool. nil: a transport of the Proxy's
	// own that ignores proxy environment variables, never adds Accept-Encoding,
	// keeps up to 256 idle connections to its backend and waits HeaderTimeout for
	// response headers. Mirrors are further bounded by MirrorTimeout, and their
	// connections by MirrorConcurrency.
	Transport, CandidateTransport http.RoundTripper

	// HeaderTimeout bounds the wait for the serving backend's response headers
	// with the default transports (0 = DefaultHeaderTimeout). Once it expires the
	// client gets 504.
	HeaderTimeout time.Duration

	// MirrorConcurrency is how many mirrors are sent and compared at once
	// (0 = DefaultMirrorConcurrency); MirrorQueue how many more may wait for a
	// worker (0 = DefaultMirrorQueue, negative = none). A mirror that finds the
	// queue full is dropped and counted as queue_full; one that cannot start before
	// its deadline, or finds no idle worker when there is no queue, as concurrency.
	MirrorConcurrency int
	MirrorQueue       int

	// CompareConcurrency is how many of the mirrors' comparisons (decoding and
	// diffing both answers) run at once (0 = half of GOMAXPROCS, at least one):
	// the rest of the CPU stays with serving, whatever the candidate sends.
	CompareConcurrency int

	// CompareBudget is the share of the CPU (of GOMAXPROCS cores) that comparing
	// the mirrors' answers — reading the mirrored answer, decoding, parsing,
	// diffing, aggregating — may use over time (0 = DefaultCompareBudget; 1 or
	// more = no budget: every pair that has both answers is compared). Each
	// comparison's CPU time is measured (the read is charged by its size);
	// once comparisons have spent their share, requests are not mirrored (nor
	// their served answers captured), and mirrored answers already on their
	// way are neither read nor compared, until it has been earned back; the
	// pairs are counted as skipped (compare_budget) on their route, so that serving
	// keeps its CPU whatever the candidate sends and the gate judges on the
	// sample compared. The last quarter of the share goes only to routes
	// Decided does not call decided.
	CompareBudget float64

	// Decided reports whether the gate has already decided a route (a
	// conclusive pass or fail): under the comparison budget, such routes are
	// sampled down first. It is asked on the serving path for every request to
	// be mirrored, and again once per comparison, so it must be cheap and safe
	// for concurrent use (report.DecidedRoutes is: a map read, and every 5 s
	// one judging of the routes on a goroutine of its own). nil: no route is.
	Decided func(route string) bool

	// MirrorBodyCap is the largest request body buffered to be sent to both backends
	// (0 = DefaultMirrorBodyCap). A larger body streams to the serving backend,
	// whole and once, and the mirror is skipped as body_too_large.
	MirrorBodyCap int64

	// CaptureCap is how much of each response body is kept for the comparison
	// (0 = DefaultCaptureCap); beyond it the capture is marked Truncated. The
	// mirrored answer is read no further than the cap: its connection is closed
	// there, and when the served answer is over the cap too the pair is not
	// compared (body_too_large).
	CaptureCap int64

	// MirrorTimeout bounds a mirror from the moment it is queued to its
	// comparison (0 = DefaultMirrorTimeout): queue wait, request, response, and the
	// wait for the serving side to finish.
	MirrorTimeout time.Duration

	// BodyReadTimeout bounds each read of a client's request body
	// (0 = DefaultBodyReadTimeout, negative = none), and BodyMinRate the slowest
	// pace, in bytes per second, at which a body may come once the first
	// BodyReadTimeout has passed (0 = DefaultBodyMinRate, negative = none). A
	// client slower than either gets 408 and the upstream request is abandoned,
	// releasing the serving backend's connection.
	BodyReadTimeout time.Duration
	BodyMinRate     int64

	// MaxHeaderCount is how many header fields a request may carry
	// (0 = DefaultMaxHeaderCount); a request with more is answered 431 and its
	// connection closed. Their size is bounded by the server (Server.MaxHeaderBytes).
	MaxHeaderCount int

	// TrustForwarded keeps the client's X-Forwarded-For (appending the client's
	// address), X-Forwarded-Proto, X-Forwarded-Host and Forwarded, for a proxy that
	// stands behind a trusted load balancer. false: they are replaced.
	TrustForwarded bool

	// Record, when set, is called on the serving goroutine for every request
	// Decide marks for mirroring, with the request as received and its buffered
	// body. It must not modify or retain r, must not block, and must redact
	// secrets itself.
	Record func(r *http.Request, body []byte)

	once         sync.Once
	primaryT     http.RoundTripper
	candidateT   http.RoundTripper
	ownTransport []*http.Transport
	ids          *requestIDs
	mirrors      mirrorPool

	// The comparison budget's clock and CPU meter; nil: the wall clock and the
	// thread's CPU time (tests drive the budget through them).
	budgetClock func() time.Duration
	budgetMeter cpuMeter
	// The hostile back-off's clock; nil: the wall clock.
	backoffNow func() time.Duration
	// onServeCapture, when set, is called each time a served answer is
	// captured for a comparison (the tests count them).
	onServeCapture func()
}

// init sets up the Proxy's own state on first use: transports, the request id
// prefix, the mirror pool. It never writes an exported field: defaults are read
// where they are used (the accessors below), as httputil.ReverseProxy does.
func (p *Proxy) init() {
	p.once.Do(func() {
		p.primaryT = p.Transport
		if p.primaryT == nil {
			t := newTransport(p.headerTimeout(), idleConnsPerBackend)
			p.ownTransport = append(p.ownTransport, t)
			p.primaryT = t
		}
		p.candidateT = p.CandidateTransport
		if p.candidateT == nil {
			t := newTransport(p.headerTimeout(), idleConnsPerBackend)
			p.ownTransport = append(p.ownTransport, t)
			p.candidateT = t
		}
		p.ids = newRequestIDs()
		p.mirrors.init(p)
	})
}

func (p *Proxy) headerTimeout() time.Duration {
	return orDefault(p.HeaderTimeout, DefaultHeaderTimeout)
}
func (p *Proxy) mirrorConcurrency() int {
	return orDefault(p.MirrorConcurrency, DefaultMirrorConcurrency)
}
func (p *Proxy) compareConcurrency() int {
	return orDefault(p.CompareConcurrency, max(1, runtime.GOMAXPROCS(0)/2))
}
func (p *Proxy) maxHeaderCount() int {
	return orDefault(p.MaxHeaderCount, DefaultMaxHeaderCount)
}
func (p *Proxy) mirrorBodyCap() int64 { return orDefault(p.MirrorBodyCap, DefaultMirrorBodyCap) }
func (p *Proxy) captureCap() int64    { return orDefault(p.CaptureCap, DefaultCaptureCap) }
func (p *Proxy) mirrorTimeout() time.Duration {
	return orDefault(p.MirrorTimeout, DefaultMirrorTimeout)
}

// mirrorQueue is MirrorQueue read: 0 is the default, negative is none.
func (p *Proxy) mirrorQueue() int {
	if p.MirrorQueue < 0 {
		return 0
	}
	return orDefault(p.MirrorQueue, DefaultMirrorQueue)
}

// orDefault is v when it is set (positive), else def.
func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// idleConnsPerBackend is the idle pool the proxy keeps to each backend.
const idleConnsPerBackend = 256

// newTransport is a transport to one backend: no environment proxy, no implicit
// compression (the client's Accept-Encoding decides), a deep idle pool.
func newTransport(headerTimeout time.Duration, idlePerHost int) *http.Transport {
	d := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		MaxIdleConns:          4 * idlePerHost,
		MaxIdleConnsPerHost:   idlePerHost,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: headerTimeout,
		DisableCompression:    true,
		// A 4 KB answer and its head in one read, not two (the default buffer
		// is 4 KB); larger bodies are read straight into the copy buffer.
		ReadBufferSize: 16 << 10,
	}
}

func (p *Proxy) backend(b rules.Backend) (*url.URL, http.RoundTripper) {
	if b == rules.Candidate {
		return p.Candidate, p.candidateT
	}
	return p.Primary, p.primaryT
}

func other(b rules.Backend) rules.Backend {
	if b == rules.Candidate {
		return rules.Primary
	}
	return rules.Candidate
}

// ServeHTTP serves r from the backend its decision names and, when decided,
// mirrors a clone of it to the other backend. Every way through it ends in exit.
func (p *Proxy) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	p.init()
	st := serveState{method: r.Method, start: time.Now()}
	defer p.exit(rw, r, &st)

	if p.Decide != nil {
		st.dec = p.Decide(r)
	} else {
		st.dec = rules.Decision{Path: r.URL.Path, Serve: rules.Primary}
	}
	dec := &st.dec
	if (dec.Serve == rules.Candidate || dec.Mirror) && route.ReadsAsAuth(rawPath(r)) {
		// The last line before the candidate, with the one auth scanner: whatever
		// the rules concluded, a target that reads as /api/auth before any dot
		// segment is resolved (a backend may not resolve "..;") stays with the primary.
		dec.Auth, dec.Serve, dec.Mirror, dec.Skip = true, rules.Primary, false, report.SkipAuth
	}

	var h http.Header
	h, st.id = outHeader(r, p.TrustForwarded, p.ids.next)
	if r.Method == http.MethodConnect {
		// A tunnel request has no path to route on: parity is not a forward proxy.
		st.refuse(http.StatusMethodNotAllowed, errors.New("CONNECT is not proxied"))
		return
	}
	if r.Method == "PRI" && r.RequestURI == "*" {
		// The HTTP/2 preface of a client speaking h2c by prior knowledge: never
		// honoured, nor passed on as an HTTP/1.1 request.
		st.refuse(http.StatusHTTPVersionNotSupported, errors.New("h2c is not served"))
		return
	}

	if r.ProtoMajor == 1 && len(r.TransferEncoding) > 0 {
		// net/http drops a Content-Length sent beside Transfer-Encoding before a
		// handler sees the request, so a request that carried both (a smuggling
		// attempt, RFC 9112 §6.3) cannot be told from a chunked one: the
		// connection of every chunked request is closed after its answer, and
		// nothing pipelined behind it is read.
		st.closeConn = true
	}
	if n := headerCount(r.Header); n > p.maxHeaderCount() {
		st.refuse(http.StatusRequestHeaderFieldsTooLarge, fmt.Errorf("%d header fields, more than %d", n, p.maxHeaderCount()))
		st.closeConn = true
		return
	}

	// A protocol upgrade goes to the serving backend and is never mirrored;
	// h2c is never honoured nor offered upstream, in any spelling (parity
	// speaks HTTP/1.1 or TLS h2 to clients only).
	upType := upgradeType(r.Header)
	if upType != "" {
		if !asciiPrint(upType) {
			st.refuse(http.StatusBadRequest, fmt.Errorf("client asked to switch to invalid protocol %q", upType))
			return
		}
		h["Connection"] = []string{"Upgrade"}
		h["Upgrade"] = []string{upType}
	}
	if httpguts.HeaderValuesContainsToken(r.Header["Te"], "trailers") {
		h["Te"] = []string{"trailers"}
	}

	mirrorTo := other(dec.Serve)
	mirrorURL, _ := p.backend(mirrorTo)
	switch {
	case !dec.Mirror:
		if dec.Skip != "" {
			st.mirror, st.reason = mirrorSkipped, dec.Skip
		}
	case upType != "":
		st.mirror, st.reason = mirrorDropped, report.SkipUpgrade
	case mirrorURL != nil:
		st.mirror = mirrorPending
	}

	body, buffered, err := p.requestBody(rw, r, h, &st)
	if err != nil {
		st.refuse(clientBodyStatus(err), err)
		st.closeConn = true
		return
	}
	if st.mirror == mirrorPending {
		if p.Record != nil {
			p.Record(r, buffered)
		}
		if probe, reason := p.admitMirror(dec.Route, mirrorTo); reason != "" {
			st.mirror, st.reason = mirrorDropped, reason
		} else {
			st.pair = p.newPair(r, dec, h, buffered, mirrorTo, st.id, st.start)
			st.pair.probe = probe
			if reason := p.mirrors.submit(st.pair); reason != "" {
				st.pair = nil
				st.mirror, st.reason = mirrorDropped, reason
			} else {
				st.mirror = mirrorQueued
			}
		}
	}

	p.serve(rw, r, h, body, &st)
}

// requestBody is the body sent to the serving backend, read from the client
// under the body timeouts (clientBody): buffered once when the request is to be
// mirrored and the body fits MirrorBodyCap (buffered is then what the mirror
// sends), else streamed untouched, whole and once, and the mirror dropped as
// body_too_large.
func (p *Proxy) requestBody(rw http.ResponseWriter, r *http.Request, h http.Header, st *serveState) (body io.ReadCloser, buffered []byte, err error) {
	limit := p.mirrorBodyCap()
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil, nil, nil
	}
	cb := p.newClientBody(rw, r)
	switch {
	case st.mirror != mirrorPending:
		return cb, nil, nil
	case r.ContentLength > limit:
		st.mirror, st.reason = mirrorDropped, report.SkipBodyTooLarge
		return cb, nil, nil
	}
	b, over, err := readCapped(cb, limit, r.ContentLength)
	if err != nil {
		return nil, nil, fmt.Errorf("read request body: %w", err)
	}
	if over {
		st.mirror, st.reason = mirrorDropped, report.SkipBodyTooLarge
		cb.pending = b
		return cb, nil, nil
	}
	// The body is already here: asking the backend whether to send it would only
	// add a round trip.
	h.Del("Expect")
	return io.NopCloser(bytes.NewReader(b)), b, nil
}

// mirrorState is what became of a request's mirror. Why it was not sent, when it
// was not, is the separate reason beside it.
type mirrorState uint8

const (
	mirrorNone    mirrorState = iota // not an API request, or nowhere to mirror to
	mirrorPending                    // decided; the body and the queue are still to pass
	mirrorQueued                     // handed to the mirror pool
	mirrorSkipped                    // the routing rules said no, for reason
	mirrorDropped                    // the proxy gave it up, for reason (bounds, upgrades)
)

// serveState is what one request carries from the decision to its exit.
type serveState struct {
	dec     rules.Decision
	method  string
	id      string
	start   time.Time
	mirror  mirrorState
	reason  report.SkipReason // why, when mirror is mirrorSkipped or mirrorDropped
	pair    *pair             // set while a mirror waits for the serving side
	status  int
	err     error
	answer  string // an error answer exit still has to write ("" = none)
	bytes   int64  // body bytes written to the client
	settled bool   // the serving side's result was handed on

	closeConn bool // the answer closes the connection (a client's protocol error, a chunked request)
	abort     bool // nothing may be answered: the connection is broken off
}

// refuse ends a request that is not forwarded at all: it is answered status, and
// neither mirrored nor counted as skipped.
func (st *serveState) refuse(status int, err error) {
	st.status, st.err, st.answer = status, err, http.StatusText(status)
	st.mirror, st.reason = mirrorNone, ""
}

// exit is the one way out of ServeHTTP: the serving side's result goes to the
// waiting mirror (or the skip is counted), the request is measured, an error answer
// still due is written, and the access line is logged — in this order, so that
// what a client can see has been counted.
func (p *Proxy) exit(rw http.ResponseWriter, r *http.Request, st *serveState) {
	if !st.settled {
		p.settle(st, 0, nil, nil, st.err, 0)
	}
	if st.answer != "" {
		if st.closeConn {
			rw.Header().Set("Connection", "close")
		}
		st.bytes += writeJSONError(rw, st.status, st.answer, st.dec.Serve, st.id)
	}
	p.accessLog(r, st)
	if st.abort && r.Context().Value(http.ServerContextKey) != nil {
		// Returning without an answer would make the server write one of its own
		// ("200 OK", empty): break the connection off instead.
		panic(http.ErrAbortHandler)
	}
}

// serve sends the outbound request to the serving backend and streams its answer.
func (p *Proxy) serve(rw http.ResponseWriter, r *http.Request, h http.Header, body io.ReadCloser, st *serveState) {
	if body != nil {
		// The transport may still be reading when the handler returns; reads after
		// that fail instead of touching a finished request.
		defer body.Close()
	}
	base, transport := p.backend(st.dec.Serve)
	if base == nil {
		p.unavailable(r, st, errors.New("no URL configured for this backend"))
		return
	}

	info := &informational{rw: rw}
	info.trace.Got1xxResponse = info.got
	out := r.WithContext(httptrace.WithClientTrace(r.Context(), &info.trace))
	out.URL = outURL(base, r)
	out.RequestURI = ""
	out.Header = h
	out.Body = body
	out.Close = false
	if body == nil {
		out.ContentLength = 0
	}
	out.Proto, out.ProtoMajor, out.ProtoMinor = "HTTP/1.1", 1, 1

	sent := time.Now()
	res, err := transport.RoundTrip(out)
	info.end()
	if err != nil {
		switch cb, _ := body.(*clientBody); {
		case cb != nil && cb.readErr() != nil:
			// The client's own body broke (bad chunking, a framing trailer, too
			// slow): its fault, not the backend's, and no reason to report the
			// backend down. The connection cannot carry another request.
			st.refuse(clientBodyStatus(cb.readErr()), fmt.Errorf("read request body: %w", cb.readErr()))
			st.closeConn = true
		case r.Context().Err() != nil:
			// The client left (or half-closed, which a server cannot tell apart):
			// its upstream request is cancelled with it, and no answer is made up.
			st.status, st.err, st.abort = statusClientClosed, r.Context().Err(), true
			p.settle(st, 0, nil, nil, err, 0)
		default:
			p.unavailable(r, st, err)
		}
		return
	}
	latency := time.Since(sent)

	if res.StatusCode == http.StatusSwitchingProtocols {
		st.status = res.StatusCode
		p.settle(st, res.StatusCode, res.Header, nil, errors.New("protocol switched"), latency)
		p.switchProtocols(rw, out, res, st)
		return
	}

	hop.Remove(res.Header)
	rh := rw.Header()
	for k, vv := range res.Header {
		rh[k] = vv
	}
	if _, ok := rh[HeaderRequestID]; !ok {
		// The client gets the id its request is logged and compared under.
		rh[HeaderRequestID] = h[HeaderRequestID]
	}
	announced := len(res.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range res.Trailer {
			keys = append(keys, k)
		}
		rh.Add("Trailer", strings.Join(keys, ", "))
	}
	if st.closeConn {
		rh.Set("Connection", "close")
	}
	rw.WriteHeader(res.StatusCode)
	st.status = res.StatusCode

	var capt *capture
	if st.pair != nil {
		capt = newCapture(p.captureCap(), res.ContentLength)
		if p.onServeCapture != nil {
			p.onServeCapture()
		}
	}
	flush, headersNow := flushPolicy(res)
	written, rerr, werr := copyResponse(rw, res, capt, flush, headersNow)
	st.bytes += written
	res.Body.Close() // now, to populate res.Trailer
	if rerr != nil || werr != nil {
		switch {
		case werr != nil:
			st.err = fmt.Errorf("client left: write: %w", werr)
			st.status = statusClientClosed
		case r.Context().Err() != nil:
			// The client left mid-body, which cancelled the backend's read: not a
			// failure of the backend.
			st.err = fmt.Errorf("client left: %w", rerr)
			st.status = statusClientClosed
		default:
			// What the backend sent before failing reaches the client, then the break.
			http.NewResponseController(rw).Flush()
			st.err = fmt.Errorf("read %s body: %w", st.dec.Serve, rerr)
			p.Logger.Warn().Str("request_id", st.id).Str("backend", st.dec.Serve.String()).
				Str("error", errorText(rerr)).Msg("Backend failed mid-body")
		}
		p.settle(st, res.StatusCode, res.Header, capt, st.err, latency)
		if r.Context().Value(http.ServerContextKey) != nil {
			// All that can be done mid-stream: abort, so the client sees exactly what
			// the backend sent, then a broken connection (exit still runs).
			panic(http.ErrAbortHandler)
		}
		return
	}

	if len(res.Trailer) > 0 {
		// Force chunking, so the trailers can follow the body.
		http.NewResponseController(rw).Flush()
	}
	if len(res.Trailer) == announced {
		for k, vv := range res.Trailer {
			rh[k] = vv
		}
	} else {
		for k, vv := range res.Trailer {
			for _, v := range vv {
				rh.Add(http.TrailerPrefix+k, v)
			}
		}
	}
	p.settle(st, res.StatusCode, res.Header, capt, nil, latency)
}

// statusClientClosed stands in logs and metrics for a request whose client left
// before the answer (nginx's 499).
const statusClientClosed = 499

// settle measures the request and hands the serving side's result to a waiting
// mirror, or counts the request as skipped when it was not mirrored. It runs once
// per request.
func (p *Proxy) settle(st *serveState, status int, header http.Header, capt *capture, err error, latency time.Duration) {
	st.settled = true
	p.Metrics.observeRequest(st.dec.Route, st.method, st.status, st.dec.Serve, time.Since(st.start))
	if st.pair != nil {
		st.pair.served(status, header, capt, err, latency)
		st.pair = nil
		return
	}
	if capt != nil {
		capt.release()
	}
	switch st.mirror {
	case mirrorDropped:
		p.Metrics.drop(st.reason)
	case mirrorSkipped:
		p.Metrics.skip(st.reason)
	default:
		return
	}
	if p.Observer != nil {
		p.Observer.Observe(report.Observation{
			Time: st.start, Route: st.dec.Route, Method: st.method, RequestID: st.id, Skipped: st.reason,
		})
	}
}

// unavailable answers 502 (504 after a timeout) when the serving backend could not
// be reached, with the log line the cutover guide's monitoring greps for.
func (p *Proxy) unavailable(r *http.Request, st *serveState, err error) {
	status := http.StatusBadGateway
	msg := "Backend unavailable"
	if isTimeout(err) {
		status, msg = http.StatusGatewayTimeout, "Backend timeout"
	}
	p.Metrics.unavailable(st.dec.Serve)
	p.Logger.Error().Str("backend", st.dec.Serve.String()).Str("request_id", st.id).
		Str("method", r.Method).Str("path", st.dec.Path).Int("status", status).Str("error", errorText(err)).
		Msg("Backend unavailable")
	st.status, st.err, st.answer = status, err, msg
}

func writeJSONError(rw http.ResponseWriter, status int, msg string, b rules.Backend, id string) int64 {
	h := rw.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set(HeaderRequestID, id)
	rw.WriteHeader(status)
	n, _ := fmt.Fprintf(rw, `{"error":%q,"backend":%q,"request_id":%q}`+"\n", msg, b.String(), id)
	return int64(n)
}

// WithoutURL returns err without the *url.Error around it, whose message quotes
// the request URL — and so its query, where secrets travel. It is the one reading
// of a transport error: the access log, the observations, the replay's log and the
// fetch of remote snapshots describe errors through it.
func WithoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// copyResponse streams res.Body to rw, teeing into capt when set, flushing after
// every write when flush is set, and the headers before the first byte when
// headersNow is. rerr is a failure of the backend, werr of the client.
func copyResponse(rw http.ResponseWriter, res *http.Response, capt *capture, flush, headersNow bool) (written int64, rerr, werr error) {
	var rc *http.ResponseController
	if flush {
		rc = http.NewResponseController(rw)
	}
	if headersNow {
		if err := rc.Flush(); err != nil {
			return 0, nil, err
		}
	}
	bp := copyBufPool.Get().(*[]byte)
	defer copyBufPool.Put(bp)
	buf := *bp
	for {
		n, err := res.Body.Read(buf)
		if n > 0 {
			if capt != nil {
				capt.Write(buf[:n])
			}
			w, werr := rw.Write(buf[:n])
			written += int64(w)
			if werr != nil {
				return written, nil, werr
			}
			if flush {
				if werr := rc.Flush(); werr != nil {
					return written, nil, werr
				}
			}
		}
		if err == io.EOF {
			return written, nil, nil
		}
		if err != nil {
			return written, err, nil
		}
	}
}

// flushPolicy says whether every chunk is flushed as it comes, as httputil does
// with a negative FlushInterval: for server-sent events and bodies of unknown
// length. Only an event stream, which may wait long for its first event, has its
// headers sent before any byte of the body; other bodies send them with their
// first chunk, one write instead of two.
func flushPolicy(res *http.Response) (flush, headersNow bool) {
	if isEventStream(res.Header.Get("Content-Type")) {
		return true, true
	}
	return res.ContentLength == -1, false
}

// isEventStream reports whether a Content-Type is text/event-stream, with or without
// parameters, in any case. It runs on every response, so it reads the media type in
// place instead of parsing the whole header with mime.ParseMediaType (two
// allocations a request).
func isEventStream(ct string) bool {
	const es = "text/event-stream"
	ct = strings.TrimLeft(ct, " \t")
	if len(ct) < len(es) || !strings.EqualFold(ct[:len(es)], es) {
		return false
	}
	rest := strings.TrimLeft(ct[len(es):], " \t")
	return rest == "" || rest[0] == ';'
}

// outHeader is the header sent upstream: the client's, without hop-by-hop headers
// (those named in Connection too), without X-Parity-*, and, unless trusted,
// without the client's forwarding headers; then the proxy's own, and the request
// id, kept or made by newID. Value slices are shared with r.Header and must only
// ever be replaced, never appended to or written in place.
func outHeader(r *http.Request, trust bool, newID func() string) (h http.Header, id string) {
	h = make(http.Header, len(r.Header)+5)
	for k, vv := range r.Header {
		h[k] = vv
	}
	hop.Remove(h)
	for k := range h {
		if len(k) >= len(parityPrefix) && strings.EqualFold(k[:len(parityPrefix)], parityPrefix) {
			delete(h, k)
		}
	}

	// The proxy's values share one backing array, each slice capped at its one
	// element so that an append elsewhere copies instead of overwriting the next.
	vals := make([]string, 0, 3)
	one := func(v string) []string {
		vals = append(vals, v)
		n := len(vals)
		return vals[n-1 : n : n]
	}
	proto := protoHTTP
	if r.TLS != nil {
		proto = protoHTTPS
	}
	clientIP, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		clientIP = ""
	}
	if trust {
		if prior := h["X-Forwarded-For"]; len(prior) > 0 && clientIP != "" {
			clientIP = strings.Join(prior, ", ") + ", " + clientIP
		}
		if v := h["X-Forwarded-Proto"]; len(v) > 0 && v[0] != "" {
			proto = v[:1:1]
		}
	} else {
		delete(h, "Forwarded")
		delete(h, "X-Forwarded-Host")
	}
	if clientIP != "" {
		h["X-Forwarded-For"] = one(clientIP)
	} else {
		delete(h, "X-Forwarded-For")
	}
	h["X-Forwarded-Proto"] = proto
	if _, ok := h["X-Forwarded-Host"]; !ok && r.Host != "" {
		h["X-Forwarded-Host"] = one(r.Host)
	}
	if _, ok := h["User-Agent"]; !ok {
		// Send none rather than Go's default.
		h["User-Agent"] = noValue
	}
	if v := h[HeaderRequestID]; len(v) == 1 && validRequestID(v[0]) {
		id = v[0]
	} else {
		id = newID()
		h[HeaderRequestID] = one(id)
	}
	return h, id
}

// Shared header values: never written to (see outHeader).
var (
	protoHTTP   = []string{"http"}
	protoHTTPS  = []string{"https"}
	noValue     = []string{""}
	shadowValue = []string{"1"}
)

// informational passes the serving backend's 1xx answers (103 Early Hints, 100
// Continue) on to the client while its round trip lasts, and none after it ended:
// the trace, its lock and its state in one allocation.
type informational struct {
	trace httptrace.ClientTrace
	mu    sync.Mutex
	done  bool
	rw    http.ResponseWriter
}

func (in *informational) got(code int, header textproto.MIMEHeader) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.done {
		return nil
	}
	rh := in.rw.Header()
	for k, vv := range header {
		rh[k] = vv
	}
	in.rw.WriteHeader(code)
	clear(rh)
	return nil
}

func (in *informational) end() {
	in.mu.Lock()
	in.done = true
	in.mu.Unlock()
}

// validRequestID accepts a client's request id when it is short printable ASCII
// without spaces; anything else is replaced.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] <= ' ' || id[i] > '~' {
			return false
		}
	}
	return true
}

// requestIDs makes the ids of requests that come without a usable one: a random
// prefix per Proxy or Replayer and a counter, 32 hex digits, unique without a lock.
type requestIDs struct {
	prefix  string
	counter atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [8]byte
	rand.Read(b[:])
	return &requestIDs{prefix: hex.EncodeToString(b[:])}
}

func (g *requestIDs) next() string {
	var b [32]byte
	copy(b[:16], g.prefix)
	n := g.counter.Add(1)
	const digits = "0123456789abcdef"
	for i := 31; i >= 16; i-- {
		b[i] = digits[n&0xf]
		n >>= 4
	}
	return string(b[:])
}

// outURL is the serving URL of r on base: the raw path exactly as the client sent
// it (never re-encoded; the path of an absolute-form target) and the raw query.
func outURL(base *url.URL, r *http.Request) *url.URL {
	path := rawPath(r)
	if bp := strings.TrimSuffix(base.EscapedPath(), "/"); bp != "" {
		path = bp + path
	}
	u := &url.URL{Scheme: base.Scheme, Host: base.Host, RawQuery: r.URL.RawQuery, ForceQuery: r.URL.ForceQuery}
	if strings.HasPrefix(path, "//") {
		// An opaque "//..." would be written as an absolute URL; a path is written
		// as its raw form whenever that is a valid encoding of it, as here.
		if p, err := url.PathUnescape(path); err == nil {
			u.Path, u.RawPath = p, path
			return u
		}
	}
	u.Opaque = path
	return u
}

// rawPath is the path of r's request target as it came on the wire
// (route.TargetPath); "*" for OPTIONS *.
func rawPath(r *http.Request) string {
	switch t := r.RequestURI; t {
	case "":
		return r.URL.EscapedPath()
	case "*":
		return t
	default:
		return route.TargetPath(t)
	}
}

// upgradeType is the comma-separated list of protocols a request's Upgrade
// offers, without h2c; "" when there is none or Connection does not name
// Upgrade.
func upgradeType(h http.Header) string {
	if !httpguts.HeaderValuesContainsToken(h["Connection"], "Upgrade") {
		return ""
	}
	var protos []string
	for _, v := range h["Upgrade"] {
		for proto := range strings.SplitSeq(v, ",") {
			proto = textproto.TrimString(proto)
			name, _, _ := strings.Cut(proto, "/")
			if proto != "" && !strings.EqualFold(name, "h2c") {
				protos = append(protos, proto)
			}
		}
	}
	return strings.Join(protos, ", ")
}

func asciiPrint(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// diffResponse builds one side of a comparison.
func diffResponse(status int, h http.Header, c *capture) *diff.Response {
	d := &diff.Response{Status: status, Header: h, Size: -1}
	if c != nil {
		d.Body = c.bytes()
		d.Truncated = c.truncated()
		d.Size = c.size
	}
	return d
}

// headerCount is how many header fields h holds (a repeated name counts each time).
func headerCount(h http.Header) int {
	n := 0
	for _, vv := range h {
		n += len(vv)
	}
	return n
}
