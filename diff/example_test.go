package diff_test

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/parity-dev/parity/diff"
)

func ExampleCompare() {
	primary := &diff.Response{
		Status: 200,
		Header: http.Header{"Content-Type": {"application/json"}, "Date": {"Thu, 01 May 2025 10:00:00 GMT"}},
		Body:   []byte(`{"id":12345678901234567890,"items":[{"name":"caf\u00e9","score":1.0}],"archivedAt":null}`),
	}
	candidate := &diff.Response{
		Status: 200,
		Header: http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Date": {"Thu, 01 May 2025 10:00:01 GMT"}},
		Body:   []byte(`{"items":[{"score":1,"name":"café!"}],"id":12345678901234567891}`),
	}
	for _, d := range diff.Compare(primary, candidate, nil).Differences {
		fmt.Printf("%s (%s) %s: %q → %q\n", d.Path, d.Pattern, d.Kind, d.Primary, d.Candidate)
	}
	// Output:
	// body.archivedAt (body.archivedAt) missing: "null" → ""
	// body.id (body.id) changed: "12345678901234567890" → "12345678901234567891"
	// body.items.0.name (body.items.#.name) changed: "\"caf\\u00e9\"" → "\"café!\""
}

func ExampleNewRules() {
	rules, err := diff.NewRules(
		diff.Ignore("header.X-Response-Time", "body.meta.requestId", "body.items.#.updatedAt"),
		diff.Unordered("body.results"),
		diff.Tolerance(1e-9),
		diff.Shape("body.#.data.delta"),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	p := &diff.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: []byte(`{"meta":{"requestId":"a"},"results":[1,2,3],"items":[{"updatedAt":"x","n":0.1}]}`)}
	c := &diff.Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: []byte(`{"meta":{"requestId":"b"},"results":[3,1,2],"items":[{"updatedAt":"y","n":0.1000000000001}]}`)}
	fmt.Println(diff.Compare(p, c, rules).Equal())

	_, err = diff.NewRules(diff.Ignore("bdy.items"))
	fmt.Println(err)
	// Output:
	// true
	// ignore path "bdy.items": must start with "status", "header" or "body"
}

func ExampleParseResponse() {
	r, err := diff.ParseResponse([]byte("HTTP/1.1 100 Continue\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n"))
	fmt.Println(r.Status, r.Header.Get("Content-Type"), string(r.Body), err)

	_, err = diff.ParseResponse([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{}"))
	fmt.Println(err)
	// Output:
	// 200 application/json {"a":1} <nil>
	// truncated body: Content-Length is 100 but only 2 bytes follow the headers
}

func ExampleRedactor() {
	// One key per deployment: parity generates it on first start, or is given it.
	red, err := diff.NewRedactor([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		panic(err)
	}
	fmt.Println(string(red.JSON([]byte(`{"user":"ana","password":"hunter2","credentials":{"pass":"hunter2","otp":123456}}`))))
	fmt.Println(red.Target("/app;jsessionid=abc/x?limit=10&access_token=abc"))
	// Output:
	// {"user":"ana","password":"[redacted:3920d54ec70f]","credentials":{"pass":"[redacted:3920d54ec70f]","otp":"[redacted:df615876fc39]"}}
	// /app;jsessionid=[redacted:a60c859a6827]/x?limit=10&access_token=[redacted:a60c859a6827]
}

func ExampleDifference_security() {
	u, _ := url.Parse("https://app.example/api/session")
	primary := &diff.Response{Status: 200, Request: &diff.Request{URL: u, Origin: "https://evil.example"},
		Header: http.Header{
			"Set-Cookie": {"sid=a1; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax"},
			"Location":   {"/api/docs/x?view=compact"},
		}}
	candidate := &diff.Response{Status: 200, Header: http.Header{
		"Set-Cookie":                  {"sid=a1; path=/; max-age=3600; samesite=lax; secure"},
		"Location":                    {"https://app.example/api/docs/x?view=compact"},
		"Access-Control-Allow-Origin": {"https://evil.example"},
	}}
	for _, d := range diff.Compare(primary, candidate, nil).Differences {
		fmt.Printf("%s %s [%s] %s\n", d.Path, d.Kind, d.Security, d.Security.Reason())
	}
	// Output:
	// header.Access-Control-Allow-Origin extra [cors_origin_widened] CORS allows an origin the primary refused
	// header.Set-Cookie.sid.HttpOnly missing [cookie_httponly_lost] a cookie lost HttpOnly: scripts on the page can read it
}
