package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

var jsonSeeds = []string{
	`{"a":1,"b":[1,2,{"c":null}],"d":"\u00e9\ud83d\ude00","e":true,"f":-0.5e-3}`,
	`[1,1.0,1e0,10e-1,12345678901234567890]`,
	`{"a":1,"a":2}`,
	`{"":{"":[]}}`,
	`"\ud800"`,
	`[[[[[[[[[[]]]]]]]]]]`,
	`{"x.y":{"#":{"*":1}}}`,
	`{"a":1,`,
	"[1,\n2 ,3 ]\t",
	`nul`,
	`{"statusCode":404,"error":"Not Found"}`,
	`["\udc00"]`,
	`["\ufffd","\ud800\ud800","\ud83d\ude00"]`,
	`{"\ud800":1,"\udc00":2}`,
	`{"\ud800":1,"\ud800":2}`,
	`["\ud800x","\ud83d"]`,
	"[\"\xed\xa0\x80\",\"\xff\"]",
	`{"code":"FST_ERR_VALIDATION","statusCode":400,"error":"Bad Request"}`,
}

// FuzzCompareJSON: the tape accepts exactly what encoding/json accepts; a document
// compared with itself, or with its re-encoding by encoding/json, is equal; comparing
// two documents never panics and finds as many differences both ways round.
func FuzzCompareJSON(f *testing.F) {
	for i, s := range jsonSeeds {
		f.Add([]byte(s), []byte(jsonSeeds[(i+1)%len(jsonSeeds)]))
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		tp := getTape()
		err := tp.parse(a)
		putTape(tp)
		if (err == nil) != json.Valid(a) {
			t.Fatalf("tape.parse(%q) = %v, json.Valid = %v", a, err, json.Valid(a))
		}
		if res := Compare(jsonResp(string(a)), jsonResp(string(a)), nil); !res.Equal() {
			t.Fatalf("%q against itself: %v", a, res.Differences)
		}
		ab := Compare(jsonResp(string(a)), jsonResp(string(b)), nil)
		ba := Compare(jsonResp(string(b)), jsonResp(string(a)), nil)
		if len(ab.Differences) != len(ba.Differences) && !ab.Truncated && !ba.Truncated {
			t.Fatalf("%q vs %q: %d differences one way, %d the other:\n%v\n%v", a, b, len(ab.Differences), len(ba.Differences), ab.Differences, ba.Differences)
		}
		if err != nil || !utf8.Valid(a) {
			return
		}
		v, ok := decodeJS(a)
		if !ok {
			return // deeper than encoding/json goes
		}
		if w, ok := decodeJS(b); ok && utf8.Valid(b) {
			if got, want := ab.Equal(), refEqual(v, w); got != want {
				t.Fatalf("%q vs %q: Compare says equal=%v, decoding says %v: %v", a, b, got, want, ab.Differences)
			}
		}
		plain, _ := decodeNumbers(a)
		re, err := json.Marshal(plain)
		if err != nil {
			return
		}
		// encoding/json decodes a lone surrogate to U+FFFD, so the re-encoding is
		// equal exactly when the reference says so.
		rv, _ := decodeJS(re)
		if got, want := Compare(jsonResp(string(a)), jsonResp(string(re)), nil).Equal(), refEqual(v, rv); got != want {
			t.Fatalf("%q against its re-encoding %q: Compare says equal=%v, decoding says %v", a, re, got, want)
		}
	})
}

// FuzzParseResponse: any input gives a response or a one-line error, never a panic.
func FuzzParseResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}"))
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
	f.Add([]byte("HTTP/2 404\r\ncontent-type: text/plain\r\n\r\nnot found"))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"))
	f.Add([]byte(`{"bare":"json"}`))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseResponse(data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		if r == nil {
			t.Fatal("nil response without an error")
		}
		// Whatever parsed compares equal to itself.
		if res := Compare(r, r, nil); !res.Equal() {
			t.Fatalf("response against itself: %v", res.Differences)
		}
	})
}

// FuzzRedactJSON: redaction never panics, leaves non-JSON alone and keeps JSON valid.
func FuzzRedactJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Add([]byte(`{"password":"x","list":{"token":[1,"2",{"k":3}]}}`))
	f.Add([]byte(`{"pass":"p","jwt":"e.y.j","password2":{"value":"v"},"credentials":{"pass":"c"}}`))
	f.Add([]byte(`{"p\u0061ssword":{"a":[true,null,{"b":1.5e3}]},"userPass":false}`))
	f.Add([]byte(`[{"apiKeys":[[["k"]]]},{"session":{"id":7}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out := testRedactor.JSON(data)
		if !json.Valid(data) {
			if !bytes.Equal(out, data) {
				t.Fatalf("RedactJSON changed non-JSON %q to %q", data, out)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("testRedactor.JSON(%q) = %q, not JSON", data, out)
		}
		var v any
		if json.Unmarshal(out, &v) == nil {
			if leak := unredacted(v, false); leak != "" {
				t.Fatalf("testRedactor.JSON(%q) = %q keeps %s under a secret name", data, out, leak)
			}
		}
	})
}

// unredacted returns a value of v under a secret member name that is not a
// marker, or "".
func unredacted(v any, secret bool) string {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s := unredacted(e, secret || IsSecretKey(k)); s != "" {
				return s
			}
		}
	case []any:
		for _, e := range v {
			if s := unredacted(e, secret); s != "" {
				return s
			}
		}
	default:
		if s, ok := v.(string); secret && (!ok || !strings.HasPrefix(s, "[redacted:")) {
			return fmt.Sprintf("%v", v)
		}
	}
	return ""
}

// FuzzRedactTarget: a secret path or query parameter's value never survives
// Target, and garbage never panics.
func FuzzRedactTarget(f *testing.F) {
	f.Add("jsessionid", "ABC123", "/app/x")
	f.Add("pass", "hunter2", "/a;v=1/b")
	f.Add("code", "oauth", "/cb")
	f.Add("title", "x", "/%zz;;=?&#")
	f.Fuzz(func(t *testing.T, name, value, path string) {
		testRedactor.Target(path + ";" + name + "=" + value + "?" + name + "=" + value)
		if !IsSecretParam(name) || value == "" || strings.ContainsAny(name+value, ";/?#&=%+") || strings.ContainsAny(path, "?#") {
			return
		}
		out := testRedactor.Target(path + ";" + name + "=" + value + "/z?" + name + "=" + value)
		if n := strings.Count(out, name+"="+testRedactor.Mark(value)); n != 2 {
			t.Fatalf("Target kept a secret parameter: %q", out)
		}
	})
}

// decodeJS decodes data as a JavaScript client sees it: like decodeNumbers, with every
// string (and member name) taken as its UTF-16 code units — the way JSON.parse keeps
// a lone surrogate — written out in hex, so that equal strings decode equal.
func decodeJS(data []byte) (any, bool) {
	if !json.Valid(data) {
		return nil, false
	}
	return decodeNumbers(codeUnitStrings(data))
}

// codeUnitStrings rewrites every string of the valid JSON document data as the hex of
// its UTF-16 code units: raw text decoded from UTF-8 (each bad byte U+FFFD), each
// \uXXXX escape one code unit as written.
func codeUnitStrings(data []byte) []byte {
	var out []byte
	for i := 0; i < len(data); i++ {
		if data[i] != '"' {
			out = append(out, data[i])
			continue
		}
		var units []uint16
		for i++; data[i] != '"'; {
			if data[i] == '\\' {
				switch e := data[i+1]; e {
				case 'u':
					n, _ := strconv.ParseUint(string(data[i+2:i+6]), 16, 16)
					units = append(units, uint16(n))
					i += 6
					continue
				case 'b':
					units = append(units, '\b')
				case 'f':
					units = append(units, '\f')
				case 'n':
					units = append(units, '\n')
				case 'r':
					units = append(units, '\r')
				case 't':
					units = append(units, '\t')
				default:
					units = append(units, uint16(e))
				}
				i += 2
				continue
			}
			r, w := utf8.DecodeRune(data[i:])
			units = utf16.AppendRune(units, r)
			i += w
		}
		out = append(out, '"')
		for _, u := range units {
			out = fmt.Appendf(out, "%04x", u)
		}
		out = append(out, '"')
	}
	return out
}

func decodeNumbers(data []byte) (any, bool) {
	if !json.Valid(data) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil || dec.More() {
		return nil, false
	}
	return v, true
}

// refEqual is the reference semantics: decoded values equal, numbers by exact value.
func refEqual(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !refEqual(xv, yv) {
				return false
			}
		}
		return true
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !refEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return false
		}
		if len(x) > 30 || len(y) > 30 || strings.ContainsAny(string(x)+string(y), "eE") {
			return numbersEqual([]byte(x), []byte(y)) // big.Rat would take too long on huge exponents
		}
		rx, _ := new(big.Rat).SetString(string(x))
		ry, _ := new(big.Rat).SetString(string(y))
		return rx.Cmp(ry) == 0
	default:
		return a == b
	}
}

// FuzzCompareHeaders: header values of any shape, under the names compared by meaning,
// never panic; a response equals itself; every path reported is accepted by Ignore
// and silences its difference.
func FuzzCompareHeaders(f *testing.F) {
	seeds := [][3]string{
		{"Set-Cookie", "sid=1; Path=/; HttpOnly; Secure; SameSite=Lax", "sid=2; path=/; samesite=none"},
		{"Set-Cookie", "a.b#c=1; Domain=.x.com; Expires=Mon, 01 Dec 2025 11:00:00 GMT", "a.b#c=1; Max-Age=0; Priority=High"},
		{"Set-Cookie", "garbage", "=; ;;"},
		{"Location", "../a/./b?x=1#f", "HTTP://Host:80/a/b?x=1"},
		{"Content-Security-Policy", "default-src 'self'; script-src 'nonce-a'", "script-src *, frame-ancestors 'none'"},
		{"Strict-Transport-Security", "max-age=31536000; includeSubDomains", `max-age="x"`},
		{"Cache-Control", `no-cache="a, b", max-age=1`, `max-age="1", no-cache="a,b"`},
		{"Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT", "0"},
		{"Referrer-Policy", "no-referrer, unsafe-url", "bogus"},
		{"Access-Control-Allow-Origin", "*", "https://a.example"},
		{"X-Frame-Options", "DENY", "ALLOW-FROM https://a"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, name, a, b string) {
		u, _ := url.Parse("https://host/api/x/y")
		p := resp(200, "", name, a, "Date", "Mon, 01 Dec 2025 10:00:00 GMT")
		q := resp(200, "", name, b)
		p.Request = &Request{URL: u, Origin: "https://a.example"}
		if res := Compare(p, p, nil); !res.Equal() {
			t.Fatalf("%s: %q against itself: %v", name, a, res.Differences)
		}
		res := Compare(p, q, nil)
		for _, x := range res.Differences {
			rules, err := NewRules(Ignore(x.Path))
			if err != nil {
				t.Fatalf("path %q is not accepted by Ignore: %v", x.Path, err)
			}
			for _, y := range Compare(p, q, rules).Differences {
				if y.Path == x.Path && y.Kind == x.Kind {
					t.Fatalf("Ignore(%q) leaves it", x.Path)
				}
			}
		}
	})
}
