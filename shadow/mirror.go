package shadow

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// pair is one mirrored request: the clone sent to the other backend, and the slot
// where the serving side leaves its result for the comparison.
type pair struct {
	dec    rules.Decision
	method string
	id     string
	start  time.Time
	to     rules.Backend // where the mirror goes
	req    *http.Request
	again  *http.Request // the noise re-ask to a primary, for Refetch routes; nil = none
	client *diff.Request // the request as the client addressed it, for both answers
	ctx    context.Context
	cancel context.CancelFunc

	// state moves once, from waiting to served (the serving side finished and
	// its fields below are set) or to abandoned (the mirror gave up waiting; the
	// serving side then releases its own capture).
	state    atomic.Int32
	servedCh chan struct{}

	sStatus  int
	sHeader  http.Header
	sCapture *capture
	sErr     error
	sLatency time.Duration
}

const (
	pairWaiting int32 = iota
	pairServed
	pairAbandoned
)

// errServingIncomplete is the serving side's error when its response did not end
// within the mirror deadline (a long stream): the pair is not compared.
var errServingIncomplete = errors.New("serving response not complete within the mirror deadline")

// newPair clones what is sent upstream into a request of its own for backend to:
// own header map (marked X-Parity-Shadow), own body reader over the buffered
// bytes, own context and deadline, so that nothing of the client's request is
// touched, nor read after its handler returned.
func (p *Proxy) newPair(r *http.Request, dec *rules.Decision, h http.Header, body []byte, to rules.Backend, id string, start time.Time) *pair {
	base, _ := p.backend(to)
	mh := make(http.Header, len(h)+1)
	for k, vv := range h {
		mh[k] = vv
	}
	delete(mh, "Expect")
	mh[HeaderShadow] = shadowValue

	ctx, cancel := context.WithTimeout(p.mirrors.ctx, p.mirrorTimeout())
	req := (&http.Request{
		Method:        r.Method,
		URL:           outURL(base, r),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        mh,
		Host:          r.Host,
		ContentLength: int64(len(body)),
	}).WithContext(ctx)
	if len(body) > 0 {
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	pr := &pair{
		dec: *dec, method: r.Method, id: id, start: start, to: to,
		req: req, ctx: ctx, cancel: cancel, servedCh: make(chan struct{}),
		client: clientRequest(r, p.TrustForwarded),
	}
	if dec.Refetch && dec.Serve == rules.Primary {
		// The route learns noise: the same request goes to a second primary (or the
		// primary again), marked as a shadow request too.
		again := p.Secondary
		if again == nil {
			again = p.Primary
		}
		pr.again = req.Clone(ctx)
		pr.again.URL = outURL(again, r)
		if req.GetBody != nil {
			pr.again.Body, _ = req.GetBody()
		}
	}
	return pr
}

// served records the serving side's result and wakes the mirror, unless it gave
// up waiting.
func (pr *pair) served(status int, h http.Header, c *capture, err error, latency time.Duration) {
	if err != nil {
		// Nothing trustworthy to compare against (the serving backend failed, or the
		// client left and took its request with it): the mirror stops too — once
		// the result is handed over, so that the mirror, woken by the cancel,
		// finds it rather than taking the serving side for unfinished.
		defer pr.cancel()
	}
	if pr.state.CompareAndSwap(pairWaiting, pairServed) {
		// Read by the mirror only after servedCh is closed.
		pr.sStatus, pr.sHeader, pr.sCapture, pr.sErr, pr.sLatency = status, h, c, err, latency
		close(pr.servedCh)
		return
	}
	if c != nil {
		c.release()
	}
}

// mirrorPool is the bounded mirror work of a Proxy: a fixed set of workers,
// started on first use, and a queue in front of them; pending counts the mirrors
// queued or running, so that the bound holds exactly whatever the scheduling.
type mirrorPool struct {
	p      *Proxy
	ctx    context.Context // cancelled when Close gives up waiting
	cancel context.CancelFunc

	mu      sync.RWMutex // guards closed against sends on a closed jobs channel
	closed  bool
	jobs    chan *pair // room for every pending mirror: sends never block
	limit   int64      // MirrorConcurrency + MirrorQueue
	pending atomic.Int64
	start   sync.Once
	wg      sync.WaitGroup
	reasks  reaskLimiter // bounds the noise re-asks of every pair

	// compareSlots bounds the comparisons running at once (CompareConcurrency),
	// so that decoding and diffing hostile bodies leave CPU to serving.
	compareSlots chan struct{}
	// budget bounds the CPU those comparisons use over time (nil: no budget),
	// measured by meter.
	budget *compareBudget
	meter  cpuMeter
}

func (m *mirrorPool) init(p *Proxy) {
	m.p = p
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.limit = int64(p.mirrorConcurrency() + p.mirrorQueue())
	m.jobs = make(chan *pair, m.limit)
	m.compareSlots = make(chan struct{}, p.compareConcurrency())
	m.budget, m.meter = p.compareBudget(), p.cpuMeter()
}

// compareSlot waits for a comparison slot; false when Close gave up waiting
// before one was free.
func (m *mirrorPool) compareSlot() bool {
	select {
	case m.compareSlots <- struct{}{}:
		return true
	default:
	}
	select {
	case m.compareSlots <- struct{}{}:
		return true
	case <-m.ctx.Done():
		return false
	}
}

// submit queues pr and returns "", or the reason it was dropped: queue_full when
// workers and queue are taken, concurrency when every worker is busy and there
// is no queue.
func (m *mirrorPool) submit(pr *pair) report.SkipReason {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if !m.closed {
		// Started under the lock, so never after close has begun waiting.
		m.start.Do(func() {
			for range m.p.mirrorConcurrency() {
				m.wg.Go(m.work)
			}
		})
	}
	reason := report.SkipQueueFull
	if m.p.mirrorQueue() == 0 {
		reason = report.SkipConcurrency
	}
	if m.closed {
		reason = report.SkipConcurrency
	} else if m.pending.Add(1) <= m.limit {
		m.p.Metrics.queue(1)
		m.jobs <- pr
		return ""
	} else {
		m.pending.Add(-1)
	}
	pr.cancel()
	return reason
}

func (m *mirrorPool) work() {
	for pr := range m.jobs {
		m.p.Metrics.queue(-1)
		m.p.runMirror(pr)
		m.pending.Add(-1)
	}
}

// close stops taking mirrors and waits for those queued and running; when ctx ends
// first, their requests are cancelled and close still waits for the workers, which
// then return at once.
func (m *mirrorPool) close(ctx context.Context) error {
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		close(m.jobs)
	}
	m.mu.Unlock()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		m.cancel()
		<-done
	}
	m.cancel()
	return err
}

// Close stops the mirror work: it waits, until ctx ends, for queued and running
// mirrors to be compared and observed, then cancels what is left and closes the
// idle connections of the Proxy's own transports. Call it after the server has
// stopped handing requests to the Proxy; requests served afterwards are not
// mirrored. It returns ctx's error when it had to cancel.
func (p *Proxy) Close(ctx context.Context) error {
	p.init()
	err := p.mirrors.close(ctx)
	for _, t := range p.ownTransport {
		t.CloseIdleConnections()
	}
	return err
}

// runMirror sends one mirror (and its noise re-ask), waits for the serving side,
// compares and observes.
func (p *Proxy) runMirror(pr *pair) {
	defer pr.cancel()
	p.Metrics.flight(1)
	defer p.Metrics.flight(-1)

	if pr.ctx.Err() != nil {
		select {
		case <-pr.servedCh:
			if pr.sErr != nil {
				// The serving side failed while the pair waited for a worker, and
				// stopped it: that failure, not the queue, is why there is nothing
				// to compare.
				p.compare(pr, nil, pr.sErr, pr.sLatency, fetched{err: pr.ctx.Err()})
				if pr.sCapture != nil {
					pr.sCapture.release()
				}
				return
			}
		default:
		}
		// Waited in the queue past its deadline: no worker was free in time.
		p.dropPair(pr, report.SkipConcurrency)
		return
	}

	_, transport := p.backend(pr.to)
	m, res := send(transport, pr.req)
	if res != nil {
		// Reading the answer is the comparison's first cost: over the budget,
		// it is not read, or no further (its connection is closed), however
		// much the backend would send.
		decided := p.decided(pr.dec.Route)
		over := !p.mirrors.budget.admit(decided)
		if over {
			cost := time.Duration(discard(res)) * readCost
			p.mirrors.budget.spend(cost)
			p.Metrics.compareCPU(cost)
		} else {
			m.read(res, p.captureCap(), func(n int) bool {
				cost := time.Duration(n) * readCost
				p.mirrors.budget.spend(cost)
				p.Metrics.compareCPU(cost)
				return p.mirrors.budget.admit(decided)
			})
			over = errors.Is(m.err, errOverBudget)
		}
		if over {
			m.release()
			p.Metrics.observeMirror(pr.dec.Route, pr.to, res.StatusCode, nil, m.latency)
			p.Metrics.budgetSkip(decided)
			p.dropPair(pr, report.SkipCompareBudget)
			return
		}
	}
	defer m.release()
	status := 0
	if m.resp != nil {
		status = m.resp.Status
	}
	p.Metrics.observeMirror(pr.dec.Route, pr.to, status, m.err, m.latency)

	select {
	case <-pr.servedCh:
	case <-pr.ctx.Done():
		if pr.state.CompareAndSwap(pairWaiting, pairAbandoned) {
			p.compare(pr, nil, errServingIncomplete, 0, m)
			return
		}
		<-pr.servedCh
	}
	var sresp *diff.Response
	if pr.sErr == nil {
		sresp = diffResponse(pr.sStatus, pr.sHeader, pr.sCapture)
		sresp.Request = pr.client
	}
	if m.over && sresp != nil && sresp.Truncated {
		// Both bodies are over the cap: what the mirror sent beyond it was not
		// read, so there is nothing left to compare them by.
		p.skipPair(pr, report.SkipBodyTooLarge)
		pr.sCapture.release()
		return
	}
	p.compare(pr, sresp, pr.sErr, pr.sLatency, m)
	if pr.sCapture != nil {
		pr.sCapture.release()
	}
}

// fetched is one backend's whole answer to a mirrored request, or its error.
type fetched struct {
	resp    *diff.Response
	capt    *capture
	err     error
	latency time.Duration // to the response headers
	over    bool          // the body went over the cap: reading stopped there
}

func (f *fetched) release() {
	if f.capt != nil {
		f.capt.release()
	}
}

// fetch sends req and reads its answer, keeping up to limit bytes of it. It
// stops reading as soon as the body is over limit and closes the connection
// (an endless or huge body costs no more than the cap): the response is then
// Truncated, its Size the declared Content-Length (-1 when none). The mirror,
// the noise re-ask and the replay all fetch through it.
func fetch(transport http.RoundTripper, req *http.Request, limit int64) fetched {
	f, res := send(transport, req)
	if res != nil {
		f.read(res, limit, nil)
	}
	return f
}

// send sends req and returns the answer's head with its body still to read
// (nil, with the error in f, when there is none).
func send(transport http.RoundTripper, req *http.Request) (f fetched, res *http.Response) {
	sent := time.Now()
	res, f.err = transport.RoundTrip(req)
	f.latency = time.Since(sent)
	return f, res
}

// read reads res's body into f as fetch describes and closes it. When charge is
// set, it is told the size of every chunk read, and reading stops, with
// errOverBudget, when it returns false.
func (f *fetched) read(res *http.Response, limit int64, charge func(n int) bool) {
	f.capt = newCapture(limit, res.ContentLength)
	var w io.Writer = f.capt
	if charge != nil {
		w = chargedWriter{w, charge}
	}
	bp := copyBufPool.Get().(*[]byte)
	var n int64
	n, f.err = io.CopyBuffer(w, io.LimitReader(res.Body, limit+1), *bp)
	copyBufPool.Put(bp)
	res.Body.Close() // unread bytes left: the transport closes the connection
	if f.err != nil {
		f.capt.release()
		f.capt = nil
		return
	}
	f.resp = diffResponse(res.StatusCode, res.Header, f.capt)
	if f.over = n > limit; f.over {
		f.resp.Size = res.ContentLength
	}
}

// maxDiscard is the largest answer read to its end only to keep its
// connection: a new connection costs more than reading that much, which every
// mirror left unread under budget pressure would otherwise pay.
const maxDiscard = 64 << 10

// discard closes res's body unread, reading it first when it declares no more
// than maxDiscard bytes, so that its connection is kept. It returns the bytes
// read.
func discard(res *http.Response) int64 {
	var n int64
	if res.ContentLength >= 0 && res.ContentLength <= maxDiscard {
		bp := copyBufPool.Get().(*[]byte)
		n, _ = io.CopyBuffer(io.Discard, io.LimitReader(res.Body, maxDiscard+1), *bp)
		copyBufPool.Put(bp)
	}
	res.Body.Close()
	return n
}

// errOverBudget stops reading a mirrored answer once the comparison budget is
// spent.
var errOverBudget = errors.New("comparison budget spent")

// chargedWriter writes through to w after charging every chunk; a charge that
// says no stops the copy.
type chargedWriter struct {
	w      io.Writer
	charge func(n int) bool
}

func (c chargedWriter) Write(p []byte) (int, error) {
	c.w.Write(p)
	if !c.charge(len(p)) {
		return 0, errOverBudget
	}
	return len(p), nil
}

// compare builds the exchange of pr from the serving side's answer and the
// mirror's (or their errors), and hands its observation on. Differences at
// patterns the Observer has learned as noise are noise; on routes that re-ask, the
// others make the exchange ask a primary again (see reasker).
func (p *Proxy) compare(pr *pair, sresp *diff.Response, serr error, slatency time.Duration, m fetched) {
	x := Exchange{Decision: pr.dec, Method: pr.method, RequestID: pr.id, Time: pr.start}
	if m.resp != nil {
		m.resp.Request = pr.client
	}
	if pr.dec.Serve == rules.Primary {
		x.Primary, x.PrimaryErr, x.PrimaryLatency = sresp, serr, slatency
		x.Candidate, x.CandidateErr, x.CandidateLatency = m.resp, m.err, m.latency
	} else {
		x.Candidate, x.CandidateErr, x.CandidateLatency = sresp, serr, slatency
		x.Primary, x.PrimaryErr, x.PrimaryLatency = m.resp, m.err, m.latency
	}
	if !p.mirrors.compareSlot() {
		p.skipPair(pr, report.SkipConcurrency)
		return
	}
	defer func() { <-p.mirrors.compareSlots }()
	if x.comparable() {
		decided := p.decided(pr.dec.Route)
		if !p.mirrors.budget.admit(decided) {
			p.Metrics.budgetSkip(decided)
			p.skipPair(pr, report.SkipCompareBudget)
			return
		}
	}
	// From here on, what the comparison costs is taken out of the budget.
	stop := p.mirrors.meter()
	defer func() {
		cpu := stop()
		p.mirrors.budget.spend(cpu)
		p.Metrics.compareCPU(cpu)
	}()
	x.Learned = learnedFor(p.Observer, pr.dec.Route)
	var release, releaseFollow func()
	x.Reask, release = p.reasker(pr)
	x.Follow, releaseFollow = p.follower(pr)
	o := x.Observation()
	release()
	releaseFollow()
	pr.scrub(&o) // a backend may have echoed the request's secrets
	if len(o.Differences) > 0 {
		o.Request = pr.reproRequest()
	}
	outcome := outcomeOf(&o)
	p.Metrics.comparison(pr.dec.Route, outcome)
	p.Metrics.securityDifferences(pr.dec.Route, o.Differences)
	p.Logger.Debug().Str("request_id", pr.id).Str("route", pr.dec.Route).Str("outcome", outcome).
		Int("differences", len(o.Differences)).Int("noise", len(o.Noise)).Msg("comparison")
	if p.Observer != nil {
		p.Observer.Observe(o)
	}
}

// dropPair gives up a mirror that was never sent.
func (p *Proxy) dropPair(pr *pair, reason report.SkipReason) {
	if !pr.state.CompareAndSwap(pairWaiting, pairAbandoned) {
		<-pr.servedCh
		if pr.sCapture != nil {
			pr.sCapture.release()
		}
	}
	p.skipPair(pr, reason)
}

// skipPair counts a pair that is not compared, for reason, and observes it.
func (p *Proxy) skipPair(pr *pair, reason report.SkipReason) {
	p.Metrics.drop(reason)
	if p.Observer != nil {
		p.Observer.Observe(report.Observation{
			Time: pr.start, Route: pr.dec.Route, Method: pr.method, RequestID: pr.id, Skipped: reason,
		})
	}
}
