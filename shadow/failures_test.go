package shadow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"net/url"
	"strings"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
)

// TestFailureTextWithholdsBackendBytes: what a report or a log says of a backend
// failure is its kind; the text of one of no known kind keeps its words but not
// what it quotes, nor the request URL.
func TestFailureTextWithholdsBackendBytes(t *testing.T) {
	const secret = "cnry-failtext-81b3"
	wrap := func(err error) error {
		return &url.Error{Op: "Get", URL: "http://candidate/api/x?token=" + secret, Err: err}
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"no status line", wrap(fmt.Errorf("net/http: HTTP/1.x transport connection broken: malformed HTTP response %q", "password="+secret)), failMalformed},
		{"broken header line", wrap(textproto.ProtocolError("malformed MIME header line: secret " + secret)), failMalformed},
		{"bad status code", wrap(fmt.Errorf("malformed HTTP status code %q", secret)), failMalformed},
		{"body cut short", wrap(io.ErrUnexpectedEOF), failShortBody},
		{"closed before answering", wrap(io.EOF), failClosed},
		{"refused", wrap(syscall.ECONNREFUSED), failRefused},
		{"reset", wrap(syscall.ECONNRESET), failReset},
		{"deadline", wrap(context.DeadlineExceeded), failTimeout},
		{"unknown, quoting", wrap(fmt.Errorf("strange %q and `%s`", secret, secret)), failOther + ": strange [18 bytes withheld] and [18 bytes withheld]"},
		{"unknown, unterminated quote", wrap(errors.New(`odd "` + secret)), failOther + ": odd [18 bytes withheld]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := errorText(tc.err)
			if got != tc.want {
				t.Errorf("errorText = %q, want %q", got, tc.want)
			}
			if strings.Contains(got, secret) {
				t.Errorf("errorText %q holds the backend's bytes", got)
			}
		})
	}
}

// TestNetLogScrubs: a net/http log line quoting a peer's bytes reaches the logger
// at debug level without them.
func TestNetLogScrubs(t *testing.T) {
	const secret = "cnry-netlog-0c4e"
	var logs syncBuffer
	l := NetLog(zerolog.New(&logs).Level(zerolog.DebugLevel))
	l.Printf("Unsolicited response received on idle HTTP channel starting with %q; err=%v", `{"token":"`+secret+`"}`, nil)
	l.Printf("http2: server: error reading preface from client 127.0.0.1:5: bogus greeting %q", "GET / HTTP/1.1\r\nAuthorization: Bearer "+secret)
	got := logs.String()
	if strings.Contains(got, secret) {
		t.Errorf("log holds the peer's bytes:\n%s", got)
	}
	if n := strings.Count(got, `"level":"debug"`); n != 2 || !strings.Contains(got, "Unsolicited response received on idle HTTP channel starting with [") {
		t.Errorf("want two scrubbed debug lines, got:\n%s", got)
	}
}
