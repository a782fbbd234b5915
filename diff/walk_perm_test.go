package diff

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCompareSiblingTemplates covers lookups of sibling objects whose members come in
// another order: each case's later siblings look enough like an earlier one that
// reusing the earlier one's matching without checking every name would report the
// wrong thing.
func TestCompareSiblingTemplates(t *testing.T) {
	long := "aVeryLongMemberNameIndeed" // over 16 bytes: compared by its bytes
	tests := []struct {
		name               string
		primary, candidate string
		want               []Difference
	}{
		{name: "same permutation, a value changed in a later sibling",
			primary:   `[{"a":1,"b":2,"c":3},{"a":1,"b":2,"c":3},{"a":1,"b":2,"c":3}]`,
			candidate: `[{"c":3,"b":2,"a":1},{"c":3,"b":2,"a":1},{"c":3,"b":9,"a":1}]`,
			want:      []Difference{dl("body.2.b", Changed, "2", "9")}},
		{name: "later sibling in another permutation",
			primary:   `[{"a":1,"b":2,"c":3},{"a":1,"b":2,"c":3}]`,
			candidate: `[{"c":3,"b":2,"a":1},{"b":2,"c":3,"a":9}]`,
			want:      []Difference{dl("body.1.a", Changed, "1", "9")}},
		{name: "later sibling of the primary names a member twice",
			primary:   `[{"a":1,"b":2},{"a":1,"a":2}]`,
			candidate: `[{"b":2,"a":1},{"b":2,"a":1}]`,
			want:      []Difference{dl("body.1.a", Changed, "2", "1"), dl("body.1.b", Extra, "", "2")}},
		{name: "later sibling of the candidate names a member twice",
			primary:   `[{"a":1,"b":2},{"a":1,"b":2}]`,
			candidate: `[{"b":2,"a":1},{"b":2,"b":3}]`,
			want:      []Difference{dl("body.1.a", Missing, "1", ""), dl("body.1.b", Changed, "2", "3")}},
		{name: "both sides name a member twice, same permutation in every sibling",
			primary:   `[{"a":1,"b":2,"a":3},{"a":1,"b":2,"a":3},{"a":1,"b":2,"a":4}]`,
			candidate: `[{"b":2,"a":3},{"b":2,"a":3},{"b":2,"a":3}]`,
			want:      []Difference{dl("body.2.a", Changed, "4", "3")}},
		{name: "duplicate shadows differently in a later sibling",
			primary:   `[{"a":1,"b":2,"a":3},{"a":1,"b":2,"b":3}]`,
			candidate: `[{"b":2,"a":3},{"b":2,"a":3}]`,
			want:      []Difference{dl("body.1.a", Changed, "1", "3"), dl("body.1.b", Changed, "3", "2")}},
		{name: "escaped spelling in a later sibling",
			primary:   `[{"a":1,"b":2},{"a":1,"b":2}]`,
			candidate: `[{"b":2,"a":1},{"b":2,"\u0061":1}]`},
		{name: "escaped spelling in the first sibling, literal in the next",
			primary:   `[{"\u0061":1,"b":2},{"a":1,"b":2},{"a":1,"b":2}]`,
			candidate: `[{"b":2,"a":1},{"b":2,"a":1},{"b":2,"a":5}]`,
			want:      []Difference{dl("body.2.a", Changed, "1", "5")}},
		{name: "escaped duplicate in a later sibling of the candidate",
			primary:   `[{"a":1,"b":2},{"a":1,"b":2}]`,
			candidate: `[{"b":2,"a":1},{"a":7,"b":2,"\u0061":1}]`},
		{name: "siblings with different names",
			primary:   `[{"a":1,"b":2},{"a":1,"c":2}]`,
			candidate: `[{"b":2,"a":1},{"c":2,"a":1}]`},
		{name: "later sibling has a member more in the primary",
			primary:   `[{"a":1,"b":2},{"a":1,"b":2,"c":3}]`,
			candidate: `[{"b":2,"a":1},{"b":2,"a":1}]`,
			want:      []Difference{dl("body.1.c", Missing, "3", "")}},
		{name: "later sibling has a member fewer in the primary",
			primary:   `[{"a":1,"b":2,"c":3},{"a":1,"b":2}]`,
			candidate: `[{"c":3,"b":2,"a":1},{"c":3,"b":2,"a":1}]`,
			want:      []Difference{dl("body.1.c", Extra, "", "3")}},
		{name: "first sibling has an extra member, the next none",
			primary:   `[{"a":1},{"a":1,"x":2},{"a":1,"x":2}]`,
			candidate: `[{"x":2,"a":1},{"x":2,"a":1},{"x":3,"a":1}]`,
			want:      []Difference{dl("body.0.x", Extra, "", "2"), dl("body.2.x", Changed, "2", "3")}},
		{name: "missing member in every sibling",
			primary:   `[{"a":1,"b":2,"c":3},{"a":4,"b":5,"c":6}]`,
			candidate: `[{"c":3,"a":1},{"c":6,"a":4}]`,
			want:      []Difference{dl("body.0.b", Missing, "2", ""), dl("body.1.b", Missing, "5", "")}},
		{name: "names differing in their last byte at each word boundary",
			primary: `[{"abcd":1,"z":0},{"abce":1,"z":0},{"abcdef":1,"z":0},{"abcdeg":1,"z":0},` +
				`{"abcdefghijklmn":1,"z":0},{"abcdefghijklmo":1,"z":0},` +
				`{"abcdefghijklm":1,"z":0},{"abcdefghijklx":1,"z":0},{"abcdefghijklmno":1,"z":0},{"abcdefghijklmnp":1,"z":0}]`,
			candidate: `[{"z":0,"abcd":1},{"z":0,"abcd":1},{"z":0,"abcdef":1},{"z":0,"abcdef":1},` +
				`{"z":0,"abcdefghijklmn":1},{"z":0,"abcdefghijklmn":1},` +
				`{"z":0,"abcdefghijklm":1},{"z":0,"abcdefghijklm":1},{"z":0,"abcdefghijklmno":1},{"z":0,"abcdefghijklmno":1}]`,
			want: []Difference{
				dl("body.1.abcd", Extra, "", "1"), dl("body.1.abce", Missing, "1", ""),
				dl("body.3.abcdef", Extra, "", "1"), dl("body.3.abcdeg", Missing, "1", ""),
				dl("body.5.abcdefghijklmn", Extra, "", "1"), dl("body.5.abcdefghijklmo", Missing, "1", ""),
				dl("body.7.abcdefghijklm", Extra, "", "1"), dl("body.7.abcdefghijklx", Missing, "1", ""),
				dl("body.9.abcdefghijklmno", Extra, "", "1"), dl("body.9.abcdefghijklmnp", Missing, "1", "")}},
		{name: "long names differing only at the end",
			primary:   `[{"` + long + `1":1,"z":0},{"` + long + `2":1,"z":0}]`,
			candidate: `[{"z":0,"` + long + `1":1},{"z":0,"` + long + `1":1}]`,
			want:      []Difference{dl("body.1."+long+"1", Extra, "", "1"), dl("body.1."+long+"2", Missing, "1", "")}},
		{name: "names next to the document's end",
			primary:   `[{"a":1,"bc":2},{"a":1,"bd":2}]`,
			candidate: `[{"bc":2,"a":1},{"bc":2,"a":1}]`,
			want:      []Difference{dl("body.1.bc", Extra, "", "2"), dl("body.1.bd", Missing, "2", "")}},
		{name: "nested arrays of reordered objects",
			primary: `{"rows":[{"id":1,"cells":[{"k":"a","v":1},{"k":"b","v":2}]},` +
				`{"id":2,"cells":[{"k":"a","v":1},{"k":"b","v":2}]}]}`,
			candidate: `{"rows":[{"cells":[{"v":1,"k":"a"},{"v":2,"k":"b"}],"id":1},` +
				`{"cells":[{"v":1,"k":"a"},{"v":3,"k":"b"}],"id":2}]}`,
			want: []Difference{dl("body.rows.1.cells.1.v", Changed, "2", "3")}},
		{name: "objects of two shapes alternating",
			primary: `[{"id":1,"owner":{"id":"u","n":1},"x":0},{"id":2,"owner":{"id":"v","n":2},"x":0},` +
				`{"id":3,"owner":{"id":"w","n":3},"x":0}]`,
			candidate: `[{"x":0,"owner":{"n":1,"id":"u"},"id":1},{"x":0,"owner":{"n":2,"id":"v"},"id":2},` +
				`{"x":0,"owner":{"n":3,"id":"W"},"id":3}]`,
			want: []Difference{dl("body.2.owner.id", Changed, `"w"`, `"W"`)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Compare(jsonResp(tc.primary), jsonResp(tc.candidate), mustRules(t)).Differences
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Compare differences (-want +got):\n%s", diff)
			}
			if want := referenceDiffs(t, tc.primary, tc.candidate); !slices.Equal(want, diffKeys(got)) {
				t.Errorf("Compare disagrees with the reference:\n%s", cmp.Diff(want, diffKeys(got)))
			}
		})
	}
}

// dl is a difference whose pattern is its path with array indexes as #.
func dl(path string, kind Kind, primary, candidate string) Difference {
	segs := strings.Split(path, ".")
	for i, s := range segs {
		if _, err := strconv.Atoi(s); err == nil {
			segs[i] = "#"
		}
	}
	return withPattern(d(path, kind, primary, candidate), strings.Join(segs, "."))
}

// TestCompareDuplicateAfterSamePrefix covers objects whose members come in the same
// order up to a point and that name a member twice: the earlier occurrence, though
// equal on both sides, is shadowed by the later one, as JSON.parse has it.
func TestCompareDuplicateAfterSamePrefix(t *testing.T) {
	var bigA, bigB strings.Builder
	bigA.WriteString(`{"dup":1`)
	bigB.WriteString(`{"dup":1`)
	for i := range smallObject + 4 {
		fmt.Fprintf(&bigA, `,"m%d":%d`, i, i)
	}
	for i := smallObject + 3; i >= 0; i-- {
		fmt.Fprintf(&bigB, `,"m%d":%d`, i, i)
	}
	bigA.WriteString(`,"dup":2}`)
	bigB.WriteString(`}`)
	tests := []struct {
		name               string
		primary, candidate string
		want               []Difference
	}{
		{name: "primary repeats a member after the same prefix",
			primary: `{"a":1,"b":0,"a":2}`, candidate: `{"a":1,"b":0}`,
			want: []Difference{d("body.a", Changed, "2", "1")}},
		{name: "primary repeats a member with the same value",
			primary: `{"a":1,"b":0,"a":1}`, candidate: `{"a":1,"b":5}`,
			want: []Difference{d("body.b", Changed, "0", "5")}},
		{name: "candidate repeats a member after the same prefix",
			primary: `{"a":1,"b":0}`, candidate: `{"a":1,"c":0,"a":2}`,
			want: []Difference{d("body.a", Changed, "1", "2"), d("body.b", Missing, "0", ""), d("body.c", Extra, "", "0")}},
		{name: "both repeat it, reordered after the prefix",
			primary: `{"a":1,"b":0,"c":1,"a":2}`, candidate: `{"a":1,"c":1,"a":2,"b":0}`},
		{name: "large object repeats a member after the same prefix",
			primary: bigA.String(), candidate: bigB.String(),
			want: []Difference{d("body.dup", Changed, "2", "1")}},
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

// TestCompareListPagesAgainstReference compares random list pages — arrays of objects
// that share their names and orders, with names dropped, repeated, respelled with
// escapes or renamed here and there — with the reference differ below.
func TestCompareListPagesAgainstReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 13))
	rules := mustRules(t)
	for n := range 400 {
		a, b := randListPage(r)
		want := referenceDiffs(t, a, b)
		got := Compare(jsonResp(a), jsonResp(b), rules)
		if got.Truncated {
			continue
		}
		if diff := cmp.Diff(want, diffKeys(got.Differences)); diff != "" {
			t.Fatalf("page %d:\nprimary   %s\ncandidate %s\n(-reference +Compare):\n%s", n, a, b, diff)
		}
	}
}

// FuzzCompareAgainstReference holds Compare to the reference differ on any two JSON
// documents, and on the primary against its own members in reverse and sorted order
// and the candidate's in reverse order, which Compare reads through the guide's tight
// paths.
func FuzzCompareAgainstReference(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 8 {
		a, b := randListPage(r)
		f.Add([]byte(a), []byte(b))
	}
	f.Add([]byte(`{"a":1,"b":0,"a":2}`), []byte(`{"a":1,"b":0}`))
	f.Add([]byte(`[{"a":1,"b":2},{"a":1,"a":2}]`), []byte(`[{"b":2,"a":1},{"b":2,"a":1}]`))
	f.Add([]byte(`{"token":[1,{"x":2}]}`), []byte(`{"token":[1,{"x":3}]}`))
	rules := mustRules(f)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		if !json.Valid(a) || !json.Valid(b) {
			return
		}
		for _, c := range [][]byte{b, reverseKeys(a), sortKeys(a), reverseKeys(b)} {
			got := Compare(jsonResp(string(a)), jsonResp(string(c)), rules)
			if got.Truncated {
				continue
			}
			if diff := cmp.Diff(referenceDiffs(t, string(a), string(c)), diffKeys(got.Differences)); diff != "" {
				t.Fatalf("primary   %s\ncandidate %s\n(-reference +Compare):\n%s", a, c, diff)
			}
		}
	})
}

// randListPage returns two renderings of a list of objects: the primary's members in
// one order, the candidate's in another (the same for most elements), with a few
// elements changed on one side.
func randListPage(r *rand.Rand) (string, string) {
	// pairs of names of one length, told apart by their last byte, on either side of
	// each 8-byte word boundary of a raw name (quotes included)
	names := []string{"id", "ie", "title", "titlf", "abcdef", "abcdeg", "abcdefg", "abcdefh", "abcdefghijklm",
		"abcdefghijkln", "abcdefghijklmn", "abcdefghijklmo", "aVeryLongMemberNameIndeed1", "aVeryLongMemberNameIndeed2",
		"k\u00e9y", "k\u00e9z"}
	pick := r.Perm(len(names))[:2+r.IntN(5)]
	orderA := slices.Clone(pick)
	orderB := slices.Clone(pick)
	r.Shuffle(len(orderB), func(i, j int) { orderB[i], orderB[j] = orderB[j], orderB[i] })
	spell := func(name string) string {
		if r.IntN(12) == 0 { // an escaped spelling of the same name
			var s strings.Builder
			s.WriteByte('"')
			for _, c := range name {
				fmt.Fprintf(&s, `\u%04x`, c)
			}
			s.WriteByte('"')
			return s.String()
		}
		return strconv.Quote(name)
	}
	obj := func(order []int, val func(int) int, nested bool) string {
		var s strings.Builder
		s.WriteByte('{')
		members := slices.Clone(order)
		switch r.IntN(10) {
		case 0: // drop one
			i := r.IntN(len(members))
			members = slices.Delete(members, i, i+1)
		case 1: // repeat one later
			members = append(members, members[r.IntN(len(members))])
		case 2: // a name of another element's kind
			members = append(members, r.IntN(len(names)))
		case 3: // swap two
			i, j := r.IntN(len(members)), r.IntN(len(members))
			members[i], members[j] = members[j], members[i]
		case 4: // rename one to its twin of the same length
			i := r.IntN(len(members))
			members[i] ^= 1
		}
		for i, m := range members {
			if i > 0 {
				s.WriteByte(',')
			}
			fmt.Fprintf(&s, "%s:", spell(names[m]))
			if nested && m == order[0] {
				fmt.Fprintf(&s, `{"x":%d,"y":[%d]}`, val(m), val(m)+1)
			} else {
				fmt.Fprintf(&s, "%d", val(m))
			}
		}
		s.WriteByte('}')
		return s.String()
	}
	var a, b strings.Builder
	a.WriteString(`{"items":[`)
	b.WriteString(`{"items":[`)
	n := 1 + r.IntN(8)
	nested := r.IntN(2) == 0
	for e := range n {
		if e > 0 {
			a.WriteByte(',')
			b.WriteByte(',')
		}
		va := func(m int) int { return e*100 + m }
		vb := va
		if r.IntN(5) == 0 {
			changed := pick[r.IntN(len(pick))]
			vb = func(m int) int {
				if m == changed {
					return -1
				}
				return e*100 + m
			}
		}
		a.WriteString(obj(orderA, va, nested))
		b.WriteString(obj(orderB, vb, nested))
	}
	// more than 16 bytes after the last name, so that every name is read as words
	a.WriteString(`],"padding":"0123456789abcdef"}`)
	b.WriteString(`],"padding":"0123456789abcdef"}`)
	return a.String(), b.String()
}

// diffKey is what the reference differ and Compare are held to agree on.
type diffKey struct {
	Path               string
	Kind               Kind
	Primary, Candidate string
}

func diffKeys(ds []Difference) []diffKey {
	var out []diffKey
	for _, d := range ds {
		out = append(out, diffKey{d.Path, d.Kind, d.Primary, d.Candidate})
	}
	return out
}

// referenceDiffs is a plain recursive differ with JSON.parse's view of objects — every
// member by its decoded name, the last of several with one name winning — written
// without the walker's shortcuts: no raw-byte skipping, no positional matching, no
// templates. Its differences are sorted as Compare sorts them.
func referenceDiffs(t testing.TB, primary, candidate string) []diffKey {
	t.Helper()
	ta, tb := new(tape), new(tape)
	if err := ta.parse([]byte(primary)); err != nil {
		t.Fatalf("primary: %v", err)
	}
	if err := tb.parse([]byte(candidate)); err != nil {
		t.Fatalf("candidate: %v", err)
	}
	var out []diffKey
	// secret: a member name on the path is secret, as Compare decides
	// whether to show a value
	var walk func(path string, secret bool, va, vb int32)
	walk = func(path string, secret bool, va, vb int32) {
		val := func(tp *tape, v int32) string { return renderJSON(tp.raw(v), secret, nil) }
		sec := func(name string) bool { return secret || isSecretName(name) }
		na, nb := ta.nodes[va], tb.nodes[vb]
		if !sameType(na.kind, nb.kind) {
			out = append(out, diffKey{path, Type, val(ta, va), val(tb, vb)})
			return
		}
		switch na.kind {
		case jObject:
			ma, oa := members(ta, va)
			mb, ob := members(tb, vb)
			for _, name := range oa {
				p := path + "." + string(appendPathKey(nil, []byte(name)))
				if kb, ok := mb[name]; ok {
					walk(p, sec(name), ma[name]+1, kb+1)
				} else {
					out = append(out, diffKey{p, Missing, renderJSON(ta.raw(ma[name]+1), sec(name), nil), ""})
				}
			}
			for _, name := range ob {
				if _, ok := ma[name]; !ok {
					p := path + "." + string(appendPathKey(nil, []byte(name)))
					out = append(out, diffKey{p, Extra, "", renderJSON(tb.raw(mb[name]+1), sec(name), nil)})
				}
			}
		case jArray:
			ea, eb := elements(ta, va), elements(tb, vb)
			for i := range max(len(ea), len(eb)) {
				p := path + "." + strconv.Itoa(i)
				switch {
				case i >= len(eb):
					out = append(out, diffKey{p, Missing, val(ta, ea[i]), ""})
				case i >= len(ea):
					out = append(out, diffKey{p, Extra, "", val(tb, eb[i])})
				default:
					walk(p, secret, ea[i], eb[i])
				}
			}
		case jNumber:
			if !numbersEqual(ta.raw(va), tb.raw(vb)) {
				out = append(out, diffKey{path, Changed, val(ta, va), val(tb, vb)})
			}
		case jString:
			if string(unquote(nil, ta.raw(va))) != string(unquote(nil, tb.raw(vb))) {
				out = append(out, diffKey{path, Changed, val(ta, va), val(tb, vb)})
			}
		default:
			if na.kind != nb.kind {
				out = append(out, diffKey{path, Changed, val(ta, va), val(tb, vb)})
			}
		}
	}
	walk("body", false, 0, 0)
	slices.SortStableFunc(out, func(x, y diffKey) int {
		if n := comparePaths(x.Path, y.Path); n != 0 {
			return n
		}
		return strings.Compare(string(x.Kind), string(y.Kind))
	})
	return out
}

// members maps the decoded names of object o's members to the key node of the last
// occurrence of each, and lists the names in order of first appearance.
func members(t *tape, o int32) (map[string]int32, []string) {
	m := map[string]int32{}
	var order []string
	for k := o + 1; k < t.nodes[o].next; k = t.nodes[k+1].next {
		name := string(unquote(nil, t.raw(k)))
		if _, ok := m[name]; !ok {
			order = append(order, name)
		}
		m[name] = k
	}
	return m, order
}

func elements(t *tape, v int32) []int32 {
	var out []int32
	for e := v + 1; e < t.nodes[v].next; e = t.nodes[e].next {
		out = append(out, e)
	}
	return out
}

// TestCompareReorderedShortValues covers the word compare of short values matched by
// name: values of 1 to 10 bytes, equal or differing only in their last byte, in the
// middle of a document and at its end.
func TestCompareReorderedShortValues(t *testing.T) {
	for n := 1; n <= 10; n++ {
		v := strings.Repeat("7", n)
		w := strings.Repeat("7", n-1) + "8"
		for _, tail := range []string{"", `,"padding":"0123456789abcdef"`} {
			for _, differ := range []bool{false, true} {
				cand := v
				if differ {
					cand = w
				}
				primary := `{"o":{"a":` + v + `,"b":0}` + tail + `}`
				candidate := `{"o":{"b":0,"a":` + cand + `}` + tail + `}`
				t.Run(fmt.Sprintf("%d bytes, differ %t, padded %t", n, differ, tail != ""), func(t *testing.T) {
					var want []Difference
					if differ {
						want = []Difference{d("body.o.a", Changed, v, w)}
					}
					got := Compare(jsonResp(primary), jsonResp(candidate), mustRules(t)).Differences
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("Compare(%s, %s) differences (-want +got):\n%s", primary, candidate, diff)
					}
				})
			}
		}
	}
}
