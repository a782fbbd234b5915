package shadow

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// A reproducer's request keeps what is needed to send it again and nothing
// secret: secret headers, path parameter and query values and body members are left out and
// named; hop-by-hop and proxy headers are left out and named.
func TestReproRequestIsRedacted(t *testing.T) {
	h := http.Header{
		"Accept":          {"application/json"},
		"Authorization":   {"Bearer s3cret-token"},
		"Cookie":          {"sid=s3cret-cookie"},
		"X-Api-Key":       {"s3cret-key"},
		"Connection":      {"keep-alive"},
		"Keep-Alive":      {"timeout=5"},
		"X-Forwarded-For": {"10.0.0.1"},
		"X-Parity-Shadow": {"1"},
		"Content-Type":    {"application/json"},
	}
	body := []byte(`{"name":"n","password":"s3cret-pass","nested":{"apiToken":"s3cret-tok"},"secret":"s3cret-pass"}`)
	red, err := diff.NewRedactor([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	got := reproRequest(red, "POST", "/api/x;jsessionid=s3cret-path?access_token=s3cret-q&page=2", h, body)
	want := &report.Request{
		Method:         "POST",
		Target:         "/api/x;jsessionid=?access_token=&page=2",
		Header:         map[string][]string{"Accept": {"application/json"}, "Content-Type": {"application/json"}},
		SecretHeaders:  []string{"Authorization", "Cookie", "X-Api-Key"},
		RemovedHeaders: []string{"Connection", "Keep-Alive", "X-Forwarded-For", "X-Parity-Shadow"},
		SecretParams:   []string{"access_token"},
		SecretBody:     []string{"BODY_SECRET_1", "BODY_SECRET_2"},
		Body:           `{"name":"n","password":"${BODY_SECRET_1}","nested":{"apiToken":"${BODY_SECRET_2}"},"secret":"${BODY_SECRET_1}"}`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("request (-want +got):\n%s", d)
	}
	g := report.DiffGroup{Path: "status", Kind: "changed", Examples: []report.Example{{RequestID: "r", Request: got}}}
	rp, _ := g.Repro("POST /api/x")
	if s := rp.Script(); strings.Contains(s, "s3cret") {
		t.Errorf("the reproducer holds a secret:\n%s", s)
	}

	big := reproRequest(red, "PUT", "/api/y", http.Header{"Content-Type": {"text/plain"}}, []byte(strings.Repeat("a", ReproBodyBytes+10)))
	if len(big.Body) != ReproBodyBytes || big.Incomplete != "body cut at 4096 of 4106 bytes" {
		t.Errorf("big body: %d bytes kept, incomplete %q", len(big.Body), big.Incomplete)
	}
	huge := reproRequest(red, "GET", "/api/y?q="+strings.Repeat("b", ReproTargetBytes), http.Header{"X-Big": {strings.Repeat("c", ReproHeaderBytes)}, "Accept": {"*/*"}}, nil)
	if len(huge.Target) != ReproTargetBytes || huge.Header["X-Big"] != nil || huge.Header["Accept"] == nil ||
		huge.Incomplete != "headers over 4096 bytes left out; target cut at 4096 of 4105 bytes" || !slices.Contains(huge.RemovedHeaders, "X-Big") {
		t.Errorf("huge request: target %d bytes, headers %v, removed %v, incomplete %q", len(huge.Target), huge.Header, huge.RemovedHeaders, huge.Incomplete)
	}
	// Without a key every marker is "[redacted]": equal markers say nothing of
	// the values, so each is its own placeholder.
	unkeyed := reproRequest(nil, "POST", "/api/x", http.Header{"Content-Type": {"application/json"}}, body)
	if want := `{"name":"n","password":"${BODY_SECRET_1}","nested":{"apiToken":"${BODY_SECRET_2}"},"secret":"${BODY_SECRET_3}"}`; unkeyed.Body != want ||
		len(unkeyed.SecretBody) != 3 {
		t.Errorf("unkeyed markers: body %s, placeholders %v", unkeyed.Body, unkeyed.SecretBody)
	}
	opaque := reproRequest(red, "PUT", "/api/y", http.Header{"Content-Type": {"text/plain"}}, []byte("my password is hunter2"))
	if opaque.Body != "" || !strings.Contains(opaque.Incomplete, "may hold secrets") {
		t.Errorf("a text body with a secret word: body %q, incomplete %q", opaque.Body, opaque.Incomplete)
	}
}

// The live proxy keeps a differing request's reproducer request: the client's
// target and headers, its secrets named, not kept.
func TestProxyKeepsTheReproducerRequest(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"a":1}`) })
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"a":2}`) })
	obs := newObserver()
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true), Observer: obs})
	req, _ := http.NewRequest("GET", h.server.URL+"/api/x?page=2&token=s3cret-q", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	req.Header.Set("Accept", "application/json")
	h.do(t, req)
	o := obs.next(t)
	if len(o.Differences) == 0 || o.Request == nil {
		t.Fatalf("observation has differences %v and request %v", o.Differences, o.Request)
	}
	want := &report.Request{Method: "GET", Target: "/api/x?page=2&token=", SecretParams: []string{"token"},
		SecretHeaders: []string{"Authorization"}, Header: map[string][]string{"Accept": {"application/json"}}}
	if d := cmp.Diff(want, o.Request, cmpopts.IgnoreFields(report.Request{}, "Header", "RemovedHeaders")); d != "" {
		t.Errorf("request (-want +got):\n%s", d)
	}
	if got := o.Request.Header["Accept"]; len(got) != 1 || got[0] != "application/json" {
		t.Errorf("Accept header %v", got)
	}
	if _, ok := o.Request.Header["Authorization"]; ok {
		t.Error("the secret header is kept")
	}
}
