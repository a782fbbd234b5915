package shadow

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/report/route"
	"github.com/parity-dev/parity/shadow/rules"
)

// hostileRouter is the real router in shadow mode, with writes to /api/sessions
// mirrored (their bodies buffered) and /api/notes not (their bodies streamed).
func hostileRouter(t *testing.T, cfg *rules.Config) *rules.Router {
	t.Helper()
	if cfg == nil {
		cfg = &rules.Config{Shadow: rules.ShadowConfig{WriteRoutes: []string{"/api/sessions"}}}
	}
	rt, err := rules.NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// smuggleBackend records each request it receives — method, target, whether it
// is a mirror, whether its body arrived whole — and answers "<name> <method>
// <target>".
type smuggleBackend struct {
	*httptest.Server
	name string
	mu   sync.Mutex
	got  []smuggled
}

type smuggled struct {
	method, target string
	mirror         bool
	bodyErr        error
}

func newSmuggleBackend(t *testing.T, name string) *smuggleBackend {
	b := &smuggleBackend{name: name}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		b.mu.Lock()
		b.got = append(b.got, smuggled{r.Method, r.RequestURI, r.Header.Get(HeaderShadow) == "1", err})
		b.mu.Unlock()
		fmt.Fprintf(w, "%s %s %s", name, r.Method, r.RequestURI)
	}))
	t.Cleanup(b.Close)
	return b
}

// TestHostileSmuggling writes request smuggling attempts raw on a connection to
// the proxy, followed by one last plain request. Whatever the proxy's HTTP server
// made of the bytes — a refusal (400, 501) that closes the connection, requests
// framed one way, or the answer to a chunked request that closes the connection
// (RFC 9112 §6.3) — every request answered from a backend reached exactly that
// backend, once, whole; a request refused for its body may have reached the
// serving backend only cut short, never whole; each mirror matches a request
// answered; nothing reaches the candidate's auth routes. served is how many
// answers came from a backend.
func TestHostileSmuggling(t *testing.T) {
	const auth = "GET /api/auth/session HTTP/1.1\r\nHost: app\r\n\r\n"
	tests := []struct {
		name    string
		request string
		served  int
	}{
		{"CL.TE: Content-Length and chunked, chunked wins",
			"POST /api/sessions HTTP/1.1\r\nHost: app\r\nContent-Length: " + fmt.Sprint(len("0\r\n\r\n"+auth)) + "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + auth, 1},
		{"TE.CL: chunked and a short Content-Length",
			"POST /api/sessions HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" +
				fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(auth), auth), 1},
		{"CL.TE on a streamed body",
			"POST /api/notes HTTP/1.1\r\nHost: app\r\nContent-Length: " + fmt.Sprint(len("0\r\n\r\n"+auth)) + "\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + auth, 1},
		{"duplicated Transfer-Encoding",
			"POST /api/sessions HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + auth, 0},
		{"Transfer-Encoding listing chunked twice",
			"POST /api/sessions HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n" + auth, 0},
		{"Transfer-Encoding identity then chunked",
			"POST /api/sessions HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + auth, 0},
		{"space before the colon of Transfer-Encoding",
			"POST /api/sessions HTTP/1.1\r\nHost: app\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + auth, 0},
		{"Transfer-Encoding xchunked",
			"POST /api/sessions HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + auth, 0},
		{"two different Content-Lengths",
			"POST /api/sessions HTTP/1.1\r\nHost: app\r\nContent-Length: 5\r\nContent-Length: 47\r\n\r\n" + auth, 0},
		// Folding is read as one space (RFC 9112 section 5.2): chunked, and the
		// Content-Length dropped.
		{"folded Transfer-Encoding",
			"POST /api/sessions HTTP/1.1\r\nHost: app\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + auth, 1},
		{"bare LF after the chunk size of a mirrored body",
			"POST /api/sessions HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n" + auth, 0},
		{"bare LF after the chunk size of a streamed body",
			"POST /api/notes HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n" + auth, 0},
		{"bare LF hiding a last chunk",
			"POST /api/sessions HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n2;\n0\r\n\r\n" + auth + "\r\n0\r\n\r\n", 0},
		{"bare LF line endings in the headers",
			"POST /api/sessions HTTP/1.1\nHost: app\nContent-Length: 0\n\n" + auth, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			primary, candidate := newSmuggleBackend(t, "primary"), newSmuggleBackend(t, "candidate")
			m := NewMetrics(0)
			h := newHarness(t, &Proxy{Primary: parseTestURL(t, primary.URL), Candidate: parseTestURL(t, candidate.URL),
				Decide: hostileRouter(t, nil).Decide, Metrics: m})
			responses := rawExchange(t, h.server.Listener.Addr().String(), tc.request)
			h.server.Close() // every handler has returned, and so every upstream request was made
			closeProxy(t, h.proxy)

			n := len(responses)
			switch {
			case n > 0 && strings.HasSuffix(responses[n-1].body, endPath):
				responses = responses[:n-1]
			case n > 0 && responses[n-1].status >= 400:
				// Refused, and the connection closed: the last request was never read.
			case n > 0 && responses[n-1].closed:
				// A chunked request answered, and its connection closed after it.
			default:
				t.Fatalf("the exchange ended neither with its last request's answer nor with a refusal: %+v", responses)
			}
			var served []string
			refused := 0
			for _, r := range responses {
				if r.err != nil {
					t.Errorf("response %d %q broke: %v", r.status, r.body, r.err)
				}
				name, _, _ := strings.Cut(r.body, " ")
				switch {
				case name == "primary" || name == "candidate":
					served = append(served, r.body)
				case r.status == http.StatusBadRequest || r.status == http.StatusNotImplemented:
					refused++
				default:
					t.Errorf("status %d %q: neither a backend's answer nor a refusal", r.status, r.body)
				}
			}
			if len(served) != tc.served {
				t.Errorf("%d answers from a backend, want %d: %+v", len(served), tc.served, responses)
			}
			var reached, mirrored []string
			cut := 0
			for _, b := range []*smuggleBackend{primary, candidate} {
				b.mu.Lock()
				for _, s := range b.got {
					switch {
					case s.target == endPath:
					case s.bodyErr != nil:
						cut++
					case s.mirror:
						mirrored = append(mirrored, s.method+" "+s.target)
					default:
						reached = append(reached, b.name+" "+s.method+" "+s.target)
					}
					if b == candidate && route.ReadsAsAuth(route.TargetPath(s.target)) {
						t.Errorf("the candidate received %s %s", s.method, s.target)
					}
				}
				b.mu.Unlock()
			}
			if d := cmp.Diff(served, reached, sortStrings); d != "" {
				t.Errorf("requests that reached a backend whole, against the answers (-answered +reached):\n%s", d)
			}
			if cut > refused {
				t.Errorf("%d requests reached a backend cut short, more than the %d refused", cut, refused)
			}
			for _, m := range mirrored {
				found := false
				for _, s := range served {
					found = found || strings.HasSuffix(s, " "+m)
				}
				if !found {
					t.Errorf("mirror %s matches no request answered", m)
				}
			}
			if v := metricValue(t, m, "parity_backend_unavailable_total", nil); v != 0 {
				t.Errorf("a hostile request counted %v backends unavailable", v)
			}
		})
	}
}

var sortStrings = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

// TestHostileH2C: on a route cut over to the candidate, no spelling of an h2c
// upgrade is honoured or passed on: the answer is plain HTTP/1.1 from the
// candidate, which never sees an h2c token nor HTTP2-Settings (other protocols
// offered beside h2c still go through); the HTTP/2 connection preface is not
// proxied at all.
func TestHostileH2C(t *testing.T) {
	rt := hostileRouter(t, &rules.Config{Cutover: rules.CutoverConfig{Enabled: true}})
	tests := []struct {
		name, request string
		served        bool // answered by the candidate (else refused)
	}{
		{"h2c upgrade", "GET /api/sessions HTTP/1.1\r\nHost: app\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", true},
		{"h2c upgrade in upper case", "GET /api/sessions HTTP/1.1\r\nHost: app\r\nConnection: upgrade, http2-settings\r\nUpgrade: H2C\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", true},
		{"h2c among other protocols", "GET /api/sessions HTTP/1.1\r\nHost: app\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c, websocket\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", true},
		{"h2c after another protocol", "GET /api/sessions HTTP/1.1\r\nHost: app\r\nConnection: Upgrade\r\nUpgrade: foo/2, h2c\r\n\r\n", true},
		{"h2c on a POST", "POST /api/sessions HTTP/1.1\r\nHost: app\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\nContent-Length: 2\r\n\r\n{}", true},
		{"HTTP/2 connection preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			primary, candidate := newBackend(t, nil), newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "candidate")
			})
			h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: rt.Decide})
			res, body := h.raw(t, tc.request)
			if tc.served {
				if res.StatusCode != 200 || res.ProtoMajor != 1 || body != "candidate" {
					t.Errorf("got %s %d %q, want HTTP/1.1 200 from the candidate", res.Proto, res.StatusCode, body)
				}
			} else if res.StatusCode < 400 {
				t.Errorf("got %s %d %q, want a refusal", res.Proto, res.StatusCode, body)
			}
			if res.StatusCode == http.StatusSwitchingProtocols || res.Header.Get("Upgrade") != "" {
				t.Errorf("the upgrade was honoured: %d %v", res.StatusCode, res.Header)
			}
			candidate.mu.Lock()
			defer candidate.mu.Unlock()
			if !tc.served && len(candidate.reqs) > 0 {
				t.Errorf("the candidate received %d requests", len(candidate.reqs))
			}
			for _, s := range candidate.reqs {
				if v, ok := s.Header["Http2-Settings"]; ok {
					t.Errorf("the candidate received HTTP2-Settings: %q", v)
				}
				for _, k := range []string{"Upgrade", "Connection"} {
					for _, v := range s.Header[k] {
						if v := strings.ToLower(v); strings.Contains(v, "h2c") || strings.Contains(v, "http2") {
							t.Errorf("the candidate received %s: %q", k, v)
						}
					}
				}
			}
		})
	}
}

// TestHostileHeaders: a client cannot strip, through Connection, the headers the
// proxy adds, nor set any X-Parity-* header, on the serving request or on the
// mirror.
func TestHostileHeaders(t *testing.T) {
	primary, candidate := newBackend(t, nil), newBackend(t, nil)
	obs := newObserver()
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: hostileRouter(t, nil).Decide, Observer: obs})
	res, _ := h.raw(t, "GET /api/sessions HTTP/1.1\r\nHost: app.example\r\n"+
		"Connection: X-Forwarded-For, X-Parity-Shadow, keep-alive\r\nConnection: X-Forwarded-Proto, X-Forwarded-Host, X-Request-Id\r\n"+
		"X-Forwarded-For: 10.6.6.6\r\nX-Request-Id: client-id\r\nX-Parity-Shadow: 0\r\nx-parity-shadow: 2\r\nX-PARITY-ROUTE: /api/auth\r\nX-Parity-: x\r\n\r\n")
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	if ob := obs.next(t); ob.Skipped != "" {
		t.Fatalf("not mirrored: %+v", ob)
	}
	p, c := primary.next(t), candidate.next(t)
	id := p.Header.Get(HeaderRequestID)
	want := http.Header{
		"X-Forwarded-For": {"127.0.0.1"}, "X-Forwarded-Proto": {"http"}, "X-Forwarded-Host": {"app.example"},
		HeaderRequestID: {id},
	}
	for name, got := range map[string]http.Header{"primary": p.Header, "candidate": c.Header} {
		for k, v := range want {
			if d := cmp.Diff(v, got[k]); d != "" {
				t.Errorf("%s %s (-want +got):\n%s", name, k, d)
			}
		}
		for k, v := range got {
			if strings.HasPrefix(strings.ToLower(k), "x-parity-") && !(name == "candidate" && k == HeaderShadow) {
				t.Errorf("%s received %s: %q", name, k, v)
			}
		}
		if v, ok := got["Connection"]; ok {
			t.Errorf("%s received Connection: %q", name, v)
		}
	}
	if id == "" || id == "client-id" {
		t.Errorf("request id %q: the client's was named hop-by-hop, a new one is due", id)
	}
	if d := cmp.Diff([]string{"1"}, c.Header[HeaderShadow]); d != "" {
		t.Errorf("candidate %s (-want +got):\n%s", HeaderShadow, d)
	}
}

// TestHostileMethods: a method-override header naming another method makes a
// safe request unsafe, and an unknown method is never mirrored; both are served
// by the primary exactly as sent.
func TestHostileMethods(t *testing.T) {
	tests := []struct {
		name, method, header string
		mirrored             bool
	}{
		{"control: a plain GET is mirrored", "GET", "", true},
		{"override naming the method itself", "GET", "X-HTTP-Method-Override: GET", true},
		{"X-HTTP-Method-Override: DELETE", "GET", "X-HTTP-Method-Override: DELETE", false},
		{"x-http-method-override in lower case", "GET", "x-http-method-override: delete", false},
		{"X-Method-Override: PUT", "GET", "X-Method-Override: PUT", false},
		{"X-HTTP-Method: PATCH on an OPTIONS", "OPTIONS", "X-HTTP-Method: PATCH", false},
		{"override repeated, the second naming a write", "GET", "X-HTTP-Method-Override: GET\r\nX-HTTP-Method-Override: DELETE", false},
		{"unknown method PROPFIND", "PROPFIND", "", false},
		{"unknown method in lower case", "get", "", false},
		{"made-up method", "FROBNICATE", "", false},
		{"TRACK", "TRACK", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			primary, candidate := newBackend(t, nil), newBackend(t, nil)
			obs := newObserver()
			h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: hostileRouter(t, nil).Decide, Observer: obs})
			extra := ""
			if tc.header != "" {
				extra = tc.header + "\r\n"
			}
			res, _ := h.raw(t, tc.method+" /api/sessions HTTP/1.1\r\nHost: app\r\n"+extra+"Content-Length: 0\r\n\r\n")
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if got := primary.next(t).Method; got != tc.method {
				t.Errorf("primary received method %q, want %q", got, tc.method)
			}
			ob := obs.next(t)
			if tc.mirrored {
				if ob.Skipped != "" || candidate.next(t).Method != tc.method {
					t.Errorf("observation %+v: want mirrored", ob)
				}
				return
			}
			if ob.Skipped != report.SkipWriteMethod {
				t.Errorf("observation skipped %q, want %q", ob.Skipped, report.SkipWriteMethod)
			}
			if n := candidate.count(); n != 0 {
				t.Errorf("the candidate received %d requests", n)
			}
		})
	}
}

// TestHostileBodyCapPlusOne: a body of exactly the mirror cap plus one byte, by
// Content-Length or chunked, written raw, streams to the primary whole and skips
// the mirror; one of exactly the cap is mirrored whole.
func TestHostileBodyCapPlusOne(t *testing.T) {
	const limit = 1 << 10
	chunked := func(s string) string {
		return fmt.Sprintf("Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", 100, s[:100], len(s)-100, s[100:])
	}
	body := func(n int) string { return strings.Repeat("b", n-1) + "!" }
	tests := []struct {
		name     string
		size     int
		framing  func(string) string
		mirrored bool
	}{
		{"cap by Content-Length", limit, nil, true},
		{"cap plus one by Content-Length", limit + 1, nil, false},
		{"cap chunked", limit, chunked, true},
		{"cap plus one chunked", limit + 1, chunked, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			primary, candidate := newBackend(t, nil), newBackend(t, nil)
			obs := newObserver()
			m := NewMetrics(0)
			h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: hostileRouter(t, nil).Decide,
				Observer: obs, Metrics: m, MirrorBodyCap: limit})
			payload := body(tc.size)
			framed := fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(payload), payload)
			if tc.framing != nil {
				framed = tc.framing(payload)
			}
			res, _ := h.raw(t, "PUT /api/sessions/7 HTTP/1.1\r\nHost: app\r\n"+framed)
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if got := primary.next(t).Body; got != payload {
				t.Errorf("primary received %d bytes, want the %d sent", len(got), len(payload))
			}
			ob := obs.next(t)
			if tc.mirrored {
				if got := candidate.next(t).Body; got != payload || ob.Skipped != "" {
					t.Errorf("mirror received %d bytes (observation %+v), want all %d", len(got), ob, len(payload))
				}
				return
			}
			if ob.Skipped != report.SkipBodyTooLarge || candidate.count() != 0 {
				t.Errorf("observation %+v, candidate received %d: want skipped %s and nothing sent", ob, candidate.count(), report.SkipBodyTooLarge)
			}
			if v := metricValue(t, m, "parity_mirror_dropped_total", map[string]string{"reason": string(report.SkipBodyTooLarge)}); v != 1 {
				t.Errorf("dropped{body_too_large} = %v, want 1", v)
			}
		})
	}
}

// TestHostileQueryByteForByte: an unusual query reaches both upstreams exactly as
// written.
func TestHostileQueryByteForByte(t *testing.T) {
	for _, target := range []string{
		"/api/sessions?a=1;b=2&c=%zz",
		"/api/sessions?a=1;b=2&c=%zz&&d=%2F%2f&e=%&f=+%20&g=[x]&h=|",
		"/api/sessions??a=1",
		"/api/sessions?",
	} {
		t.Run(target, func(t *testing.T) {
			primary, candidate := newBackend(t, nil), newBackend(t, nil)
			obs := newObserver()
			h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: hostileRouter(t, nil).Decide, Observer: obs})
			res, _ := h.raw(t, "GET "+target+" HTTP/1.1\r\nHost: app\r\n\r\n")
			if res.StatusCode != 200 {
				t.Fatalf("status %d", res.StatusCode)
			}
			if ob := obs.next(t); ob.Skipped != "" {
				t.Fatalf("not mirrored: %+v", ob)
			}
			for name, b := range map[string]*backend{"primary": primary, "candidate": candidate} {
				if got := b.next(t).RequestURI; got != target {
					t.Errorf("%s received %q, want %q", name, got, target)
				}
			}
		})
	}
}

// TestHostileH2CAnswer: a backend that switches to h2c although it was never
// offered gets its 101 refused with a 502; a switch to one protocol of several
// offered goes through.
func TestHostileH2CAnswer(t *testing.T) {
	switching := func(proto string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			conn, brw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: " + proto + "\r\n\r\n")
			brw.Flush()
		}
	}
	for _, tc := range []struct {
		offer, answer string
		want          int
	}{
		{"websocket", "h2c", http.StatusBadGateway},
		{"h2c, websocket", "h2c", http.StatusBadGateway},
		{"foo/2, websocket", "websocket", http.StatusSwitchingProtocols},
		{"h2c, websocket", "WebSocket", http.StatusSwitchingProtocols},
	} {
		t.Run(tc.offer+" answered "+tc.answer, func(t *testing.T) {
			primary := newBackend(t, switching(tc.answer))
			h := newHarness(t, &Proxy{Primary: primary.url(t)})
			res, _ := h.raw(t, "GET /api/ws HTTP/1.1\r\nHost: app\r\nConnection: Upgrade\r\nUpgrade: "+tc.offer+"\r\n\r\n")
			if res.StatusCode != tc.want {
				t.Errorf("status %d, want %d", res.StatusCode, tc.want)
			}
		})
	}
}
