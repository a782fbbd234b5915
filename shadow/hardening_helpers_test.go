package shadow

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parity-dev/parity/report"
)

// Helpers of the hardening suite (hardening_*_test.go): the fault, hostile-input,
// secret and reload cases of the proxy. The general proxy helpers are in
// proxy_helpers_test.go.

// teeObserver hands every observation to each of its observers in turn.
type teeObserver []Observer

func (t teeObserver) Observe(o report.Observation) {
	for _, ob := range t {
		ob.Observe(o)
	}
}

// leakForms are the spellings of secret that must never appear in an output:
// plain, URL-encoded (query and path escaping), and base64 in the standard and
// URL alphabets, padded or not, at each of the three alignments it can take
// inside a longer encoded text. For an unaligned secret only the characters that
// depend on its bytes alone are kept, so that the form is found whatever
// surrounds it.
func leakForms(secret string) []string {
	forms := []string{secret, url.QueryEscape(secret), url.PathEscape(secret)}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for shift := range 3 {
			s := enc.EncodeToString([]byte(strings.Repeat("\x00", shift) + secret))
			from := 0
			if shift > 0 {
				from = 4 // the first quantum mixes in the bytes before the secret
			}
			to := len(s)
			if (shift+len(secret))%3 != 0 {
				to -= 4 // the last quantum mixes in the bytes after it
			}
			if to-from >= 8 {
				forms = append(forms, s[from:to])
			}
		}
	}
	return forms
}

// assertNoLeak fails for every secret found, in any of its leakForms, in out.
func assertNoLeak(t *testing.T, where string, out []byte, secrets []string) {
	t.Helper()
	if len(out) == 0 {
		t.Errorf("%s: empty output, nothing was checked", where)
		return
	}
	for _, s := range secrets {
		for _, f := range leakForms(s) {
			if i := bytes.Index(out, []byte(f)); i >= 0 {
				from, to := max(0, i-80), min(len(out), i+len(f)+80)
				t.Errorf("%s holds secret %q as %q: …%s…", where, s, f, out[from:to])
				break
			}
		}
	}
}

// rawExchange writes request on a new connection to addr, then a last request
// for endPath that asks the server to close the connection, and returns every
// response read before the close (the last one's included, when it came).
// Half-closing the connection instead would tell Go's server that the client
// left.
func rawExchange(t *testing.T, addr, request string) []rawResponse {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(waitLimit))
	if _, err := io.WriteString(conn, request+"GET "+endPath+" HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatalf("write request: %v", err)
	}
	var out []rawResponse
	br := bufio.NewReader(conn)
	for {
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			return out
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		out = append(out, rawResponse{status: res.StatusCode, body: string(b), err: err})
		if res.Close {
			return out
		}
	}
}

// endPath is the target of rawExchange's last request.
const endPath = "/end-of-exchange"

type rawResponse struct {
	status int
	body   string
	err    error
}

// signal is a channel closed once, by whichever of several goroutines gets there
// first.
type signal struct {
	once sync.Once
	ch   chan struct{}
}

func newSignal() *signal { return &signal{ch: make(chan struct{})} }

func (s *signal) fire() { s.once.Do(func() { close(s.ch) }) }

func (s *signal) fired() bool {
	select {
	case <-s.ch:
		return true
	default:
		return false
	}
}

// wait fails the test when the signal does not fire within the wait limit.
func (s *signal) wait(t *testing.T, what string) {
	t.Helper()
	select {
	case <-s.ch:
	case <-time.After(waitLimit):
		t.Fatalf("%s did not happen", what)
	}
}
