package diff

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tidwall/gjson"
)

// TestPathsSelectWithGjson checks that every body path Compare reports is the gjson path
// of the value it describes, whatever characters the keys hold.
func TestPathsSelectWithGjson(t *testing.T) {
	keys := []string{"", "plain", "a.b", "x*y", "q?", "#", "p|q", "@mod", "!lit", `back\slash`, "sp ace", "é", "3", "a=b", "(x)", "ta\tb", `qu"ote`}
	for _, k := range keys {
		t.Run(k, func(t *testing.T) {
			kq := string(appendQuoted(nil, []byte(k)))
			p := `{"o":{` + kq + `:[{"v":1}]}}`
			c := `{"o":{` + kq + `:[{"v":2}]}}`
			res := Compare(jsonResp(p), jsonResp(c), nil)
			if len(res.Differences) != 1 {
				t.Fatalf("got %d differences, want 1: %v", len(res.Differences), res.Differences)
			}
			x := res.Differences[0]
			got := gjson.Get(p, strings.TrimPrefix(x.Path, "body."))
			if got.Raw != "1" {
				t.Errorf("gjson.Get(primary, %q) = %q, want 1", x.Path, got.Raw)
			}
			if !Compare(jsonResp(p), jsonResp(c), mustRules(t, Ignore(x.Path))).Equal() {
				t.Errorf("Ignore(%q) does not silence it", x.Path)
			}
			if !Compare(jsonResp(p), jsonResp(c), mustRules(t, Ignore(x.Pattern))).Equal() {
				t.Errorf("Ignore(%q) does not silence it", x.Pattern)
			}
		})
	}
}

func TestComparePaths(t *testing.T) {
	in := []string{"status", "header.B", "body.items.10", "body.items.2", "body.items.2.a", "body", `body.a\.b`, "body.a", "header.A"}
	want := []string{"body", "body.a", `body.a\.b`, "body.items.2", "body.items.2.a", "body.items.10", "header.A", "header.B", "status"}
	got := append([]string(nil), in...)
	sortStrings(got, comparePaths)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sorted paths (-want +got):\n%s", diff)
	}
}

func sortStrings(s []string, less func(a, b string) int) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j-1], s[j]) > 0; j-- {
			s[j-1], s[j] = s[j], s[j-1]
		}
	}
}

// TestGjsonEscaping: paths escape keys exactly as gjson.Escape does.
func TestGjsonEscaping(t *testing.T) {
	var all []byte
	for c := 0; c < 256; c++ {
		all = append(all, byte(c))
	}
	for _, comp := range []string{string(all), "a.b", "", "é*", `\`} {
		if got, want := string(appendGjsonEscaped(nil, []byte(comp))), gjson.Escape(comp); got != want {
			t.Errorf("appendGjsonEscaped(%q) = %q, gjson.Escape = %q", comp, got, want)
		}
	}
}
