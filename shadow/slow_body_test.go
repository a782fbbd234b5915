package shadow

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parity-dev/parity/shadow/rules"
)

// releaseBackend is a primary that reads each request body whole and says when
// a body read failed and when one of its connections was closed: what a proxy
// that gives up a request leaves behind on the backend's side.
type releaseBackend struct {
	*httptest.Server
	reached, bodyFailed, connClosed *signal
	bodyBytes                       atomic.Int64
}

func newReleaseBackend(t *testing.T) *releaseBackend {
	b := &releaseBackend{reached: newSignal(), bodyFailed: newSignal(), connClosed: newSignal()}
	b.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.reached.fire()
		n, err := io.Copy(io.Discard, r.Body)
		b.bodyBytes.Store(n)
		if err != nil {
			b.bodyFailed.fire()
			return
		}
		io.WriteString(w, "ok")
	}))
	b.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			b.connClosed.fire()
		}
	}
	b.Config.ErrorLog = quietLog()
	b.Start()
	t.Cleanup(b.Close)
	return b
}

// trickle sends a request's head announcing size bytes of body, then the body
// one byte every gap until the connection breaks or stop is closed, and returns
// the connection.
func trickle(t *testing.T, addr string, size int, gap time.Duration, stop <-chan struct{}) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(2 * waitLimit))
	fmt.Fprintf(conn, "POST /api/upload HTTP/1.1\r\nHost: app\r\nContent-Length: %d\r\n\r\nfirst bytes", size)
	if gap > 0 {
		go func() {
			tick := time.NewTicker(gap)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					if _, err := conn.Write([]byte("x")); err != nil {
						return
					}
				}
			}
		}()
	}
	return conn
}

// A client that stalls or trickles its request body does not hold the primary's
// connection: once a read waits longer than BodyReadTimeout, or the body comes
// slower than BodyMinRate, the upstream request is abandoned — the primary sees
// its body fail and its connection closed — and the client gets 408.
func TestSlowRequestBodyReleasesPrimary(t *testing.T) {
	cases := []struct {
		name    string
		gap     time.Duration // between trickled bytes; 0 = the client stalls
		perRead time.Duration
		minRate int64
	}{
		{"stalled body, per-read timeout", 0, 200 * time.Millisecond, -1},
		{"trickled body, minimum rate", 20 * time.Millisecond, 300 * time.Millisecond, 1000},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			primary := newReleaseBackend(t)
			pu, _ := url.Parse(primary.URL)
			p := &Proxy{Primary: pu, BodyReadTimeout: c.perRead, BodyMinRate: c.minRate}
			h := newHarness(t, p)
			stop := make(chan struct{})
			defer close(stop)
			conn := trickle(t, h.server.Listener.Addr().String(), 1<<20, c.gap, stop)

			primary.reached.wait(t, "the request reaching the primary")
			primary.bodyFailed.wait(t, "the primary's body read failing")
			primary.connClosed.wait(t, "the primary's connection closing")
			if n := primary.bodyBytes.Load(); n >= 1<<20 {
				t.Errorf("the primary read %d bytes, the whole body", n)
			}
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer to the slow client: %v", err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusRequestTimeout || !res.Close {
				t.Errorf("slow client answered %d (close %v), want 408 and the connection closed", res.StatusCode, res.Close)
			}
		})
	}
}

// A body buffered for the mirror is read under the same bounds: a stalled
// client gets 408 and neither backend hears of its request.
func TestSlowRequestBodyBufferedForMirror(t *testing.T) {
	primary := newBackend(t, nil)
	candidate := newBackend(t, nil)
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t),
		Decide: decideFixed(rules.Primary, true), BodyReadTimeout: 200 * time.Millisecond})
	conn := trickle(t, h.server.Listener.Addr().String(), 1000, 0, nil)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the stalled client: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestTimeout {
		t.Errorf("stalled client answered %d, want 408", res.StatusCode)
	}
	if n := primary.count() + candidate.count(); n != 0 {
		t.Errorf("backends received %d requests, want none", n)
	}
}
