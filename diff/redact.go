package diff

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Redaction: secret values never leave this package, in a Difference or through the
// Redactor methods that the proxy's recorder, logs and reports use. A redacted value
// is a marker. With a key, the marker carries the first 12 hex digits of the value's
// HMAC-SHA-256 under that key — "[redacted:1a2b3c4d5e6f]" — so that within one
// deployment, and across the replicas and replays that share its key, two equal
// secrets read as equal and two different ones as different, while to anyone
// without the key the marker says nothing of the value: a short password cannot be
// found by trying every candidate. Without a key, the marker is "[redacted]" alone.

// Redaction makes Compare write the markers of secret values with red (nil: unkeyed
// markers, "[redacted]").
func Redaction(red *Redactor) Option {
	return optionFunc(func(r *Rules) error { r.redactor = red; return nil })
}

// Redactor returns the Redactor the rules write markers with (nil when unkeyed).
func (r *Rules) Redactor() *Redactor {
	if r == nil {
		return nil
	}
	return r.redactor
}

// MinRedactionKeyBytes is the shortest key NewRedactor takes.
const MinRedactionKeyBytes = 16

// Redactor writes the redaction markers of one deployment. The zero value (and a nil
// *Redactor) has no key and writes "[redacted]"; NewRedactor gives one a key. It is
// immutable and safe for concurrent use.
type Redactor struct {
	key  []byte
	macs sync.Pool // of hash.Hash: HMAC-SHA-256 under key, reset
}

// NewRedactor returns a Redactor whose markers are keyed by key (at least
// MinRedactionKeyBytes bytes; parity generates 32 random ones per deployment).
func NewRedactor(key []byte) (*Redactor, error) {
	if len(key) < MinRedactionKeyBytes {
		return nil, fmt.Errorf("redaction key of %d bytes: want at least %d", len(key), MinRedactionKeyBytes)
	}
	return &Redactor{key: bytes.Clone(key)}, nil
}

// Markers matches the markers a Redactor writes: "[redacted:<12 hex digits>]"
// with a key, "[redacted]" without. Equal keyed markers stand for equal values;
// unkeyed ones say nothing of theirs.
var Markers = regexp.MustCompile(`\[redacted(?::[0-9a-f]{12})?\]`)

// Mark returns the marker that stands for value.
func (r *Redactor) Mark(value string) string {
	if r == nil || len(r.key) == 0 {
		return "[redacted]"
	}
	m, _ := r.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, r.key)
	}
	m.Write([]byte(value))
	var sum [sha256.Size]byte
	out := "[redacted:" + hex.EncodeToString(m.Sum(sum[:0])[:6]) + "]"
	m.Reset()
	r.macs.Put(m)
	return out
}

// secretHeaderNames are secret whatever their spelling.
var secretHeaderNames = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"Cookie":              true,
	"Set-Cookie":          true,
}

// The one list of what makes a name secret — a header, a query or form parameter,
// a path parameter (;jsessionid=), a JSON member at any depth, a difference path.
// Every redaction, and the proxy's search for echoed secrets, reads it.
var (
	// secretWords make a name secret wherever they stand in it, in any case:
	// "key" covers apikey and api_key, "passw" password and passwd.
	secretWords = []string{"passw", "pwd", "token", "secret", "key", "session", "credential",
		"authorization", "cookie", "signature", "bearer", "jwt", "passphrase"}
	// secretTerms make a name secret as one of its words (split at case changes,
	// digits and punctuation: userPass, x-auth, sig_v2), not inside a longer word
	// (compass, author, signal).
	secretTerms = []string{"pass", "auth", "sig", "otp"}
	// secretParams are secret as the whole name of a URL query, form or path
	// parameter only: OAuth's code and state travel there, while in a JSON body
	// code and state are an error's code and an object's state.
	secretParams = []string{"code", "state"}
)

// IsSecretHeader reports whether values of the header name are secret: Authorization,
// Proxy-Authorization, Cookie, Set-Cookie, and any name that is secret by the list
// (X-Api-Key, X-Auth-Token, X-Csrf-Token, X-Auth, ...).
func IsSecretHeader(name string) bool {
	if secretHeaderNames[textproto.CanonicalMIMEHeaderKey(name)] {
		return true
	}
	return isSecretName(name)
}

// IsSecretKey reports whether a JSON member name is secret by the list: it
// contains password, pwd, token, secret, key (apikey, api_key), session,
// credential, authorization, cookie, signature, bearer, jwt or passphrase in any
// case, or has pass, auth, sig or otp as one of its words. Everything under such a
// member is secret, whatever its type.
func IsSecretKey(jsonKey string) bool { return isSecretName(jsonKey) }

// IsSecretParam reports whether a URL query, form or path parameter name is secret:
// by the list, or named code or state.
func IsSecretParam(name string) bool {
	if isSecretName(name) {
		return true
	}
	for _, p := range secretParams {
		if strings.EqualFold(name, p) {
			return true
		}
	}
	return false
}

// MentionsSecret reports whether text holds a secret name anywhere, in any case,
// read with JSON (\u0061) and URL (%61) escapes decoded: a body that cannot be
// parsed member by member and does is unsafe to keep.
func MentionsSecret(text []byte) bool {
	return isSecretName(text) || isSecretName(unescapeLoosely(text))
}

// unescapeLoosely decodes the \uXXXX, \x escapes of JSON and the %XX escapes of
// URLs wherever they stand, leaving anything malformed as it is.
func unescapeLoosely(text []byte) []byte {
	if bytes.IndexByte(text, '\\') < 0 && bytes.IndexByte(text, '%') < 0 {
		return text
	}
	out := make([]byte, 0, len(text))
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\\' && i+5 < len(text) && text[i+1] == 'u':
			if v, err := strconv.ParseUint(string(text[i+2:i+6]), 16, 16); err == nil {
				out = utf8.AppendRune(out, rune(v))
				i += 5
				continue
			}
		case c == '%' && i+2 < len(text):
			if v, err := strconv.ParseUint(string(text[i+1:i+3]), 16, 8); err == nil {
				out = append(out, byte(v))
				i += 2
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// isSecretName applies the list to a name (or any text).
func isSecretName[S string | []byte](s S) bool {
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
	for i := 0; i < len(s); {
		j := wordEnd(s, i)
		if j > i {
			for _, t := range secretTerms {
				if j-i == len(t) && string(lower[i:j]) == t {
					return true
				}
			}
			i = j
			continue
		}
		i++
	}
	return false
}

// wordEnd returns where the word of letters starting at s[i] ends: at a
// non-letter, or where a lower-case letter is followed by an upper-case one
// (userPass), or at the last of a run of capitals followed by a lower-case letter
// (JWTToken: JWT, Token). It returns i when s[i] is not a letter.
func wordEnd[S string | []byte](s S, i int) int {
	isUpper := func(c byte) bool { return c >= 'A' && c <= 'Z' }
	isLower := func(c byte) bool { return c >= 'a' && c <= 'z' }
	j := i
	for j < len(s) && (isUpper(s[j]) || isLower(s[j])) {
		if j > i && isLower(s[j-1]) && isUpper(s[j]) {
			break
		}
		if j > i+1 && isUpper(s[j-1]) && isUpper(s[j-2]) && isLower(s[j]) {
			j--
			break
		}
		j++
	}
	return j
}

// Header returns a copy of h with the values of secret headers redacted. The
// parts that are not secret stay readable: an Authorization scheme, cookie names and
// Set-Cookie attributes.
func (r *Redactor) Header(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for name, vs := range h {
		cp := make([]string, len(vs))
		secret := IsSecretHeader(name)
		for i, v := range vs {
			if secret {
				v = r.headerValue(textproto.CanonicalMIMEHeaderKey(name), v)
			}
			cp[i] = v
		}
		out[name] = cp
	}
	return out
}

// headerValue redacts one value of a secret header.
func (r *Redactor) headerValue(name, v string) string {
	switch name {
	case "Authorization", "Proxy-Authorization":
		if scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
			return scheme + " " + r.Mark(strings.TrimSpace(cred))
		}
	case "Set-Cookie":
		pair, attrs, hasAttrs := strings.Cut(v, ";")
		out := r.pair(pair)
		if hasAttrs {
			out += ";" + attrs
		}
		return out
	case "Cookie":
		parts := strings.Split(v, ";")
		for i, p := range parts {
			parts[i] = r.pair(p)
		}
		return strings.Join(parts, ";")
	}
	return r.Mark(v)
}

// pair redacts the value of "name=value", keeping the name.
func (r *Redactor) pair(p string) string {
	name, val, ok := strings.Cut(p, "=")
	if !ok {
		return r.Mark(p)
	}
	return name + "=" + r.Mark(strings.TrimSpace(val))
}

// Query returns rawQuery with the values of secret parameters (IsSecretParam)
// redacted. Markers are left unescaped, so the result is for reading, not for
// sending.
func (r *Redactor) Query(rawQuery string) string {
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
		if !IsSecretParam(key) {
			continue
		}
		if v, err := url.QueryUnescape(val); err == nil {
			val = v
		}
		parts[i] = name + "=" + r.Mark(val)
		changed = true
	}
	if !changed {
		return rawQuery
	}
	return strings.Join(parts, "&")
}

// Target returns a request target or URL with its secrets redacted: the values of
// secret path parameters (/app;jsessionid=…/x) and of secret query parameters
// (Query); the fragment is kept as it is.
func (r *Redactor) Target(target string) string {
	path, query, hasQuery := strings.Cut(target, "?")
	var frag string
	hasFrag := false
	if hasQuery {
		query, frag, hasFrag = strings.Cut(query, "#")
	} else {
		path, frag, hasFrag = strings.Cut(path, "#")
	}
	out := r.pathParams(path)
	if hasQuery {
		out += "?" + r.Query(query)
	}
	if hasFrag {
		out += "#" + frag
	}
	return out
}

// pathParams redacts the values of secret ";name=value" parameters of a path's
// segments.
func (r *Redactor) pathParams(path string) string {
	return editSecretPathParams(path, func(val string) string {
		if v, err := url.PathUnescape(val); err == nil {
			val = v
		}
		return r.Mark(val)
	})
}

// PathParamValues calls add with the value of each secret path parameter of path,
// as written and unescaped.
func PathParamValues(path string, add func(string)) {
	editSecretPathParams(path, func(val string) string {
		add(val)
		if v, err := url.PathUnescape(val); err == nil {
			add(v)
		}
		return val
	})
}

// BlankSecretPathParams returns path with the value of each secret ";name=value"
// parameter of its segments (";jsessionid=…") emptied, for text a person runs,
// such as a reproducer's target, where a marker would not do.
func BlankSecretPathParams(path string) string {
	return editSecretPathParams(path, func(string) string { return "" })
}

// editSecretPathParams returns path with the value of each secret ";name=value"
// parameter of its segments (IsSecretParam, the name unescaped) replaced by
// edit's result.
func editSecretPathParams(path string, edit func(val string) string) string {
	if !strings.Contains(path, ";") {
		return path
	}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		head, params, ok := strings.Cut(seg, ";")
		if !ok {
			continue
		}
		ps := strings.Split(params, ";")
		for j, p := range ps {
			name, val, ok := strings.Cut(p, "=")
			if !ok {
				continue
			}
			key, err := url.PathUnescape(name)
			if err != nil {
				key = name
			}
			if IsSecretParam(key) {
				ps[j] = name + "=" + edit(val)
			}
		}
		segs[i] = head + ";" + strings.Join(ps, ";")
	}
	return strings.Join(segs, "/")
}

// JSON returns body with every value under a secret member name (IsSecretKey) —
// a string, number, boolean or null, and every such value inside an object or
// array, whatever the names within — replaced by a redaction marker, keeping the
// document's shape: {"password2":{"value":"x"}} redacts "x", {"apiKeys":["a","b"]}
// both. Other objects are walked so their own member names decide
// ({"user":{"id":1,"token":"t"}} keeps id). Nesting at any depth is handled
// without recursion. A body that is not JSON, or has nothing to redact, is
// returned unchanged.
func (r *Redactor) JSON(body []byte) []byte {
	t := getTape()
	defer putTape(t)
	if t.parse(body) != nil {
		return body
	}
	type ctx struct {
		next   int32
		secret bool // everything in this object or array is secret
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
		inherited := len(stack) > 0 && stack[len(stack)-1].secret
		if n.kind == jKey {
			keySecret = inherited || isSecretName(keyText(t.raw(i), n.esc))
			afterKey = true
			continue
		}
		secret := inherited
		if afterKey {
			secret = keySecret
		}
		afterKey = false
		switch n.kind {
		case jObject, jArray:
			stack = append(stack, ctx{next: n.next, secret: secret})
			continue
		}
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
		out = append(out, r.Mark(val)...)
		out = append(out, '"')
		last = int(n.end)
	}
	if out == nil {
		return body
	}
	return append(out, body[last:]...)
}
