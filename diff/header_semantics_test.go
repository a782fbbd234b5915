package diff

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// atURL makes r answer a request for rawURL (with the Origin header origin, when set).
func atURL(r *Response, rawURL, origin string) *Response {
	u, err := url.Parse(rawURL)
	if err != nil {
		panic(err)
	}
	r.Request = &Request{URL: u, Origin: origin}
	return r
}

func withNoteSec(x Difference, note string, s Security) Difference {
	x.Note, x.Security = note, s
	return x
}

// TestHeaderSemantics: each header whose meaning to a client is not its text is
// compared by that meaning, and what differs in meaning is still reported, at a path
// that Ignore takes.
func TestHeaderSemantics(t *testing.T) {
	const date = "Mon, 01 Dec 2025 10:00:00 GMT"
	tests := []struct {
		name, reason       string
		primary, candidate *Response
		opts               []Option
		want               []Difference
	}{
		// Set-Cookie
		{name: "cookie attributes in any order and case", reason: "the real SvelteKit and Fastify spellings of one session cookie",
			primary:   resp(200, "", "Set-Cookie", "sid=abc; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax"),
			candidate: resp(200, "", "Set-Cookie", "sid=abc; Path=/; Max-Age=3600; SameSite=lax; Secure; HttpOnly")},
		{name: "cookie domain with a leading dot, in any case", primary: resp(200, "", "Set-Cookie", "a=1; Domain=.Example.com"),
			candidate: resp(200, "", "Set-Cookie", "a=1; domain=example.com")},
		{name: "cookies in any order", primary: resp(200, "", "Set-Cookie", "a=1", "Set-Cookie", "b=2"),
			candidate: resp(200, "", "Set-Cookie", "b=2", "Set-Cookie", "a=1")},
		{name: "cookie lost HttpOnly: its own path, marked",
			primary:   resp(200, "", "Set-Cookie", "sid=abc; Path=/; HttpOnly; Secure"),
			candidate: resp(200, "", "Set-Cookie", "sid=abc; Path=/; Secure"),
			want:      []Difference{withSecurity(d("header.Set-Cookie.sid.HttpOnly", Missing, "HttpOnly", ""), CookieHttpOnlyLost)}},
		{name: "cookie value differs, redacted", primary: resp(200, "", "Set-Cookie", "sid=abc; HttpOnly"),
			candidate: resp(200, "", "Set-Cookie", "sid=xyz; HttpOnly"),
			want:      []Difference{d("header.Set-Cookie.sid.Value", Changed, testRedactor.Mark("abc"), testRedactor.Mark("xyz"))}},
		{name: "cookie attribute changed", primary: resp(200, "", "Set-Cookie", "sid=a; Max-Age=3600"),
			candidate: resp(200, "", "Set-Cookie", "sid=a; Max-Age=60"),
			want:      []Difference{d("header.Set-Cookie.sid.Max-Age", Changed, "3600", "60")}},
		{name: "cookie missing and extra", primary: resp(200, "", "Set-Cookie", "a=1; Path=/"),
			candidate: resp(200, "", "Set-Cookie", "b=2"),
			want: []Difference{
				d("header.Set-Cookie.a", Missing, "a="+testRedactor.Mark("1")+"; Path=/", ""),
				d("header.Set-Cookie.b", Extra, "", "b="+testRedactor.Mark("2")),
			}},
		{name: "a cookie name with a dot is escaped", primary: resp(200, "", "Set-Cookie", "a.b=1; Secure"),
			candidate: resp(200, "", "Set-Cookie", "a.b=1"),
			want:      []Difference{withSecurity(d(`header.Set-Cookie.a\.b.Secure`, Missing, "Secure", ""), CookieSecureLost)}},
		{name: "cookie Expires compares as the lifetime from Date", reason: "each instance stamps its own clock",
			primary:   resp(200, "", "Date", "Mon, 01 Dec 2025 10:00:00 GMT", "Set-Cookie", "a=1; Expires=Mon, 01 Dec 2025 11:00:00 GMT"),
			candidate: resp(200, "", "Date", "Mon, 01 Dec 2025 10:00:07 GMT", "Set-Cookie", "a=1; Expires=Mon, 01 Dec 2025 11:00:07 GMT")},
		{name: "cookie Expires with another lifetime", primary: resp(200, "", "Date", date, "Set-Cookie", "a=1; Expires=Mon, 01 Dec 2025 11:00:00 GMT"),
			candidate: resp(200, "", "Date", date, "Set-Cookie", "a=1; Expires=Thu, 01 Jan 1970 00:00:00 GMT"),
			want: []Difference{withNote(d("header.Set-Cookie.a.Expires", Changed, "Mon, 01 Dec 2025 11:00:00 GMT", "Thu, 01 Jan 1970 00:00:00 GMT"),
				"the cookie's lifetime (Expires less the response's Date) differs")}},
		{name: "a SameSite value a client ignores reads as absent", primary: resp(200, "", "Set-Cookie", "a=1; SameSite=Strict"),
			candidate: resp(200, "", "Set-Cookie", "a=1; SameSite=maybe"),
			want: []Difference{withNoteSec(d("header.Set-Cookie.a.SameSite", Missing, "Strict", ""),
				"the candidate's SameSite has a value a client ignores", CookieSameSiteWeakened)}},
		{name: "ignore one attribute of every cookie", primary: resp(200, "", "Set-Cookie", "a=1; Max-Age=1", "Set-Cookie", "b=1; Max-Age=1; Secure"),
			candidate: resp(200, "", "Set-Cookie", "a=1; Max-Age=2", "Set-Cookie", "b=1; Max-Age=2"), opts: []Option{Ignore("header.Set-Cookie.*.max-age")},
			want: []Difference{withSecurity(d("header.Set-Cookie.b.Secure", Missing, "Secure", ""), CookieSecureLost)}},
		{name: "ignore a cookie's value only", primary: resp(200, "", "Set-Cookie", "sid=a; HttpOnly"),
			candidate: resp(200, "", "Set-Cookie", "sid=b"), opts: []Option{Ignore("header.Set-Cookie.sid.Value")},
			want: []Difference{withSecurity(d("header.Set-Cookie.sid.HttpOnly", Missing, "HttpOnly", ""), CookieHttpOnlyLost)}},
		{name: "a line that is not a cookie compares as text", primary: resp(200, "", "Set-Cookie", "garbage"),
			candidate: resp(200, "", "Set-Cookie", "a=1"),
			want: []Difference{
				withNote(d("header.Set-Cookie", Missing, testRedactor.Mark("garbage"), ""), "Set-Cookie lines that are not cookies"),
				d("header.Set-Cookie.a", Extra, "", "a="+testRedactor.Mark("1")),
			}},

		// Location and Content-Location
		{name: "relative and absolute Location to one target",
			primary:   atURL(resp(308, "", "Location", "/api/docs/x?view=compact"), "http://host/api/docs/x/?view=compact", ""),
			candidate: atURL(resp(308, "", "Location", "http://host/api/docs/x?view=compact"), "http://host/api/docs/x/?view=compact", "")},
		{name: "Location resolved against the request path", primary: atURL(resp(302, "", "Location", "../b"), "http://host/a/x/y", ""),
			candidate: atURL(resp(302, "", "Location", "HTTP://HOST:80/a/b"), "http://host/a/x/y", "")},
		{name: "each side against its own host", reason: "a replay sends each backend its own Host",
			primary:   atURL(resp(302, "", "Location", "http://localhost:3000/x"), "http://localhost:3000/y", ""),
			candidate: atURL(resp(302, "", "Location", "/x"), "http://localhost:3001/y", "")},
		{name: "only one side's request is known", primary: atURL(resp(302, "", "Content-Location", "/x"), "https://host/y", ""),
			candidate: resp(302, "", "Content-Location", "https://host/x")},
		{name: "another origin is another target", primary: atURL(resp(302, "", "Location", "/x"), "https://host/y", ""),
			candidate: resp(302, "", "Location", "https://evil.example/x"),
			want:      []Difference{d("header.Location", Changed, "/x", "https://evil.example/x")}},
		{name: "another path is another target", primary: atURL(resp(302, "", "Location", "/x/"), "https://host/y", ""),
			candidate: resp(302, "", "Location", "https://host/x"),
			want:      []Difference{d("header.Location", Changed, "/x/", "https://host/x")}},

		// token lists
		{name: "token lists in any order and case", primary: resp(200, "", "Vary", "Origin, Accept", "Access-Control-Allow-Headers", "Content-Type, X-Token",
			"Access-Control-Expose-Headers", "X-Total", "Allow", "GET, POST", "Access-Control-Allow-Methods", "GET,POST,DELETE"),
			candidate: resp(200, "", "Vary", "accept", "Vary", "origin", "Access-Control-Allow-Headers", "x-token,content-type",
				"Access-Control-Expose-Headers", "x-total", "Allow", "POST,GET", "Access-Control-Allow-Methods", "DELETE, GET, POST")},
		{name: "methods are case-sensitive", reason: "a browser matches a preflight's method byte for byte",
			primary: resp(204, "", "Access-Control-Allow-Methods", "GET, PUT"), candidate: resp(204, "", "Access-Control-Allow-Methods", "get, put"),
			want: []Difference{d("header.Access-Control-Allow-Methods", Changed, "GET, PUT", "get, put")}},
		{name: "a token list that differs", primary: resp(200, "", "Vary", "Origin"), candidate: resp(200, "", "Vary", "Origin, Cookie"),
			want: []Difference{d("header.Vary", Changed, "Origin", "Origin, Cookie")}},
		{name: "Cache-Control directives in any order and case, quoted or not",
			primary:   resp(200, "", "Cache-Control", `private, Max-Age=60, no-cache="Set-Cookie, X-A"`),
			candidate: resp(200, "", "Cache-Control", `no-cache="Set-Cookie, X-A", max-age="60", PRIVATE`)},
		{name: "Cache-Control values still compare", primary: resp(200, "", "Cache-Control", "max-age=60"), candidate: resp(200, "", "Cache-Control", "max-age=600"),
			want: []Difference{d("header.Cache-Control", Changed, "max-age=60", "max-age=600")}},

		// dates
		{name: "Last-Modified as an instant, in any HTTP-date format", primary: resp(200, "", "Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"),
			candidate: resp(200, "", "Last-Modified", "Sunday, 06-Nov-94 08:49:37 GMT")},
		{name: "Last-Modified in asctime format", primary: resp(200, "", "Last-Modified", "Sun Nov  6 08:49:37 1994"),
			candidate: resp(200, "", "Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT")},
		{name: "Last-Modified another instant", primary: resp(200, "", "Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"),
			candidate: resp(200, "", "Last-Modified", "Sun, 06 Nov 1994 08:49:38 GMT"),
			want:      []Difference{d("header.Last-Modified", Changed, "Sun, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:38 GMT")}},
		{name: "Last-Modified not an HTTP-date", primary: resp(200, "", "Last-Modified", "Sun, 06 Nov 1994 08:49:37 GMT"),
			candidate: resp(200, "", "Last-Modified", "1994-11-06T08:49:37Z"),
			want: []Difference{withNote(d("header.Last-Modified", Changed, "Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z"),
				"the candidate's Last-Modified is not a valid HTTP-date")}},
		{name: "Expires, when compared, as an instant", primary: resp(200, "", "Expires", "0"),
			candidate: resp(200, "", "Expires", "Thu, 01 Jan 1970 00:00:00 GMT"), opts: []Option{IncludeHeaders("Expires")},
			want: []Difference{withNote(d("header.Expires", Changed, "0", "Thu, 01 Jan 1970 00:00:00 GMT"), "the primary's Expires is not a valid HTTP-date")}},
		{name: "Expires is not compared by default", primary: resp(200, "", "Expires", "0"), candidate: resp(200, "")},

		// security headers compared by meaning
		{name: "Strict-Transport-Security directives in any order and case", primary: resp(200, "", "Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
			candidate: resp(200, "", "Strict-Transport-Security", `includesubdomains; Max-Age="31536000"`)},
		{name: "Content-Security-Policy directives and sources in any order, nonces not compared",
			primary:   resp(200, "", "Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-abc' https://cdn.example"),
			candidate: resp(200, "", "Content-Security-Policy", "script-src https://CDN.example 'nonce-xyz' 'self';default-src 'self'")},
		{name: "Referrer-Policy as the policy a browser applies", primary: resp(200, "", "Referrer-Policy", "no-referrer, strict-origin-when-cross-origin"),
			candidate: resp(200, "", "Referrer-Policy", "Strict-Origin-When-Cross-Origin")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := Compare(tc.primary, tc.candidate, mustRules(t, append([]Option{Redaction(testRedactor)}, tc.opts...)...))
			if diff := cmp.Diff(tc.want, res.Differences); diff != "" {
				t.Errorf("Compare (-want +got):\n%s", diff)
			}
			// Every path silences itself and what lies under it, nothing else.
			for _, x := range res.Differences {
				want := 0
				for _, y := range res.Differences {
					if y.Path != x.Path && !strings.HasPrefix(y.Path, x.Path+".") {
						want++
					}
				}
				again := Compare(tc.primary, tc.candidate, mustRules(t, append([]Option{Redaction(testRedactor), Ignore(x.Path)}, tc.opts...)...)).Differences
				if len(again) != want {
					t.Errorf("Ignore(%q) left %v", x.Path, again)
				}
			}
		})
	}
}

// TestRequestOfEitherSide: a request given on one side serves both.
func TestRequestOfEitherSide(t *testing.T) {
	p := resp(302, "", "Location", "http://host/x")
	c := atURL(resp(302, "", "Location", "/x"), "http://host/y", "")
	if res := Compare(p, c, nil); !res.Equal() {
		t.Errorf("request on the candidate only: %v", res.Differences)
	}
	if res := Compare(resp(302, "", "Location", "/x"), &Response{Status: 302, Header: http.Header{"Location": {"http://host/x"}}}, nil); res.Equal() {
		t.Error("no request known, yet a relative and an absolute Location compare equal")
	}
}
