package diff

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/andybalholm/brotli"
)

// side is one response's body as the comparison sees it.
type side struct {
	name      string // "primary" or "candidate"
	media     string // lower-case media type, "" when absent
	encodings []string
	raw       []byte
	decoded   []byte
	decodeErr error
	decodedOK bool
}

// mediaType is the lower-case media type of h's Content-Type.
func mediaType(h http.Header) string {
	ct := headerValues(h, "Content-Type")
	if len(ct) == 0 {
		return ""
	}
	// Only the type/subtype is needed here; parameters are compared with the headers.
	mt, _, _ := strings.Cut(ct[0], ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

// contentEncodings lists the codings applied to h's body, in the order applied,
// without identity.
func contentEncodings(h http.Header) []string {
	var out []string
	for _, v := range headerValues(h, "Content-Encoding") {
		for _, t := range strings.Split(v, ",") {
			t = strings.ToLower(strings.TrimSpace(t))
			if t != "" && t != "identity" {
				out = append(out, t)
			}
		}
	}
	return out
}

// decodeRatio and decodeFloor bound the candidate's decoding by the primary's
// decoded size: a candidate body that decodes to more than decodeRatio times
// the primary's (and more than decodeFloor) is a difference already, and
// decoding it further would only spend CPU on a bomb.
const (
	decodeRatio = 100
	decodeFloor = 64 << 10
)

// decodeLimit is how far side s is decoded: the cap for the primary; for the
// candidate, decodeRatio times what the primary's body decoded to (its
// encoded size when it did not decode), at least decodeFloor, at most the cap.
func (c *comparison) decodeLimit(s *side) int64 {
	if s != &c.q {
		return c.r.maxDecoded
	}
	n := int64(len(c.p.raw))
	if a, err := c.p.decode(c.r.maxDecoded); err == nil {
		n = int64(len(a))
	}
	return min(c.r.maxDecoded, max(decodeRatio*n, decodeFloor))
}

// errTooLarge is a body that decodes to more than the cap.
var errTooLarge = errors.New("decodes to more than the cap")

// undecodedNote follows a side's name in a body difference's note when its body
// could not be decoded, and precedes why.
const undecodedNote = " body could not be decoded: "

// DecodedOverCap reports whether note, the note of a body difference, says that
// side's body ("primary" or "candidate") decodes to more than the comparison
// decodes — a decompression bomb — rather than failing to decode otherwise.
func DecodedOverCap(note, side string) bool {
	for n := range strings.SplitSeq(note, "; ") {
		if strings.HasPrefix(n, side+undecodedNote) && strings.Contains(n, errTooLarge.Error()) {
			return true
		}
	}
	return false
}

// decode removes s's content codings, stopping at limit decoded bytes.
func (s *side) decode(limit int64) ([]byte, error) {
	if s.decodedOK || s.decodeErr != nil {
		return s.decoded, s.decodeErr
	}
	b, err := decodeAll(s.encodings, s.raw, limit)
	if err != nil {
		s.decodeErr = err
		return nil, err
	}
	s.decoded, s.decodedOK = b, true
	return b, nil
}

// DecodeContent removes the content codings h's Content-Encoding lists (gzip,
// deflate, br; identity is none) from body, last applied first, stopping at limit
// decoded bytes: a body that decodes to more is an error, as is an unknown coding.
// A body without codings is returned as it is. It is the one content decoder: the
// comparison, the proxy's secret search and the recorder all use it.
func DecodeContent(h http.Header, body []byte, limit int64) ([]byte, error) {
	return decodeAll(contentEncodings(h), body, limit)
}

// decodeAll removes codings, given in the order applied, from b.
func decodeAll(codings []string, b []byte, limit int64) ([]byte, error) {
	for i := len(codings) - 1; i >= 0; i-- {
		var err error
		if b, err = decodeOne(codings[i], b, limit); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func decodeOne(coding string, b []byte, limit int64) ([]byte, error) {
	var r io.Reader
	switch coding {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		r = zr
	case "deflate":
		// HTTP's deflate is zlib-wrapped; some servers send raw deflate anyway.
		if zr, err := zlib.NewReader(bytes.NewReader(b)); err == nil {
			r = zr
		} else {
			r = flate.NewReader(bytes.NewReader(b))
		}
	case "br":
		r = brotli.NewReader(bytes.NewReader(b))
	default:
		return nil, fmt.Errorf("unsupported content-encoding %q", coding)
	}
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", coding, err)
	}
	if int64(len(out)) > limit {
		return nil, fmt.Errorf("%s: %w of %d bytes", coding, errTooLarge, limit)
	}
	return out, nil
}

func isJSONMedia(mt string) bool {
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}

func isTextMedia(mt string) bool {
	switch {
	case strings.HasPrefix(mt, "text/"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	switch mt {
	case "application/xml", "application/javascript", "application/ecmascript",
		"application/x-www-form-urlencoded", "application/graphql", "application/x-ndjson",
		"application/yaml", "application/x-yaml", "application/toml":
		return true
	}
	return false
}

// body compares the two bodies, appending differences to c.out.
func (c *comparison) body(p, q *side) {
	if c.primary.Truncated || c.candidate.Truncated {
		c.captured()
		return
	}
	if bytes.Equal(p.raw, q.raw) && slicesEqual(p.encodings, q.encodings) {
		return
	}
	p.media, q.media = mediaType(c.primary.Header), mediaType(c.candidate.Header)
	a, errA := p.decode(c.decodeLimit(p))
	b, errB := q.decode(c.decodeLimit(q))
	if errA != nil || errB != nil {
		var notes []string
		if errA != nil {
			notes = append(notes, "primary"+undecodedNote+errA.Error())
		}
		if errB != nil {
			notes = append(notes, "candidate"+undecodedNote+errB.Error())
		}
		c.bodyDiff(Changed, digest(p.raw), digest(q.raw), strings.Join(notes, "; ")+" (compared by length and hash of the encoded bytes)")
		return
	}
	if bytes.Equal(a, b) {
		return
	}
	if int64(len(a)) > c.r.maxBody || int64(len(b)) > c.r.maxBody {
		// Not equal byte for byte: their lengths and hashes show it.
		c.bodyDiff(Changed, digest(a), digest(b), "body over "+strconv.FormatInt(c.r.maxBody, 10)+" bytes: compared by length and hash")
		return
	}
	switch {
	case len(a) == 0:
		c.bodyDiff(Extra, "", c.render(q, b), "primary body is empty")
	case len(b) == 0:
		c.bodyDiff(Missing, c.render(p, a), "", "candidate body is empty")
	case isJSONMedia(p.media) || isJSONMedia(q.media):
		c.json(p, a, q, b, false)
	case p.media == "text/event-stream" || q.media == "text/event-stream":
		c.json(p, sseToJSON(a), q, sseToJSON(b), true)
	case isTextMedia(p.media) || isTextMedia(q.media) ||
		(p.media == "" && q.media == "" && utf8.Valid(a) && utf8.Valid(b)):
		c.text(p, a, q, b)
	default:
		c.bodyDiff(Changed, digest(a), digest(b), "binary bodies differ (compared by length and hash)")
	}
}

// render shows a whole body as a value: JSON text when it is JSON, else quoted text,
// or length and hash when binary.
func (c *comparison) render(s *side, b []byte) string {
	switch {
	case validJSON(b) == nil:
		return renderJSON(b, false, c.r.redactor)
	case isTextMedia(s.media) || isJSONMedia(s.media) || utf8.Valid(b):
		return c.renderText(s, b, 0)
	}
	return digest(b)
}

func (c *comparison) renderText(s *side, b []byte, from int) string {
	if s.media == "application/x-www-form-urlencoded" {
		return quoteText([]byte(c.r.redactor.Query(string(b))), 0)
	}
	return quoteText(b, from)
}

// json compares two JSON documents (or event streams made JSON).
func (c *comparison) json(p *side, a []byte, q *side, b []byte, stream bool) {
	ta, tb := getTape(), getTape()
	defer putTape(ta)
	defer putTape(tb)
	// A candidate that differs from the primary only in the order of members is
	// checked against the primary's tape and needs no tape of its own, nor a walk
	// (same.go); any other is parsed against the primary's tape, and what it shares
	// with the primary is taken from there (guide.go).
	errA := ta.parse(a)
	var errB error
	if errA == nil {
		if ta.sameUpToOrder(b, &tb.same) {
			return
		}
		errB = tb.parseAgainst(b, ta)
	} else {
		errB = tb.parse(b)
	}
	if errA != nil || errB != nil {
		var notes []string
		va, vb := c.render(p, a), c.render(q, b)
		if errA != nil {
			notes = append(notes, p.name+" body "+claim(p)+"is not valid JSON: "+errA.Error())
			va = c.renderText(p, a, 0)
		}
		if errB != nil {
			notes = append(notes, q.name+" body "+claim(q)+"is not valid JSON: "+errB.Error())
			vb = c.renderText(q, b, 0)
		}
		c.bodyDiff(Changed, va, vb, strings.Join(notes, "; "))
		return
	}
	w := getWalker(ta, tb, c.r)
	defer putWalker(w)
	w.out, w.max = c.out, c.r.maxDiffs
	if !c.r.strictEnvelope && !stream && c.primary.Status >= 400 && c.candidate.Status >= 400 {
		w.envelope = c.candidate.Status
	}
	w.compare(0, 0, w.rootRules(), false)
	c.out = w.out
	c.truncated = c.truncated || w.stopped
}

func claim(s *side) string {
	if isJSONMedia(s.media) {
		return "claims " + s.media + " but "
	}
	if s.media != "" {
		return "(" + s.media + ") "
	}
	return ""
}

// text compares two texts exactly and shows both from shortly before the first
// difference.
func (c *comparison) text(p *side, a []byte, q *side, b []byte) {
	off := 0
	for off < len(a) && off < len(b) && a[off] == b[off] {
		off++
	}
	line := 1 + bytes.Count(a[:off], []byte("\n"))
	col := off - bytes.LastIndexByte(a[:off], '\n')
	from := 0
	if off > MaxValueBytes/2 {
		from = off - 40
	}
	c.bodyDiff(Changed, c.renderText(p, a, from), c.renderText(q, b, from),
		fmt.Sprintf("texts differ from line %d, column %d (byte %d)", line, col, off))
}

// captured compares bodies that were captured only in part: by full size and by the
// hash of the bytes both captured.
func (c *comparison) captured() {
	pa, ca := c.primary.Body, c.candidate.Body
	n := min(len(pa), len(ca))
	ps, cs := size(c.primary), size(c.candidate)
	if ps == cs && bytes.Equal(pa[:n], ca[:n]) {
		return
	}
	c.bodyDiff(Changed, capturedDesc(c.primary), capturedDesc(c.candidate),
		"body captured only in part: compared by length and hash of the first "+strconv.Itoa(n)+" bytes")
}

// size is the full length of r's body, -1 when unknown.
func size(r *Response) int64 {
	if r.Truncated {
		return r.Size
	}
	return int64(len(r.Body))
}

func capturedDesc(r *Response) string {
	d := digest(r.Body)
	if !r.Truncated {
		return d
	}
	total := "unknown size"
	if r.Size >= 0 {
		total = strconv.FormatInt(r.Size, 10) + " bytes"
	}
	return total + ", captured " + d
}

// bodyDiff records a difference about the body as a whole.
func (c *comparison) bodyDiff(kind Kind, primary, candidate, note string) {
	if c.r.body.ignore {
		return
	}
	c.out = append(c.out, Difference{Path: "body", Pattern: "body", Kind: kind, Primary: primary, Candidate: candidate, Note: note})
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
