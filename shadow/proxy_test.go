package shadow

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/parity-dev/parity/shadow/rules"
	"github.com/rs/zerolog"
)

// TestServeForwardsRequestUnchanged: method, headers, body, raw path and raw query
// reach the serving backend exactly as the client sent them.
func TestServeForwardsRequestUnchanged(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		target  string // request target as written on the wire
		body    string
		wantURI string // what the backend must receive
	}{
		{"plain get", "GET", "/api/sessions?limit=10", "", "/api/sessions?limit=10"},
		{"unusual query byte for byte", "GET", "/api/x?a=1;b=2&c=%zz&d=%2F&&e", "", "/api/x?a=1;b=2&c=%zz&d=%2F&&e"},
		{"encoded path not re-encoded", "GET", "/api/a%2Fb/%7euser/x%20y", "", "/api/a%2Fb/%7euser/x%20y"},
		{"dot segments left to the backend", "GET", "/api/a/../b/./c", "", "/api/a/../b/./c"},
		{"double slash kept", "GET", "//api//x", "", "//api//x"},
		{"empty query kept", "GET", "/api/x?", "", "/api/x?"},
		{"post body", "POST", "/api/sessions", `{"title":"t"}`, "/api/sessions"},
		{"unknown method", "FROB", "/api/x", "payload", "/api/x"},
		{"absolute form reaches the backend as a path", "GET", "http://elsewhere.example/api/x?q=1", "", "/api/x?q=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
			h := newHarness(t, &Proxy{Primary: primary.url(t)})
			req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: app.example\r\nX-Custom: a\r\nX-Custom: b\r\nAccept: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
				tc.method, tc.target, len(tc.body), tc.body)
			res, body := h.raw(t, req)
			if res.StatusCode != 200 || body != "ok" {
				t.Fatalf("client got %d %q, want 200 \"ok\"", res.StatusCode, body)
			}
			got := primary.next(t)
			want := seen{Method: tc.method, RequestURI: tc.wantURI, Body: tc.body}
			if tc.target[0] == '/' {
				want.Host = "app.example"
			} else {
				want.Host = "elsewhere.example"
			}
			if diff := cmp.Diff(want, got, cmpIgnoreHeader); diff != "" {
				t.Errorf("backend received (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]string{"a", "b"}, got.Header["X-Custom"]); diff != "" {
				t.Errorf("X-Custom (-want +got):\n%s", diff)
			}
			if got.Header.Get("Accept") != "application/json" {
				t.Errorf("Accept = %q", got.Header.Get("Accept"))
			}
		})
	}
}

var cmpIgnoreHeader = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Header" }, cmp.Ignore())

// TestServeHeaders covers hop-by-hop removal, forwarding headers, request ids and
// the parity headers a client may not set.
func TestServeHeaders(t *testing.T) {
	tests := []struct {
		name    string
		trust   bool
		header  map[string][]string
		absent  []string            // must not reach the backend
		want    map[string][]string // must reach it with these values
		checkID func(t *testing.T, id string)
	}{
		{
			name: "hop-by-hop and Connection-named headers removed",
			header: map[string][]string{
				"Connection": {"X-Secret-Hop, keep-alive"}, "X-Secret-Hop": {"1"}, "Keep-Alive": {"timeout=5"},
				"Proxy-Authorization": {"Basic Zm9vOmJhcg=="}, "Te": {"gzip"}, "X-Kept": {"yes"},
			},
			absent: []string{"X-Secret-Hop", "Keep-Alive", "Proxy-Authorization", "Te"},
			want:   map[string][]string{"X-Kept": {"yes"}},
		},
		{
			name:   "Connection cannot strip the headers the proxy adds",
			header: map[string][]string{"Connection": {"X-Forwarded-For, X-Request-Id, X-Forwarded-Proto"}, "X-Request-Id": {"client-id"}},
			want:   map[string][]string{"X-Forwarded-For": {"127.0.0.1"}, "X-Forwarded-Proto": {"http"}},
			checkID: func(t *testing.T, id string) {
				if id == "client-id" || id == "" {
					t.Errorf("X-Request-Id = %q, want a generated one (the client's was hop-by-hop)", id)
				}
			},
		},
		{
			name:   "client forwarding headers not trusted by default",
			header: map[string][]string{"X-Forwarded-For": {"10.9.9.9"}, "X-Forwarded-Host": {"evil.example"}, "X-Forwarded-Proto": {"https"}, "Forwarded": {"for=10.9.9.9"}},
			absent: []string{"Forwarded"},
			want:   map[string][]string{"X-Forwarded-For": {"127.0.0.1"}, "X-Forwarded-Host": {"app.example"}, "X-Forwarded-Proto": {"http"}},
		},
		{
			name:   "client forwarding headers kept when trusted",
			trust:  true,
			header: map[string][]string{"X-Forwarded-For": {"10.9.9.9"}, "X-Forwarded-Host": {"public.example"}, "X-Forwarded-Proto": {"https"}},
			want:   map[string][]string{"X-Forwarded-For": {"10.9.9.9, 127.0.0.1"}, "X-Forwarded-Host": {"public.example"}, "X-Forwarded-Proto": {"https"}},
		},
		{
			name:   "client X-Parity headers dropped",
			header: map[string][]string{"X-Parity-Shadow": {"1"}, "X-Parity-Anything": {"x"}, "x-parity-lower": {"y"}},
			absent: []string{"X-Parity-Shadow", "X-Parity-Anything", "X-Parity-Lower"},
		},
		{
			name:   "request id kept",
			header: map[string][]string{"X-Request-Id": {"req-123"}},
			want:   map[string][]string{"X-Request-Id": {"req-123"}},
		},
		{
			name:   "request id generated when missing",
			header: map[string][]string{},
			checkID: func(t *testing.T, id string) {
				if len(id) != 32 {
					t.Errorf("X-Request-Id = %q, want 32 hex digits", id)
				}
			},
		},
		{
			name:   "unprintable request id replaced",
			header: map[string][]string{"X-Request-Id": {"a b"}},
			checkID: func(t *testing.T, id string) {
				if id == "a b" {
					t.Errorf("X-Request-Id kept %q", id)
				}
			},
		},
		{
			name:   "no Go default User-Agent added",
			header: map[string][]string{},
			absent: []string{"User-Agent"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			primary := newBackend(t, nil)
			h := newHarness(t, &Proxy{Primary: primary.url(t), TrustForwarded: tc.trust})
			var b strings.Builder
			b.WriteString("GET /api/x HTTP/1.1\r\nHost: app.example\r\n")
			for k, vv := range tc.header {
				for _, v := range vv {
					fmt.Fprintf(&b, "%s: %s\r\n", k, v)
				}
			}
			b.WriteString("\r\n")
			res, _ := h.raw(t, b.String())
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			got := primary.next(t)
			for _, k := range tc.absent {
				if v, ok := got.Header[textproto.CanonicalMIMEHeaderKey(k)]; ok {
					t.Errorf("backend received %s: %q", k, v)
				}
			}
			for k, v := range tc.want {
				if diff := cmp.Diff(v, got.Header[k]); diff != "" {
					t.Errorf("%s (-want +got):\n%s", k, diff)
				}
			}
			if tc.checkID != nil {
				tc.checkID(t, got.Header.Get("X-Request-Id"))
			}
		})
	}
}

// TestServeStreamsEventsAsTheyCome: the client reads the first event before the
// backend writes the second.
func TestServeStreamsEventsAsTheyCome(t *testing.T) {
	firstRead := make(chan struct{})
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Content-Length", "") // no length: stream
		io.WriteString(w, "data: one\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-firstRead:
		case <-time.After(waitLimit):
			return
		}
		io.WriteString(w, "data: two\n\n")
	})
	obs := newObserver()
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\ndata: two\n\n")
	})
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true), Observer: obs})
	res, err := h.client.Get(h.server.URL + "/api/chat")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	br := bufio.NewReader(res.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(firstRead)
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatal(err)
	}
	if string(rest) != "\ndata: two\n\n" {
		t.Errorf("rest of stream %q", rest)
	}
	if ob := obs.next(t); ob.Skipped != "" || ob.CandidateError != "" {
		t.Errorf("streamed pair not compared: %+v", ob)
	}
}

// TestServeInformationalAndTrailers: 1xx responses and trailers reach the client.
func TestServeInformationalAndTrailers(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Set("Trailer", "X-Checksum")
		w.WriteHeader(200)
		io.WriteString(w, "body")
		w.Header().Set("X-Checksum", "abc")
	})
	h := newHarness(t, &Proxy{Primary: primary.url(t)})
	var got1xx []int
	var links []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, hdr textproto.MIMEHeader) error {
		got1xx = append(got1xx, code)
		links = append(links, hdr.Get("Link"))
		return nil
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "GET", h.server.URL+"/x", nil)
	req.Header.Set("Te", "trailers")
	res, body := h.do(t, req)
	if body != "body" {
		t.Errorf("body %q", body)
	}
	if diff := cmp.Diff([]int{103}, got1xx); diff != "" {
		t.Errorf("1xx (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"</style.css>; rel=preload"}, links); diff != "" {
		t.Errorf("103 Link (-want +got):\n%s", diff)
	}
	if got := res.Trailer.Get("X-Checksum"); got != "abc" {
		t.Errorf("trailer X-Checksum = %q, want abc", got)
	}
	if got := primary.next(t).Header.Get("Te"); got != "trailers" {
		t.Errorf("backend Te = %q, want trailers", got)
	}
}

// TestServeWebSocketPassesThroughNeverMirrored: an upgrade reaches the serving
// backend and is relayed both ways; the mirror receives nothing.
func TestServeWebSocketPassesThroughNeverMirrored(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "websocket" {
			http.Error(w, "no upgrade", 400)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo " + line)
		brw.Flush()
	})
	candidate := newBackend(t, nil)
	obs := newObserver()
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true), Observer: obs})

	conn, err := net.Dial("tcp", h.server.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(waitLimit))
	io.WriteString(conn, "GET /api/ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 101 {
		t.Fatalf("status %d, want 101", res.StatusCode)
	}
	io.WriteString(conn, "hello\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "echo hello\n" {
		t.Fatalf("relayed %q, %v", line, err)
	}
	if ob := obs.next(t); ob.Skipped != "upgrade" {
		t.Errorf("observation %+v, want skipped upgrade", ob)
	}
	if n := candidate.count(); n != 0 {
		t.Errorf("candidate received %d requests, want 0", n)
	}
}

// TestServeNeverHonoursH2C: an h2c upgrade request is served as plain HTTP/1.1.
func TestServeNeverHonoursH2C(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "plain") })
	h := newHarness(t, &Proxy{Primary: primary.url(t), Decide: decideFixed(rules.Candidate, false), Candidate: primary.url(t)})
	res, body := h.raw(t, "GET /api/x HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n")
	if res.StatusCode != 200 || body != "plain" {
		t.Errorf("got %d %q, want 200 plain", res.StatusCode, body)
	}
	got := primary.next(t)
	for _, k := range []string{"Upgrade", "Connection", "Http2-Settings"} {
		if v, ok := got.Header[k]; ok {
			t.Errorf("backend received %s: %q", k, v)
		}
	}
}

// TestServeBackendUnavailable: an unreachable serving backend is a 502 with a JSON
// body and the "Backend unavailable" log line the guide's monitoring greps.
func TestServeBackendUnavailable(t *testing.T) {
	dead := deadURL(t)
	var logs syncBuffer
	m := NewMetrics(0)
	h := newHarness(t, &Proxy{Primary: dead, Logger: zerolog.New(&logs), Metrics: m})
	res, body := h.get(t, "/api/sessions?token=canary-query")
	if res.StatusCode != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", res.StatusCode)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	if got["error"] != "Backend unavailable" || got["backend"] != "primary" || got["request_id"] == "" {
		t.Errorf("body %q", body)
	}
	if res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
	}
	line := findLogLine(t, logs.String(), "Backend unavailable")
	if line["level"] != "error" || line["backend"] != "primary" {
		t.Errorf("log line %v", line)
	}
	if strings.Contains(logs.String(), "canary-query") {
		t.Errorf("log holds the query: %s", logs.String())
	}
	if v := metricValue(t, m, "parity_backend_unavailable_total", map[string]string{"backend": "primary"}); v != 1 {
		t.Errorf("parity_backend_unavailable_total{backend=primary} = %v, want 1", v)
	}
}

// TestServeBackendTimeout: response headers that do not come within HeaderTimeout
// are a 504.
func TestServeBackendTimeout(t *testing.T) {
	release := make(chan struct{})
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	h := newHarness(t, &Proxy{Primary: primary.url(t), HeaderTimeout: 50 * time.Millisecond})
	res, body := h.get(t, "/api/slow")
	if res.StatusCode != http.StatusGatewayTimeout {
		t.Fatalf("status %d %q, want 504", res.StatusCode, body)
	}
}

// TestServeAdminPathsGoToTheBackend: the public handler serves no admin path.
func TestServeAdminPathsGoToTheBackend(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "backend "+r.URL.Path) })
	h := newHarness(t, &Proxy{Primary: primary.url(t), Metrics: NewMetrics(0)})
	for _, p := range []string{"/metrics", "/parity/report", "/parity/report.json", "/healthz", "/readyz"} {
		res, body := h.get(t, p)
		if res.StatusCode != 200 || body != "backend "+p {
			t.Errorf("GET %s: %d %q, want the backend's answer", p, res.StatusCode, body)
		}
	}
	if n := primary.count(); n != 5 {
		t.Errorf("backend received %d requests, want 5", n)
	}
}

// TestServeCutOverRoute: a route served by the candidate gets the candidate's
// answer; with verify-cutover the mirror goes to the primary.
func TestServeCutOverRoute(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"from":"primary"}`) })
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"from":"candidate"}`) })
	obs := newObserver()
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Candidate, true), Observer: obs})
	_, body := h.get(t, "/api/health")
	if body != `{"from":"candidate"}` {
		t.Errorf("client got %q, want the candidate's answer", body)
	}
	mirrored := primary.next(t)
	if mirrored.Header.Get(HeaderShadow) != "1" {
		t.Errorf("mirror to primary lacks %s: %v", HeaderShadow, mirrored.Header)
	}
	served := candidate.next(t)
	if served.Header.Get(HeaderShadow) != "" {
		t.Errorf("serving request marked as shadow")
	}
	ob := obs.next(t)
	if ob.Skipped != "" || len(ob.Differences) == 0 {
		t.Errorf("observation %+v, want a compared pair with differences", ob)
	}
}

// TestServeClientLeavesCancelsUpstream: a client that aborts after the headers
// cancels the serving request.
func TestServeClientLeavesCancelsUpstream(t *testing.T) {
	cancelled := make(chan struct{})
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(waitLimit):
		}
	})
	h := newHarness(t, &Proxy{Primary: primary.url(t)})
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "GET", h.server.URL+"/api/stream", nil)
	res, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5)
	io.ReadFull(res.Body, buf)
	cancel()
	res.Body.Close()
	select {
	case <-cancelled:
	case <-time.After(waitLimit):
		t.Fatal("the serving backend's request was not cancelled")
	}
}

// TestServePrimaryFailsMidBody: the client gets exactly what the primary sent, then
// a broken stream; the pair is excluded from parity.
func TestServePrimaryFailsMidBody(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			resetConn(conn)
		}
	})
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "whole") })
	obs := newObserver()
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true), Observer: obs})
	res, err := h.client.Get(h.server.URL + "/api/x")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "partial" || err == nil {
		t.Errorf("client read %q, %v; want \"partial\" and an error", b, err)
	}
	if ob := obs.next(t); ob.Skipped != "primary_failed" {
		t.Errorf("observation %+v, want skipped primary_failed", ob)
	}
}

// resetConn closes conn with a TCP reset.
func resetConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// deadURL is an address nothing listens on.
func deadURL(t *testing.T) *url.URL {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return &url.URL{Scheme: "http", Host: addr}
}

// findLogLine returns the first JSON log line whose message is msg.
func findLogLine(t *testing.T, logs, msg string) map[string]any {
	t.Helper()
	for _, line := range strings.Split(logs, "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		if m["message"] == msg {
			return m
		}
	}
	t.Fatalf("no log line %q in:\n%s", msg, logs)
	return nil
}

// TestServeRefusesConnect: parity is a reverse proxy; a tunnel request reaches no
// backend.
func TestServeRefusesConnect(t *testing.T) {
	primary := newBackend(t, nil)
	h := newHarness(t, &Proxy{Primary: primary.url(t)})
	res, _ := h.raw(t, "CONNECT internal.example:443 HTTP/1.1\r\nHost: internal.example:443\r\n\r\n")
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("status %d, want 405", res.StatusCode)
	}
	if n := primary.count(); n != 0 {
		t.Errorf("backend received %d requests", n)
	}
}
