package diff

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"
	"github.com/google/go-cmp/cmp"
)

// resp builds a response; hdr is name, value pairs.
func resp(status int, body string, hdr ...string) *Response {
	h := http.Header{}
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Add(hdr[i], hdr[i+1])
	}
	return &Response{Status: status, Header: h, Body: []byte(body), Size: int64(len(body))}
}

func jsonResp(body string, hdr ...string) *Response {
	return resp(200, body, append([]string{"Content-Type", "application/json"}, hdr...)...)
}

// d is a difference whose pattern equals its path.
func d(path string, kind Kind, primary, candidate string) Difference {
	return Difference{Path: path, Pattern: path, Kind: kind, Primary: primary, Candidate: candidate}
}

func withNote(x Difference, note string) Difference    { x.Note = note; return x }
func withPattern(x Difference, p string) Difference    { x.Pattern = p; return x }
func withSecurity(x Difference, s Security) Difference { x.Security = s; return x }

func gz(s string) string {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func zl(s string) string {
	var b bytes.Buffer
	w := zlib.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func rawDeflate(s string) string {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestSpeed)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func br(s string) string {
	var b bytes.Buffer
	w := brotli.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.String()
}

func mustRules(t testing.TB, opts ...Option) *Rules {
	t.Helper()
	r, err := NewRules(opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCompare(t *testing.T) {
	deep := func(depth int, leaf string) string {
		return strings.Repeat(`{"n":[`, depth) + leaf + strings.Repeat(`]}`, depth)
	}
	deepPath := "body" + strings.Repeat(".n.0", 5000) + ".v"
	deepPattern := "body" + strings.Repeat(".n.#", 5000) + ".v"
	tests := []struct {
		name      string
		reason    string
		primary   *Response
		candidate *Response
		opts      []Option
		want      []Difference
		notes     []string
	}{
		// status
		{name: "status equal", primary: jsonResp(`1`), candidate: jsonResp(`1`)},
		{name: "status changed", primary: resp(201, ""), candidate: resp(200, ""),
			want: []Difference{d("status", Changed, "201", "200")}},

		// JSON semantics
		{name: "key order is irrelevant", primary: jsonResp(`{"a":1,"b":{"c":2,"d":3}}`), candidate: jsonResp(`{"b":{"d":3,"c":2},"a":1}`)},
		{name: "numbers by exact value", reason: "1 ≡ 1.0 ≡ 1e0 ≡ 10e-1, -0 ≡ 0",
			primary: jsonResp(`[1,1,1,1,0,100,0.5]`), candidate: jsonResp(`[1.0,1e0,10e-1,0.1e1,-0,1E2,5e-1]`)},
		{name: "big integers differ exactly", reason: "no float64 rounding",
			primary: jsonResp(`{"id":12345678901234567890}`), candidate: jsonResp(`{"id":12345678901234567891}`),
			want: []Difference{d("body.id", Changed, "12345678901234567890", "12345678901234567891")}},
		{name: "huge exponents", primary: jsonResp(`[1e999999999999999999999,1e999999999999999999999]`),
			candidate: jsonResp(`[10e999999999999999999998,1e999999999999999999998]`),
			want:      []Difference{withPattern(d("body.1", Changed, "1e999999999999999999999", "1e999999999999999999998"), "body.#")}},
		{name: "escaped and literal text are the same string", primary: jsonResp(`{"name":"caf\u00e9 \ud83d\ude00","k\u00e9y":1}`),
			candidate: jsonResp(`{"name":"café 😀","kéy":1}`)},
		{name: "null is not missing", primary: jsonResp(`{"a":null,"b":1}`), candidate: jsonResp(`{"b":1}`),
			want: []Difference{d("body.a", Missing, "null", "")}},
		{name: "extra member", primary: jsonResp(`{"b":1}`), candidate: jsonResp(`{"b":1,"c":[1]}`),
			want: []Difference{d("body.c", Extra, "", "[1]")}},
		{name: "type differs", primary: jsonResp(`{"id":42,"tags":[]}`), candidate: jsonResp(`{"id":"42","tags":{}}`),
			want: []Difference{
				withNote(d("body.id", Type, "42", `"42"`), "primary is a number, candidate a string"),
				withNote(d("body.tags", Type, "[]", "{}"), "primary is an array, candidate an object"),
			}},
		{name: "booleans of different value are changed, not type", primary: jsonResp(`[true]`), candidate: jsonResp(`[false]`),
			want: []Difference{withPattern(d("body.0", Changed, "true", "false"), "body.#")}},
		{name: "array elements by index, pattern with #",
			primary:   jsonResp(`{"items":[{"a":{"u":"x"}},{"a":{"u":"y"}},{"a":{"u":"z"}}]}`),
			candidate: jsonResp(`{"items":[{"a":{"u":"x"}},{"a":{"u":"Y"}}]}`),
			want: []Difference{
				withPattern(d("body.items.1.a.u", Changed, `"y"`, `"Y"`), "body.items.#.a.u"),
				withPattern(d("body.items.2", Missing, `{"a":{"u":"z"}}`, ""), "body.items.#"),
			}},
		{name: "keys are escaped the gjson way", primary: jsonResp(`{"a.b":{"x*y":1,"#":2,"q?":3,"p|q":4}}`),
			candidate: jsonResp(`{"a.b":{"x*y":2,"#":3,"q?":4,"p|q":5}}`),
			want: []Difference{
				d(`body.a\.b.\#`, Changed, "2", "3"),
				d(`body.a\.b.p\|q`, Changed, "4", "5"),
				d(`body.a\.b.q\?`, Changed, "3", "4"),
				d(`body.a\.b.x\*y`, Changed, "1", "2"),
			}},
		{name: "paths sort indexes numerically", primary: jsonResp(`[0,1,2,3,4,5,6,7,8,9,10,11]`), candidate: jsonResp(`[0,1,9,3,4,5,6,7,8,9,99,11]`),
			want: []Difference{withPattern(d("body.2", Changed, "2", "9"), "body.#"), withPattern(d("body.10", Changed, "10", "99"), "body.#")}},
		{name: "duplicate keys: the last one counts", reason: "as JSON.parse",
			primary: jsonResp(`{"a":1,"a":2,"b":1}`), candidate: jsonResp(`{"b":1,"a":2}`)},
		{name: "duplicate keys in the same order compare the last", primary: jsonResp(`{"a":1,"a":2}`), candidate: jsonResp(`{"a":3,"a":2}`)},
		{name: "whitespace is irrelevant", primary: jsonResp("{\n  \"a\": [ 1, 2 ]\n}\n"), candidate: jsonResp(`{"a":[1,2]}`)},
		{name: "large reordered objects use a lookup",
			primary:   jsonResp(bigObject(100, false, -1)),
			candidate: jsonResp(bigObject(100, true, 42)),
			want:      []Difference{d("body.k42", Changed, "42", "-1")}},
		{name: "nesting of 5000 levels, difference at the bottom", reason: "no recursion on input depth",
			primary: jsonResp(deep(5000, `{"v":1}`)), candidate: jsonResp(deep(5000, `{"v":2}`)),
			want: []Difference{withPattern(d(deepPath, Changed, "1", "2"), deepPattern)}},
		{name: "nesting of 50000 levels, equal after reformatting", primary: jsonResp(strings.Repeat("[", 50000) + strings.Repeat("]", 50000)),
			candidate: jsonResp(strings.Repeat("[ ", 50000) + strings.Repeat("] ", 50000))},

		// values
		{name: "long values are truncated with their length", primary: jsonResp(`{"s":"` + strings.Repeat("a", 300) + `"}`),
			candidate: jsonResp(`{"s":"b"}`),
			want:      []Difference{d("body.s", Changed, `"`+strings.Repeat("a", 199)+"…[302 bytes]", `"b"`)}},
		{name: "secret keys are redacted, at any depth", primary: jsonResp(`{"u":{"apiKey":"k1","name":"a"},"list":[{"password":"p"}]}`),
			candidate: jsonResp(`{"u":{"apiKey":"k2","name":"a"},"list":[{"password":"q"}]}`),
			want: []Difference{
				withPattern(d("body.list.0.password", Changed, testRedactor.Mark(`"p"`), testRedactor.Mark(`"q"`)), "body.list.#.password"),
				d("body.u.apiKey", Changed, testRedactor.Mark(`"k1"`), testRedactor.Mark(`"k2"`)),
			}},
		{name: "short secret names and values nested under a secret name are redacted",
			primary:   jsonResp(`{"pass":"p1","jwt":"j1","password2":{"value":"v1"},"credentials":{"pass":"c1","n":1}}`),
			candidate: jsonResp(`{"pass":"p2","jwt":"j2","password2":{"value":"v2"},"credentials":{"pass":"c2","n":2}}`),
			want: []Difference{
				d("body.credentials.n", Changed, testRedactor.Mark("1"), testRedactor.Mark("2")),
				d("body.credentials.pass", Changed, testRedactor.Mark(`"c1"`), testRedactor.Mark(`"c2"`)),
				d("body.jwt", Changed, testRedactor.Mark(`"j1"`), testRedactor.Mark(`"j2"`)),
				d("body.pass", Changed, testRedactor.Mark(`"p1"`), testRedactor.Mark(`"p2"`)),
				d("body.password2.value", Changed, testRedactor.Mark(`"v1"`), testRedactor.Mark(`"v2"`)),
			}},
		{name: "secret members inside a shown value are redacted", primary: jsonResp(`{"u":{"token":"abc"}}`), candidate: jsonResp(`{"u":null}`),
			want: []Difference{withNote(d("body.u", Type, `{"token":"`+testRedactor.Mark("abc")+`"}`, "null"), "primary is an object, candidate a null")}},

		// headers
		{name: "default-ignored headers", primary: resp(200, "", "Date", "Mon", "Server", "a", "X-Powered-By", "Express", "Content-Length", "0", "Etag", `"1"`, "Keep-Alive", "timeout=5"),
			candidate: resp(200, "", "Date", "Tue", "Server", "fastify", "Etag", `W/"2"`, "Connection", "close", "Via", "1.1 x")},
		{name: "IncludeHeaders compares a default-ignored header", primary: resp(200, "", "Etag", `"1"`), candidate: resp(200, "", "Etag", `"2"`),
			opts: []Option{IncludeHeaders("ETag")},
			want: []Difference{d("header.Etag", Changed, `"1"`, `"2"`)}},
		{name: "header names are case-insensitive, lists ignore comma spacing", primary: resp(200, "", "x-thing", "a,b"),
			candidate: &Response{Status: 200, Header: http.Header{"X-THING": {"a", " b"}}}},
		{name: "header changed, missing, extra", primary: resp(200, "", "Cache-Control", "no-store", "X-Request-Id", "r1"),
			candidate: resp(200, "", "Cache-Control", "max-age=60", "Access-Control-Allow-Origin", "*"),
			want: []Difference{
				withSecurity(d("header.Access-Control-Allow-Origin", Extra, "", "*"), CORSAnyOrigin),
				d("header.Cache-Control", Changed, "no-store", "max-age=60"),
				d("header.X-Request-Id", Missing, "r1", ""),
			}},
		{name: "token-set headers ignore order and case", primary: resp(200, "", "Vary", "Origin, Accept", "Allow", "GET, POST", "Cache-Control", "no-cache, No-Store"),
			candidate: resp(200, "", "Vary", "accept", "Vary", "origin", "Allow", "POST,GET", "Cache-Control", "no-store, no-cache")},
		{name: "content-type charset utf-8 is the default", primary: jsonResp(`{}`), candidate: resp(200, `{}`, "Content-Type", "application/json; charset=UTF-8")},
		{name: "content-type other charset differs", primary: resp(200, "x", "Content-Type", "text/plain; charset=iso-8859-1"), candidate: resp(200, "x", "Content-Type", "text/plain; charset=utf-8"),
			want: []Difference{d("header.Content-Type", Changed, "text/plain; charset=iso-8859-1", "text/plain; charset=utf-8")}},
		{name: "content-type media type differs", primary: jsonResp(`{}`), candidate: resp(200, `{}`, "Content-Type", "text/plain;charset=UTF-8"),
			want: []Difference{d("header.Content-Type", Changed, "application/json", "text/plain;charset=UTF-8")}},
		{name: "secret headers are redacted", primary: resp(200, "", "Set-Cookie", "sid=abc; Path=/", "X-Api-Key", "k1"),
			candidate: resp(200, "", "Set-Cookie", "sid=xyz; Path=/", "X-Api-Key", "k2"),
			want: []Difference{
				d("header.Set-Cookie.sid.Value", Changed, testRedactor.Mark("abc"), testRedactor.Mark("xyz")),
				d("header.X-Api-Key", Changed, testRedactor.Mark("k1"), testRedactor.Mark("k2")),
			}},
		{name: "secret query parameters of a redirect are redacted", primary: resp(302, "", "Location", "/cb?code=abc&state=s1"), candidate: resp(302, "", "Location", "/cb?code=xyz&state=s1"),
			want: []Difference{d("header.Location", Changed, "/cb?code="+testRedactor.Mark("abc")+"&state="+testRedactor.Mark("s1"), "/cb?code="+testRedactor.Mark("xyz")+"&state="+testRedactor.Mark("s1"))}},
		{name: "several Set-Cookie in any order", primary: resp(200, "", "Set-Cookie", "a=1", "Set-Cookie", "b=2"), candidate: resp(200, "", "Set-Cookie", "b=2", "Set-Cookie", "a=1")},

		// content-encoding
		{name: "gzip against identity, bodies equal", primary: jsonResp(`{"a":1}`),
			candidate: jsonResp(gz(`{"a":1}`), "Content-Encoding", "gzip", "Vary", "Accept-Encoding")},
		{name: "gzip against identity, bodies differ: only the body difference", reason: "both decode, so the encoding is transport",
			primary: jsonResp(`{"a":1}`), candidate: jsonResp(gz(`{"a":2}`), "Content-Encoding", "gzip", "Vary", "Accept-Encoding"),
			want: []Difference{d("body.a", Changed, "1", "2")}},
		{name: "fastify compress: br with a dropped member", reason: "the real GET /api/activity: br and vary on the candidate, a regression in the body",
			primary:   jsonResp(`{"items":[{"actor":{"id":"u-1","avatarUrl":null}}]}`),
			candidate: jsonResp(br(`{"items":[{"actor":{"id":"u-1"}}]}`), "Vary", "accept-encoding", "Content-Encoding", "br"),
			want:      []Difference{withPattern(d("body.items.0.actor.avatarUrl", Missing, "null", ""), "body.items.#.actor.avatarUrl")}},
		{name: "vary keeps its other tokens", primary: jsonResp(`{}`, "Vary", "Origin"),
			candidate: jsonResp(gz(`{}`), "Content-Encoding", "gzip", "Vary", "Accept-Encoding"),
			want:      []Difference{d("header.Vary", Missing, "Origin", "")}},
		{name: "vary keeps its other tokens when the bodies differ", primary: jsonResp(`{"a":1}`, "Vary", "Origin"),
			candidate: jsonResp(gz(`{"a":2}`), "Content-Encoding", "gzip", "Vary", "Accept-Encoding, Accept-Language"),
			want: []Difference{
				d("body.a", Changed, "1", "2"),
				d("header.Vary", Changed, "Origin", "Accept-Encoding, Accept-Language"),
			}},
		{name: "ignoring the differing body path leaves no transport difference", primary: jsonResp(`{"a":1}`),
			candidate: jsonResp(gz(`{"a":2}`), "Content-Encoding", "gzip"), opts: []Option{Ignore("body.a")}},
		{name: "both sides encoded differently, bodies differ", primary: jsonResp(gz(`[1]`), "Content-Encoding", "gzip"),
			candidate: jsonResp(br(`[2]`), "Content-Encoding", "br"),
			want:      []Difference{withPattern(d("body.0", Changed, "1", "2"), "body.#")}},
		{name: "unknown coding: the encoding is compared", reason: "the body could not be decoded, so the header explains it",
			primary: jsonResp(`{}`), candidate: jsonResp("\x1f\x9d", "Content-Encoding", "compress", "Vary", "Accept-Encoding"),
			want: []Difference{
				withNote(d("body", Changed, digest([]byte(`{}`)), digest([]byte("\x1f\x9d"))),
					`candidate body could not be decoded: unsupported content-encoding "compress" (compared by length and hash of the encoded bytes)`),
				d("header.Content-Encoding", Extra, "", "compress"),
				d("header.Vary", Extra, "", "Accept-Encoding"),
			}},
		{name: "encoded body captured in part: the encoding is compared", reason: "a partial capture cannot be decoded",
			primary:   &Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: []byte(`[1,`), Truncated: true, Size: 5000},
			candidate: &Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}, Body: []byte(gz(`[1,`)), Truncated: true, Size: 300},
			want: []Difference{
				withNote(d("body", Changed, "5000 bytes, captured "+digest([]byte(`[1,`)), "300 bytes, captured "+digest([]byte(gz(`[1,`)))),
					"body captured only in part: compared by length and hash of the first 3 bytes"),
				d("header.Content-Encoding", Extra, "", "gzip"),
			}},
		{name: "deflate, zlib-wrapped", primary: jsonResp(`[1]`), candidate: jsonResp(zl(`[1]`), "Content-Encoding", "deflate")},
		{name: "deflate, raw", primary: jsonResp(`[1]`), candidate: jsonResp(rawDeflate(`[1]`), "Content-Encoding", "deflate")},
		{name: "brotli", primary: jsonResp(br(`[1]`), "Content-Encoding", "br"), candidate: jsonResp(`[1.0]`)},
		{name: "two codings", primary: jsonResp(`[1]`), candidate: jsonResp(br(gz(`[1]`)), "Content-Encoding", "gzip, br")},
		{name: "a bomb is a difference with a note", primary: jsonResp(`{}`),
			candidate: jsonResp(gz(strings.Repeat("0", 5000)), "Content-Encoding", "gzip"), opts: []Option{MaxDecodedBytes(1000)},
			want: []Difference{
				withNote(d("body", Changed, digest([]byte(`{}`)), digest([]byte(gz(strings.Repeat("0", 5000))))),
					"candidate body could not be decoded: gzip: decodes to more than the cap of 1000 bytes (compared by length and hash of the encoded bytes)"),
				d("header.Content-Encoding", Extra, "", "gzip"),
			}},
		{name: "corrupt gzip", primary: jsonResp(`{}`), candidate: jsonResp("not gzip", "Content-Encoding", "gzip"),
			want: []Difference{
				withNote(d("body", Changed, digest([]byte(`{}`)), digest([]byte("not gzip"))),
					"candidate body could not be decoded: gzip: unexpected EOF (compared by length and hash of the encoded bytes)"),
				d("header.Content-Encoding", Extra, "", "gzip"),
			}},

		// kinds of body
		{name: "claimed JSON that does not parse", primary: jsonResp(`{"a":1}`), candidate: jsonResp(`{"a":1`),
			want: []Difference{withNote(d("body", Changed, `{"a":1}`, `"{\"a\":1"`), "candidate body claims application/json but is not valid JSON: unexpected end of JSON input at offset 6")}},
		{name: "html error page against JSON", primary: jsonResp(`{"a":1}`), candidate: resp(200, "<html>", "Content-Type", "text/html"),
			want: []Difference{
				withNote(d("body", Changed, `{"a":1}`, `"<html>"`), "candidate body (text/html) is not valid JSON: invalid character '<' looking for a value at offset 0"),
				d("header.Content-Type", Changed, "application/json", "text/html"),
			}},
		{name: "empty against JSON", primary: jsonResp(`{"a":1}`), candidate: jsonResp(``),
			want: []Difference{withNote(d("body", Missing, `{"a":1}`, ""), "candidate body is empty")}},
		{name: "text exact", primary: resp(200, "hello\nworld", "Content-Type", "text/plain"), candidate: resp(200, "hello\nWorld", "Content-Type", "text/plain"),
			want: []Difference{withNote(d("body", Changed, `"hello\nworld"`, `"hello\nWorld"`), "texts differ from line 2, column 1 (byte 6)")}},
		{name: "binary by length and hash", primary: resp(200, "\x89PNG\x00\x01", "Content-Type", "image/png"), candidate: resp(200, "\x89PNG\x00\x02", "Content-Type", "image/png"),
			want: []Difference{withNote(d("body", Changed, digest([]byte("\x89PNG\x00\x01")), digest([]byte("\x89PNG\x00\x02"))), "binary bodies differ (compared by length and hash)")}},
		{name: "over MaxBodyBytes: length and hash", primary: jsonResp(`{"a":"0123456789"}`), candidate: jsonResp(`{"a":"0123456780"}`), opts: []Option{MaxBodyBytes(10)},
			want: []Difference{withNote(d("body", Changed, digest([]byte(`{"a":"0123456789"}`)), digest([]byte(`{"a":"0123456780"}`))), "body over 10 bytes: compared by length and hash")}},
		{name: "captured in part", primary: &Response{Status: 200, Body: []byte("abc"), Truncated: true, Size: 10}, candidate: &Response{Status: 200, Body: []byte("abcdefghij"), Size: 10}},
		{name: "captured in part, sizes differ", primary: &Response{Status: 200, Body: []byte("abc"), Truncated: true, Size: 10}, candidate: &Response{Status: 200, Body: []byte("abcdefghi"), Size: 9},
			want: []Difference{withNote(d("body", Changed, "10 bytes, captured "+digest([]byte("abc")), digest([]byte("abcdefghi"))), "body captured only in part: compared by length and hash of the first 3 bytes")}},

		// server-sent events
		{name: "sse regardless of framing", primary: resp(200, "event: a\ndata: {\"x\": 1}\n\nevent: b\ndata: [1,\ndata: 2]\n\n", "Content-Type", "text/event-stream"),
			candidate: resp(200, ": hi\r\n\r\nevent:a\r\ndata:{\"x\":1.0}\r\n\r\n: keep-alive\r\n\r\nevent: b\r\ndata: [1,2]\r\n\r\n", "Content-Type", "text/event-stream")},
		{name: "sse event name and data", primary: resp(200, "data: {\"t\":\"a\"}\n\nevent: end\ndata: ok\n\n", "Content-Type", "text/event-stream"),
			candidate: resp(200, "event: message\ndata: {\"t\":\"b\"}\n\nevent: done\ndata: ok\n\ndata: extra\n\n", "Content-Type", "text/event-stream"),
			want: []Difference{
				withPattern(d("body.0.data.t", Changed, `"a"`, `"b"`), "body.#.data.t"),
				withPattern(d("body.1.event", Changed, `"end"`, `"done"`), "body.#.event"),
				withPattern(d("body.2", Extra, "", `{"event":"message","data":"extra"}`), "body.#"),
			}},

		// rules
		{name: "ignore exact", primary: jsonResp(`{"a":1,"b":1}`), candidate: jsonResp(`{"a":2,"b":2}`), opts: []Option{Ignore("body.a")},
			want: []Difference{d("body.b", Changed, "1", "2")}},
		{name: "ignore with #", primary: jsonResp(`{"x":[{"t":1,"u":1},{"t":1}]}`), candidate: jsonResp(`{"x":[{"t":2,"u":2},{"t":3}]}`), opts: []Option{Ignore("body.x.#.t")},
			want: []Difference{withPattern(d("body.x.0.u", Changed, "1", "2"), "body.x.#.u")}},
		{name: "ignore a subtree", primary: jsonResp(`{"meta":{"a":1,"b":[1]},"c":1}`), candidate: jsonResp(`{"meta":{"a":2},"c":1}`), opts: []Option{Ignore("body.meta")}},
		{name: "ignore a missing member", primary: jsonResp(`{"a":1,"b":1}`), candidate: jsonResp(`{"b":1}`), opts: []Option{Ignore("body.a")}},
		{name: "ignore with a glob", primary: jsonResp(`{"createdAt":1,"updatedAt":1,"n":1}`), candidate: jsonResp(`{"createdAt":2,"updatedAt":2,"n":2}`), opts: []Option{Ignore("body.*At")},
			want: []Difference{d("body.n", Changed, "1", "2")}},
		{name: "ignore an escaped key", primary: jsonResp(`{"a.b":1,"a":{"b":1}}`), candidate: jsonResp(`{"a.b":2,"a":{"b":2}}`), opts: []Option{Ignore(`body.a\.b`)},
			want: []Difference{d("body.a.b", Changed, "1", "2")}},
		{name: "ignore the whole body", primary: jsonResp(`{"a":1}`), candidate: jsonResp(`[2]`), opts: []Option{Ignore("body")}},
		{name: "ignore status and headers", primary: resp(200, "", "X-A", "1", "X-Ratelimit-Limit", "5"), candidate: resp(500, "", "X-A", "2", "X-Ratelimit-Limit", "6"),
			opts: []Option{Ignore("status", "header.x-a", "header.X-Ratelimit-*")}},
		{name: "unordered arrays", primary: jsonResp(`{"r":[{"id":1,"s":[1,2]},{"id":2},{"id":3}]}`), candidate: jsonResp(`{"r":[{"id":3},{"s":[1,2],"id":1},{"id":2}]}`),
			opts: []Option{Unordered("body.r")}},
		{name: "unordered arrays with a changed element and a surplus", primary: jsonResp(`{"r":[1,2,3,4]}`), candidate: jsonResp(`{"r":[4,3,9,1,2]}`), opts: []Option{Unordered("body.r")},
			want: []Difference{withPattern(d("body.r.2", Extra, "", "9"), "body.r.#")}},
		{name: "unordered multiset counts", primary: jsonResp(`[1,1,2]`), candidate: jsonResp(`[2,1,2]`), opts: []Option{Unordered("body")},
			want: []Difference{withPattern(d("body.1", Changed, "1", "2"), "body.#")}},
		{name: "unordered nested with #, under rules", primary: jsonResp(`{"a":[{"t":["x","y"],"ts":1}]}`), candidate: jsonResp(`{"a":[{"t":["y","x"],"ts":2}]}`),
			opts: []Option{Unordered("body.a.#.t"), Ignore("body.a.#.ts")}},
		{name: "ordered arrays are ordered", primary: jsonResp(`[1,2]`), candidate: jsonResp(`[2,1]`),
			want: []Difference{withPattern(d("body.0", Changed, "1", "2"), "body.#"), withPattern(d("body.1", Changed, "2", "1"), "body.#")}},
		{name: "tolerance", primary: jsonResp(`{"s":0.1,"t":1}`), candidate: jsonResp(`{"s":0.1000000001,"t":1.1}`), opts: []Option{Tolerance(1e-6)},
			want: []Difference{d("body.t", Changed, "1", "1.1")}},
		{name: "shape: types and keys only", primary: jsonResp(`{"msg":{"text":"hello","n":1,"parts":["a","b"]},"id":1}`),
			candidate: jsonResp(`{"msg":{"text":"bonjour","n":2,"parts":["c"]},"id":2}`), opts: []Option{Shape("body.msg")},
			want: []Difference{d("body.id", Changed, "1", "2")}},
		{name: "shape still sees keys and types", primary: jsonResp(`{"msg":{"text":"hello","n":1}}`), candidate: jsonResp(`{"msg":{"text":1,"m":1}}`), opts: []Option{Shape("body.msg")},
			want: []Difference{
				d("body.msg.m", Extra, "", "1"),
				d("body.msg.n", Missing, "1", ""),
				withNote(d("body.msg.text", Type, `"hello"`, "1"), "primary is a string, candidate a number"),
			}},

		// the error envelope default
		{name: "fastify error envelope", primary: resp(404, `{"message":"nope"}`, "Content-Type", "application/json"),
			candidate: resp(404, `{"statusCode":404,"error":"Not Found","message":"nope"}`, "Content-Type", "application/json; charset=utf-8")},
		{name: "error envelope with Node's reason phrase", primary: resp(413, `{}`, "Content-Type", "application/json"),
			candidate: resp(413, `{"error":"Payload Too Large","statusCode":413}`, "Content-Type", "application/json")},
		{name: "error envelope must hold the status", primary: resp(404, `{"message":"nope"}`, "Content-Type", "application/json"),
			candidate: resp(404, `{"statusCode":500,"error":"Not Found","message":"nope"}`, "Content-Type", "application/json"),
			want:      []Difference{d("body.statusCode", Extra, "", "500")}},
		{name: "fastify error envelope with its code", reason: "the real validation error: statusCode, code, error and message",
			primary: resp(400, `{"message":"body/name must be string"}`, "Content-Type", "application/json"),
			candidate: resp(400, `{"statusCode":400,"code":"FST_ERR_VALIDATION","error":"Bad Request","message":"body/name must be string"}`,
				"Content-Type", "application/json; charset=utf-8")},
		{name: "fastify error envelope with its code, many members", reason: "an object looked up by map",
			primary:   resp(415, bigObject(40, false, -1), "Content-Type", "application/json"),
			candidate: resp(415, strings.TrimSuffix(bigObject(40, true, -1), "}")+`,"code":"FST_ERR_CTP_INVALID_MEDIA_TYPE","statusCode":415,"error":"Unsupported Media Type"}`, "Content-Type", "application/json")},
		{name: "an envelope code needs the envelope's statusCode", primary: resp(400, `{"message":"bad"}`, "Content-Type", "application/json"),
			candidate: resp(400, `{"code":"FST_ERR_VALIDATION","message":"bad"}`, "Content-Type", "application/json"),
			want:      []Difference{d("body.code", Extra, "", `"FST_ERR_VALIDATION"`)}},
		{name: "an envelope code is an error code", primary: resp(400, `{"message":"bad"}`, "Content-Type", "application/json"),
			candidate: resp(400, `{"statusCode":400,"code":"name is required","message":"bad"}`, "Content-Type", "application/json"),
			want:      []Difference{d("body.code", Extra, "", `"name is required"`)}},
		{name: "a code the primary sends too is compared", primary: resp(400, `{"code":"E_NAME","message":"bad"}`, "Content-Type", "application/json"),
			candidate: resp(400, `{"statusCode":400,"code":"FST_ERR_VALIDATION","message":"bad"}`, "Content-Type", "application/json"),
			want:      []Difference{d("body.code", Changed, `"E_NAME"`, `"FST_ERR_VALIDATION"`)}},
		{name: "no envelope on success", primary: jsonResp(`{"message":"ok"}`), candidate: jsonResp(`{"statusCode":200,"message":"ok"}`),
			want: []Difference{d("body.statusCode", Extra, "", "200")}},
		{name: "strict envelope", primary: resp(400, `{"message":"bad"}`, "Content-Type", "application/json"),
			candidate: resp(400, `{"statusCode":400,"code":"FST_ERR_VALIDATION","error":"Bad Request","message":"bad"}`, "Content-Type", "application/json"), opts: []Option{StrictErrorEnvelope()},
			want: []Difference{d("body.code", Extra, "", `"FST_ERR_VALIDATION"`), d("body.error", Extra, "", `"Bad Request"`), d("body.statusCode", Extra, "", "400")}},

		// the error-page default
		{name: "sveltekit error page against fastify json 404", reason: "the real GET /api/nope",
			primary: resp(404, "<!doctype html>\n<html><body><h1>404</h1><p>Not Found</p></body></html>", "Content-Type", "text/html",
				"Link", `<../_app/immutable/entry/start.js>; rel="modulepreload"; nopush`, "X-Sveltekit-Page", "true", "Etag", `"djyc4j"`),
			candidate: resp(404, `{"message":"Route GET:/api/nope not found","error":"Not Found","statusCode":404}`, "Content-Type", "application/json; charset=utf-8"),
			notes:     []string{"error page: both answered 404, the primary as text/html, the candidate as application/json; body, Content-Type and Link not compared"}},
		{name: "json error against an html error page", primary: resp(500, `{"message":"boom"}`, "Content-Type", "application/json"),
			candidate: resp(500, "<html>boom</html>", "Content-Type", "text/html; charset=utf-8"),
			notes:     []string{"error page: both answered 500, the primary as application/json, the candidate as text/html; body, Content-Type and Link not compared"}},
		{name: "error page pair still compares its other headers", primary: resp(404, "<html></html>", "Content-Type", "text/html", "Cache-Control", "no-store", "Link", "<a.js>; rel=preload"),
			candidate: resp(404, `{}`, "Content-Type", "application/json", "Cache-Control", "max-age=60"),
			want:      []Difference{d("header.Cache-Control", Changed, "no-store", "max-age=60")},
			notes:     []string{"error page: both answered 404, the primary as text/html, the candidate as application/json; body, Content-Type and Link not compared"}},
		{name: "error pages with different statuses are compared", reason: "the status is compared, and the default needs it equal",
			primary:   resp(404, "<html></html>", "Content-Type", "text/html", "Link", "<a.js>; rel=preload"),
			candidate: resp(500, `{}`, "Content-Type", "application/json"),
			want: []Difference{
				withNote(d("body", Changed, `"<html></html>"`, "{}"), "primary body (text/html) is not valid JSON: invalid character '<' looking for a value at offset 0"),
				d("header.Content-Type", Changed, "text/html", "application/json"),
				d("header.Link", Missing, "<a.js>; rel=preload", ""),
				d("status", Changed, "404", "500"),
			}},
		{name: "strict error pages", primary: resp(404, "<html></html>", "Content-Type", "text/html", "Link", "<a.js>; rel=preload", "X-Sveltekit-Page", "true"),
			candidate: resp(404, `{}`, "Content-Type", "application/json"), opts: []Option{StrictErrorPages()},
			want: []Difference{
				withNote(d("body", Changed, `"<html></html>"`, "{}"), "primary body (text/html) is not valid JSON: invalid character '<' looking for a value at offset 0"),
				d("header.Content-Type", Changed, "text/html", "application/json"),
				d("header.Link", Missing, "<a.js>; rel=preload", ""),
			}},
		{name: "json error against json error is compared", primary: resp(404, `{"message":"no such session"}`, "Content-Type", "application/json"),
			candidate: resp(404, `{"message":"Not found","error":"Not Found","statusCode":404}`, "Content-Type", "application/json", "Link", "<a.js>"),
			want: []Difference{
				d("body.message", Changed, `"no such session"`, `"Not found"`),
				d("header.Link", Extra, "", "<a.js>"),
			}},
		{name: "html against json on success is compared", primary: resp(200, "<html></html>", "Content-Type", "text/html"),
			candidate: jsonResp(`{}`),
			want: []Difference{
				withNote(d("body", Changed, `"<html></html>"`, "{}"), "primary body (text/html) is not valid JSON: invalid character '<' looking for a value at offset 0"),
				d("header.Content-Type", Changed, "text/html", "application/json"),
			}},
		{name: "html against plain text error is compared", primary: resp(404, "<html></html>", "Content-Type", "text/html"),
			candidate: resp(404, "Not Found", "Content-Type", "text/plain"),
			want: []Difference{
				withNote(d("body", Changed, `"<html></html>"`, `"Not Found"`), "texts differ from line 1, column 1 (byte 0)"),
				d("header.Content-Type", Changed, "text/html", "text/plain"),
			}},

		// default-ignored headers of the frameworks
		{name: "adapter-node's X-Accel-Buffering on an event stream", primary: resp(200, "data: 1\n\n", "Content-Type", "text/event-stream", "X-Accel-Buffering", "no"),
			candidate: resp(200, "data: 1\n\n", "Content-Type", "text/event-stream")},
		{name: "X-Accel-Buffering compared when included", primary: resp(200, "data: 1\n\n", "Content-Type", "text/event-stream", "X-Accel-Buffering", "no"),
			candidate: resp(200, "data: 1\n\n", "Content-Type", "text/event-stream"), opts: []Option{IncludeHeaders("x-accel-buffering")},
			want: []Difference{d("header.X-Accel-Buffering", Missing, "no", "")}},
		{name: "X-Sveltekit-Page is not compared", primary: resp(200, "<html></html>", "Content-Type", "text/html", "X-Sveltekit-Page", "true"),
			candidate: resp(200, "<html></html>", "Content-Type", "text/html")},

		// limits
		{name: "max differences", primary: jsonResp(`[1,2,3,4,5]`), candidate: jsonResp(`[0,0,0,0,0]`), opts: []Option{MaxDifferences(2)},
			want: []Difference{withPattern(d("body.0", Changed, "1", "0"), "body.#"), withPattern(d("body.1", Changed, "2", "0"), "body.#")}},
		{name: "nil responses compare as empty", primary: nil, candidate: resp(0, "")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rules := mustRules(t, append([]Option{Redaction(testRedactor)}, tc.opts...)...)
			res := Compare(tc.primary, tc.candidate, rules)
			got := res.Differences
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Compare differences (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.notes, res.Notes); diff != "" {
				t.Errorf("Compare notes (-want +got):\n%s", diff)
			}
			// Every reported path, ignored, silences exactly that difference.
			for _, x := range got {
				if len(got) >= DefaultMaxDifferences || tc.name == "max differences" {
					break // a capped list moves up when one path is ignored
				}
				for _, p := range []string{x.Path, x.Pattern} {
					again := Compare(tc.primary, tc.candidate, mustRules(t, append(tc.opts, Ignore(p))...)).Differences
					for _, y := range again {
						if y.Path == x.Path && y.Kind == x.Kind {
							t.Errorf("Ignore(%q) left %s %s", p, y.Path, y.Kind)
						}
					}
					if p == x.Path && len(again) != len(got)-1 {
						t.Errorf("Ignore(%q) removed %d differences, want 1:\n%v", p, len(got)-len(again), again)
					}
				}
			}
		})
	}
}

// bigObject renders {"k0":0,...}; reversed lists the members backwards; changed, when
// >= 0, names the member whose value is -1.
func bigObject(n int, reversed bool, changed int) string {
	parts := make([]string, n)
	for i := 0; i < n; i++ {
		v := i
		if i == changed {
			v = -1
		}
		parts[i] = `"k` + itoa(i) + `":` + itoa(v)
	}
	if reversed {
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestCompareResultIsSortedAndEqual(t *testing.T) {
	res := Compare(jsonResp(`{"b":1,"a":1}`, "X-B", "1"), resp(500, `{"b":2,"a":2}`, "Content-Type", "application/json", "X-B", "2"), nil)
	var paths []string
	for _, x := range res.Differences {
		paths = append(paths, x.Path)
	}
	want := []string{"body.a", "body.b", "header.X-B", "status"}
	if diff := cmp.Diff(want, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	if res.Equal() {
		t.Error("Equal() = true with differences")
	}
	if !Compare(jsonResp(`{}`), jsonResp(`{ }`), nil).Equal() {
		t.Error("Equal() = false for equal responses")
	}
}

func TestCompareTruncatedFlag(t *testing.T) {
	res := Compare(jsonResp(`[1,2,3]`), jsonResp(`[3,2,1]`), mustRules(t, MaxDifferences(1)))
	if !res.Truncated || len(res.Differences) != 1 {
		t.Errorf("Truncated = %v with %d differences, want true with 1", res.Truncated, len(res.Differences))
	}
}

// TestCompareConcurrent shares one *Rules between goroutines (run with -race).
func TestCompareConcurrent(t *testing.T) {
	rules := mustRules(t, Ignore("body.t"), Unordered("body.r"), Shape("body.s"), Tolerance(0.01))
	p := jsonResp(`{"t":1,"r":[1,2,{"a":1}],"s":{"x":"y"},"n":1.001,"m":"a"}`)
	c := jsonResp(`{"r":[{"a":1},2,1],"s":{"x":"z"},"n":1,"m":"b","t":2}`)
	want := Compare(p, c, rules)
	done := make(chan Result)
	for i := 0; i < 8; i++ {
		go func() { done <- Compare(p, c, rules) }()
	}
	for i := 0; i < 8; i++ {
		if diff := cmp.Diff(want, <-done); diff != "" {
			t.Errorf("concurrent result differs (-want +got):\n%s", diff)
		}
	}
}
