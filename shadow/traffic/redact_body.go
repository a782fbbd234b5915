package traffic

import (
	"net/http"

	"github.com/parity-dev/parity/diff"
)

// RedactBody redacts a request body as the Recorder does (secret JSON members
// and form fields redacted; a body that may hold secrets it cannot redact in
// place left out, missing "redacted"). A content-encoded body is decoded first;
// decoded says the result is the decoded body, to be sent without its
// Content-Encoding. Markers are written with red (nil: unkeyed).
func RedactBody(red *diff.Redactor, h http.Header, body []byte) (b []byte, missing string, decoded bool) {
	return (&Recorder{Redactor: red}).redactEncodedBody(h, body)
}
