package route

import "strings"

// LooksLikeID reports whether a path segment is an identifier rather than a name:
// the first guess a key makes before any template or learning says otherwise.
//
// Identifiers: numbers ("42"); UUIDs of every version and the nil UUID, in either
// case; long hex (16 or more: hashes, Mongo ObjectIds); ULIDs (26 Crockford
// base32); KSUIDs (27 base62); prefixed ids, a short lower-case prefix and "_" or
// "-" before a body with a digit or a random-looking token ("cus_NffrFeUfNV2Hib",
// "inv-2026-0042", "s-1"); letters mixed with digits ("s12", "a1b2c3"); base64url
// tokens (16 or more with a digit, or 22 or more of mixed case); e-mail addresses;
// ISO dates and timestamps ("2026-03-01", "2026-03-01T09:15:00Z").
//
// Names: words, with or without separators ("export", "quarterly-report",
// "openapi.json"), API versions ("v1", "v2beta1", "v10alpha3"), short hex-looking
// words ("cafe", "deadbeef") and parameters already in template form (":id").
func LooksLikeID(s string) bool {
	if s == "" || s[0] == ':' {
		return false
	}
	c := classify(s)
	switch {
	case c.digits == len(s): // 42
		return true
	case isVersion(s): // v1, v2beta1: API versions are names
		return false
	case isUUID(s):
		return true
	case c.hex == len(s) && len(s) >= 16: // long hex: hashes, ObjectIds
		return true
	case len(s) == 26 && c.alnum == len(s) && c.digits > 0 && isCrockford(s): // ULID
		return true
	case len(s) == 27 && c.alnum == len(s) && c.digits > 0: // KSUID
		return true
	case c.digits > 0 && c.letters > 0 && c.alnum == len(s): // s12, abc123
		return true
	case isEmail(s):
		return true
	case isISODate(s):
		return true
	case isPrefixedID(s):
		return true
	case isToken(s, c):
		return true
	}
	return false
}

// shape counts the kinds of bytes of a segment.
type shape struct {
	digits, letters, upper, lower, hex, alnum, other int
}

func classify(s string) shape {
	var c shape
	for i := 0; i < len(s); i++ {
		b := s[i]
		switch {
		case b >= '0' && b <= '9':
			c.digits++
			c.hex++
			c.alnum++
		case b >= 'a' && b <= 'z':
			c.letters++
			c.lower++
			c.alnum++
			if b <= 'f' {
				c.hex++
			}
		case b >= 'A' && b <= 'Z':
			c.letters++
			c.upper++
			c.alnum++
			if b <= 'F' {
				c.hex++
			}
		default:
			c.other++
		}
	}
	return c
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !ishex(c) {
			return false
		}
	}
	return true
}

// isVersion reports an API version: "v" and digits, optionally followed by
// "alpha", "beta" or "rc" and digits (v1, V2, v2beta1, v1alpha).
func isVersion(s string) bool {
	if len(s) < 2 || (s[0] != 'v' && s[0] != 'V') {
		return false
	}
	i := 1
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 1 {
		return false
	}
	rest := s[i:]
	for _, tag := range []string{"alpha", "beta", "rc"} {
		if strings.HasPrefix(rest, tag) {
			rest = rest[len(tag):]
			for j := 0; j < len(rest); j++ {
				if rest[j] < '0' || rest[j] > '9' {
					return false
				}
			}
			return true
		}
	}
	return rest == ""
}

// isCrockford reports Crockford's base32 alphabet: digits and letters but I, L, O, U.
func isCrockford(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] | 0x20 {
		case 'i', 'l', 'o', 'u':
			return false
		}
	}
	return true
}

// isEmail reports "local@domain.tld" with a dot after the one "@".
func isEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || strings.Count(s, "@") != 1 {
		return false
	}
	dot := strings.LastIndexByte(s, '.')
	return dot > at+1 && dot < len(s)-1
}

// isISODate reports "YYYY-MM-DD", optionally followed by "T" and a time.
func isISODate(s string) bool {
	if len(s) < 10 {
		return false
	}
	for i := 0; i < 10; i++ {
		c := s[i]
		if i == 4 || i == 7 {
			if c != '-' {
				return false
			}
		} else if c < '0' || c > '9' {
			return false
		}
	}
	return len(s) == 10 || s[10] == 'T' || s[10] == 't'
}

// isPrefixedID reports a type prefix of one to eight lower-case letters, "_" or
// "-", and a body that holds a digit ("inv-2026-0042", "s-1", "cus_4QFJ") or is a
// random-looking token of eight or more (mixed case, "cus_NffrFeUfNV2Hib").
func isPrefixedID(s string) bool {
	sep := strings.IndexAny(s, "_-")
	if sep < 1 || sep > 8 {
		return false
	}
	for i := 0; i < sep; i++ {
		if c := s[i]; c < 'a' || c > 'z' {
			return false
		}
	}
	body := s[sep+1:]
	if body == "" {
		return false
	}
	if !isBase64URL(body) {
		return false
	}
	c := classify(body)
	if c.digits > 0 {
		return true
	}
	return len(body) >= 8 && c.upper > 0 && c.lower > 0 && c.other == 0 && c.upper*4 >= c.letters
}

// isToken reports a base64url token: 16 or more of [A-Za-z0-9_-] with a digit and
// a letter, or 22 or more whose letters are at least a quarter of each case; but
// not a slug made mostly of words ("quarterly-report-2026").
func isToken(s string, c shape) bool {
	if len(s) < 16 || !isBase64URL(s) {
		return false
	}
	if wordy(s) {
		return false
	}
	if c.digits > 0 && c.letters > 0 {
		return true
	}
	return len(s) >= 22 && c.upper*4 >= c.letters && c.lower*4 >= c.letters
}

// wordy reports whether at least half of s is runs of four or more lower-case
// letters: words, which random tokens seldom hold.
func wordy(s string) bool {
	inWords, run := 0, 0
	for i := 0; i <= len(s); i++ {
		if i < len(s) && s[i] >= 'a' && s[i] <= 'z' {
			run++
			continue
		}
		if run >= 4 {
			inWords += run
		}
		run = 0
	}
	return inWords*2 >= len(s)
}

// isBase64URL reports whether s is made of the base64url alphabet alone.
func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; !(b == '-' || b == '_' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z') {
			return false
		}
	}
	return true
}
