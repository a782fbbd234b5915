package shadow

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/traffic"
)

// A backend may echo what it was sent — an error page listing the request's
// headers, a validation error quoting the body — and that echo then sits in a
// difference's values, where redaction by name cannot see it. So before an
// observation leaves the proxy or the replay, every secret value the request
// itself carried is looked for in its differences and replaced by its redaction
// marker: plain, URL-encoded, base64 or JSON-quoted, and where a value was cut
// short, the part of a secret left at the cut.

// minSecretLen is the shortest value looked for in differences: shorter ones
// (a cookie "theme=dark") would redact ordinary text.
const minSecretLen = 6

// requestSecrets returns the secret values of a request: those of secret headers
// (diff.IsSecretHeader; an Authorization's credentials, decoded too when Basic;
// each cookie's value), of secret path parameters, query parameters and form
// fields (diff.IsSecretParam), and every value under a JSON member with a secret
// name at any depth, in a body decoded from its Content-Encoding when needed.
// Longest first, without duplicates.
func requestSecrets(h http.Header, rawPath, rawQuery string, body []byte) []string {
	var out []string
	add := func(v string) {
		if v = strings.TrimSpace(v); len(v) >= minSecretLen {
			out = append(out, v)
		}
	}
	for name, vs := range h {
		if !diff.IsSecretHeader(name) {
			continue
		}
		canon := http.CanonicalHeaderKey(name)
		for _, v := range vs {
			add(v)
			switch canon {
			case "Authorization", "Proxy-Authorization":
				scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
				if !ok {
					continue
				}
				add(cred)
				if strings.EqualFold(scheme, "Basic") {
					if dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred)); err == nil {
						add(string(dec))
						if _, pass, ok := strings.Cut(string(dec), ":"); ok {
							add(pass)
						}
					}
				}
			case "Cookie", "Set-Cookie":
				for _, pair := range strings.Split(v, ";") {
					if _, val, ok := strings.Cut(pair, "="); ok {
						add(val)
					}
				}
			}
		}
	}
	diff.PathParamValues(rawPath, add)
	formSecrets(rawQuery, add)
	if len(body) > 0 {
		if dec, err := diff.DecodeContent(h, body, traffic.MaxDecodedBody); err == nil {
			body = dec
		}
		mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
		switch {
		case mt == "application/x-www-form-urlencoded":
			formSecrets(string(body), add)
		case json.Valid(body):
			jsonSecrets(body, add)
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	return slices.Compact(out)
}

// formSecrets hands add the values of a query's or form's secret parameters
// (diff.IsSecretParam).
func formSecrets(q string, add func(string)) {
	if q == "" {
		return
	}
	for p := range strings.SplitSeq(q, "&") {
		name, val, ok := strings.Cut(p, "=")
		if n, err := url.QueryUnescape(name); err == nil {
			name = n
		}
		if !ok || !diff.IsSecretParam(name) {
			continue
		}
		add(val)
		if v, err := url.QueryUnescape(val); err == nil {
			add(v)
		}
	}
}

// jsonSecrets hands add every value of a JSON document that sits under a member
// with a secret name (diff.IsSecretKey), at any depth and whatever its type, and
// every value within such a member's object or array. Names are compared decoded,
// so "pass\u0077ord" is password.
func jsonSecrets(body []byte, add func(string)) {
	type frame struct {
		object    bool
		expectKey bool // an object's next token is a member name
		inSecret  bool // this object or array sits under a secret name
		secret    bool // object: the member being read is secret
	}
	var stack []frame
	// afterValue readies the enclosing object for its next member name.
	afterValue := func() {
		if n := len(stack) - 1; n >= 0 && stack[n].object {
			stack[n].expectKey = true
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			afterValue()
			continue
		}
		var top *frame
		if n := len(stack) - 1; n >= 0 {
			top = &stack[n]
		}
		if top != nil && top.object && top.expectKey {
			name, _ := tok.(string)
			top.secret, top.expectKey = top.inSecret || diff.IsSecretKey(name), false
			continue
		}
		secret := top != nil && (top.secret || top.inSecret)
		switch v := tok.(type) {
		case json.Delim:
			stack = append(stack, frame{object: v == '{', expectKey: v == '{', inSecret: secret})
			continue
		case string:
			if secret {
				add(v)
			}
		case json.Number:
			if secret {
				add(v.String())
			}
		}
		afterValue()
	}
}

// scrubObservation replaces, in the values and notes of o's differences, every
// spelling of each secret (see secretForms) by the secret's redaction marker (red's),
// and the part of a secret left where a value was cut short by "[redacted]".
func scrubObservation(o *report.Observation, secrets []string, red *diff.Redactor) {
	if len(o.Differences) == 0 && o.CandidateError == "" || len(secrets) == 0 {
		return
	}
	var forms []string // longest secrets first, so a longer one is replaced whole
	var marks []string
	for _, s := range secrets {
		for _, f := range secretForms(s) {
			forms = append(forms, f)
			marks = append(marks, red.Mark(s))
		}
	}
	// A transport error may quote what the candidate sent instead of HTTP.
	o.CandidateError = scrubValue(o.CandidateError, forms, marks)
	for i := range o.Differences {
		d := &o.Differences[i]
		d.Primary = scrubValue(d.Primary, forms, marks)
		d.Candidate = scrubValue(d.Candidate, forms, marks)
		d.Note = scrubValue(d.Note, forms, marks)
	}
}

// secretForms are the spellings of a secret a backend's echo may hold.
func secretForms(s string) []string {
	forms := []string{s}
	for _, f := range []string{
		url.QueryEscape(s), url.PathEscape(s),
		base64.StdEncoding.EncodeToString([]byte(s)), base64.RawStdEncoding.EncodeToString([]byte(s)),
		base64.URLEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)),
		jsonQuoted(s),
	} {
		if !slices.Contains(forms, f) {
			forms = append(forms, f)
		}
	}
	return forms
}

// jsonQuoted is s as it stands inside a JSON string, which is how differences
// show text.
func jsonQuoted(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}

// cutMarks are how diff shows a value cut short: "…[1234 bytes]" at its end,
// and "…" before the opening quote of a text shown from an offset.
var cutEnd = regexp.MustCompile(`"?…\[\d+ bytes\]$`)

const cutStart = `…"`

// minCutSecret is the shortest part of a secret redacted where a value was cut.
const minCutSecret = 4

func scrubValue(v string, forms, marks []string) string {
	if v == "" {
		return v
	}
	for i, f := range forms {
		if strings.Contains(v, f) {
			v = strings.ReplaceAll(v, f, marks[i])
		}
	}
	if loc := cutEnd.FindStringIndex(v); loc != nil {
		head := v[:loc[0]]
		for _, f := range forms {
			if n := longestSuffixPrefix(head, f); n >= minCutSecret {
				v = head[:len(head)-n] + "[redacted]" + v[loc[0]:]
				break
			}
		}
	}
	if strings.HasPrefix(v, cutStart) {
		rest := v[len(cutStart):]
		for _, f := range forms {
			if n := longestPrefixSuffix(rest, f); n >= minCutSecret {
				v = cutStart + "[redacted]" + rest[n:]
				break
			}
		}
	}
	return v
}

// longestSuffixPrefix is the length of the longest proper prefix of f that s
// ends with.
func longestSuffixPrefix(s, f string) int {
	for n := min(len(s), len(f)-1); n > 0; n-- {
		if strings.HasSuffix(s, f[:n]) {
			return n
		}
	}
	return 0
}

// longestPrefixSuffix is the length of the longest proper suffix of f that s
// starts with.
func longestPrefixSuffix(s, f string) int {
	for n := min(len(s), len(f)-1); n > 0; n-- {
		if strings.HasPrefix(s, f[len(f)-n:]) {
			return n
		}
	}
	return 0
}

// scrub removes from o what of the mirrored request's secrets a backend echoed.
// It costs nothing when the pair matched.
func (pr *pair) scrub(o *report.Observation) {
	if len(o.Differences) == 0 && o.CandidateError == "" {
		return
	}
	var body []byte
	if pr.req.GetBody != nil {
		if rc, err := pr.req.GetBody(); err == nil {
			body, _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	scrubObservation(o, requestSecrets(pr.req.Header, pr.req.URL.EscapedPath(), pr.req.URL.RawQuery, body), pr.dec.Rules.Redactor())
}

// scrubTraffic removes from o what of a replayed request's secrets a backend
// echoed. It costs nothing when the pair matched.
func scrubTraffic(o *report.Observation, req *traffic.Request, red *diff.Redactor) {
	if len(o.Differences) == 0 && o.CandidateError == "" {
		return
	}
	p, q, _ := strings.Cut(req.URL, "?")
	scrubObservation(o, requestSecrets(req.Header, p, q, req.Body), red)
}
