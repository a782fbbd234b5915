package traffic

import (
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
	"time"
	"unicode/utf8"

	"github.com/rs/zerolog"

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
// per request, with secrets redacted by Redactor: secret headers, secret query and
// path parameters, everything under secret JSON members, secret form fields; a body
// that should parse for redaction and does not (JSON, a content coding) is not
// recorded (a drop, unparsable_body); another body that may hold secrets it cannot
// redact in place is left out and marked "redacted", one over BodyCap is cut and
// marked "truncated" (a replay skips both). Record never blocks: lines go through a bounded queue to a writer goroutine,
// and what finds the queue full is dropped and counted. It is safe for concurrent use;
// Close flushes and stops it.
//
// A failed write (a full disk) loses the lines it carried, counted as write_error,
// and nothing else: the next lines are written again as soon as the writer takes
// them. A write that failed halfway is cut back off the file when the writer can
// be truncated (an *os.File), else the next line starts on a line of its own, so
// a torn line is one bad line a replay skips.
type Recorder struct {
	// BodyCap is the largest body recorded (0 = DefaultRecordBodyCap).
	BodyCap int
	// Queue is how many lines may wait for the writer (0 = DefaultRecordQueue).
	Queue int
	// QueueBytes is how many bytes of lines may wait (0 = DefaultRecordQueueBytes).
	QueueBytes int64
	queued     atomic.Int64 // bytes of the lines waiting
	// Logger receives a line about drops at most once a minute (so the first of a
	// full disk at once), and one when writes succeed again after failing.
	Logger zerolog.Logger
	// OnDrop, when set, is called for every request dropped, with its reason; the
	// proxy counts them in its metrics.
	OnDrop func(DropReason)
	// Redactor writes the markers of redacted values: the deployment's key, so
	// that a replay's reports and the recording mark a secret alike. nil: unkeyed
	// markers.
	Redactor *diff.Redactor

	w       io.Writer
	once    sync.Once
	lines   chan []byte
	done    chan struct{}
	mu      sync.Mutex // guards closed and the send on lines
	closed  bool
	err     error
	written atomic.Int64
	dropped [numDropReasons]atomic.Int64

	lastNoted atomic.Int64 // unix nanoseconds of the last drop logged

	// Owned by the writer goroutine.
	size    int64 // bytes known to be whole lines in the file, when it can be truncated
	torn    bool  // the file may end in a partial line
	failing bool  // the last write failed
}

// DropReason says why a request was not recorded.
type DropReason uint8

// The reasons a request is dropped.
const (
	DropQueueFull  DropReason = iota // the writer could not keep up
	DropWriteError                   // the write failed (a full disk)
	DropClosed                       // recorded after Close
	// DropUnparsableBody: the body should have parsed for redaction (JSON, or
	// content-encoded) and did not, so its secrets cannot be found.
	DropUnparsableBody
	numDropReasons
)

var dropReasonNames = [numDropReasons]string{"queue_full", "write_error", "closed", "unparsable_body"}

func (r DropReason) String() string { return dropReasonNames[r] }

// DropReasons lists every reason, for counters that show them at zero.
func DropReasons() []DropReason {
	return []DropReason{DropQueueFull, DropWriteError, DropClosed, DropUnparsableBody}
}

// dropNoteEvery rate-limits the log line about drops.
const dropNoteEvery = time.Minute

// NewRecorder returns a Recorder writing to w. Set its fields before the first Record.
func NewRecorder(w io.Writer) *Recorder { return &Recorder{w: w, Logger: zerolog.Nop()} }

func (rec *Recorder) start() {
	rec.once.Do(func() {
		q := rec.Queue
		if q <= 0 {
			q = DefaultRecordQueue
		}
		rec.lines = make(chan []byte, q)
		rec.done = make(chan struct{})
		rec.size = -1
		if t, ok := rec.w.(truncater); ok {
			if end, err := t.Seek(0, io.SeekEnd); err == nil {
				rec.size = end
			}
		}
		go rec.run()
	})
}

// truncater is a writer whose failed tail can be cut off (an *os.File).
type truncater interface {
	Truncate(size int64) error
	Seek(offset int64, whence int) (int64, error)
}

func (rec *Recorder) run() {
	defer close(rec.done)
	var batch bytes.Buffer
	for line := range rec.lines {
		// Write what is queued in one go, up to 64 KiB.
		rec.queued.Add(-int64(len(line)))
		batch.Reset()
		n := 1
		batch.Write(line)
	more:
		for batch.Len() < 64<<10 {
			select {
			case l, ok := <-rec.lines:
				if !ok {
					break more
				}
				rec.queued.Add(-int64(len(l)))
				batch.Write(l)
				n++
			default:
				break more
			}
		}
		rec.write(batch.Bytes(), n)
	}
}

// write writes n whole lines, or drops them all when the writer fails.
func (rec *Recorder) write(b []byte, n int) {
	if rec.torn {
		b = append([]byte{'\n'}, b...)
	}
	wrote, err := rec.w.Write(b)
	if err == nil && wrote < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		if rec.err == nil {
			rec.err = err
		}
		if wrote > 0 || rec.torn {
			rec.torn = !rec.cutBack()
		}
		rec.failing = true
		rec.drop(DropWriteError, int64(n), err)
		return
	}
	rec.torn = false
	if rec.size >= 0 {
		rec.size += int64(wrote)
	}
	rec.written.Add(int64(n))
	if rec.failing {
		rec.failing = false
		rec.Logger.Info().Int64("dropped", rec.Dropped()).Msg("recording resumed")
	}
}

// cutBack truncates the file to its last whole line; it reports whether it could.
func (rec *Recorder) cutBack() bool {
	t, ok := rec.w.(truncater)
	if !ok || rec.size < 0 {
		return false
	}
	if t.Truncate(rec.size) != nil {
		return false
	}
	_, err := t.Seek(rec.size, io.SeekStart)
	return err == nil
}

// drop counts n requests lost for reason and says so in the log (note).
func (rec *Recorder) drop(reason DropReason, n int64, err error) {
	rec.dropped[reason].Add(n)
	if rec.OnDrop != nil {
		for range n {
			rec.OnDrop(reason)
		}
	}
	rec.note(reason, err)
}

// note logs a drop unless one was logged less than dropNoteEvery ago: the first
// drop of a full disk or of a burst is seen at once, without a line per request.
func (rec *Recorder) note(reason DropReason, err error) {
	now := time.Now().UnixNano()
	last := rec.lastNoted.Load()
	if last != 0 && now-last < int64(dropNoteEvery) || !rec.lastNoted.CompareAndSwap(last, now) {
		return
	}
	e := rec.Logger.Error().Str("reason", reason.String())
	if err != nil {
		e = e.Str("error", err.Error())
	}
	e.Msg("recording dropped requests (counted by reason in parity_record_dropped_total; this line at most once a minute)")
}

// Record queues one request (as received, with its whole buffered body). It matches
// Proxy.Record: it neither blocks, nor keeps r or body, nor changes them.
func (rec *Recorder) Record(r *http.Request, body []byte) {
	rec.start()
	line, why := rec.encode(r, body)
	if line == nil {
		rec.countDrop(why)
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if rec.closed {
		rec.countDrop(DropClosed)
		return
	}
	limit := rec.QueueBytes
	if limit <= 0 {
		limit = DefaultRecordQueueBytes
	}
	if rec.queued.Add(int64(len(line))) > limit {
		rec.queued.Add(-int64(len(line)))
		rec.countDrop(DropQueueFull)
		return
	}
	select {
	case rec.lines <- line:
	default:
		rec.queued.Add(-int64(len(line)))
		rec.countDrop(DropQueueFull)
	}
}

// countDrop counts one request dropped before it reached the writer.
func (rec *Recorder) countDrop(reason DropReason) { rec.drop(reason, 1, nil) }

// Written is the number of lines written, Dropped the number of requests lost to a
// full queue, a write error or a closed Recorder; DroppedFor counts one reason.
func (rec *Recorder) Written() int64 { return rec.written.Load() }
func (rec *Recorder) Dropped() int64 {
	var n int64
	for i := range rec.dropped {
		n += rec.dropped[i].Load()
	}
	return n
}
func (rec *Recorder) DroppedFor(reason DropReason) int64 { return rec.dropped[reason].Load() }

// Close writes what is queued and stops the writer; it returns the first write error
// (lines written after it are not lost). It does not close the underlying writer.
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

// encode returns the line of r, or the reason r is not recorded.
func (rec *Recorder) encode(r *http.Request, body []byte) ([]byte, DropReason) {
	target := r.RequestURI
	if target == "" && r.URL != nil {
		target = r.URL.RequestURI()
	}
	if u, err := originForm(target); err == nil {
		target = u
	}
	target = rec.Redactor.Target(target)
	h := rec.Redactor.Header(r.Header)
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
		b, missing, decoded = rec.redactEncodedBody(r.Header, body)
		if missing == unparsable {
			return nil, DropUnparsableBody
		}
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
	return buf.Bytes(), 0
}

// parityHeaderPrefix marks the proxy's own headers, never recorded.
const parityHeaderPrefix = "X-Parity-"

// unparsable marks a body that should have parsed for redaction and did not.
const unparsable = "unparsable"

// redactBody redacts a request body for a recording. JSON and form bodies are
// redacted member by member; a body that says it is JSON (or looks like it) and does
// not parse cannot be, and is not recorded (unparsable); any other body that
// mentions a secret name, escapes decoded, is left out ("redacted"), since its
// secrets cannot be found reliably.
func (rec *Recorder) redactBody(contentType string, body []byte) ([]byte, string) {
	mt, _, _ := mime.ParseMediaType(contentType)
	isJSON := mt == "application/json" || strings.HasSuffix(mt, "+json")
	if mt == "" {
		trimmed := bytes.TrimLeft(body, " \t\r\n")
		isJSON = len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[')
	}
	switch {
	case isJSON && json.Valid(body):
		return rec.Redactor.JSON(body), ""
	case isJSON:
		return nil, unparsable
	case mt == "application/x-www-form-urlencoded":
		return []byte(rec.Redactor.Query(string(body))), ""
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
// One that cannot be decoded cannot be searched, and is not recorded (unparsable).
func (rec *Recorder) redactEncodedBody(h http.Header, body []byte) (b []byte, missing string, decoded bool) {
	ct := h.Get("Content-Type")
	if h.Get("Content-Encoding") == "" {
		b, missing = rec.redactBody(ct, body)
		return b, missing, false
	}
	plain, err := diff.DecodeContent(h, body, MaxDecodedBody)
	if err != nil {
		return nil, unparsable, false
	}
	if len(plain) == len(body) && bytes.Equal(plain, body) {
		b, missing = rec.redactBody(ct, body) // identity only
		return b, missing, false
	}
	b, missing = rec.redactBody(ct, plain)
	if missing == "" && bytes.Equal(b, plain) {
		return body, "", false
	}
	return b, missing, true
}
