package shadow

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
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

	// The spellings the routing tests hold too, one raw target a line.
	spellings, err := os.ReadFile(filepath.Join("rules", "testdata", "auth-spellings.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, line := range strings.Split(strings.TrimSpace(string(spellings)), "\n") {
		if !strings.HasPrefix(line, "#") {
			targets = append(targets, line)
		}
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
