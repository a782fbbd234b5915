package report

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/parity-dev/parity/diff"
)

// TestWriteDifferencesGolden renders the differences of real comparisons, one case
// after another, into one golden file as go-cmp keeps for its own output: each
// case between "<<< name" and ">>> name" (go test ./report -run WriteDifferences
// -update rewrites it).
func TestWriteDifferencesGolden(t *testing.T) {
	js := http.Header{"Content-Type": {"application/json"}}
	resp := func(status int, h http.Header, body string) *diff.Response {
		return &diff.Response{Status: status, Header: h, Body: []byte(body), Size: int64(len(body))}
	}
	tests := []struct {
		name               string
		primary, candidate *diff.Response
		color              bool
		given              []diff.Difference // rendered as they are, instead of a comparison
	}{
		{name: "equal", primary: resp(200, js, `{"a":1}`), candidate: resp(200, js, `{"a":1}`)},
		{name: "status", primary: resp(201, js, `{}`), candidate: resp(200, js, `{}`)},
		{name: "headers",
			primary:   resp(200, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}, "Etag": {`"v1"`}}, `{}`),
			candidate: resp(200, http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Etag": {`"v2"`}, "X-Powered-By": {"Fastify"}}, `{}`)},
		{name: "secret header values are markers",
			primary:   resp(200, http.Header{"Content-Type": {"application/json"}, "Set-Cookie": {"sid=primary-secret-1; Path=/"}}, `{}`),
			candidate: resp(200, http.Header{"Content-Type": {"application/json"}, "Set-Cookie": {"sid=candidate-secret-2; Path=/"}}, `{}`)},
		{name: "json members",
			primary:   resp(200, js, `{"id":"s1","title":"a","tags":["x"],"owner":{"name":"n"},"n":12345678901234567890}`),
			candidate: resp(200, js, `{"id":"s1","title":"b","tags":"x","owner":{},"n":12345678901234567891,"extra":true}`)},
		{name: "array elements share a pattern",
			primary:   resp(200, js, `{"items":[{"avatarUrl":"a.png"},{"avatarUrl":"b.png"}]}`),
			candidate: resp(200, js, `{"items":[{"avatarUrl":"a.webp"},{"avatarUrl":"b.webp"}]}`)},
		{name: "empty string and null",
			primary:   resp(200, js, `{"a":"","b":null}`),
			candidate: resp(200, js, `{"a":null,"b":""}`)},
		{name: "text bodies",
			primary:   resp(200, http.Header{"Content-Type": {"text/plain"}}, "hello\nworld\n"),
			candidate: resp(200, http.Header{"Content-Type": {"text/plain"}}, "hello\nthere\n")},
		{name: "not JSON where JSON was promised",
			primary:   resp(200, js, `{"ok":true}`),
			candidate: resp(500, http.Header{"Content-Type": {"text/html"}}, "<h1>Internal Server Error</h1>")},
		{name: "a key with a newline is quoted", given: []diff.Difference{
			{Path: "body.k\ney", Kind: diff.Type, Primary: "1", Candidate: `"1"`},
			{Path: "body.b", Kind: diff.Missing, Primary: `"x"`},
			{Path: "header.X-Y", Kind: diff.Extra, Candidate: ""},
			{Path: "body.a", Kind: diff.Changed, Primary: "1", Candidate: "2", Note: "a note"},
		}},
		{name: "colour", color: true, given: []diff.Difference{
			{Path: "body.a", Kind: diff.Changed, Primary: "1", Candidate: "2", Note: "a note"},
			{Path: "body.b", Kind: diff.Missing, Primary: `"x"`},
			{Path: "header.X-Y", Kind: diff.Extra, Candidate: ""},
			{Path: "body.k\ney", Kind: diff.Type, Primary: "1", Candidate: `"1"`},
		}},
	}
	var out bytes.Buffer
	for _, tc := range tests {
		ds := tc.given
		if ds == nil {
			ds = diff.Compare(tc.primary, tc.candidate, nil).Differences
		}
		out.WriteString("<<< " + tc.name + "\n")
		if err := WriteDifferences(&out, ds, tc.color); err != nil {
			t.Fatal(err)
		}
		out.WriteString(">>> " + tc.name + "\n\n")
	}
	golden(t, "differences.golden", out.Bytes())
}
