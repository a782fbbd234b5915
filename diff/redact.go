package diff

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// Redaction: secret values never leave this package, in a Difference or through the
// helpers below that the proxy's recorder, logs and reports use. A redacted value is a
// marker plus the first 8 hex digits of the value's SHA-256 — "[redacted:1a2b3c4d]" —
// so two equal secrets still read as equal and two different ones as different, while
// the value itself cannot be read back.

// Redact returns the marker that stands for value.
func Redact(value string) string {
	sum := sha256.Sum256([]byte(value))
	return "[redacted:" + hex.EncodeToString(sum[:4]) + "]"
}

// secretHeaderNames are secret whatever their spelling.
var secretHeaderNames = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
}

// secretWords are the case-insensitive substrings that make a JSON key, a header
// name, a query or form parameter or a difference path look secret, and a body that
// cannot be parsed unsafe to record. "key" also covers apikey and api_key; "passw"
// covers password and passwd. It is the one list: every redaction reads it.
var secretWords = []string{"passw", "pwd", "token", "secret", "key", "session", "credential", "authorization", "cookie", "signature", "bearer"}

// IsSecretHeader reports whether values of the header name are secret: Authorization,
// Proxy-Authorization, Cookie, Set-Cookie, and any name containing a secret word
// (X-Api-Key, X-Auth-Token, X-Csrf-Token, ...).
func IsSecretHeader(name string) bool {
	if secretHeaderNames[textproto.CanonicalMIMEHeaderKey(name)] {
		return true
	}
	return hasSecretWord(name)
}

// IsSecretKey reports whether a JSON member name looks secret: it contains, in any
// case, password, pwd, token, secret, key (apikey, api_key), session, credential,
// authorization, cookie, signature or bearer.
func IsSecretKey(jsonKey string) bool { return hasSecretWord(jsonKey) }

// MentionsSecret reports whether text holds a secret word anywhere, in any case:
// a body that cannot be parsed member by member and does is unsafe to keep.
func MentionsSecret(text []byte) bool { return hasSecretWord(text) }

func hasSecretWord[S string | []byte](s S) bool {
	var buf [64]byte
	var lower []byte
	if len(s) <= len(buf) {
		lower = buf[:len(s)]
	} else {
		lower = make([]byte, len(s))
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	for _, w := range secretWords {
		if strings.Contains(string(lower), w) {
			return true
		}
	}
	return false
}

// RedactHeader returns a copy of h with the values of secret headers redacted. The
// parts that are not secret stay readable: an Authorization scheme, cookie names and
// Set-Cookie attributes.
func RedactHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for name, vs := range h {
		cp := make([]string, len(vs))
		secret := IsSecretHeader(name)
		for i, v := range vs {
			if secret {
				v = redactHeaderValue(textproto.CanonicalMIMEHeaderKey(name), v)
			}
			cp[i] = v
		}
		out[name] = cp
	}
	return out
}

// redactHeaderValue redacts one value of a secret header.
func redactHeaderValue(name, v string) string {
	switch name {
	case "Authorization", "Proxy-Authorization":
		if scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
			return scheme + " " + Redact(strings.TrimSpace(cred))
		}
	case "Set-Cookie":
		pair, attrs, hasAttrs := strings.Cut(v, ";")
		out := redactPair(pair)
		if hasAttrs {
			out += ";" + attrs
		}
		return out
	case "Cookie":
		parts := strings.Split(v, ";")
		for i, p := range parts {
			parts[i] = redactPair(p)
		}
		return strings.Join(parts, ";")
	}
	return Redact(v)
}

// redactPair redacts the value of "name=value", keeping the name.
func redactPair(p string) string {
	name, val, ok := strings.Cut(p, "=")
	if !ok {
		return Redact(p)
	}
	return name + "=" + Redact(strings.TrimSpace(val))
}

// secretParams are query parameters that are secret besides those with a secret word
// in their name (OAuth codes, signatures, passwords by short names).
var secretParams = map[string]bool{"code": true, "sig": true, "auth": true, "jwt": true, "pass": true, "state": true}

// RedactQuery returns rawQuery with the values of secret parameters redacted (token,
// access_token, api_key, password, secret, code, sig, ...). Markers are left
// unescaped, so the result is for reading, not for sending.
func RedactQuery(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	parts := strings.Split(rawQuery, "&")
	changed := false
	for i, p := range parts {
		name, val, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		key, err := url.QueryUnescape(name)
		if err != nil {
			key = name
		}
		if !hasSecretWord(key) && !secretParams[strings.ToLower(key)] {
			continue
		}
		if v, err := url.QueryUnescape(val); err == nil {
			val = v
		}
		parts[i] = name + "=" + Redact(val)
		changed = true
	}
	if !changed {
		return rawQuery
	}
	return strings.Join(parts, "&")
}

// RedactJSON returns body with every string or number whose nearest member name looks
// secret (IsSecretKey) replaced by a redaction marker; elements of an array inherit
// the name of the member that holds the array ({"apiKeys":["a","b"]} redacts both),
// and objects are walked so their own member names decide ({"session":{"id":1}} keeps
// id). Nesting at any depth is handled without recursion. A body that is not JSON, or
// has nothing to redact, is returned unchanged.
func RedactJSON(body []byte) []byte {
	t := getTape()
	defer putTape(t)
	if t.parse(body) != nil {
		return body
	}
	type ctx struct {
		next   int32
		secret bool // elements of this array are secret
	}
	var stack []ctx
	var out []byte
	last := 0 // bytes of body copied to out so far
	keySecret, afterKey := false, false
	for i := int32(0); i < int32(len(t.nodes)); i++ {
		for len(stack) > 0 && stack[len(stack)-1].next <= i {
			stack = stack[:len(stack)-1]
		}
		n := &t.nodes[i]
		if n.kind == jKey {
			keySecret = hasSecretWord(keyText(t.raw(i), n.esc))
			afterKey = true
			continue
		}
		secret := false
		if afterKey {
			secret = keySecret
		} else if len(stack) > 0 {
			secret = stack[len(stack)-1].secret
		}
		afterKey = false
		switch n.kind {
		case jObject:
			stack = append(stack, ctx{next: n.next})
		case jArray:
			stack = append(stack, ctx{next: n.next, secret: secret})
		case jString, jNumber:
			if !secret {
				continue
			}
			if out == nil {
				out = make([]byte, 0, len(body)+16)
			}
			val := string(t.raw(i))
			if n.kind == jString {
				val = string(unquote(nil, t.raw(i)))
			}
			out = append(out, body[last:n.start]...)
			out = append(out, '"')
			out = append(out, Redact(val)...)
			out = append(out, '"')
			last = int(n.end)
		}
	}
	if out == nil {
		return body
	}
	return append(out, body[last:]...)
}
