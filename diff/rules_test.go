package diff

import (
	"math"
	"strings"
	"testing"
)

func TestNewRulesValidates(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		err  string // substring; "" = valid
	}{
		{"ignore status", Ignore("status"), ""},
		{"ignore all headers", Ignore("header"), ""},
		{"ignore a header", Ignore("header.X-Request-Id"), ""},
		{"ignore a header glob", Ignore("header.X-Ratelimit-*"), ""},
		{"ignore the body", Ignore("body"), ""},
		{"ignore a pattern", Ignore("body.items.#.actor.avatarUrl"), ""},
		{"ignore an escaped key", Ignore(`body.a\.b.\#.c\*`), ""},
		{"ignore an empty key", Ignore("body.a..b"), ""},
		{"empty path", Ignore(""), `ignore path "": empty path`},
		{"unknown root", Ignore("bdy.x"), `ignore path "bdy.x": must start with "status", "header" or "body"`},
		{"root glob", Ignore("*.x"), `must start with`},
		{"status sub-path", Ignore("status.code"), `"status" has no sub-paths`},
		{"header sub-path", Ignore("header.X.Y"), `header path names one header`},
		{"header index", Ignore("header.#"), `headers are not arrays`},
		{"ignore a cookie", Ignore("header.Set-Cookie.sid"), ""},
		{"ignore a cookie attribute", Ignore("header.set-cookie.sid.httponly"), ""},
		{"ignore an attribute of every cookie", Ignore("header.Set-Cookie.*.Expires"), ""},
		{"cookie path too deep", Ignore("header.Set-Cookie.sid.Path.x"), `header.Set-Cookie.<cookie>.<Attribute>`},
		{"cookie index", Ignore("header.Set-Cookie.#"), `headers are not arrays`},
		{"empty cookie name", Ignore("header.Set-Cookie..HttpOnly"), `empty cookie or attribute name`},
		{"sub-path of a header glob", Ignore("header.Set-*.sid"), `only Set-Cookie has sub-paths`},
		{"empty header name", Ignore("header."), `empty header name`},
		{"trailing backslash", Ignore(`body.a\`), `trailing backslash`},
		{"gjson query", Ignore("body.items.#(id==1)"), `gjson queries`},
		{"gjson modifier", Ignore("body.@reverse"), `gjson queries, modifiers`},
		{"gjson pipe", Ignore("body.a|b"), `pipes`},
		{"leading dot", Ignore(".body"), `empty first segment`},
		{"unordered body", Unordered("body.results"), ""},
		{"unordered header", Unordered("header.Vary"), `unordered path "header.Vary": only body paths`},
		{"shape malformed", Shape("body.a|b"), `shape path "body.a|b"`},
		{"tolerance", Tolerance(1e-9), ""},
		{"negative tolerance", Tolerance(-1), "tolerance -1: must be a finite number >= 0"},
		{"NaN tolerance", Tolerance(math.NaN()), "tolerance NaN"},
		{"max body", MaxBodyBytes(1 << 20), ""},
		{"max body zero", MaxBodyBytes(0), "max body bytes 0"},
		{"max body too large", MaxBodyBytes(1 << 40), "max body bytes 1099511627776"},
		{"max decoded negative", MaxDecodedBytes(-1), "max decoded bytes -1"},
		{"max differences zero", MaxDifferences(0), "max differences 0"},
		{"max result bytes", MaxResultBytes(64 << 10), ""},
		{"max result bytes too small", MaxResultBytes(100), "max result bytes 100: must be between 1024"},
		{"include header", IncludeHeaders("ETag"), ""},
		{"include bad header", IncludeHeaders("a b"), `include header "a b"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewRules(tc.opt)
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("NewRules: %v, want no error", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("NewRules error = %v, want it to contain %q", err, tc.err)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*At", "createdAt", true},
		{"*At", "createdat", false},
		{"a?c", "abc", true},
		{"a?c", "aéc", true},
		{"a?c", "ac", false},
		{"*", "", true},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{`a\*`, "a*", true},
		{`a\*`, "ab", false},
	}
	for _, tc := range tests {
		segs, err := splitPath(tc.pattern)
		if err != nil {
			t.Fatalf("splitPath(%q): %v", tc.pattern, err)
		}
		g := segs[0].glob
		var got bool
		if g == nil {
			got = segs[0].lit == tc.s
		} else {
			got = g.match(tc.s)
		}
		if got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

// TestRulesAccumulate: later options add paths; a later tolerance replaces.
func TestRulesAccumulate(t *testing.T) {
	r := mustRules(t, Ignore("body.a"), Tolerance(1), Ignore("body.b"), Tolerance(0))
	res := Compare(jsonResp(`{"a":1,"b":1,"c":1}`), jsonResp(`{"a":2,"b":2,"c":2}`), r)
	if len(res.Differences) != 1 || res.Differences[0].Path != "body.c" {
		t.Errorf("differences = %v, want only body.c", res.Differences)
	}
}
