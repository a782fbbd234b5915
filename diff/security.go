package diff

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Security regressions. A difference that weakens what protects the client is marked
// with the rule it breaks (Difference.Security), whatever else it is; a report shows
// it as a security regression and a gate can fail on it whatever the parity. The
// primary's answer is the reference: the mark says the candidate protects the client
// less than the primary did. The rules, each judged on the difference's own path:
//
//   - a cookie the candidate sets too loses HttpOnly, Secure or SameSite (Strict to
//     Lax or None, Lax to None or absent), or gets a wider Domain (a parent domain,
//     or a Domain where the primary's was host-only) or a wider Path (an ancestor of
//     the primary's, a missing Path counting as the request's default path);
//   - CORS opens wider: Access-Control-Allow-Origin becomes "*", or allows an origin
//     the primary did not (the request's Origin when known, else any origin the
//     primary did not name); Access-Control-Allow-Credentials becomes "true";
//   - Strict-Transport-Security is dropped or weakened (a shorter max-age,
//     includeSubDomains or preload dropped);
//   - Content-Security-Policy is dropped or weakened: a directive dropped (a fetch
//     directive falling back to default-src only where that is no wider), or a source
//     allowed that the primary's did not allow; nonces are not compared;
//   - framing opens wider: X-Frame-Options or CSP frame-ancestors dropped or weakened
//     (DENY or 'none' to SAMEORIGIN or 'self', to a list of origins, to any), with
//     frame-ancestors taking precedence over X-Frame-Options as browsers do;
//   - X-Content-Type-Options: nosniff dropped;
//   - Referrer-Policy weakened: the policy in force leaks more (a missing or unknown
//     policy counts as the browsers' default, strict-origin-when-cross-origin);
//   - a 401 or 403 of the primary answered 2xx by the candidate.

// Security names a rule a difference breaks; "" when it breaks none.
type Security string

// The security rules.
const (
	CookieHttpOnlyLost     Security = "cookie_httponly_lost"
	CookieSecureLost       Security = "cookie_secure_lost"
	CookieSameSiteWeakened Security = "cookie_samesite_weakened"
	CookieDomainWidened    Security = "cookie_domain_widened"
	CookiePathWidened      Security = "cookie_path_widened"
	CORSAnyOrigin          Security = "cors_any_origin"
	CORSOriginWidened      Security = "cors_origin_widened"
	CORSCredentialsAdded   Security = "cors_credentials_added"
	HSTSWeakened           Security = "hsts_weakened"
	CSPWeakened            Security = "csp_weakened"
	FramingWeakened        Security = "framing_weakened"
	NoSniffDropped         Security = "nosniff_dropped"
	ReferrerPolicyWeakened Security = "referrer_policy_weakened"
	AuthBypassed           Security = "auth_bypassed"
)

var securityReasons = map[Security]string{
	CookieHttpOnlyLost:     "a cookie lost HttpOnly: scripts on the page can read it",
	CookieSecureLost:       "a cookie lost Secure: it is sent over plain HTTP",
	CookieSameSiteWeakened: "a cookie's SameSite was weakened: it is sent on more cross-site requests",
	CookieDomainWidened:    "a cookie's Domain was widened: more hosts receive it",
	CookiePathWidened:      "a cookie's Path was widened: more paths receive it",
	CORSAnyOrigin:          "CORS allows any origin where the primary did not",
	CORSOriginWidened:      "CORS allows an origin the primary refused",
	CORSCredentialsAdded:   "CORS allows credentials where the primary did not",
	HSTSWeakened:           "Strict-Transport-Security was dropped or weakened",
	CSPWeakened:            "Content-Security-Policy was dropped or weakened",
	FramingWeakened:        "the page may be framed by more origins (X-Frame-Options, frame-ancestors)",
	NoSniffDropped:         "X-Content-Type-Options: nosniff was dropped",
	ReferrerPolicyWeakened: "Referrer-Policy leaks more of the URL",
	AuthBypassed:           "a request the primary refused (401/403) was answered 2xx",
}

// SecurityRules lists every rule, sorted.
func SecurityRules() []Security {
	out := make([]Security, 0, len(securityReasons))
	for s := range securityReasons {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Reason says in a sentence what the rule protects; "" for an unknown one.
func (s Security) Reason() string { return securityReasons[s] }

// statusSecurity marks a status difference.
func statusSecurity(primary, candidate int) Security {
	if (primary == http.StatusUnauthorized || primary == http.StatusForbidden) && candidate >= 200 && candidate < 300 {
		return AuthBypassed
	}
	return ""
}

// headerSecurity marks a difference of header name (not Set-Cookie), given both
// responses and the request; note says what weakened when the mark alone does not.
func headerSecurity(name string, p, q *Response, req *Request) (sec Security, note string) {
	vp, vq := headerValues(p.Header, name), headerValues(q.Header, name)
	switch name {
	case "Access-Control-Allow-Origin":
		return corsOriginSecurity(singleValue(vp), singleValue(vq), req), ""
	case "Access-Control-Allow-Credentials":
		if singleValue(vq) == "true" && singleValue(vp) != "true" {
			return CORSCredentialsAdded, ""
		}
	case "Strict-Transport-Security":
		return hstsSecurity(vp, vq)
	case "Content-Security-Policy":
		if framingWider(p.Header, q.Header) && !slices.Equal(enforcedCSP(p.Header)["frame-ancestors"], enforcedCSP(q.Header)["frame-ancestors"]) {
			return FramingWeakened, ""
		}
		if weaker := cspWeaker(enforcedCSP(p.Header), enforcedCSP(q.Header)); len(weaker) > 0 {
			return CSPWeakened, "weaker directives: " + strings.Join(weaker, ", ")
		}
	case "X-Frame-Options":
		if framingWider(p.Header, q.Header) {
			return FramingWeakened, ""
		}
	case "X-Content-Type-Options":
		if strings.EqualFold(singleValue(vp), "nosniff") && !strings.EqualFold(singleValue(vq), "nosniff") {
			return NoSniffDropped, ""
		}
	case "Referrer-Policy":
		if referrerRank(referrerPolicy(vq)) > referrerRank(referrerPolicy(vp)) {
			return ReferrerPolicyWeakened, ""
		}
	}
	return "", ""
}

// singleValue is a header's one value, trimmed; "" when absent or sent more than once
// (which a browser treats as invalid for the headers it is used on).
func singleValue(vs []string) string {
	if len(vs) != 1 || strings.Contains(vs[0], ",") {
		return ""
	}
	return strings.TrimSpace(vs[0])
}

// corsOriginSecurity judges Access-Control-Allow-Origin: p and q are the values, ""
// when absent or invalid.
func corsOriginSecurity(p, q string, req *Request) Security {
	switch {
	case p == q || p == "*":
		return ""
	case q == "*":
		return CORSAnyOrigin
	case q == "" || q == "null":
		return ""
	}
	if req == nil || req.Origin == "" || req.Origin == q {
		return CORSOriginWidened
	}
	return ""
}

// cookieSecurity marks a difference of attribute attr between a cookie of the primary
// and the candidate's cookie of the same name.
func cookieSecurity(attr string, a, b *setCookie, req *Request) Security {
	_, pa := a.attrs[attr]
	_, qa := b.attrs[attr]
	switch attr {
	case "HttpOnly":
		if pa && !qa {
			return CookieHttpOnlyLost
		}
	case "Secure":
		if pa && !qa {
			return CookieSecureLost
		}
	case "SameSite":
		if sameSiteRank(b) < sameSiteRank(a) {
			return CookieSameSiteWeakened
		}
	case "Domain":
		da, db := a.attrs["Domain"].cmp, b.attrs["Domain"].cmp
		if qa && db != "" && (!pa || strings.HasSuffix(da, "."+db)) {
			return CookieDomainWidened
		}
	case "Path":
		var u = requestURL(req)
		pp, okp := effectiveCookiePath(a, u)
		qp, okq := effectiveCookiePath(b, u)
		if okp && okq && pp != qp && pathWithin(pp, qp) {
			return CookiePathWidened
		}
	}
	return ""
}

// sameSiteRank orders SameSite by how many cross-site requests carry the cookie:
// Strict 3, Lax 2, absent 1 (browsers differ on the default), None 0.
func sameSiteRank(c *setCookie) int {
	switch c.attrs["SameSite"].cmp {
	case "strict":
		return 3
	case "lax":
		return 2
	case "none":
		return 0
	}
	return 1
}

// pathWithin reports whether path p lies within cookie path q (RFC 6265 §5.1.4 path-match).
func pathWithin(p, q string) bool {
	return p == q || (strings.HasPrefix(p, q) && (strings.HasSuffix(q, "/") || p[len(q)] == '/'))
}

// ---- Strict-Transport-Security ----

// hsts is a Strict-Transport-Security header as a browser reads it.
type hsts struct {
	valid         bool // it has a valid max-age
	maxAge        int64
	subs, preload bool
}

func parseHSTS(vs []string) hsts {
	var h hsts
	if len(vs) == 0 {
		return h
	}
	for _, d := range strings.Split(vs[0], ";") { // a browser reads the first value only
		k, v, _ := strings.Cut(d, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.Trim(strings.TrimSpace(v), `"`)
		switch k {
		case "max-age":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return hsts{}
			}
			h.valid, h.maxAge = true, n
		case "includesubdomains":
			h.subs = true
		case "preload":
			h.preload = true
		}
	}
	return h
}

func hstsSecurity(vp, vq []string) (Security, string) {
	p, q := parseHSTS(vp), parseHSTS(vq)
	if !p.valid || p.maxAge == 0 {
		return "", ""
	}
	var what []string
	switch {
	case !q.valid:
		what = append(what, "dropped or invalid")
	case q.maxAge < p.maxAge:
		what = append(what, "max-age "+strconv.FormatInt(p.maxAge, 10)+" lowered to "+strconv.FormatInt(q.maxAge, 10))
	}
	if q.valid && p.subs && !q.subs {
		what = append(what, "includeSubDomains dropped")
	}
	if q.valid && p.preload && !q.preload {
		what = append(what, "preload dropped")
	}
	if len(what) == 0 {
		return "", ""
	}
	return HSTSWeakened, strings.Join(what, ", ")
}

// normHSTS is Strict-Transport-Security as compared: directives in any order, names
// in any case, max-age quoted or not.
func normHSTS(vs []string) string {
	var ds []string
	for _, v := range vs {
		for _, d := range strings.Split(v, ";") {
			k, val, hasVal := strings.Cut(d, "=")
			k = strings.ToLower(strings.TrimSpace(k))
			if k == "" {
				continue
			}
			if hasVal {
				k += "=" + strings.Trim(strings.TrimSpace(val), `"`)
			}
			ds = append(ds, k)
		}
	}
	slices.Sort(ds)
	return strings.Join(ds, "; ")
}

// ---- Content-Security-Policy ----

// csp is a policy: directive name to its sources (lower-case, nonces as 'nonce-*',
// sorted). A directive without sources maps to an empty, non-nil list.
type csp map[string][]string

// parseCSP parses header values into one policy; of several policies, or a directive
// named twice, the first occurrence counts (as browsers ignore a repeated directive;
// several policies all apply, which this approximates).
func parseCSP(vs []string) csp {
	pol := csp{}
	for _, v := range vs {
		for _, policy := range strings.Split(v, ",") {
			for _, d := range strings.Split(policy, ";") {
				f := strings.Fields(d)
				if len(f) == 0 {
					continue
				}
				name := strings.ToLower(f[0])
				if _, seen := pol[name]; seen {
					continue
				}
				srcs := make([]string, 0, len(f)-1)
				for _, s := range f[1:] {
					srcs = append(srcs, cspSource(s))
				}
				slices.Sort(srcs)
				pol[name] = slices.Compact(srcs)
			}
		}
	}
	return pol
}

// cspSource is a source expression as compared: lower-case, except hashes, and any
// nonce as 'nonce-*' (a nonce is new on every response).
func cspSource(s string) string {
	l := strings.ToLower(s)
	switch {
	case strings.HasPrefix(l, "'nonce-"):
		return "'nonce-*'"
	case strings.HasPrefix(l, "'sha256-"), strings.HasPrefix(l, "'sha384-"), strings.HasPrefix(l, "'sha512-"):
		return l[:8] + s[8:]
	}
	return l
}

// normCSP is a policy as compared: directives in any order, sources as a set.
func normCSP(vs []string) string {
	pol := parseCSP(vs)
	names := make([]string, 0, len(pol))
	for n := range pol {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = strings.Join(append([]string{n}, pol[n]...), " ")
	}
	return strings.Join(parts, "; ")
}

// enforcedCSP is h's enforced policy (Content-Security-Policy, not its Report-Only
// twin).
func enforcedCSP(h http.Header) csp { return parseCSP(headerValues(h, "Content-Security-Policy")) }

// cspFetchDirectives fall back to default-src when absent.
var cspFetchDirectives = map[string]bool{
	"child-src": true, "connect-src": true, "font-src": true, "frame-src": true, "img-src": true,
	"manifest-src": true, "media-src": true, "object-src": true, "script-src": true,
	"script-src-elem": true, "script-src-attr": true, "style-src": true, "style-src-elem": true,
	"style-src-attr": true, "worker-src": true, "prefetch-src": true,
}

// effective returns the sources directive d is held to, and false when nothing holds
// it.
func (pol csp) effective(d string) ([]string, bool) {
	if s, ok := pol[d]; ok {
		return s, true
	}
	if cspFetchDirectives[d] {
		s, ok := pol["default-src"]
		return s, ok
	}
	return nil, false
}

// cspWeaker lists the directives the candidate's policy q holds to less than the
// primary's p: dropped, or allowing a source p's did not.
func cspWeaker(p, q csp) []string {
	names := make([]string, 0, len(p)+len(q))
	for n := range p {
		names = append(names, n)
	}
	for n := range q {
		names = append(names, n)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	var out []string
	for _, d := range names {
		if d == "report-uri" || d == "report-to" {
			continue
		}
		sp, okp := p.effective(d)
		sq, okq := q.effective(d)
		switch {
		case !okp:
		case !okq:
			out = append(out, d+" dropped")
		case sourcesWider(sq, sp):
			out = append(out, d)
		}
	}
	return out
}

// sourcesWider reports whether source list q allows something p does not.
func sourcesWider(q, p []string) bool {
	if len(q) == 1 && q[0] == "'none'" {
		return false
	}
	for _, s := range q {
		if s != "'none'" && !slices.Contains(p, s) {
			return true
		}
	}
	return false
}

// framingLevel says who may frame a response: 0 nobody, 1 its own origin, 2 a list of
// origins, 3 anyone; frame-ancestors when h's policy has it, else X-Frame-Options. The
// list is frame-ancestors' sources at level 2.
func framingLevel(h http.Header) (int, []string) {
	if fa, ok := enforcedCSP(h)["frame-ancestors"]; ok {
		switch {
		case len(fa) == 0 || slices.Equal(fa, []string{"'none'"}):
			return 0, nil
		case slices.Equal(fa, []string{"'self'"}):
			return 1, nil
		case slices.Contains(fa, "*"):
			return 3, nil
		}
		return 2, fa
	}
	switch strings.ToLower(singleValue(headerValues(h, "X-Frame-Options"))) {
	case "deny":
		return 0, nil
	case "sameorigin":
		return 1, nil
	}
	return 3, nil
}

// framingWider reports whether the candidate's response may be framed by more
// origins than the primary's.
func framingWider(p, q http.Header) bool {
	lp, sp := framingLevel(p)
	lq, sq := framingLevel(q)
	return lq > lp || (lq == 2 && lp == 2 && sourcesWider(sq, sp))
}

// ---- Referrer-Policy ----

// referrerRanks order the policies by how much of the URL they leak, least first.
var referrerRanks = map[string]int{
	"no-referrer": 0, "same-origin": 1, "strict-origin": 2, "strict-origin-when-cross-origin": 3,
	"origin": 4, "origin-when-cross-origin": 5, "no-referrer-when-downgrade": 6, "unsafe-url": 7,
}

// referrerPolicy is the policy a browser applies: the last one it knows of the list,
// else its default.
func referrerPolicy(vs []string) string {
	policy := "strict-origin-when-cross-origin"
	for _, v := range vs {
		for _, t := range strings.Split(v, ",") {
			t = strings.ToLower(strings.TrimSpace(t))
			if _, ok := referrerRanks[t]; ok {
				policy = t
			}
		}
	}
	return policy
}

func referrerRank(policy string) int { return referrerRanks[policy] }
