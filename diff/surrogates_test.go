package diff

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestLoneSurrogatesStayDistinct: a JavaScript client keeps a lone surrogate as the
// code unit it is, so "\ud800", "\udc00" and "\ufffd" are three different strings.
func TestLoneSurrogatesStayDistinct(t *testing.T) {
	tests := []struct {
		name, primary, candidate string
		want                     []Difference
	}{
		{"high against low", `["\ud800"]`, `["\udc00"]`,
			[]Difference{withPattern(d("body.0", Changed, `"\ud800"`, `"\udc00"`), "body.#")}},
		{"lone surrogate against U+FFFD", `["\ud800"]`, `["\ufffd"]`,
			[]Difference{withPattern(d("body.0", Changed, `"\ud800"`, `"\ufffd"`), "body.#")}},
		{"lone surrogate against the replacement character as text", `["\udfff"]`, `["�"]`,
			[]Difference{withPattern(d("body.0", Changed, `"\udfff"`, `"�"`), "body.#")}},
		{"lone surrogate against its bytes", `["\ud800"]`, "[\"\xed\xa0\x80\"]",
			[]Difference{withPattern(d("body.0", Changed, `"\ud800"`, "\"\xed\xa0\x80\""), "body.#")}},
		{"a high surrogate before a character is alone", `["\ud83dx"]`, `["\ufffdx"]`,
			[]Difference{withPattern(d("body.0", Changed, `"\ud83dx"`, `"\ufffdx"`), "body.#")}},
		{"same lone surrogate, spelled in either case", `["\uD800"]`, `["\ud800"]`, nil},
		{"a pair is its character", `["\ud83d\ude00"]`, `["😀"]`, nil},
		{"bytes that are not UTF-8 read as U+FFFD", "[\"\xff\"]", `["\ufffd"]`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Compare(jsonResp(tc.primary), jsonResp(tc.candidate), nil).Differences
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Compare(%s, %s) (-want +got):\n%s", tc.primary, tc.candidate, diff)
			}
		})
	}
}

// TestLoneSurrogateKeysAreDistinctMembers: two members whose names are different lone
// surrogates are two members, not one name given twice; their paths say which is
// which and silence exactly it.
func TestLoneSurrogateKeysAreDistinctMembers(t *testing.T) {
	tests := []struct {
		name, primary, candidate string
		want                     []Difference
	}{
		{"both members kept", `{"\ud800":1,"\udc00":2}`, `{"\udc00":2,"\ud800":1}`, nil},
		{"neither shadows the other", `{"\ud800":1,"\udc00":2}`, `{"\ud800":1}`,
			[]Difference{d(`body.\udc00`, Missing, "2", "")}},
		{"a value under one of them", `{"\ud800":1,"\udc00":2}`, `{"\ud800":1,"\udc00":3}`,
			[]Difference{d(`body.\udc00`, Changed, "2", "3")}},
		{"renamed", `{"a":{"\ud800":1}}`, `{"a":{"\udbff":1}}`,
			[]Difference{d(`body.a.\ud800`, Missing, "1", ""), d(`body.a.\udbff`, Extra, "", "1")}},
		{"not the replacement character", `{"\ud800":1}`, `{"\ufffd":1}`,
			[]Difference{d(`body.\ud800`, Missing, "1", ""), d("body.\ufffd", Extra, "", "1")}},
		{"the same lone surrogate twice is a duplicate", `{"\ud800":1,"\ud800":2}`, `{"\ud800":2}`, nil},
		{"a surrogate next to other text", `{"x\udc00.y":[1]}`, `{"x\udc00.y":[2]}`,
			[]Difference{withPattern(d(`body.x\udc00\.y.0`, Changed, "1", "2"), `body.x\udc00\.y.#`)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, c := jsonResp(tc.primary), jsonResp(tc.candidate)
			got := Compare(p, c, nil).Differences
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Compare(%s, %s) (-want +got):\n%s", tc.primary, tc.candidate, diff)
			}
			for _, x := range got {
				again := Compare(p, c, mustRules(t, Ignore(x.Path))).Differences
				if len(again) != len(got)-1 {
					t.Errorf("Ignore(%q) left %v", x.Path, again)
				}
			}
		})
	}
}
