package traffic

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/parity-dev/parity/diff"
)

func assertNoCanary(t *testing.T, out []byte) {
	t.Helper()
	for _, c := range canaries {
		for _, enc := range []string{c, base64.StdEncoding.EncodeToString([]byte(c)), url.QueryEscape(c), base64.StdEncoding.EncodeToString([]byte("x:" + c))} {
			if bytes.Contains(out, []byte(enc)) {
				t.Errorf("recording holds %q (%s)", enc, c)
			}
		}
	}
}

func TestRecorderRedactsAndRoundTrips(t *testing.T) {
	var out bytes.Buffer
	rec := NewRecorder(&out)
	rec.Redactor = testRedactor
	rec.BodyCap = 128
	mk := func(method, target string, h http.Header, body string) {
		r := &http.Request{Method: method, RequestURI: target, Header: h}
		rec.Record(r, []byte(body))
	}
	mk("GET", "/api/sessions?limit=10&token=c4n4ry-query", http.Header{
		"Authorization":       {"Bearer c4n4ry-auth"},
		"Cookie":              {"sid=c4n4ry-cookie", "theme=dark; csrf=c4n4ry-cookie2"},
		"Proxy-Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("x:c4n4ry-proxy"))},
		"X-Api-Key":           {"c4n4ry-apikey"},
		"Accept":              {"application/json"},
		"Connection":          {"keep-alive"},
		"X-Parity-Shadow":     {"1"},
		"X-Request-Id":        {"rid-1"},
	}, "")
	mk("POST", "/api/setup/idp", http.Header{"Content-Type": {"application/json"}},
		`{"name":"okta","Password":"c4n4ry-json","nested":{"a":[{"access_token":"c4n4ry-deep"}]}}`)
	mk("POST", "/api/tools/approve", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "approved=true&client_secret=c4n4ry-form")
	mk("POST", "/api/notes", http.Header{"Content-Type": {"text/plain"}}, "my secret is c4n4ry-text")
	mk("PUT", "/api/v1/workflows/9/icon", http.Header{"Content-Type": {"image/png"}}, "\x89PNG\r\n\x1a\n")
	mk("POST", "/api/chat", http.Header{"Content-Type": {"application/json"}}, `{"message":"`+strings.Repeat("x", 200)+`"}`)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	assertNoCanary(t, out.Bytes())
	if rec.Written() != 6 || rec.Dropped() != 0 {
		t.Errorf("written %d dropped %d, want 6 and 0", rec.Written(), rec.Dropped())
	}
	tr, err := Open("rec.ndjson", bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	reqs := readAllTraffic(t, tr)
	if len(tr.Skipped()) > 0 {
		t.Fatalf("recording has bad lines: %v", tr.Skipped())
	}
	checkGolden(t, "recorder.golden.json", toGolden(reqs, nil))
	if len(reqs) != 6 {
		t.Fatalf("read back %d requests, want 6", len(reqs))
	}
	first := reqs[0]
	for _, h := range []string{"Connection", "X-Parity-Shadow"} {
		if first.Header.Get(h) != "" {
			t.Errorf("%s recorded", h)
		}
	}
	if first.Header.Get("X-Request-Id") != "rid-1" || first.Header.Get("Accept") != "application/json" {
		t.Errorf("plain headers lost: %v", first.Header)
	}
	if !strings.HasPrefix(first.URL, "/api/sessions?limit=10&token=") {
		t.Errorf("url = %q", first.URL)
	}
	if reqs[3].BodyMissing != "redacted" || len(reqs[3].Body) != 0 {
		t.Errorf("text body with a secret: missing %q body %q", reqs[3].BodyMissing, reqs[3].Body)
	}
	if !bytes.Equal(reqs[4].Body, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("binary body = %q", reqs[4].Body)
	}
	if reqs[5].BodyMissing != "truncated" || len(reqs[5].Body) != 128 {
		t.Errorf("big body: missing %q, %d bytes", reqs[5].BodyMissing, len(reqs[5].Body))
	}
}

func TestRecorderConcurrent(t *testing.T) {
	var out bytes.Buffer
	rec := NewRecorder(&out)
	rec.Redactor = testRedactor
	rec.Queue = 1000
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				rec.Record(&http.Request{Method: "GET", RequestURI: fmt.Sprintf("/api/x/%d/%d", g, i), Header: http.Header{}}, nil)
			}
		}()
	}
	wg.Wait()
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	tr, err := Open("rec", &out)
	if err != nil {
		t.Fatal(err)
	}
	got := len(readAllTraffic(t, tr))
	if int64(got) != rec.Written() || rec.Written()+rec.Dropped() != 500 {
		t.Errorf("read %d, written %d, dropped %d; want read = written and written+dropped = 500", got, rec.Written(), rec.Dropped())
	}
	rec.Record(&http.Request{Method: "GET", RequestURI: "/late", Header: http.Header{}}, nil)
	if rec.Dropped() == 0 {
		t.Error("a request recorded after Close was not counted as dropped")
	}
}

// blockingWriter blocks every Write until released.
type blockingWriter struct {
	entered chan struct{}
	release chan struct{}
	bytes.Buffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	select {
	case w.entered <- struct{}{}:
	default:
	}
	<-w.release
	return w.Buffer.Write(p)
}

// TestRecorderNeverBlocks: with the writer stuck, Record returns and drops.
func TestRecorderNeverBlocks(t *testing.T) {
	w := &blockingWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
	rec := NewRecorder(w)
	rec.Queue = 2
	rec.BodyCap = 1
	// Lines go through a 64 KiB buffer before the writer; big bodies fill it fast.
	body := bytes.Repeat([]byte("y"), 1)
	for i := range 5000 {
		rec.Record(&http.Request{Method: "GET", RequestURI: fmt.Sprintf("/api/%s/%d", strings.Repeat("p", 200), i), Header: http.Header{}}, body)
	}
	<-w.entered // the writer is stuck in Write
	if rec.Dropped() == 0 {
		t.Error("nothing dropped while the writer was stuck")
	}
	close(w.release)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if rec.Written()+rec.Dropped() != 5000 {
		t.Errorf("written %d + dropped %d != 5000", rec.Written(), rec.Dropped())
	}
}

// TestRecorderQueueBoundedInBytes: with the writer stuck, the lines waiting for it
// are bounded in bytes as well as in number, so that requests with large heads
// cannot pile up in memory.
func TestRecorderQueueBoundedInBytes(t *testing.T) {
	w := &blockingWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
	rec := NewRecorder(w)
	rec.Queue = 1000
	rec.QueueBytes = 256 << 10
	big := http.Header{"X-Big": {strings.Repeat("v", 60<<10)}}
	for i := range 200 {
		rec.Record(&http.Request{Method: "GET", RequestURI: fmt.Sprintf("/api/%d", i), Header: big}, nil)
	}
	close(w.release)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	// 256 KiB of queue holds four lines of 60 KiB; a few more were in the writer.
	if rec.Written() > 10 || rec.Written()+rec.Dropped() != 200 {
		t.Errorf("written %d, dropped %d of 200 lines of 60 KiB: the queue held more than 256 KiB", rec.Written(), rec.Dropped())
	}
}

// TestRecorderEncodedBodies: a content-encoded body is searched decoded. One with
// nothing secret is recorded as sent; one with secrets is recorded decoded and
// redacted, without its Content-Encoding; one that cannot be decoded is left out.
func TestRecorderEncodedBodies(t *testing.T) {
	tests := []struct {
		name        string
		encoding    string
		body        []byte
		wantBody    string // decoded as the recording will be replayed
		wantEnc     string
		wantMissing string
	}{
		{"nothing secret: kept as sent", "gzip", gzipped(t, `{"title":"t"}`), `{"title":"t"}`, "gzip", ""},
		{"secret: decoded and redacted", "gzip", gzipped(t, `{"title":"t","password":"gz-secret-77"}`),
			`{"title":"t","password":"` + testRedactor.Mark("gz-secret-77") + `"}`, "", ""},
		{"undecodable: not recorded", "gzip", []byte("not gzip at all"), "", "gzip", "dropped"},
		{"unknown coding: not recorded", "zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}, "", "zstd", "dropped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			rec := NewRecorder(&out)
			rec.Redactor = testRedactor
			rec.Record(&http.Request{Method: "POST", RequestURI: "/api/x", Header: http.Header{
				"Content-Type": {"application/json"}, "Content-Encoding": {tc.encoding},
			}}, tc.body)
			if err := rec.Close(); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(out.Bytes(), []byte("gz-secret-77")) {
				t.Errorf("the recording holds the secret: %s", out.Bytes())
			}
			if tc.wantMissing == "dropped" {
				if out.Len() != 0 || rec.DroppedFor(DropUnparsableBody) != 1 {
					t.Errorf("recorded %q, dropped %d as unparsable_body; want nothing recorded, 1 dropped", out.Bytes(), rec.DroppedFor(DropUnparsableBody))
				}
				return
			}
			tr, err := Open("rec.ndjson", &out)
			if err != nil {
				t.Fatal(err)
			}
			r, err := tr.Next()
			if err != nil {
				t.Fatal(err)
			}
			body := r.Body
			if enc := r.Header.Get("Content-Encoding"); enc != tc.wantEnc {
				t.Errorf("Content-Encoding %q, want %q", enc, tc.wantEnc)
			} else if enc == "gzip" && r.BodyMissing == "" {
				if !bytes.Equal(body, tc.body) {
					t.Errorf("encoded body not kept as sent")
				}
				zr, err := gzip.NewReader(bytes.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(zr)
			}
			if string(body) != tc.wantBody || r.BodyMissing != tc.wantMissing {
				t.Errorf("recorded body %q (missing %q), want %q (missing %q)", body, r.BodyMissing, tc.wantBody, tc.wantMissing)
			}
		})
	}
}

// testRedactor is a deployment's Redactor in these tests.
var testRedactor = func() *diff.Redactor {
	r, err := diff.NewRedactor([]byte("traffic-test-key-0123456789"))
	if err != nil {
		panic(err)
	}
	return r
}()

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
