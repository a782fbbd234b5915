package shadow

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parity-dev/parity/shadow/rules"
)

// A client that half-closes its side after sending its request gets the
// backend's real answer or a broken connection: parity never makes up a
// response of its own ("200 OK" with an empty body) when the backend's answer
// was lost because the client seemed to leave.
func TestHalfClosedClientGetsNoMadeUpAnswer(t *testing.T) {
	arrived := newSignal()
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		arrived.fire()
		select {
		case <-r.Context().Done():
		case <-time.After(waitLimit / 2):
		}
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "real answer")
	})
	h := newHarness(t, &Proxy{Primary: primary.url(t)})

	// The server may notice the half-close before the request reaches the
	// primary; go on until one has (at least five tries), so the case is met.
	for try := 0; try < 5 || !arrived.fired() && try < 50; try++ {
		conn, err := net.Dial("tcp", h.server.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(waitLimit))
		io.WriteString(conn, "GET /api/slow HTTP/1.1\r\nHost: app\r\n\r\n")
		conn.(*net.TCPConn).CloseWrite()
		got, _ := io.ReadAll(conn) // a reset is an aborted connection too
		conn.Close()
		if len(got) > 0 && !strings.HasPrefix(string(got), "HTTP/1.1 201 Created") {
			t.Fatalf("a half-closed client got an answer the backend never gave:\n%s", got)
		}
	}
	arrived.wait(t, "the request reaching the primary")
}

// A client's protocol error in its request body — malformed chunking, a
// Content-Length among the trailers — is answered 400 and counted as what it
// is: never 502, never a failure of the backend in the metrics, whether the
// body streams to the backend or is buffered for a mirror.
func TestClientBodyErrorsAreNotBackendFailures(t *testing.T) {
	bodies := []struct{ name, body string }{
		{"trailer Content-Length", "5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n"},
		{"chunk longer than its size", "5\r\nhelloXX\r\n0\r\n\r\n"},
		{"size not hex", "zz\r\nhello\r\n0\r\n\r\n"},
	}
	for _, mirror := range []bool{false, true} {
		for _, c := range bodies {
			name := c.name + map[bool]string{false: ", streamed", true: ", buffered for the mirror"}[mirror]
			t.Run(name, func(t *testing.T) {
				primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
					io.WriteString(w, "ok")
				})
				candidate := newBackend(t, nil)
				m := NewMetrics(0)
				h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Metrics: m,
					Decide: decideFixed(rules.Primary, mirror), Observer: newObserver()})
				res := rawExchange(t, h.server.Listener.Addr().String(),
					"POST /api/upload HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n"+c.body)
				if len(res) == 0 || res[0].status != http.StatusBadRequest {
					t.Fatalf("answers %+v, want 400 first", res)
				}
				for _, status := range []string{"502", "503", "504"} {
					if n := metricValue(t, m, "http_request_duration_seconds", map[string]string{"status": status}); n != 0 {
						t.Errorf("%v requests counted with status %s", n, status)
					}
				}
				if n := metricValue(t, m, "parity_backend_unavailable_total", nil); n != 0 {
					t.Errorf("backend counted unavailable %v times", n)
				}
				if n := metricValue(t, m, "http_request_duration_seconds", map[string]string{"status": "400"}); n != 1 {
					t.Errorf("%v requests counted with status 400, want 1", n)
				}
			})
		}
	}
}

// A request with both Transfer-Encoding and Content-Length may be an attempt
// to smuggle a request past a proxy (RFC 9112 §6.3). net/http drops the
// Content-Length before the proxy sees it and frames the body by its chunks,
// so nothing is smuggled; and the connection is closed after the answer, so a
// request pipelined behind it is neither answered nor forwarded. A request
// framed by Content-Length alone keeps its connection.
func TestTransferEncodingWithContentLengthClosesConnection(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	h := newHarness(t, &Proxy{Primary: primary.url(t)})
	for _, req := range []string{
		"POST /api/a HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"POST /api/a HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		"POST /api/a HTTP/1.1\r\nHost: app\r\ncontent-length: 40\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	} {
		before := primary.count()
		res := rawExchange(t, h.server.Listener.Addr().String(), req+"GET /api/second HTTP/1.1\r\nHost: app\r\n\r\n")
		if len(res) != 1 {
			t.Errorf("%q: %d answers on the connection, want 1: %+v", firstLine(req), len(res), res)
		}
		if got := primary.count() - before; got != 1 {
			t.Errorf("%q: the primary received %d requests, want 1", firstLine(req), got)
		}
	}
	res := rawExchange(t, h.server.Listener.Addr().String(), "POST /api/a HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\n\r\nhello")
	if len(res) != 2 {
		t.Errorf("a request framed by Content-Length got %d answers with the one behind it, want 2", len(res))
	}
}
