package traffic

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// readAllTraffic reads every request of a traffic reader.
func readAllTraffic(t testing.TB, tr Reader) []*Request {
	t.Helper()
	var out []*Request
	for {
		req, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, req)
	}
}

// goldenRequest is a Request as the golden files show it.
type goldenRequest struct {
	Line        int         `json:"line"`
	Method      string      `json:"method"`
	URL         string      `json:"url"`
	Header      http.Header `json:"header,omitempty"`
	Body        string      `json:"body,omitempty"`
	BodyBase64  string      `json:"body_base64,omitempty"`
	BodyMissing string      `json:"body_missing,omitempty"`
}

type goldenTraffic struct {
	Requests []goldenRequest `json:"requests"`
	Skipped  []string        `json:"skipped"`
}

func toGolden(reqs []*Request, skipped []LineError) goldenTraffic {
	g := goldenTraffic{Skipped: []string{}}
	for _, r := range reqs {
		gr := goldenRequest{Line: r.Line, Method: r.Method, URL: r.URL, Header: r.Header, BodyMissing: r.BodyMissing}
		if len(r.Header) == 0 {
			gr.Header = nil
		}
		if json.Valid(r.Body) || (len(r.Body) > 0 && bytes.IndexByte(r.Body, 0) < 0 && r.Body[0] < 0x80) {
			gr.Body = string(r.Body)
		} else if len(r.Body) > 0 {
			gr.BodyBase64 = base64.StdEncoding.EncodeToString(r.Body)
		}
		g.Requests = append(g.Requests, gr)
	}
	for _, s := range skipped {
		g.Skipped = append(g.Skipped, s.Error())
	}
	return g
}

func checkGolden(t *testing.T, name string, got any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(string(want), string(data)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func openFile(t testing.TB, path string) Reader {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	tr, err := Open(path, f)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return tr
}

// TestTrafficFiles reads the fixtures and compares every request with a golden file.
func TestTrafficFiles(t *testing.T) {
	for _, name := range []string{"browser.har", "recorded.ndjson"} {
		t.Run(name, func(t *testing.T) {
			tr := openFile(t, filepath.Join("testdata", name))
			reqs := readAllTraffic(t, tr)
			checkGolden(t, name+".golden.json", toGolden(reqs, tr.Skipped()))
			if tr.SkippedCount() != len(tr.Skipped()) {
				t.Errorf("SkippedCount = %d, Skipped has %d", tr.SkippedCount(), len(tr.Skipped()))
			}
		})
	}
}

// TestHARDetails checks what the golden file shows, so that a rewritten golden file
// cannot hide a regression of these promises.
func TestHARDetails(t *testing.T) {
	reqs := readAllTraffic(t, openFile(t, filepath.Join("testdata", "browser.har")))
	byURL := map[string]*Request{}
	for _, r := range reqs {
		byURL[r.Method+" "+r.URL] = r
	}
	get := byURL["GET /api/sessions?limit=10&cursor=abc"]
	if get == nil {
		t.Fatalf("host not dropped or query lost: %v", slices.Sorted(maps.Keys(byURL)))
	}
	for name := range get.Header {
		if strings.HasPrefix(name, ":") {
			t.Errorf("pseudo-header %q kept", name)
		}
	}
	if got := get.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
	if form := byURL["POST /api/tools/approve"]; form == nil || string(form.Body) != "toolCallId=tc+7&approved=true" {
		t.Errorf("form params body = %q", bodyOf(form))
	}
	if png := byURL["PUT /api/v1/workflows/9/icon"]; png == nil || !bytes.Equal(png.Body, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("base64 body (encoding) = %q", bodyOf(png))
	}
	if bin := byURL["POST /api/v1/search"]; bin == nil || !bytes.Equal(bin.Body, []byte{0, 1, 2}) {
		t.Errorf("base64 body (comment) = %q", bodyOf(bin))
	}
	mp := byURL["POST /api/v1/workflows/import"]
	if mp == nil || !bytes.Contains(mp.Body, []byte("------WebKitFormBoundaryX")) || !bytes.Contains(mp.Body, []byte(`filename="wf.json"`)) {
		t.Errorf("multipart body = %q", bodyOf(mp))
	}
	if chat := byURL["POST /api/chat"]; chat == nil || string(chat.Body) != `{"sessionId":"s1","message":"hello, world"}` {
		t.Errorf("postData text = %q", bodyOf(chat))
	}
}

func bodyOf(r *Request) string {
	if r == nil {
		return "<missing request>"
	}
	return string(r.Body)
}

func TestNDJSONBadLines(t *testing.T) {
	tr := openFile(t, filepath.Join("testdata", "recorded.ndjson"))
	reqs := readAllTraffic(t, tr)
	var lines []int
	for _, r := range reqs {
		lines = append(lines, r.Line)
	}
	var bad []int
	for _, s := range tr.Skipped() {
		bad = append(bad, s.Line)
	}
	if diff := cmp.Diff([]int{1, 2, 4, 7, 9}, lines); diff != "" {
		t.Errorf("lines read (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{3, 6, 8}, bad); diff != "" {
		t.Errorf("lines skipped (-want +got):\n%s", diff)
	}
}

// TestTrafficErrors: a file that is not traffic, or a truncated HAR, is an error
// naming the file and where it broke.
func TestTrafficErrors(t *testing.T) {
	har, err := os.ReadFile(filepath.Join("testdata", "browser.har"))
	if err != nil {
		t.Fatal(err)
	}
	cut := bytes.Index(har, []byte(`"url": "https://portal.example.com/api/v1/search"`))
	tests := []struct {
		name string
		data []byte
		want string // the whole error
	}{
		{"truncated HAR", har[:cut], "t.har: truncated HAR: the file ends in entry 5, at byte "},
		{"HAR cut after the entries", har[:bytes.LastIndex(har, []byte("]"))+1], "t.har: truncated HAR: the file ends at byte "},
		{"broken HAR", bytes.Replace(har, []byte(`"method": "PUT",`), []byte(`"method": "PUT",,`), 1), "t.har: broken HAR in entry 4, at byte "},
		{"HAR without entries", []byte(`{"log": {"version": "1.2", "pages": []}}`), `t.har: not a HAR file: no "entries" at byte `},
		{"HAR with trailing data", append(append([]byte{}, har...), []byte(`{"log":{}}`)...), "t.har: unexpected { after the HAR object at byte "},
		{"html", []byte("<!doctype html>\n<html></html>\n"), `t.har: not HAR or NDJSON traffic (starts with "<!doctype html>")`},
		{"yaml", []byte("primary: http://x\n"), `t.har: not HAR or NDJSON traffic (starts with "primary: http://x")`},
		{"json array", []byte(`[{"method":"GET","url":"/"}]`), `t.har: not HAR or NDJSON traffic (starts with "[{\"method\":\"GET\",\"ur")`},
		{"empty", []byte("\n\n"), "t.har: empty file, not HAR or NDJSON traffic"},
		{"only bad NDJSON", []byte("{\"a\":1}\n{\"b\":2}\n"), `t.har: no request read, 2 bad lines (first: line 1: no url)`},
		{"pretty JSON that is not HAR", []byte("{\n  \"name\": \"x\"\n}\n"), `t.har: no request read, 3 bad lines (first: line 1: bad JSON: unexpected end of JSON input at column 1)`},
		{"bad gzip", []byte{0x1f, 0x8b, 0, 0}, "t.har: bad gzip header: unexpected EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := readErr("t.har", tc.data)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error = %q, want it to start with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

// readErr reads data to the end and returns the first error other than io.EOF.
func readErr(name string, data []byte) error {
	tr, err := Open(name, bytes.NewReader(data))
	if err != nil {
		return err
	}
	for {
		_, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func TestTrafficGzipAndBOM(t *testing.T) {
	nd, err := os.ReadFile(filepath.Join("testdata", "recorded.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(append([]byte("\xef\xbb\xbf"), nd...))
	zw.Close()
	tr, err := Open("t.ndjson.gz", &gz)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(readAllTraffic(t, tr)); got != 5 {
		t.Errorf("read %d requests, want 5", got)
	}
}

// canaries are secrets that must never appear in a recording, in any encoding.
var canaries = []string{"c4n4ry-auth", "c4n4ry-cookie", "c4n4ry-cookie2", "c4n4ry-proxy", "c4n4ry-apikey", "c4n4ry-query", "c4n4ry-json", "c4n4ry-deep", "c4n4ry-form", "c4n4ry-text"}

func FuzzTraffic(f *testing.F) {
	// Small seeds: the fuzzer minimises every new input, and big ones make that slow.
	for _, name := range []string{"browser.har", "recorded.ndjson", "page.html"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data[:min(len(data), 2000)])
	}
	f.Add([]byte(`{"log":{"version":"1.2","entries":[{"request":{"method":"POST","url":"https://h/api/x?a=1",` +
		`"headers":[{"name":":path","value":"/api/x"},{"name":"Content-Type","value":"multipart/form-data; boundary=b"}],` +
		`"postData":{"mimeType":"multipart/form-data; boundary=b","params":[{"name":"f","fileName":"a.txt","value":"v"}]}},` +
		`"response":{"status":200,"content":{"text":"x"}}},{"request":{"method":"PUT","url":"/y","postData":{"text":"AAE=","comment":"base64"}}}]}}`))
	f.Add([]byte(`{"log":{"entries":[{"request":{"method":"GET","url":"/x","postData":{"text":"!!","encoding":"base64"}}}]}}`))
	f.Add([]byte(`{"log":{"entries":[[1,{"a":[]}],"x",{"request":{"method":1}}]}}`))
	f.Add([]byte(`{"method":"GET","url":"/","headers":{"A":1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := Open("fuzz.traffic", bytes.NewReader(data))
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.traffic") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for i := 0; i <= len(data)+1; i++ {
			req, err := tr.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				if !strings.Contains(err.Error(), "fuzz.traffic") || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error not one line naming the file: %q", err)
				}
				return
			}
			if req.Method == "" || !strings.HasPrefix(req.URL, "/") {
				t.Fatalf("bad request returned: %+v", req)
			}
		}
		t.Fatal("reader did not end")
	})
}
