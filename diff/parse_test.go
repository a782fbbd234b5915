package diff

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want *Response
	}{
		{"curl -si", crlf("HTTP/1.1 200 OK\nContent-Type: application/json\nContent-Length: 7\n\n") + `{"a":1}`,
			&Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}, "Content-Length": {"7"}}, Body: []byte(`{"a":1}`), Size: 7}},
		{"LF line endings and a trailing newline", "HTTP/1.1 404 Not Found\ncontent-type: text/plain\ncontent-length: 2\n\nno\n",
			&Response{Status: 404, Header: http.Header{"Content-Type": {"text/plain"}, "Content-Length": {"2"}}, Body: []byte("no"), Size: 2}},
		{"chunked is decoded", crlf("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n2\nde\n0\n\n"),
			&Response{Status: 200, Header: http.Header{}, Body: []byte("abcde"), Size: 5}},
		{"chunked as curl -i saves it, already decoded", crlf("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n") + "data: {\"a\":1}\n\n",
			&Response{Status: 200, Header: http.Header{}, Body: []byte("data: {\"a\":1}\n\n"), Size: 15}},
		{"content-encoding is kept", crlf("HTTP/1.1 200 OK\nContent-Encoding: gzip\nContent-Length: 3\n\n") + "\x1f\x8b\x08",
			&Response{Status: 200, Header: http.Header{"Content-Encoding": {"gzip"}, "Content-Length": {"3"}}, Body: []byte("\x1f\x8b\x08"), Size: 3}},
		{"100 Continue is skipped", crlf("HTTP/1.1 100 Continue\n\nHTTP/1.1 201 Created\nContent-Length: 2\n\n") + "ok",
			&Response{Status: 201, Header: http.Header{"Content-Length": {"2"}}, Body: []byte("ok"), Size: 2}},
		{"no length: the rest of the file", crlf("HTTP/1.0 200 OK\nContent-Type: text/plain\n\n") + "all of it",
			&Response{Status: 200, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte("all of it"), Size: 9}},
		{"HTTP/2 status line as curl shows it", crlf("HTTP/2 204\ndate: x\n\n"),
			&Response{Status: 204, Header: http.Header{"Date": {"x"}}, Body: []byte{}, Size: 0}},
		{"bare JSON document", " {\"a\": [1, 2]}\n",
			&Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(" {\"a\": [1, 2]}\n"), Size: 15}},
		{"bare JSON scalar", `"x"`,
			&Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`"x"`), Size: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseResponse([]byte(tc.in))
			if err != nil {
				t.Fatalf("ParseResponse: %v", err)
			}
			if got.Body == nil {
				got.Body = []byte{}
			}
			if tc.want.Body == nil {
				tc.want.Body = []byte{}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseResponse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseResponseErrors(t *testing.T) {
	tests := []struct {
		name, in, err string
	}{
		{"empty", "  \n", "empty: neither an HTTP response nor a JSON document"},
		{"neither", "<html></html>", `neither an HTTP response (no "HTTP/1.1 200 OK" status line) nor a JSON document (starts with "<html></html>")`},
		{"bad JSON", `{"a":`, "not valid JSON: unexpected end of JSON input at offset 5"},
		{"Content-Length longer than the body", crlf("HTTP/1.1 200 OK\nContent-Length: 10\n\n") + "abc",
			"truncated body: Content-Length is 10 but only 3 bytes follow the headers"},
		{"headers cut short", "HTTP/1.1 200 OK\r\nContent-Type: text/pl", "truncated response: the headers of response 1 do not end with a blank line"},
		{"chunked cut short", crlf("HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nab"), "truncated or malformed chunked body after"},
		{"bad status line", crlf("HTTP/1.1 abc OK\n\n"), `read status line and headers: malformed HTTP status code "abc"`},
		{"bad version", crlf("HTTP/x 200 OK\n\n"), `read status line and headers: malformed HTTP version "HTTP/x"`},
		{"bytes after the body", crlf("HTTP/1.1 200 OK\nContent-Length: 2\n\n") + "okHTTP/1.1 200 OK", `15 unexpected bytes after the body (starting "HTTP/1.1 200 OK"); is Content-Length 2 right?`},
		{"only an interim response", crlf("HTTP/1.1 100 Continue\n\n"), "no final response after the interim 1xx response"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseResponse([]byte(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("ParseResponse error = %v, want it to contain %q", err, tc.err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}
