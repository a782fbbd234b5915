package traffic

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/shadow/internal/hop"
)

// Defaults of the Recorder.
const (
	DefaultRecordBodyCap = 256 << 10
	DefaultRecordQueue   = 1024
	// DefaultRecordQueueBytes bounds the bytes of the lines waiting for the
	// writer, whatever their number: large heads cannot pile up in memory.
	DefaultRecordQueueBytes = 16 << 20
)

// Recorder writes requests as NDJSON traffic (the format Open reads), one line
// per request, with secrets redacted: secret headers (diff.RedactHeader), secret query
// parameters (diff.RedactQuery), secret JSON members (diff.RedactJSON) and form
// fields; a body that may hold secrets it cannot redact in place is left out and
// marked "redacted", one over BodyCap is cut and marked "truncated" (a replay skips
// both). Record never blocks: lines go through a bounded queue to a writer goroutine,
// and what finds the queue full is dropped and counted. It is safe for concurrent use;
// Close flushes and stops it.
type Recorder struct {
	// BodyCap is the largest body recorded (0 = DefaultRecordBodyCap).
	BodyCap int
	// Queue is how many lines may wait for the writer (0 = DefaultRecordQueue).
	Queue int
	// QueueBytes is how many bytes of lines may wait (0 = DefaultRecordQueueBytes).
	QueueBytes int64

	queued  atomic.Int64 // bytes of the lines waiting
	w       io.Writer
	once    sync.Once
	lines   chan []byte
	done    chan struct{}
	mu      sync.Mutex // guards closed and the send on lines
	closed  bool
	err     error
	written atomic.Int64
	dropped atomic.Int64
}

// NewRecorder returns a Recorder writing to w. Set its fields before the first Record.
func NewRecorder(w io.Writer) *Recorder { return &Recorder{w: w} }

func (rec *Recorder) start() {
	rec.once.Do(func() {
		q := rec.Queue
		if q <= 0 {
			q = DefaultRecordQueue
		}
		rec.lines = make(chan []byte, q)
		rec.done = make(chan struct{})
		go rec.run()
	})
}

func (rec *Recorder) run() {
	defer close(rec.done)
	bw := bufio.NewWriterSize(rec.w, 64<<10)
	for line := range rec.lines {
		rec.queued.Add(-int64(len(line)))
		if rec.err != nil {
			rec.dropped.Add(1)
			continue
		}
		if _, err := bw.Write(line); err != nil {
			rec.err = err
			rec.dropped.Add(1)
			continue
		}
		rec.written.Add(1)
		if len(rec.lines) == 0 {
			if err := bw.Flush(); err != nil {
				rec.err = err
			}
		}
	}
	if rec.err == nil {
		rec.err = bw.Flush()
	}
}

// Record queues one request (as received, with its whole buffered body). It matches
// Proxy.Record: it neither blocks, nor keeps r or body, nor changes them.
func (rec *Recorder) Record(r *http.Request, body []byte) {
	rec.start()
	line := rec.encode(r, body)
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.closed {
		rec.dropped.Add(1)
		return
	}
	limit := rec.QueueBytes
	if limit <= 0 {
		limit = DefaultRecordQueueBytes
	}
	if rec.queued.Add(int64(len(line))) > limit {
		rec.queued.Add(-int64(len(line)))
		rec.dropped.Add(1)
		return
	}
	select {
	case rec.lines <- line:
	default:
		rec.queued.Add(-int64(len(line)))
		rec.dropped.Add(1)
	}
}

// Written is the number of lines written, Dropped the number of requests lost to a
// full queue, a write error or a closed Recorder.
func (rec *Recorder) Written() int64 { return rec.written.Load() }
func (rec *Recorder) Dropped() int64 { return rec.dropped.Load() }

// Close writes what is queued and stops the writer; it returns the first write error.
// It does not close the underlying writer.
func (rec *Recorder) Close() error {
	rec.start()
	rec.mu.Lock()
	if !rec.closed {
		rec.closed = true
		close(rec.lines)
	}
	rec.mu.Unlock()
	<-rec.done
	return rec.err
}

func (rec *Recorder) encode(r *http.Request, body []byte) []byte {
	target := r.RequestURI
	if target == "" && r.URL != nil {
		target = r.URL.RequestURI()
	}
	if u, err := originForm(target); err == nil {
		target = u
	}
	if p, q, ok := strings.Cut(target, "?"); ok {
		target = p + "?" + diff.RedactQuery(q)
	}
	h := diff.RedactHeader(r.Header)
	hop.Remove(h)
	delete(h, "Host")
	delete(h, "Content-Length")
	for name := range h {
		if strings.HasPrefix(textproto.CanonicalMIMEHeaderKey(name), parityHeaderPrefix) {
			delete(h, name)
		}
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	rr := ndjsonRecord{Method: method, URL: target}
	var b []byte
	var missing string
	if len(body) > 0 {
		var decoded bool
		b, missing, decoded = redactEncodedBody(r.Header, body)
		if decoded {
			// The body is recorded decoded, its secrets redacted.
			delete(h, "Content-Encoding")
		}
	}
	if len(h) > 0 {
		rr.Headers = make(map[string]json.RawMessage, len(h))
		for name, vs := range h {
			raw, _ := json.Marshal(vs)
			rr.Headers[name] = raw
		}
	}
	if len(body) > 0 {
		limit := rec.BodyCap
		if limit <= 0 {
			limit = DefaultRecordBodyCap
		}
		if len(b) > limit {
			b, missing = b[:limit], "truncated"
		}
		rr.BodyMissing = missing
		if missing != "redacted" {
			if utf8.Valid(b) {
				s := string(b)
				rr.Body = &s
			} else {
				s := base64.StdEncoding.EncodeToString(b)
				rr.BodyBase64 = &s
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rr); err != nil {
		// Unreachable with these types; keep the request countable anyway.
		buf.Reset()
		fmt.Fprintf(&buf, "{\"method\":%q,\"url\":\"/\",\"body_missing\":\"redacted\"}\n", method)
	}
	return buf.Bytes()
}

// parityHeaderPrefix marks the proxy's own headers, never recorded.
const parityHeaderPrefix = "X-Parity-"

// redactBody redacts a request body for a recording. JSON and form bodies are
// redacted member by member; any other body that mentions a secret word is left out
// ("redacted"), since its secrets cannot be found reliably.
func redactBody(contentType string, body []byte) ([]byte, string) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case (mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "") && json.Valid(body):
		return diff.RedactJSON(body), ""
	case mt == "application/x-www-form-urlencoded":
		return []byte(diff.RedactQuery(string(body))), ""
	}
	if diff.MentionsSecret(body) {
		return nil, "redacted"
	}
	// Secrets may also hide encoded; base64 of a secret word cannot be searched for,
	// but binary bodies are rarely credentials.
	return body, ""
}

// MaxDecodedBody bounds the decoding of a content-encoded request body that is
// searched for secrets or recorded.
const MaxDecodedBody = 4 << 20

// redactEncodedBody is redactBody for a body that may carry a Content-Encoding:
// such a body is decoded (up to MaxDecodedBody) and redacted; when nothing
// in it was secret the encoded bytes are kept as sent, else the redacted decoded
// body is returned with decoded set, to be recorded without its Content-Encoding.
// One that cannot be decoded cannot be searched, and is left out as "redacted".
func redactEncodedBody(h http.Header, body []byte) (b []byte, missing string, decoded bool) {
	ct := h.Get("Content-Type")
	if h.Get("Content-Encoding") == "" {
		b, missing = redactBody(ct, body)
		return b, missing, false
	}
	plain, err := diff.DecodeContent(h, body, MaxDecodedBody)
	if err != nil {
		return nil, "redacted", false
	}
	if len(plain) == len(body) && bytes.Equal(plain, body) {
		b, missing = redactBody(ct, body) // identity only
		return b, missing, false
	}
	b, missing = redactBody(ct, plain)
	if missing == "" && bytes.Equal(b, plain) {
		return body, "", false
	}
	return b, missing, true
}
