package route

import "strings"

// Under reports whether path is prefix or below it on a segment boundary:
// "/api/health" covers "/api/health" and "/api/health/x" but not "/api/healthz". A
// prefix ending in "/" covers every path that starts with it. Case matters, as it
// does to the backends' routers.
func Under(path, prefix string) bool { return under(path, prefix, false) }

// UnderFold is Under ignoring ASCII case: for rules where matching too much is the
// safe side (exclusions, /api, /api/auth).
func UnderFold(path, prefix string) bool { return under(path, prefix, true) }

func under(path, prefix string, fold bool) bool {
	n := len(prefix)
	if len(path) < n {
		return false
	}
	if head := path[:n]; head != prefix && !(fold && strings.EqualFold(head, prefix)) {
		return false
	}
	return len(path) == n || path[n] == '/' || strings.HasSuffix(prefix, "/")
}

// IsAPI reports whether a canonical path is under /api, in any letter case.
func IsAPI(path string) bool { return UnderFold(path, API) }

// IsAuth reports whether a canonical path is /api/auth or below it, in any letter
// case: the rule that keeps auth away from the candidate.
func IsAuth(path string) bool {
	n, next := scanAuth(path)
	return n == len(path) || next == '/'
}

// ReadsAsAuth reports whether a raw request path could be read as /api/auth by a
// server that does not resolve dot segments the way Canonicalize does (one that
// does not read "..;" as ".."): the same scan as IsAuth, but anything after
// "/api/auth" that would not continue the segment's name ("/api/auth;x",
// "/api/auth%2Fx", "/api/auth/..;/x") counts as auth. It is the last check before
// the candidate, whatever the routing rules concluded.
func ReadsAsAuth(raw string) bool {
	n, next := scanAuth(raw)
	return n == len(raw) || n >= 0 && !unreserved(next)
}

// CoversAuth reports whether a route prefix could match a path under /api/auth,
// ignoring case: it is /api/auth, a prefix below it (/api/auth/callback), or an
// ancestor of it (/api, /api/, /).
func CoversAuth(prefix string) bool {
	return IsAuth(prefix) || UnderFold(Auth, strings.TrimSuffix(prefix, "/"))
}

// scanAuth is the one reading of the auth rule. It walks s as a path — ASCII case
// folded, percent-escapes of unreserved characters decoded, "\" read as "/", runs
// of "/" merged — and when it reads as "/api/auth" from its start, returns the
// offset in s just after that and the byte found there (decoded, folded; 0 at the
// end). It returns -1 when s does not start with /api/auth. On a canonical path
// the decoding does nothing and the offset is len(Auth).
func scanAuth(s string) (end int, next byte) {
	matched := 0 // bytes of Auth read
	prevSlash := false
	for i := 0; i < len(s); i++ {
		at := i
		c := s[i]
		if c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]) {
			if d := unhex(s[i+1])<<4 | unhex(s[i+2]); unreserved(d) {
				c = d
				i += 2
			}
		}
		if c == '\\' {
			c = '/'
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c == '/' && prevSlash {
			continue
		}
		prevSlash = c == '/'
		if matched == len(Auth) {
			return at, c
		}
		if c != Auth[matched] {
			return -1, 0
		}
		matched++
	}
	if matched == len(Auth) {
		return len(s), 0
	}
	return -1, 0
}
