package diff

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSecurityRegressions: each rule marks the difference that weakens the client's
// protection, at the difference's own path; a change that does not weaken it, or
// strengthens it, is a difference without the mark.
func TestSecurityRegressions(t *testing.T) {
	type mark struct {
		Path     string
		Security Security
	}
	const api = "https://app.example/api/v1/session"
	tests := []struct {
		rule               Security
		name               string
		primary, candidate *Response
		want               []mark // every difference, with its mark ("" = none)
	}{
		// cookies
		{CookieHttpOnlyLost, "HttpOnly dropped", resp(200, "", "Set-Cookie", "sid=1; HttpOnly"), resp(200, "", "Set-Cookie", "sid=1"),
			[]mark{{"header.Set-Cookie.sid.HttpOnly", CookieHttpOnlyLost}}},
		{CookieHttpOnlyLost, "HttpOnly added is no regression", resp(200, "", "Set-Cookie", "sid=1"), resp(200, "", "Set-Cookie", "sid=1; HttpOnly"),
			[]mark{{"header.Set-Cookie.sid.HttpOnly", ""}}},
		{CookieHttpOnlyLost, "a cookie dropped whole is no regression", resp(200, "", "Set-Cookie", "sid=1; HttpOnly"), resp(200, ""),
			[]mark{{"header.Set-Cookie.sid", ""}}},
		{CookieSecureLost, "Secure dropped", resp(200, "", "Set-Cookie", "sid=1; secure"), resp(200, "", "Set-Cookie", "sid=1"),
			[]mark{{"header.Set-Cookie.sid.Secure", CookieSecureLost}}},
		{CookieSameSiteWeakened, "Strict to Lax", resp(200, "", "Set-Cookie", "sid=1; SameSite=Strict"), resp(200, "", "Set-Cookie", "sid=1; SameSite=Lax"),
			[]mark{{"header.Set-Cookie.sid.SameSite", CookieSameSiteWeakened}}},
		{CookieSameSiteWeakened, "Lax dropped", resp(200, "", "Set-Cookie", "sid=1; SameSite=Lax"), resp(200, "", "Set-Cookie", "sid=1"),
			[]mark{{"header.Set-Cookie.sid.SameSite", CookieSameSiteWeakened}}},
		{CookieSameSiteWeakened, "Lax to None", resp(200, "", "Set-Cookie", "sid=1; SameSite=Lax"), resp(200, "", "Set-Cookie", "sid=1; SameSite=None; Secure"),
			[]mark{{"header.Set-Cookie.sid.SameSite", CookieSameSiteWeakened}, {"header.Set-Cookie.sid.Secure", ""}}},
		{CookieSameSiteWeakened, "None to Strict is stronger", resp(200, "", "Set-Cookie", "sid=1; SameSite=None"), resp(200, "", "Set-Cookie", "sid=1; SameSite=Strict"),
			[]mark{{"header.Set-Cookie.sid.SameSite", ""}}},
		{CookieDomainWidened, "host-only to a Domain", resp(200, "", "Set-Cookie", "sid=1"), resp(200, "", "Set-Cookie", "sid=1; Domain=example.com"),
			[]mark{{"header.Set-Cookie.sid.Domain", CookieDomainWidened}}},
		{CookieDomainWidened, "to a parent domain", resp(200, "", "Set-Cookie", "sid=1; Domain=app.example.com"), resp(200, "", "Set-Cookie", "sid=1; Domain=example.com"),
			[]mark{{"header.Set-Cookie.sid.Domain", CookieDomainWidened}}},
		{CookieDomainWidened, "to host-only is narrower", resp(200, "", "Set-Cookie", "sid=1; Domain=example.com"), resp(200, "", "Set-Cookie", "sid=1"),
			[]mark{{"header.Set-Cookie.sid.Domain", ""}}},
		{CookiePathWidened, "to an ancestor path", resp(200, "", "Set-Cookie", "sid=1; Path=/api"), resp(200, "", "Set-Cookie", "sid=1; Path=/"),
			[]mark{{"header.Set-Cookie.sid.Path", CookiePathWidened}}},
		{CookiePathWidened, "dropped, the default path wider", atURL(resp(200, "", "Set-Cookie", "sid=1; Path=/api/v1/session"), api, ""),
			resp(200, "", "Set-Cookie", "sid=1"),
			[]mark{{"header.Set-Cookie.sid.Path", CookiePathWidened}}},
		{CookiePathWidened, "to a sibling is not wider", resp(200, "", "Set-Cookie", "sid=1; Path=/api"), resp(200, "", "Set-Cookie", "sid=1; Path=/apix"),
			[]mark{{"header.Set-Cookie.sid.Path", ""}}},

		// CORS
		{CORSAnyOrigin, "to any origin", resp(200, "", "Access-Control-Allow-Origin", "https://app.example"), resp(200, "", "Access-Control-Allow-Origin", "*"),
			[]mark{{"header.Access-Control-Allow-Origin", CORSAnyOrigin}}},
		{CORSAnyOrigin, "from any origin to one is narrower", resp(200, "", "Access-Control-Allow-Origin", "*"), resp(200, "", "Access-Control-Allow-Origin", "https://app.example"),
			[]mark{{"header.Access-Control-Allow-Origin", ""}}},
		{CORSOriginWidened, "reflects an origin the primary refused", atURL(resp(200, ""), api, "https://evil.example"),
			resp(200, "", "Access-Control-Allow-Origin", "https://evil.example"),
			[]mark{{"header.Access-Control-Allow-Origin", CORSOriginWidened}}},
		{CORSOriginWidened, "allows another origin than the request's: refused either way", atURL(resp(200, "", "Access-Control-Allow-Origin", "https://app.example"), api, "https://app.example"),
			resp(200, "", "Access-Control-Allow-Origin", "https://other.example"),
			[]mark{{"header.Access-Control-Allow-Origin", ""}}},
		{CORSCredentialsAdded, "credentials allowed", resp(200, "", "Access-Control-Allow-Origin", "https://app.example"),
			resp(200, "", "Access-Control-Allow-Origin", "https://app.example", "Access-Control-Allow-Credentials", "true"),
			[]mark{{"header.Access-Control-Allow-Credentials", CORSCredentialsAdded}}},

		// transport security, content and framing
		{HSTSWeakened, "dropped", resp(200, "", "Strict-Transport-Security", "max-age=31536000"), resp(200, ""),
			[]mark{{"header.Strict-Transport-Security", HSTSWeakened}}},
		{HSTSWeakened, "shorter max-age", resp(200, "", "Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
			resp(200, "", "Strict-Transport-Security", "max-age=0; includeSubDomains"),
			[]mark{{"header.Strict-Transport-Security", HSTSWeakened}}},
		{HSTSWeakened, "includeSubDomains dropped", resp(200, "", "Strict-Transport-Security", "max-age=300; includeSubDomains"),
			resp(200, "", "Strict-Transport-Security", "max-age=300"),
			[]mark{{"header.Strict-Transport-Security", HSTSWeakened}}},
		{HSTSWeakened, "longer max-age is stronger", resp(200, "", "Strict-Transport-Security", "max-age=300"),
			resp(200, "", "Strict-Transport-Security", "max-age=600"),
			[]mark{{"header.Strict-Transport-Security", ""}}},
		{CSPWeakened, "dropped", resp(200, "", "Content-Security-Policy", "default-src 'self'"), resp(200, ""),
			[]mark{{"header.Content-Security-Policy", CSPWeakened}}},
		{CSPWeakened, "a source added", resp(200, "", "Content-Security-Policy", "default-src 'self'; script-src 'self'"),
			resp(200, "", "Content-Security-Policy", "default-src 'self'; script-src 'self' 'unsafe-inline'"),
			[]mark{{"header.Content-Security-Policy", CSPWeakened}}},
		{CSPWeakened, "a directive dropped onto a wider default-src", resp(200, "", "Content-Security-Policy", "default-src *; script-src 'self'"),
			resp(200, "", "Content-Security-Policy", "default-src *"),
			[]mark{{"header.Content-Security-Policy", CSPWeakened}}},
		{CSPWeakened, "a directive dropped onto an equal default-src", resp(200, "", "Content-Security-Policy", "default-src 'self'; script-src 'self'"),
			resp(200, "", "Content-Security-Policy", "default-src 'self'"),
			[]mark{{"header.Content-Security-Policy", ""}}},
		{CSPWeakened, "a source removed is stronger", resp(200, "", "Content-Security-Policy", "img-src 'self' data:"),
			resp(200, "", "Content-Security-Policy", "img-src 'self'"),
			[]mark{{"header.Content-Security-Policy", ""}}},
		{FramingWeakened, "X-Frame-Options dropped", resp(200, "", "X-Frame-Options", "DENY"), resp(200, ""),
			[]mark{{"header.X-Frame-Options", FramingWeakened}}},
		{FramingWeakened, "X-Frame-Options DENY to SAMEORIGIN", resp(200, "", "X-Frame-Options", "DENY"), resp(200, "", "X-Frame-Options", "sameorigin"),
			[]mark{{"header.X-Frame-Options", FramingWeakened}}},
		{FramingWeakened, "X-Frame-Options dropped for an equal frame-ancestors", resp(200, "", "X-Frame-Options", "DENY"),
			resp(200, "", "Content-Security-Policy", "frame-ancestors 'none'"),
			[]mark{{"header.Content-Security-Policy", ""}, {"header.X-Frame-Options", ""}}},
		{FramingWeakened, "frame-ancestors widened", resp(200, "", "Content-Security-Policy", "frame-ancestors 'self'"),
			resp(200, "", "Content-Security-Policy", "frame-ancestors 'self' https://partner.example"),
			[]mark{{"header.Content-Security-Policy", FramingWeakened}}},
		{NoSniffDropped, "dropped", resp(200, "", "X-Content-Type-Options", "nosniff"), resp(200, ""),
			[]mark{{"header.X-Content-Type-Options", NoSniffDropped}}},
		{NoSniffDropped, "added is stronger", resp(200, ""), resp(200, "", "X-Content-Type-Options", "nosniff"),
			[]mark{{"header.X-Content-Type-Options", ""}}},
		{ReferrerPolicyWeakened, "no-referrer to unsafe-url", resp(200, "", "Referrer-Policy", "no-referrer"), resp(200, "", "Referrer-Policy", "unsafe-url"),
			[]mark{{"header.Referrer-Policy", ReferrerPolicyWeakened}}},
		{ReferrerPolicyWeakened, "same-origin dropped to the default", resp(200, "", "Referrer-Policy", "same-origin"), resp(200, ""),
			[]mark{{"header.Referrer-Policy", ReferrerPolicyWeakened}}},
		{ReferrerPolicyWeakened, "unsafe-url dropped to the default is stronger", resp(200, "", "Referrer-Policy", "unsafe-url"), resp(200, ""),
			[]mark{{"header.Referrer-Policy", ""}}},

		// status
		{AuthBypassed, "403 answered 200", resp(403, ""), resp(200, ""), []mark{{"status", AuthBypassed}}},
		{AuthBypassed, "401 answered 204", resp(401, ""), resp(204, ""), []mark{{"status", AuthBypassed}}},
		{AuthBypassed, "401 answered 404", resp(401, ""), resp(404, ""), []mark{{"status", ""}}},
		{AuthBypassed, "200 answered 403", resp(200, ""), resp(403, ""), []mark{{"status", ""}}},
	}
	for _, tc := range tests {
		t.Run(string(tc.rule)+"/"+tc.name, func(t *testing.T) {
			var got []mark
			for _, x := range Compare(tc.primary, tc.candidate, nil).Differences {
				got = append(got, mark{x.Path, x.Security})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("marks (-want +got):\n%s", diff)
			}
			if tc.rule.Reason() == "" {
				t.Errorf("%s has no reason", tc.rule)
			}
		})
	}
}
