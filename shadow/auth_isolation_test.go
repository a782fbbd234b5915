package shadow

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/parity-dev/parity/shadow/rules"
)

// TestAuthNeverReachesTheCandidate sends spellings of /api/auth, written raw on the
// wire, through the real proxy and the real router with the cutover enabled for
// every /api/* route and cut-over routes verified (mirrored): the candidate, which
// counts what it receives, must receive none of them, whether as the serving
// backend or as the mirror. The primary (or the proxy's own HTTP parser, with a
// 400) answers each.
func TestAuthNeverReachesTheCandidate(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "primary") })
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "candidate") })
	cfg := &rules.Config{
		Cutover: rules.CutoverConfig{Enabled: true},
		Shadow:  rules.ShadowConfig{VerifyCutover: true, WriteRoutes: []string{"/api/sessions", "/api/v1", "/api/x"}},
	}
	rt, err := rules.NewRouter(cfg)
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	obs := newObserver()
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: rt.Decide, Observer: obs})

	// The control: an ordinary API route does reach the candidate, served by it.
	if res, body := h.raw(t, "GET /api/sessions HTTP/1.1\r\nHost: app\r\n\r\n"); body != "candidate" {
		t.Fatalf("control /api/sessions got %d %q, want the candidate's answer", res.StatusCode, body)
	}
	candidate.next(t)
	before := candidate.count()

	targets := []string{
		"/api/auth/session",
		"/api/auth",
		"/api/auth/",
		"/api/auth?next=/api/sessions",
		"/api//auth/session",
		"//api/auth/session",
		"/api/%61uth/session",
		"/api/aut%68/session",
		"/api/%41UTH/session",
		"/%61pi/auth/session",
		"/api/x/../auth/session",
		"/api/./auth/session",
		"/api/v1/../../api/auth/session",
		"/api/%2e%2e/api/auth/session",
		"/api/sessions/%2E%2E/../auth/session",
		"/API/AUTH/session",
		"/api/Auth/session",
		"/api/auth;v=1/session",
		"/api;x=1/auth/session",
		"/api\\auth\\session",
		"/api/auth\\session",
		"/api/%5Cauth/session",
		"/api/auth%2Fsession",
		"/api%2Fauth/session",
		"/api/auth%2fsession",
		"/api/%2561uth/session",
		"/api/%252e%252e/auth/session",
		"/api/auth%00/session",
		"/api/auth/..;/session",
		"/api/\xef\xbd\x81uth/session",
		"/api/auth%20/session",
		"http://app/api/auth/session",
		"HTTP://app/api//auth/session",
		"http://app/api/%61uth/session",
		"http://app:80/api/x/../auth/session",
	}
	for _, method := range []string{"GET", "POST"} {
		for _, target := range targets {
			t.Run(fmt.Sprintf("%s %q", method, target), func(t *testing.T) {
				res, body := h.raw(t, fmt.Sprintf("%s %s HTTP/1.1\r\nHost: app\r\nContent-Length: 0\r\n\r\n", method, target))
				switch {
				case res.StatusCode == http.StatusBadRequest && body != "primary":
					// Refused by the HTTP server before any routing.
				case body != "primary":
					t.Errorf("got %d %q, want the primary's answer", res.StatusCode, body)
				}
			})
		}
	}
	if n := candidate.count() - before; n != 0 {
		t.Errorf("the candidate received %d auth requests, want 0:", n)
		candidate.mu.Lock()
		for _, s := range candidate.reqs[before:] {
			t.Errorf("  %s %s", s.Method, s.RequestURI)
		}
		candidate.mu.Unlock()
	}
}
