package shadow

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"syscall"

	"github.com/rs/zerolog"
)

// A backend that does not speak HTTP makes Go's transport quote what it sent
// instead — in its errors ("malformed HTTP response \"…\"", "malformed MIME
// header line: …") and in its log ("Unsolicited response received on idle HTTP
// channel starting with \"…\""). Those bytes are the backend's memory, secrets
// included, and nothing in the request says which part is secret. So a failure
// leaves the proxy only as its kind, with the text of an unknown one stripped of
// every quoted part; and the log lines of net/http go to the project's logger,
// at debug level, stripped the same way.

// The kinds of backend failure reports and logs carry.
const (
	failTimeout   = "timeout"
	failRefused   = "connection refused"
	failReset     = "connection reset"
	failClosed    = "connection closed before the response"
	failMalformed = "malformed response"
	failShortBody = "body shorter than Content-Length"
	failTLS       = "TLS error"
	failDNS       = "DNS lookup failed"
	failOther     = "transport error"
)

// errorText is the one reading of a transport error for reports and logs: the kind
// of failure, and for one of no known kind, its text without the request URL
// (WithoutURL) and with every quoted part withheld (scrubText).
func errorText(err error) string {
	if err == nil {
		return ""
	}
	if k := failureKind(err); k != failOther {
		return k
	}
	return failOther + ": " + scrubText(WithoutURL(err).Error())
}

// failureKind classifies a transport error.
func failureKind(err error) string {
	var (
		dnsErr *net.DNSError
		proto  textproto.ProtocolError
		recErr tls.RecordHeaderError
		certV  *tls.CertificateVerificationError
		alert  tls.AlertError
	)
	switch {
	case isTimeout(err):
		return failTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return failRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return failReset
	case errors.As(err, &dnsErr):
		return failDNS
	case errors.As(err, &recErr), errors.As(err, &certV), errors.As(err, &alert):
		return failTLS
	case errors.As(err, &proto):
		return failMalformed
	case errors.Is(err, io.ErrUnexpectedEOF):
		return failShortBody
	case errors.Is(err, io.EOF):
		return failClosed
	}
	// net/http's own failures are plain strings; these are the ones that quote
	// or follow what the backend sent.
	msg := WithoutURL(err).Error()
	for _, s := range malformedMarks {
		if strings.Contains(msg, s) {
			return failMalformed
		}
	}
	if strings.Contains(msg, "server closed idle connection") || strings.HasSuffix(msg, ": EOF") {
		return failClosed
	}
	if strings.Contains(msg, "tls: ") {
		return failTLS
	}
	return failOther
}

// malformedMarks are the texts of net/http's errors about a response that is not
// HTTP.
var malformedMarks = []string{
	"malformed HTTP", "malformed MIME header", "malformed chunked encoding",
	"bad Content-Length", "invalid Content-Length", "invalid header", "invalid Trailer",
	"unsupported transfer encoding", "too many transfer encodings",
	"server response headers exceeded", "unexpected EOF reading trailer",
	"http: unexpected", "HTTP/1.x transport connection broken",
}

// scrubText withholds from a line of text every quoted part ("…" as Go's %q
// writes it, and `…`), and everything after a net/http mark known to be followed
// by raw bytes, and bounds its length.
func scrubText(s string) string {
	for _, m := range rawFollows {
		if i := strings.Index(s, m); i >= 0 {
			s = s[:i+len(m)] + " [withheld]"
		}
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '"' && c != '`' {
			b.WriteByte(c)
			continue
		}
		end := quotedEnd(s, i)
		b.WriteString("[" + strconv.Itoa(end-i-1) + " bytes withheld]")
		i = end
	}
	out := b.String()
	const maxLen = 300
	if len(out) > maxLen {
		out = out[:maxLen] + "…"
	}
	return out
}

// rawFollows are net/http and textproto texts followed by unquoted bytes the
// peer sent.
var rawFollows = []string{"malformed MIME header line:", "malformed MIME header initial line:"}

// quotedEnd is the index of the quote that closes the one at s[i], or len(s)
// when it is not closed.
func quotedEnd(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch {
		case s[j] == '\\' && q == '"':
			j++
		case s[j] == q:
			return j
		}
	}
	return len(s)
}

// NetLog returns a standard logger whose lines go to logger at debug level,
// scrubbed (scrubText): for http.Server.ErrorLog, and for the standard log
// package itself (log.SetOutput(NetLog(l).Writer())), where Go's HTTP transport
// writes what a broken backend sent on an idle connection.
func NetLog(logger zerolog.Logger) *log.Logger {
	return log.New(logWriter{logger}, "", 0)
}

// logWriter turns log lines into scrubbed debug entries.
type logWriter struct{ l zerolog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	w.l.Debug().Str("error", scrubText(strings.TrimSpace(string(p)))).Msg("net/http")
	return len(p), nil
}

// isTimeout reports whether err is a deadline or a network timeout.
func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
