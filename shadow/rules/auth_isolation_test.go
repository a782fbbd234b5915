package rules

import (
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parity-dev/parity/report/route"
)

// authSpellings are attempts to reach /api/auth without looking like it, from
// testdata/auth-spellings.txt.
func authSpellings(tb testing.TB) []string {
	tb.Helper()
	return readSpellings(tb, filepath.Join("testdata", "auth-spellings.txt"))
}

// readSpellings reads a list of raw request targets, one a line, "#" comments.
func readSpellings(tb testing.TB, path string) []string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for line := range strings.SplitSeq(string(data), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// fullCutoverRouter sends every /api path to the candidate and verifies the cutover by
// mirroring to the primary: the widest configuration there is.
func fullCutoverRouter(tb testing.TB) *Router {
	tb.Helper()
	cfg := &Config{Cutover: CutoverConfig{Enabled: true}, Shadow: ShadowConfig{VerifyCutover: true}}
	rt, err := NewRouter(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return rt
}

// shadowOnlyRouter mirrors every /api path, writes included, and cuts nothing over.
func shadowOnlyRouter(tb testing.TB) *Router {
	tb.Helper()
	cfg := &Config{Routes: []RouteConfig{{Match: "/api/sessions/:id", MirrorWrites: true}},
		Shadow: ShadowConfig{WriteRoutes: []string{"/api/v1/"}}}
	rt, err := NewRouter(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return rt
}

// readings are the ways a reasonable server may read the path of a raw request
// target, written here independently of report/route: with or without
// percent-decoding (once, or until nothing changes), "\" as "/" or not, ";"
// parameters dropped before or after decoding, dot segments resolved or left as
// names, trailing dots stripped from segments (as Windows servers do), a NUL ending
// the path (as C servers do), ASCII case folded (as case-insensitive routers do).
func readings(target string) []string {
	if i := strings.IndexAny(target, "?#"); i >= 0 {
		target = target[:i]
	}
	if i := strings.Index(target, "://"); i > 0 && !strings.ContainsAny(target[:i], "/\\") {
		rest := target[i+3:]
		if j := strings.IndexAny(rest, "/\\"); j >= 0 {
			target = rest[j:]
		} else {
			target = "/"
		}
	}
	decodeOnce := func(s string) string {
		if d, err := url.PathUnescape(s); err == nil {
			return d
		}
		return s
	}
	decodeAll := func(s string) string {
		for range 4 {
			d := decodeOnce(s)
			if d == s {
				break
			}
			s = d
		}
		return s
	}
	dropParams := func(s string) string {
		segs := strings.Split(s, "/")
		for i, seg := range segs {
			if j := strings.IndexByte(seg, ';'); j >= 0 {
				segs[i] = seg[:j]
			}
		}
		return strings.Join(segs, "/")
	}
	trimDots := func(s string) string {
		segs := strings.Split(s, "/")
		for i, seg := range segs {
			if t := strings.TrimRight(seg, ". "); t != "" && seg != "." && seg != ".." {
				segs[i] = t
			}
		}
		return strings.Join(segs, "/")
	}
	cutNUL := func(s string) string {
		if i := strings.IndexByte(s, 0); i >= 0 {
			return s[:i]
		}
		return s
	}
	mergeSlashes := func(s string) string {
		for strings.Contains(s, "//") {
			s = strings.ReplaceAll(s, "//", "/")
		}
		return s
	}
	var out []string
	for _, decode := range []func(string) string{func(s string) string { return s }, decodeOnce, decodeAll} {
		for _, params := range []bool{false, true} {
			for _, backslash := range []bool{false, true} {
				p := target
				if params {
					p = dropParams(p)
				}
				p = cutNUL(decode(p))
				if backslash {
					p = strings.ReplaceAll(p, `\`, "/")
				}
				p = "/" + p
				out = append(out, mergeSlashes(p), path.Clean(p), path.Clean(trimDots(p)))
			}
		}
	}
	return out
}

// someServerReadsAuth reports whether any reading of target lands on /api/auth or
// below, in any case.
func someServerReadsAuth(target string) bool {
	for _, p := range readings(target) {
		p = strings.ToLower(p)
		if p == route.Auth || strings.HasPrefix(p, route.Auth+"/") {
			return true
		}
	}
	return false
}

// TestAuthSpellingsStayWithThePrimary routes every spelling through the widest
// configurations there are: none is served by, or mirrored to, the candidate.
func TestAuthSpellingsStayWithThePrimary(t *testing.T) {
	for _, target := range authSpellings(t) {
		for _, rt := range []*Router{fullCutoverRouter(t), shadowOnlyRouter(t)} {
			for _, method := range []string{"GET", "POST"} {
				d := rt.Decide(&http.Request{Method: method, RequestURI: target, Header: http.Header{}})
				if d.Serve == Candidate || d.Mirror {
					t.Errorf("%s %q: Serve=%v Mirror=%v, want the primary and no mirror (decision %+v)", method, target, d.Serve, d.Mirror, d)
				}
			}
		}
	}
}

// TestReadings keeps the fuzz test's oracle honest: it must see auth where some
// server would, and not everywhere.
func TestReadings(t *testing.T) {
	for target, want := range map[string]bool{
		"/api/auth":                true,
		"/API/Auth/x":              true,
		"/api/auth/../sessions":    true, // a router that resolves nothing
		"/api/sessions/../auth":    true,
		"/api/%2561uth":            true, // decoded twice
		"/api/auth;x/../../y":      true, // parameters kept as names
		"/api/x/..;/auth":          true, // parameters dropped first (Tomcat)
		"/api/auth./x":             true, // trailing dot stripped
		"/api/auth%00.png":         true, // NUL ends the path
		`/api\auth`:                true,
		"http://h/api/auth":        true,
		"/api/sessions":            false,
		"/api/authors":             false,
		"/api/v1/auth":             false,
		"/api/sessions?next=/auth": false,
		"/auth":                    false,
	} {
		if got := someServerReadsAuth(target); got != want {
			t.Errorf("someServerReadsAuth(%q) = %v, want %v (readings %q)", target, got, want, readings(target))
		}
	}
}

// FuzzAuthNeverReachesTheCandidate is the auth rule as a property: for any raw
// request target, if any reasonable server could read it as under /api/auth, the
// routing decision never names the candidate — not to serve it, not to mirror it.
func FuzzAuthNeverReachesTheCandidate(f *testing.F) {
	for _, s := range authSpellings(f) {
		f.Add(s)
	}
	f.Add("/api/%252561uth")
	f.Add("/api/auth/%2e%2e%2f")
	f.Add("/api/sessions")
	cut, shadow := fullCutoverRouter(f), shadowOnlyRouter(f)
	f.Fuzz(func(t *testing.T, target string) {
		canon, amb := route.Canonicalize(target)
		auth := someServerReadsAuth(target)
		for _, method := range []string{"GET", "POST", "DELETE"} {
			for _, rt := range []*Router{cut, shadow} {
				d := rt.Decide(&http.Request{Method: method, RequestURI: target, Header: http.Header{}})
				if d.Path != canon || d.Ambiguous != amb {
					t.Fatalf("Decide(%q) = %+v, disagrees with Canonicalize (%q, %v)", target, d, canon, amb)
				}
				if d.Auth && (d.Serve == Candidate || d.Mirror) {
					t.Fatalf("%s %q: auth, yet Serve=%v Mirror=%v", method, target, d.Serve, d.Mirror)
				}
				if auth && (d.Serve == Candidate || d.Mirror) {
					t.Fatalf("%s %q (canonical %q, ambiguous %v): a server reads it as auth, yet Serve=%v Mirror=%v",
						method, target, canon, amb, d.Serve, d.Mirror)
				}
			}
		}
	})
}
