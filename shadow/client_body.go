package shadow

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Default bounds of a client's request body.
const (
	// DefaultBodyReadTimeout is how long one read of a request body may wait for
	// the client (nginx's client_body_timeout, per read).
	DefaultBodyReadTimeout = 20 * time.Second
	// DefaultBodyMinRate is the slowest a client may send its body, in bytes per
	// second, once the first DefaultBodyReadTimeout has passed (Apache's
	// mod_reqtimeout MinRate). Only the time spent waiting for the client
	// counts, never a backend's slowness to take the body.
	DefaultBodyMinRate = 500
)

// errBodyTimeout is a client that sent its body too slowly: answered 408.
var errBodyTimeout = errors.New("request body too slow")

// clientBody is the client's request body as the proxy reads it. Each read
// waits for the client at most the Proxy's BodyReadTimeout, and the body as a
// whole may not come slower than BodyMinRate: when either is exceeded, the read
// fails, the upstream request with it (which releases the serving backend's
// connection), and the client gets 408. Trailers that name framing fields are
// the client's protocol error. The first error is kept, so that the proxy can
// tell a client's fault from a backend's; reads after the handler let go of the
// body fail instead of touching a finished request, and Close never closes the
// client's body (the transport would block on a body not yet sent, e.g. after
// Expect: 100-continue).
type clientBody struct {
	req     *http.Request
	rc      *http.ResponseController
	pending []byte // read ahead already (a body over the mirror cap), served first

	perRead time.Duration // <= 0: no per-read bound
	minRate int64         // bytes per second; <= 0: no rate bound
	n       int64         // bytes read from the client so far (one reader at a time)
	waited  time.Duration // time spent waiting in reads so far

	mu     sync.Mutex // orders deadline changes against Close
	closed bool
	err    atomic.Pointer[error] // the first read error but EOF
}

func (p *Proxy) newClientBody(rw http.ResponseWriter, r *http.Request) *clientBody {
	return &clientBody{
		req:     r,
		rc:      http.NewResponseController(rw),
		perRead: durationOrDefault(p.BodyReadTimeout, DefaultBodyReadTimeout),
		minRate: rateOrDefault(p.BodyMinRate, DefaultBodyMinRate),
	}
}

// durationOrDefault is v when positive, def when zero, and none (0) when negative.
func durationOrDefault(v, def time.Duration) time.Duration {
	if v < 0 {
		return 0
	}
	return orDefault(v, def)
}

func rateOrDefault(v, def int64) int64 {
	if v < 0 {
		return 0
	}
	return orDefault(v, def)
}

func (b *clientBody) Read(p []byte) (int, error) {
	if len(b.pending) > 0 {
		n := copy(p, b.pending)
		b.pending = b.pending[n:]
		return n, nil
	}
	started, ok := b.arm()
	if !ok {
		return 0, errors.New("read of the client's body after the request ended")
	}
	n, err := b.req.Body.Read(p)
	b.n += int64(n)
	b.waited += time.Since(started)
	switch {
	case err == io.EOF:
		b.disarm()
		if terr := badTrailer(b.req.Trailer); terr != nil {
			err = terr
		}
	case err != nil && isTimeout(err):
		err = fmt.Errorf("%w: %w", errBodyTimeout, err)
	}
	if err != nil && err != io.EOF {
		b.err.CompareAndSwap(nil, &err)
	}
	return n, err
}

// arm sets the client connection's read deadline for the next read, unless the
// body was let go of.
func (b *clientBody) arm() (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if b.closed {
		return now, false
	}
	if b.perRead <= 0 && b.minRate <= 0 {
		return now, true
	}
	wait := b.perRead
	if b.minRate > 0 {
		// The client may have spent, waiting included, the first period plus
		// what its bytes so far are worth at the minimum rate.
		grace := b.perRead
		if grace <= 0 {
			grace = DefaultBodyReadTimeout
		}
		left := grace + time.Duration(b.n)*time.Second/time.Duration(b.minRate) - b.waited
		if wait <= 0 || left < wait {
			wait = max(left, time.Millisecond)
		}
	}
	b.rc.SetReadDeadline(now.Add(wait)) // not supported (a recorder): no bound
	return now, true
}

// disarm clears the deadline once the body is read: the server's own read of the
// connection goes on after it and must not time out.
func (b *clientBody) disarm() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed && (b.perRead > 0 || b.minRate > 0) {
		b.rc.SetReadDeadline(time.Time{})
	}
}

// readErr is the error the client's body failed with, nil when none did.
func (b *clientBody) readErr() error {
	if e := b.err.Load(); e != nil {
		return *e
	}
	return nil
}

func (b *clientBody) Close() error {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	return nil
}

// badTrailer refuses trailer fields that would change the framing of a message
// (RFC 9110 §6.5.1): sent on, they would make the upstream request invalid.
func badTrailer(t http.Header) error {
	for _, k := range []string{"Content-Length", "Transfer-Encoding", "Trailer"} {
		if _, ok := t[k]; ok {
			return fmt.Errorf("trailer field %s is not allowed", k)
		}
	}
	return nil
}

// clientBodyStatus is the answer to a client whose body could not be read: 408
// when it was too slow, else 400.
func clientBodyStatus(err error) int {
	if errors.Is(err, errBodyTimeout) {
		return http.StatusRequestTimeout
	}
	return http.StatusBadRequest
}
