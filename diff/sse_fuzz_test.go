package diff

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
)

// FuzzSSE: the event-stream parser turns any input into a JSON array, never
// panics, reads CRLF, LF and CR line ends alike, dispatches no more events than
// the stream has data lines, and a stream compared with itself is equal.
func FuzzSSE(f *testing.F) {
	for _, s := range []string{
		"data: hello\n\n",
		"event: delta\ndata: {\"text\":\"hi\"}\nid: 1\nretry: 3000\n\n",
		"data: line one\ndata: line two\n\ndata: [DONE]\n\n",
		": keep-alive comment\n\ndata:no space\r\n\r\n",
		"\xef\xbb\xbfdata: after a BOM\r\rdata: cr only\r\r",
		"data: {\"access_token\":\"x\",\"delta\":\"a\"}\n\n",
		"id: \x00bad\ndata: x\nretry: 12a\n\n",
		"event: only a name\n\n",
		"data: not ended",
		"data\ndata:\ndata: \n\n",
		"data: {\"a\":1}\n\ndata: {\"a\":\n\n",
		"retry: 0000\ndata: 1e999\n\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		out := sseToJSON(stream)
		var events []map[string]json.RawMessage
		if err := json.Unmarshal(out, &events); err != nil {
			t.Fatalf("sseToJSON(%q) = %q: not a JSON array of objects: %v", stream, out, err)
		}
		if n := bytes.Count(stream, []byte("data")); len(events) > n {
			t.Fatalf("%d events from a stream with %d data lines: %q", len(events), n, stream)
		}
		if !bytes.ContainsRune(stream, '\r') {
			for _, end := range []string{"\r\n", "\r"} {
				if got := sseToJSON(bytes.ReplaceAll(stream, []byte("\n"), []byte(end))); !bytes.Equal(got, out) {
					t.Fatalf("line ends %q read differently:\n%s\n%s", end, out, got)
				}
			}
		}
		r := &Response{Status: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: stream, Size: int64(len(stream))}
		if res := Compare(r, r, nil); !res.Equal() {
			t.Fatalf("stream %q against itself: %v", stream, res.Differences)
		}
	})
}
