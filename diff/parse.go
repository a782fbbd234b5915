package diff

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// ParseResponse reads one saved response from data: an HTTP/1.x response exactly as
// `curl -si` saves it (status line, headers, blank line, body; chunked and
// content-encoded as on the wire; interim 1xx blocks such as "HTTP/1.1 100 Continue"
// skipped; "HTTP/2 200" status lines accepted too), or a bare JSON document, taken as a
// 200 application/json body. Transfer-Encoding is removed; Content-Encoding is kept for
// Compare to decode. Errors say what is wrong in one line. It only reads data.
func ParseResponse(data []byte) (*Response, error) {
	start := skipWS(data, 0)
	if start == len(data) {
		return nil, errors.New("empty: neither an HTTP response nor a JSON document")
	}
	if bytes.HasPrefix(data[start:], []byte("HTTP/")) {
		return parseHTTP(data[start:])
	}
	if err := validJSON(data); err != nil {
		switch data[start] {
		case '{', '[', '"', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 't', 'f', 'n':
			return nil, fmt.Errorf("not valid JSON: %w", err)
		}
		return nil, fmt.Errorf(`neither an HTTP response (no "HTTP/1.1 200 OK" status line) nor a JSON document (starts with %q)`, firstLine(data[start:]))
	}
	return &Response{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"application/json"}},
		Body:   data,
		Size:   int64(len(data)),
	}, nil
}

func firstLine(b []byte) string {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}

func parseHTTP(data []byte) (*Response, error) {
	br := bufio.NewReader(bytes.NewReader(data))
	for n := 1; ; n++ {
		if _, err := br.Peek(1); err != nil {
			return nil, errors.New("no final response after the interim 1xx response")
		}
		br = statusLine11(br)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("truncated response: the headers of response %d do not end with a blank line", n)
			}
			return nil, fmt.Errorf("read status line and headers: %w", err)
		}
		if resp.StatusCode >= 100 && resp.StatusCode < 200 && resp.StatusCode != http.StatusSwitchingProtocols {
			resp.Body.Close()
			continue
		}
		var body []byte
		if len(resp.TransferEncoding) > 0 && !startsChunked(br) {
			// curl -i saves a chunked answer decoded, under its
			// Transfer-Encoding header: the body is what follows.
			body, err = io.ReadAll(br)
			resp.Header.Del("Transfer-Encoding")
		} else {
			body, err = io.ReadAll(resp.Body)
		}
		resp.Body.Close()
		if err != nil {
			switch {
			case resp.ContentLength >= 0 && errors.Is(err, io.ErrUnexpectedEOF):
				return nil, fmt.Errorf("truncated body: Content-Length is %d but only %d bytes follow the headers", resp.ContentLength, len(body))
			case len(resp.TransferEncoding) > 0:
				return nil, fmt.Errorf("truncated or malformed chunked body after %d bytes: %w", len(body), err)
			}
			return nil, fmt.Errorf("read body: %w", err)
		}
		rest, _ := io.ReadAll(br)
		if extra := bytes.TrimSpace(rest); len(extra) > 0 {
			return nil, fmt.Errorf("%d unexpected bytes after the body (starting %q); is Content-Length %s right?",
				len(extra), firstLine(extra), strconv.FormatInt(resp.ContentLength, 10))
		}
		return &Response{Status: resp.StatusCode, Header: resp.Header, Body: body, Size: int64(len(body))}, nil
	}
}

// startsChunked reports whether br starts with a chunk-size line: hex digits,
// an optional extension, CRLF.
func startsChunked(br *bufio.Reader) bool {
	head, _ := br.Peek(64)
	line, _, ok := bytes.Cut(head, []byte("\r\n"))
	if !ok {
		return false
	}
	size, _, _ := bytes.Cut(line, []byte(";"))
	size = bytes.TrimRight(size, " \t")
	if len(size) == 0 {
		return false
	}
	for _, c := range size {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// statusLine11 returns a reader for the next response in br whose status line says
// HTTP/1.1 when it said HTTP/2 or HTTP/3 (as curl shows those), which net/http would
// refuse; the headers and body read the same.
func statusLine11(br *bufio.Reader) *bufio.Reader {
	head, _ := br.Peek(9)
	for _, v := range []string{"HTTP/2 ", "HTTP/2.0 ", "HTTP/3 ", "HTTP/3.0 "} {
		if bytes.HasPrefix(head, []byte(v)) {
			br.Discard(len(v))
			return bufio.NewReader(io.MultiReader(bytes.NewReader([]byte("HTTP/1.1 ")), br))
		}
	}
	return br
}
