package traffic

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"github.com/parity-dev/parity/report/route"
)

// Request is one recorded request, as a traffic file holds it.
type Request struct {
	Method string
	// URL is the request target in origin-form, path and raw query exactly as
	// recorded ("/api/sessions?limit=10"); an absolute URL's scheme and host are
	// dropped.
	URL    string
	Header http.Header
	Body   []byte
	// BodyMissing says why Body is not the request's real body — "truncated" (over
	// the recorder's cap) or "redacted" (it held secrets that could not be redacted
	// in place); such a request is never replayed. Empty when Body is whole.
	BodyMissing string
	// Line is where the request stands in its file: the NDJSON line, or the HAR
	// entry number (1-based).
	Line int
}

// Reader reads recorded requests one at a time, streaming: a file of any size
// never sits in memory.
type Reader interface {
	// Next returns the next request, io.EOF at the end, or an error naming the file
	// and where it broke (a truncated HAR, a file that is not traffic at all).
	Next() (*Request, error)
	// Skipped lists the bad NDJSON lines and HAR entries passed over so far (the
	// first MaxSkippedKept of them); SkippedCount counts them all.
	Skipped() []LineError
	SkippedCount() int
}

// LineError is a bad request in a traffic file that was skipped.
type LineError struct {
	Line  int // NDJSON line number; 0 for HAR
	Entry int // HAR entry number (1-based); 0 for NDJSON
	Err   error
}

func (e LineError) Error() string {
	if e.Entry > 0 {
		return fmt.Sprintf("entry %d: %v", e.Entry, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

// Limits of the traffic readers.
const (
	MaxLineBytes   = 32 << 20 // longest NDJSON line read; a longer one is skipped
	MaxSkippedKept = 1000     // bad lines listed by Skipped; later ones only counted
)

// Open sniffs a traffic file — HAR 1.2 or NDJSON, either possibly gzipped —
// and returns a streaming reader over it. name is used in errors only. A file that is
// neither is an error naming it.
func Open(name string, r io.Reader) (Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: bad gzip header: %w", name, err)
		}
		br = bufio.NewReaderSize(zr, 64<<10)
	}
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	head, err := br.Peek(4096)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return nil, fmt.Errorf("%s: empty file, not HAR or NDJSON traffic", name)
	case trimmed[0] != '{':
		return nil, fmt.Errorf("%s: not HAR or NDJSON traffic (starts with %q)", name, headPreview(trimmed))
	case firstKey(trimmed) == "log":
		return newHARReader(name, br), nil
	}
	return &ndjsonReader{name: name, r: br}, nil
}

// firstKey returns the first member name of the JSON object that b starts with, when
// it is a plain string within b.
func firstKey(b []byte) string {
	b = bytes.TrimLeft(b[1:], " \t\r\n")
	if len(b) == 0 || b[0] != '"' {
		return ""
	}
	end := bytes.IndexAny(b[1:], "\"\\")
	if end < 0 {
		return ""
	}
	return string(b[1 : 1+end])
}

func headPreview(b []byte) string {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	if len(b) > 20 {
		b = b[:20]
	}
	return string(b)
}

// skipList keeps the first MaxSkippedKept skipped requests and counts them all.
type skipList struct {
	kept  []LineError
	count int
}

func (s *skipList) add(e LineError) {
	s.count++
	if len(s.kept) < MaxSkippedKept {
		s.kept = append(s.kept, e)
	}
}

func (s *skipList) Skipped() []LineError { return s.kept }
func (s *skipList) SkippedCount() int    { return s.count }

// ndjsonRecord is one line of the NDJSON traffic format (DESIGN.md).
type ndjsonRecord struct {
	Method      string                     `json:"method"`
	URL         string                     `json:"url"`
	Headers     map[string]json.RawMessage `json:"headers,omitempty"`
	Body        *string                    `json:"body,omitempty"`
	BodyBase64  *string                    `json:"body_base64,omitempty"`
	BodyMissing string                     `json:"body_missing,omitempty"`
}

type ndjsonReader struct {
	name string
	r    *bufio.Reader
	line int
	read int // requests returned
	skipList
}

func (n *ndjsonReader) Next() (*Request, error) {
	for {
		line, err := n.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && n.read == 0 && n.count > 0 {
				return nil, fmt.Errorf("%s: no request read, %d bad lines (first: %v)", n.name, n.count, n.kept[0])
			}
			return nil, err
		}
		if line == nil {
			continue // blank line
		}
		req, perr := parseNDJSON(line)
		if perr != nil {
			if n.read == 0 && n.count == 0 && !json.Valid(line) && line[0] != '{' {
				return nil, fmt.Errorf("%s:%d: not NDJSON traffic: %v", n.name, n.line, perr)
			}
			n.add(LineError{Line: n.line, Err: perr})
			continue
		}
		req.Line = n.line
		n.read++
		return req, nil
	}
}

// readLine returns the next line without its end, nil for a blank one; a line over
// MaxLineBytes is skipped (and counted) without being held.
func (n *ndjsonReader) readLine() ([]byte, error) {
	var buf []byte
	tooLong := false
	for {
		chunk, err := n.r.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > MaxLineBytes {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read %s at line %d: %w", n.name, n.line+1, err)
		}
		if len(chunk) == 0 && errors.Is(err, io.EOF) && len(buf) == 0 && !tooLong {
			return nil, io.EOF
		}
		n.line++
		if tooLong {
			n.add(LineError{Line: n.line, Err: fmt.Errorf("line longer than %d bytes", MaxLineBytes)})
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, nil
		}
		buf = bytes.TrimSpace(buf)
		if len(buf) == 0 {
			if errors.Is(err, io.EOF) {
				return nil, io.EOF
			}
			return nil, nil
		}
		return buf, nil
	}
}

func parseNDJSON(line []byte) (*Request, error) {
	var rec ndjsonRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		return nil, fmt.Errorf("bad JSON: %w", jsonErr(err))
	}
	req := &Request{Method: rec.Method, BodyMissing: rec.BodyMissing}
	var err error
	if req.URL, err = originForm(rec.URL); err != nil {
		return nil, err
	}
	if err := checkMethod(rec.Method); err != nil {
		return nil, err
	}
	switch rec.BodyMissing {
	case "", "truncated", "redacted":
	default:
		return nil, fmt.Errorf("body_missing %q: want truncated or redacted", rec.BodyMissing)
	}
	if len(rec.Headers) > 0 {
		req.Header = make(http.Header, len(rec.Headers))
		for name, raw := range rec.Headers {
			if !validHeaderName(name) {
				return nil, fmt.Errorf("bad header name %q", name)
			}
			var vs []string
			if err := json.Unmarshal(raw, &vs); err != nil {
				var v string
				if json.Unmarshal(raw, &v) != nil {
					return nil, fmt.Errorf("header %q: want a string or a list of strings", name)
				}
				vs = []string{v}
			}
			for _, v := range vs {
				if strings.ContainsAny(v, "\r\n\x00") {
					return nil, fmt.Errorf("header %q: value has a line break or NUL", name)
				}
			}
			req.Header[textproto.CanonicalMIMEHeaderKey(name)] = append(req.Header[textproto.CanonicalMIMEHeaderKey(name)], vs...)
		}
	}
	switch {
	case rec.Body != nil && rec.BodyBase64 != nil:
		return nil, errors.New("both body and body_base64")
	case rec.Body != nil:
		req.Body = []byte(*rec.Body)
	case rec.BodyBase64 != nil:
		if req.Body, err = base64.StdEncoding.DecodeString(*rec.BodyBase64); err != nil {
			return nil, fmt.Errorf("body_base64: %w", err)
		}
	}
	return req, nil
}

func jsonErr(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%s at column %d", se.Error(), se.Offset)
	}
	return err
}

// originForm returns the path and raw query of a recorded URL, dropping an absolute
// URL's scheme and host; it keeps the bytes as recorded, but refuses what cannot be
// sent on a request line.
func originForm(u string) (string, error) {
	if u == "" {
		return "", errors.New("no url")
	}
	for i := 0; i < len(u); i++ {
		if c := u[i]; c <= ' ' || c >= 0x7f {
			return "", fmt.Errorf("url %q has a space, control or non-ASCII byte", clipText(u, 80))
		}
	}
	if scheme := strings.ToLower(route.Scheme(u)); scheme != "" {
		n := len(scheme)
		if scheme != "http" && scheme != "https" {
			return "", fmt.Errorf("url %q: not http or https", clipText(u, 80))
		}
		rest := u[n+3:]
		i := strings.IndexAny(rest, "/?")
		if i < 0 {
			return "/", nil
		}
		if rest[i] == '?' {
			return "/" + rest[i:], nil
		}
		u = rest[i:]
	}
	if u[0] != '/' {
		return "", fmt.Errorf("url %q is not a path", clipText(u, 80))
	}
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u = u[:i]
	}
	return u, nil
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func checkMethod(m string) error {
	if m == "" {
		return errors.New("no method")
	}
	if !validHeaderName(m) {
		return fmt.Errorf("bad method %q", clipText(m, 40))
	}
	return nil
}

// validHeaderName reports whether s is an RFC 9110 token (header names and methods).
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			continue
		}
		if !strings.ContainsRune("!#$%&'*+-.^_`|~", rune(c)) {
			return false
		}
	}
	return true
}

// HAR 1.2: only what a request needs is decoded.
type harRequest struct {
	Method   string         `json:"method"`
	URL      string         `json:"url"`
	Headers  []harNameValue `json:"headers"`
	PostData *harPostData   `json:"postData"`
}

type harNameValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type harPostData struct {
	MimeType string     `json:"mimeType"`
	Text     string     `json:"text"`
	Params   []harParam `json:"params"`
	Encoding string     `json:"encoding"` // not in HAR 1.2, written by several tools
	Comment  string     `json:"comment"`
}

type harParam struct {
	Name        string `json:"name"`
	Value       string `json:"value"`
	FileName    string `json:"fileName"`
	ContentType string `json:"contentType"`
}

type harReader struct {
	name    string
	dec     *json.Decoder
	started bool
	done    bool
	entry   int
	skipList
}

func newHARReader(name string, r io.Reader) *harReader {
	return &harReader{name: name, dec: json.NewDecoder(r)}
}

func (h *harReader) Next() (*Request, error) {
	if h.done {
		return nil, io.EOF
	}
	if !h.started {
		h.started = true
		if err := h.findEntries(); err != nil {
			h.done = true
			return nil, err
		}
	}
	for h.dec.More() {
		h.entry++
		req, err := h.readEntry()
		if err != nil {
			h.done = true
			return nil, err
		}
		if req == nil {
			continue
		}
		req.Line = h.entry
		return req, nil
	}
	h.done = true
	h.entry = 0 // errors from here on are after the entries
	if err := h.finish(); err != nil {
		return nil, err
	}
	return nil, io.EOF
}

// findEntries walks the stream to the opening of log.entries.
func (h *harReader) findEntries() error {
	if err := h.expect('{', "the HAR object"); err != nil {
		return err
	}
	if err := h.findKey("log"); err != nil {
		return err
	}
	if err := h.expect('{', "log"); err != nil {
		return err
	}
	if err := h.findKey("entries"); err != nil {
		return err
	}
	return h.expect('[', "log.entries")
}

// findKey skips members of the current object until key; its value is next.
func (h *harReader) findKey(key string) error {
	for h.dec.More() {
		tok, err := h.dec.Token()
		if err != nil {
			return h.broke(err)
		}
		if k, _ := tok.(string); k == key {
			return nil
		}
		if err := h.skipValue(); err != nil {
			return err
		}
	}
	return fmt.Errorf("%s: not a HAR file: no %q at byte %d", h.name, key, h.dec.InputOffset())
}

// finish reads the rest of the file after log.entries: it must close properly.
func (h *harReader) finish() error {
	if err := h.expect(']', "log.entries"); err != nil {
		return err
	}
	for depth := 2; depth > 0; depth-- {
		for h.dec.More() {
			if _, err := h.dec.Token(); err != nil { // member name
				return h.broke(err)
			}
			if err := h.skipValue(); err != nil {
				return err
			}
		}
		if err := h.expect('}', "the HAR object"); err != nil {
			return err
		}
	}
	if tok, err := h.dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil {
			return h.broke(err)
		}
		return fmt.Errorf("%s: unexpected %v after the HAR object at byte %d", h.name, tok, h.dec.InputOffset())
	}
	return nil
}

// readEntry reads one element of log.entries; it returns nil, nil for an entry that
// was skipped (and counted).
func (h *harReader) readEntry() (*Request, error) {
	tok, err := h.dec.Token()
	if err != nil {
		return nil, h.broke(err)
	}
	if tok != json.Delim('{') {
		if d, ok := tok.(json.Delim); ok && (d == '[') {
			if err := h.skipRest(1); err != nil {
				return nil, err
			}
		}
		h.add(LineError{Entry: h.entry, Err: errors.New("entry is not an object")})
		return nil, nil
	}
	var req *harRequest
	var reqErr error
	for h.dec.More() {
		tok, err := h.dec.Token()
		if err != nil {
			return nil, h.broke(err)
		}
		if k, _ := tok.(string); k == "request" && req == nil && reqErr == nil {
			var r harRequest
			if err := h.dec.Decode(&r); err != nil {
				var te *json.UnmarshalTypeError
				if !errors.As(err, &te) {
					return nil, h.broke(err)
				}
				reqErr = fmt.Errorf("request: %v", err)
				continue
			}
			req = &r
			continue
		}
		if err := h.skipValue(); err != nil {
			return nil, err
		}
	}
	if _, err := h.dec.Token(); err != nil {
		return nil, h.broke(err)
	}
	if reqErr == nil && req == nil {
		reqErr = errors.New("no request")
	}
	if reqErr != nil {
		h.add(LineError{Entry: h.entry, Err: reqErr})
		return nil, nil
	}
	tr, err := req.traffic()
	if err != nil {
		h.add(LineError{Entry: h.entry, Err: err})
		return nil, nil
	}
	return tr, nil
}

// skipValue skips the next value token by token, so a huge response body is never
// held whole beyond one token.
func (h *harReader) skipValue() error {
	tok, err := h.dec.Token()
	if err != nil {
		return h.broke(err)
	}
	if d, ok := tok.(json.Delim); ok && (d == '{' || d == '[') {
		return h.skipRest(1)
	}
	return nil
}

func (h *harReader) skipRest(depth int) error {
	for depth > 0 {
		tok, err := h.dec.Token()
		if err != nil {
			return h.broke(err)
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
	}
	return nil
}

func (h *harReader) expect(d json.Delim, what string) error {
	tok, err := h.dec.Token()
	if err != nil {
		return h.broke(err)
	}
	if tok != d {
		return fmt.Errorf("%s: not a HAR file: want %q to open %s, got %v at byte %d", h.name, string(d), what, tok, h.dec.InputOffset())
	}
	return nil
}

// broke names the file and where it broke.
func (h *harReader) broke(err error) error {
	where := fmt.Sprintf("at byte %d", h.dec.InputOffset())
	if h.entry > 0 {
		where = fmt.Sprintf("in entry %d, %s", h.entry, where)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%s: truncated HAR: the file ends %s", h.name, where)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("%s: broken HAR %s: %s", h.name, where, se.Error())
	}
	return fmt.Errorf("read %s %s: %w", h.name, where, err)
}

// traffic turns a HAR request into a Request: HTTP/2 pseudo-headers dropped,
// the body from postData text (base64 when its encoding or comment says so) or
// params (form or multipart encoded per mimeType).
func (r *harRequest) traffic() (*Request, error) {
	if err := checkMethod(r.Method); err != nil {
		return nil, err
	}
	target, err := originForm(r.URL)
	if err != nil {
		return nil, err
	}
	tr := &Request{Method: r.Method, URL: target, Header: http.Header{}}
	for _, h := range r.Headers {
		if strings.HasPrefix(h.Name, ":") {
			continue
		}
		if !validHeaderName(h.Name) {
			return nil, fmt.Errorf("bad header name %q", clipText(h.Name, 40))
		}
		if strings.ContainsAny(h.Value, "\r\n\x00") {
			return nil, fmt.Errorf("header %q: value has a line break or NUL", h.Name)
		}
		tr.Header.Add(h.Name, h.Value)
	}
	if pd := r.PostData; pd != nil {
		if tr.Body, err = pd.body(tr.Header); err != nil {
			return nil, err
		}
	}
	return tr, nil
}

func (pd *harPostData) body(h http.Header) ([]byte, error) {
	if pd.Text != "" {
		if strings.EqualFold(pd.Encoding, "base64") || strings.Contains(strings.ToLower(pd.Comment), "base64") {
			b, err := base64.StdEncoding.DecodeString(pd.Text)
			if err != nil {
				return nil, fmt.Errorf("postData: base64 text: %w", err)
			}
			return b, nil
		}
		return []byte(pd.Text), nil
	}
	if len(pd.Params) == 0 {
		return nil, nil
	}
	mt, params, _ := mime.ParseMediaType(pd.MimeType)
	if mt == "multipart/form-data" {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		if b := params["boundary"]; b != "" {
			if err := mw.SetBoundary(b); err != nil {
				return nil, fmt.Errorf("postData: boundary: %w", err)
			}
		}
		for _, p := range pd.Params {
			var w io.Writer
			var err error
			if p.FileName != "" {
				hdr := textproto.MIMEHeader{}
				hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="%s"; filename="%s"`, quoteEscaper.Replace(p.Name), quoteEscaper.Replace(p.FileName)))
				if p.ContentType != "" {
					hdr.Set("Content-Type", p.ContentType)
				}
				w, err = mw.CreatePart(hdr)
			} else {
				w, err = mw.CreateFormField(p.Name)
			}
			if err != nil {
				return nil, fmt.Errorf("postData: %w", err)
			}
			io.WriteString(w, p.Value)
		}
		mw.Close()
		if params["boundary"] == "" {
			h.Set("Content-Type", mw.FormDataContentType())
		}
		return buf.Bytes(), nil
	}
	var parts []string
	for _, p := range pd.Params {
		parts = append(parts, url.QueryEscape(p.Name)+"="+url.QueryEscape(p.Value))
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return []byte(strings.Join(parts, "&")), nil
}

// quoteEscaper escapes a multipart parameter as mime/multipart does.
var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")
