package shadow

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// countingTransport counts the response body bytes read through it.
type countingTransport struct {
	http.RoundTripper
	read atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := c.RoundTripper.RoundTrip(r)
	if err == nil {
		res.Body = &countingBody{ReadCloser: res.Body, n: &c.read}
	}
	return res, err
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// endlessCandidate answers with a body that never ends, until its connection is
// closed, which it signals.
func endlessCandidate(t *testing.T) (*url.URL, *signal) {
	closed := newSignal()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed.fire()
		}
	}
	srv.Config.ErrorLog = quietLog()
	srv.Start()
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return u, closed
}

// A candidate whose answer never ends costs no more than the capture cap: the
// mirror stops reading as soon as the body is over it and closes that
// connection, long before the mirror's deadline. Against a small primary
// answer, that is a difference; against a primary answer over the cap too,
// there is nothing to compare by and the pair is counted as body_too_large.
func TestEndlessCandidateBodyReadOnlyToTheCap(t *testing.T) {
	const capBytes = 256 << 10
	for _, c := range []struct {
		name        string
		primaryBody string
		skipped     report.SkipReason
	}{
		{"small primary answer", `{"ok":true}`, ""},
		{"primary answer over the cap too", `"` + strings.Repeat("p", 2*capBytes) + `"`, report.SkipBodyTooLarge},
	} {
		t.Run(c.name, func(t *testing.T) {
			primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, c.primaryBody)
			})
			cu, closed := endlessCandidate(t)
			ct := &countingTransport{RoundTripper: newTransport(time.Minute, 4)}
			obs := newObserver()
			m := NewMetrics(0)
			h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: cu, CandidateTransport: ct,
				Decide: decideFixed(rules.Primary, true), Observer: obs, Metrics: m,
				CaptureCap: capBytes, MirrorTimeout: time.Minute})

			res, body := h.get(t, "/api/items")
			if res.StatusCode != http.StatusOK || body != c.primaryBody {
				t.Fatalf("client got %d with %d bytes, want the primary's answer", res.StatusCode, len(body))
			}
			closed.wait(t, "the candidate's connection closing")
			o := obs.next(t)
			if n := ct.read.Load(); n > capBytes+64<<10 {
				t.Errorf("read %d bytes of the candidate's body, want at most the cap (%d) and one buffer", n, capBytes)
			}
			if o.Skipped != c.skipped {
				t.Errorf("observation skipped %q, want %q", o.Skipped, c.skipped)
			}
			if c.skipped == "" && len(o.Differences) == 0 {
				t.Error("an endless candidate body against a small primary body is no difference")
			}
			if got, want := metricValue(t, m, "parity_mirror_dropped_total", map[string]string{"reason": "body_too_large"}), map[bool]float64{true: 1, false: 0}[c.skipped != ""]; got != want {
				t.Errorf("body_too_large counted %v times, want %v", got, want)
			}
			ct.CloseIdleConnections()
		})
	}
}

// CloseIdleConnections passes on to the wrapped transport.
func (c *countingTransport) CloseIdleConnections() {
	if t, ok := c.RoundTripper.(interface{ CloseIdleConnections() }); ok {
		t.CloseIdleConnections()
	}
}
