package diff

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCompareReorderedKeys covers matching object members by name when the two sides
// list them in another order: escaped names, duplicate names on either side, and
// members that only one side has.
func TestCompareReorderedKeys(t *testing.T) {
	tests := []struct {
		name               string
		primary, candidate string
		want               []Difference
	}{
		{name: "escaped names match their literal text in another order",
			primary: `{"k\u00e9y":1,"b":2,"\u0061":3}`, candidate: `{"a":3,"b":2,"kéy":1}`},
		{name: "escaped name, value changed",
			primary: `{"x":0,"k\u00e9y":1}`, candidate: `{"kéy":2,"x":0}`,
			want: []Difference{d("body.kéy", Changed, "1", "2")}},
		{name: "duplicate in primary, reordered: the last one counts",
			primary: `{"a":1,"b":2,"a":3}`, candidate: `{"b":2,"a":3}`},
		{name: "duplicate in candidate, reordered: the last one counts",
			primary: `{"b":2,"a":3}`, candidate: `{"a":3,"b":2,"a":4}`,
			want: []Difference{d("body.a", Changed, "3", "4")}},
		{name: "duplicate escaped and literal names in candidate",
			primary: `{"b":2,"a":3}`, candidate: `{"\u0061":9,"b":2,"a":3}`},
		{name: "duplicate extra member counts once",
			primary: `{"b":2}`, candidate: `{"c":1,"b":2,"c":5}`,
			want: []Difference{d("body.c", Extra, "", "5")}},
		{name: "missing and extra after a reorder",
			primary: `{"a":1,"b":2,"c":3}`, candidate: `{"c":3,"d":4,"a":1}`,
			want: []Difference{d("body.b", Missing, "2", ""), d("body.d", Extra, "", "4")}},
		{name: "nested reordered objects",
			primary:   `{"a":{"x":1,"y":{"p":1,"q":2}},"b":[{"m":1,"n":2}]}`,
			candidate: `{"b":[{"n":2,"m":1}],"a":{"y":{"q":3,"p":1},"x":1}}`,
			want:      []Difference{d("body.a.y.q", Changed, "2", "3")}},
		{name: "reordered after a same-order prefix with a duplicate before it",
			primary: `{"a":1,"a":2,"c":1,"b":2}`, candidate: `{"a":2,"b":2,"c":1}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Compare(jsonResp(tc.primary), jsonResp(tc.candidate), mustRules(t)).Differences
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Compare differences (-want +got):\n%s", diff)
			}
		})
	}
}
