package route

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// canonCases are spellings of request targets, most of them attempts to reach
// /api/auth without looking like it. Each says what the canonical path is, whether it
// stays ambiguous and whether it is auth.
var canonCases = []struct {
	name      string
	target    string
	want      string
	ambiguous bool
	auth      bool
}{
	{"plain", "/api/auth/x", "/api/auth/x", false, true},
	{"query dropped", "/api/sessions?limit=10&token=x", "/api/sessions", false, false},
	{"fragment dropped", "/api/sessions#frag", "/api/sessions", false, false},
	{"root", "/", "/", false, false},
	{"empty target", "", "/", false, false},
	{"asterisk form", "*", "/*", false, false},
	{"relative target gets a slash", "api/auth/x", "/api/auth/x", false, true},
	{"double slash merged", "/api//auth/x", "/api/auth/x", false, true},
	{"leading double slash is a path, not an authority", "//api/auth", "/api/auth", false, true},
	{"many slashes", "///api///auth///x", "/api/auth/x", false, true},
	{"encoded letter", "/api/%61uth/x", "/api/auth/x", false, true},
	{"encoded upper letter", "/api/%41UTH", "/api/AUTH", false, true},
	{"all encoded", "/%61%70%69/%61%75%74%68", "/api/auth", false, true},
	{"encoded tilde and digits", "/api/v%31/%7Euser", "/api/v1/~user", false, false},
	{"dot dot segment", "/api/x/../auth/x", "/api/auth/x", false, true},
	{"dot segment", "/api/./auth", "/api/auth", false, true},
	{"dot dot beyond root", "/../../api/auth", "/api/auth", false, true},
	{"encoded dot dot", "/api/%2e%2e/api/auth", "/api/auth", false, true},
	{"encoded upper dot dot", "/api/sessions/%2E%2E/auth/login", "/api/auth/login", false, true},
	{"half encoded dot dot", "/api/x/.%2e/auth", "/api/auth", false, true},
	{"dot dot at end keeps slash", "/api/auth/..", "/api/", false, false},
	{"upper case", "/API/AUTH/x", "/API/AUTH/x", false, true},
	{"mixed case", "/Api/aUtH", "/Api/aUtH", false, true},
	{"matrix parameter", "/api/auth;v=1/x", "/api/auth/x", false, true},
	{"matrix parameter on api", "/api;x=1/auth", "/api/auth", false, true},
	{"dot dot with parameter", "/api/sessions/..;/auth", "/api/sessions/..%3B/auth", true, false},
	// Tomcat reads "..;" as "..", Node as a name: "/api/auth/..;/x" is /api/x to one
	// and under /api/auth to the other, so it must stay with the primary.
	{"dot dot with parameter leaves auth", "/api/auth/..;/x", "/api/auth/..%3B/x", true, true},
	{"dot with parameter", "/api/sessions/.;x/y", "/api/sessions/.%3Bx/y", true, false},
	// A parameter holding "\" ends at the "\" for servers that split on it first,
	// and at the next "/" for those that drop parameters first.
	{"parameter holding a backslash", `/Api;\0/Auth`, "/Api%3B/0/Auth", true, false},
	{"parameter holding an escape", "/api/x/y;%5C..%5C..%5Cauth", "/api/x/y%3B%5C..%5C..%5Cauth", true, false},
	{"parameter only segment", "/api/;x/auth", "/api/auth", false, true},
	{"backslashes", `/api\auth\x`, "/api/auth/x", false, true},
	{"backslash dot dot", `/api/sessions\..\auth`, "/api/auth", false, true},
	{"double encoding", "/api/%2561uth", "/api/%2561uth", true, false},
	{"double encoded dot", "/api/%252e%252e/auth", "/api/%252e%252e/auth", true, false},
	{"encoded slash", "/api/auth%2Fx", "/api/auth%2Fx", true, false},
	{"encoded slash lower hex", "/api/sessions%2f..%2fauth", "/api/sessions%2F..%2Fauth", true, false},
	{"encoded backslash", "/api%5Cauth", "/api%5Cauth", true, false},
	{"encoded NUL", "/api/auth%00/x", "/api/auth%00/x", true, false},
	{"encoded reserved", "/api/auth%3Bv=1", "/api/auth%3Bv=1", true, false},
	{"encoded question mark", "/api/auth%3F", "/api/auth%3F", true, false},
	{"invalid escape", "/api/%zzauth", "/api/%25zzauth", true, false},
	{"truncated escape", "/api/auth%4", "/api/auth%254", true, false},
	{"escape built from escapes", "/api/%4%31", "/api/%2541", true, false},
	{"absolute form", "http://example.com/api/auth/x?y=1", "/api/auth/x", false, true},
	{"absolute form upper scheme", "HTTPS://example.com:8443/api/auth", "/api/auth", false, true},
	{"absolute form with user info", "http://u:p@h/api/auth", "/api/auth", false, true},
	{"absolute form without path", "http://h?x=/api/auth", "/", false, false},
	{"absolute form backslash", `http://h\api\auth`, "/api/auth", false, true},
	{"trailing dot", "/api/auth.", "/api/auth.", true, false},
	{"trailing dots", "/api/auth../x", "/api/auth../x", true, false},
	{"three dots segment", "/api/.../auth", "/api/.../auth", true, false},
	{"trailing dot on api", "/api./auth", "/api./auth", true, false},
	{"trailing slash kept", "/api/sessions/", "/api/sessions/", false, false},
	{"unicode fullwidth", "/api/ａuth", "/api/%EF%BD%81uth", true, false},
	{"unicode encoded", "/api/%C3%A4uth", "/api/%C3%A4uth", true, false},
	{"kelvin sign is not k", "/api/\u212auth", "/api/%E2%84%AAuth", true, false},
	{"non-ascii first segment", "/ápi/auth", "/%C3%A1pi/auth", true, false},
	{"raw space", "/api/auth x", "/api/auth%20x", true, false},
	{"raw control byte", "/api/auth\x01", "/api/auth%01", true, false},
	{"ambiguity outside api is not flagged", "/static/%2Fx", "/static/%2Fx", false, false},
	{"authx is not auth", "/api/authx", "/api/authx", false, false},
	{"auth below another segment is not auth", "/api/v1/auth", "/api/v1/auth", false, false},
	{"sub-delims stay", "/api/sessions/a:b@c!$&'()*+,=", "/api/sessions/a:b@c!$&'()*+,=", false, false},
}

func TestCanonicalize(t *testing.T) {
	for _, tc := range canonCases {
		t.Run(tc.name, func(t *testing.T) {
			got, amb := Canonicalize(tc.target)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Canonicalize(%q) path (-want +got):\n%s", tc.target, diff)
			}
			if amb != tc.ambiguous {
				t.Errorf("Canonicalize(%q) ambiguous = %v, want %v", tc.target, amb, tc.ambiguous)
			}
			if auth := IsAuth(got); auth != tc.auth {
				t.Errorf("Canonicalize(%q) = %q: auth = %v, want %v", tc.target, got, auth, tc.auth)
			}
			again, amb2 := Canonicalize(got)
			if again != got || amb2 != amb {
				t.Errorf("not idempotent: %q → %q (%v) → %q (%v)", tc.target, got, amb, again, amb2)
			}
		})
	}
}

func FuzzCanonicalize(f *testing.F) {
	for _, tc := range canonCases {
		f.Add(tc.target)
	}
	f.Add("/api/%252561uth")
	f.Add("/api/auth/%2e%2e%2f")
	f.Fuzz(func(t *testing.T, target string) {
		got, amb := Canonicalize(target)
		if got == "" || got[0] != '/' {
			t.Fatalf("Canonicalize(%q) = %q: not a path", target, got)
		}
		for i := 0; i < len(got); i++ {
			if got[i] <= ' ' || got[i] >= 0x7f || got[i] == '?' || got[i] == '#' || got[i] == '\\' || got[i] == ';' {
				t.Fatalf("Canonicalize(%q) = %q: byte %q left", target, got, got[i])
			}
		}
		again, amb2 := Canonicalize(got)
		if again != got || amb2 != amb {
			t.Fatalf("not idempotent: %q → %q (%v) → %q (%v)", target, got, amb, again, amb2)
		}
		if IsAuth(got) != UnderFold(got, Auth) {
			t.Fatalf("IsAuth(%q) = %v disagrees with UnderFold on a canonical path", got, IsAuth(got))
		}
		if IsAuth(got) && !ReadsAsAuth(got) {
			t.Fatalf("ReadsAsAuth(%q) is false, IsAuth true: the literal check must cover the rule", got)
		}
	})
}

func BenchmarkCanonicalize(b *testing.B) {
	for _, bc := range []struct{ name, target string }{
		{"clean", "/api/v1/workflows/42?limit=10"},
		{"encoded", "/api/%61uth/../sessions//42;v=1"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Canonicalize(bc.target)
			}
		})
	}
}

func ExampleCanonicalize() {
	for _, target := range []string{
		"/api/sessions?limit=10",
		"/api/%61uth/../auth;v=1//callback",
		"http://portal.example.com/API/Auth",
		"/api/sessions%2F..%2Fauth",
	} {
		path, ambiguous := Canonicalize(target)
		fmt.Printf("%-36s → %-26s ambiguous=%v\n", target, path, ambiguous)
	}
	// Output:
	// /api/sessions?limit=10               → /api/sessions              ambiguous=false
	// /api/%61uth/../auth;v=1//callback    → /api/auth/callback         ambiguous=false
	// http://portal.example.com/API/Auth   → /API/Auth                  ambiguous=false
	// /api/sessions%2F..%2Fauth            → /api/sessions%2F..%2Fauth  ambiguous=true
}
