package diff

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// checkParseAgainst parses b plainly and against a's tape and fails unless both give
// the same nodes and the same error; it then checks b against a's tape for equality
// up to the order of members, which must find no more than the reference differ and
// nothing in a document that does not parse. It returns what the check said.
func checkParseAgainst(t *testing.T, a, b []byte) (equal bool) {
	t.Helper()
	ta := new(tape)
	if ta.parse(a) != nil {
		return false
	}
	plain, guided := new(tape), new(tape)
	errP := plain.parse(b)
	errG := guided.parseAgainst(b, ta)
	if fmt.Sprint(errP) != fmt.Sprint(errG) {
		t.Fatalf("parse(%q) against %q: error %v, plain parse %v", b, a, errG, errP)
	}
	// twice with one scratch, the second time guessing orders from the first
	var s sameScratch
	equal = ta.sameUpToOrder(b, &s)
	if again := ta.sameUpToOrder(b, &s); again && !equal {
		equal = true // the reference must agree
	}
	if errP != nil {
		if equal {
			t.Fatalf("%q against %q: equal up to order, but the parse fails: %v", b, a, errP)
		}
		return false
	}
	if !slices.Equal(plain.nodes, guided.nodes) {
		for i := range min(len(plain.nodes), len(guided.nodes)) {
			if plain.nodes[i] != guided.nodes[i] {
				t.Fatalf("parse(%q) against %q: node %d is %+v, plain parse %+v", b, a, i, guided.nodes[i], plain.nodes[i])
			}
		}
		t.Fatalf("parse(%q) against %q: %d nodes, plain parse %d", b, a, len(guided.nodes), len(plain.nodes))
	}
	if equal {
		if d := referenceDiffs(t, string(a), string(b)); len(d) > 0 {
			t.Fatalf("%q against %q: equal up to order, but the reference differ finds %v", b, a, d)
		}
	}
	return equal
}

// TestParseAgainst: the candidate parsed against the primary's tape gives the tape and
// error of a plain parse, and says the two are equal exactly where no rule could tell
// them apart without deciding anything itself: an escaped name, a name met twice or a
// number spelled otherwise leaves the question to the walk.
func TestParseAgainst(t *testing.T) {
	// over maxGuideScan members, too many to look each one for among all
	wide := object(100, func(i int) string { return fmt.Sprintf(`"k%d":%d`, i, i) })
	wideRev := object(100, func(i int) string { return fmt.Sprintf(`"k%d":%d`, (i*37)%100, (i*37)%100) })
	// past maxBloomNames, with the last name the same as the eighth
	huge := func(at func(i int) int) string {
		return object(300, func(i int) string {
			k := at(i)
			if k == 299 {
				return fmt.Sprintf(`"k7":%d`, k)
			}
			return fmt.Sprintf(`"k%d":%d`, k, k)
		})
	}
	hugeDup, hugeDupRev := huge(func(i int) int { return i }), huge(func(i int) int { return 299 - i })
	tests := []struct {
		name      string
		a, b      string
		wantEqual bool
	}{
		{"identical", `{"a":[1,2,{"b":"x"}],"c":null}`, `{"a":[1,2,{"b":"x"}],"c":null}`, true},
		{"members reversed", `{"a":1,"b":{"x":true,"y":[1]},"c":"s"}`, `{"c":"s","b":{"y":[1],"x":true},"a":1}`, true},
		{"members shuffled, whitespace", `{"a":1,"b":2,"c":3,"d":4}`, "{ \"c\":3,\n\"a\":1 ,\"d\":4,\"b\":2}", true},
		{"reversed elements of a list page", `[{"id":1,"t":"a"},{"id":2,"t":"b"}]`, `[{"t":"a","id":1},{"t":"b","id":2}]`, true},
		{"array elements in another order", `[1,2]`, `[2,1]`, false},
		{"a value changed", `{"a":1,"b":2}`, `{"b":3,"a":1}`, false},
		{"a member more", `{"a":1}`, `{"a":1,"b":2}`, false},
		{"a member fewer", `{"a":1,"b":2}`, `{"a":1}`, false},
		{"an element more", `[1]`, `[1,2]`, false},
		{"an element fewer", `[1,2]`, `[1]`, false},
		{"empty against non-empty", `{"a":{"x":1},"b":[1]}`, `{"a":{},"b":[]}`, false},
		{"non-empty against empty", `{"a":{},"b":[]}`, `{"a":{"x":1},"b":[1]}`, false},
		{"escaped name", `{"a":1,"b":2}`, `{"b":2,"\u0061":1}`, false},
		{"escaped name on both sides", `{"\u0061":1,"b":2}`, `{"b":2,"\u0061":1}`, false},
		{"escaped value", `{"a":"A","b":2}`, `{"b":2,"a":"\u0041"}`, false},
		{"name met twice in the candidate", `{"a":1,"b":1}`, `{"a":1,"a":1}`, false},
		{"name met twice in both", `{"a":1,"a":2}`, `{"a":2,"a":1}`, false},
		// a sibling's order guessed for the second object: each "a" finds an "a" with
		// its value, but JSON.parse keeps the last one, 2 against 1
		{"name met twice, swapped, in a list page", `[{"b":0,"c":0},{"a":1,"a":2},"` + strings.Repeat("x", 40) + `"]`,
			`[{"c":0,"b":0},{"a":2,"a":1},"` + strings.Repeat("x", 40) + `"]`, false},
		{"name met twice, same order, reordered around", `{"a":1,"a":2,"b":3}`, `{"b":3,"a":1,"a":2}`, false},
		{"name met twice far apart", `{"a":1,"` + strings.Repeat("x", 20) + `":0,"a":2}`, `{"a":2,"` + strings.Repeat("x", 20) + `":0,"a":1}`, false},
		{"whole members and a changed one", `{"a":"xxxxxxxxxxxxxxxxxxxxxxxx","b":12,"c":[1]}`, `{"c":[1],"b":123,"a":"xxxxxxxxxxxxxxxxxxxxxxxx"}`, false},
		{"whole members, whitespace inside", `{"a":"xxxxxxxxxxxxxxxxxxxxxxxx","b":12,"c":[1]}`, `{"c":[1],"b" : 12,"a":"xxxxxxxxxxxxxxxxxxxxxxxx"}`, true},
		{"number continued in a whole member", `{"a":1,"b":2,"c":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`, `{"b":2,"a":1.5,"c":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`, false},
		{"a name the primary lacks", `{"a":1,"b":2}`, `{"b":2,"z":1}`, false},
		{"an escaped value reordered", `{"a":"\u0041","b":2}`, `{"b":2,"a":"\u0041"}`, true},
		{"long names reordered", `{"` + strings.Repeat("n", 40) + `":1,"` + strings.Repeat("m", 40) + `":2}`,
			`{"` + strings.Repeat("m", 40) + `":2,"` + strings.Repeat("n", 40) + `":1}`, true},
		{"number spelled otherwise", `{"a":1,"b":2}`, `{"b":2.0,"a":1}`, false},
		{"number continued", `{"a":[12,3]}`, `{"a":[123,3]}`, false},
		{"number continued at the end", `12`, `123`, false},
		{"number with an exponent after it", `[1,2]`, `[1e5,2]`, false},
		{"type changed", `{"a":[1]}`, `{"a":{"0":1}}`, false},
		{"scalar roots", `"x"`, `"x"`, true},
		// names looked for one by one run out of work on the first check; the second
		// guesses the order the first learned
		{"a wide object shuffled", wide, wideRev, true},
		{"a name met twice among many", hugeDup, hugeDupRev, false},
		// each name looked for among all 300: past the check's work, left to the walk
		{"many names reversed", object(300, func(i int) string { return fmt.Sprintf(`"k%d":%d`, i, i) }),
			object(300, func(i int) string { return fmt.Sprintf(`"k%d":%d`, 299-i, 299-i) }), false},
		{"changed in place, far from the start", `{"items":[{"id":1,"n":"a"},{"id":2,"n":"b"},{"id":3,"n":"c"}]}`,
			`{"items":[{"id":1,"n":"a"},{"id":2,"n":"B!"},{"id":3,"n":"c"}]}`, false},
		{"invalid after an identical prefix", `{"a":[1,2,3],"b":4}`, `{"a":[1,2,3],"b":}`, false},
		{"invalid inside a reordered object", `{"a":[1,2,3],"b":4}`, `{"b":4,"a":[1,2,3}`, false},
		{"literal continued", `[true,1]`, `[truex,1]`, false},
		{"trailing bytes", `{"a":1}`, `{"a":1} x`, false},
		{"prefix of the primary", `{"a":[1,2,3]}`, `{"a":[1,2`, false},
		{"deep, differing at the bottom", strings.Repeat(`{"n":[`, 200) + `1` + strings.Repeat(`]}`, 200),
			strings.Repeat(`{"n":[`, 200) + `2` + strings.Repeat(`]}`, 200), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkParseAgainst(t, []byte(tc.a), []byte(tc.b)); got != tc.wantEqual {
				t.Errorf("parse(%s) against %s: equal = %v, want %v", tc.b, tc.a, got, tc.wantEqual)
			}
		})
	}
}

// TestParseAgainstBenchPages: the guide parses the benchmark pages' candidates —
// members reversed, two values changed, re-encoded by encoding/json — as parse does,
// and proves the reversed one equal.
func TestParseAgainstBenchPages(t *testing.T) {
	doc := benchDoc(64<<10, false)
	if !checkParseAgainst(t, doc, reverseKeys(doc)) {
		t.Error("reversed page: not proven equal")
	}
	if checkParseAgainst(t, doc, benchDoc(64<<10, true)) {
		t.Error("changed page: proven equal")
	}
	// encoding/json respells some numbers: left to the walk
	var v any
	json.Unmarshal(doc, &v)
	sorted, _ := json.Marshal(v)
	checkParseAgainst(t, doc, sorted)
}

// FuzzParseAgainst: for any two documents, and for the primary against its members
// reversed or sorted and against itself with the other spliced in, the guided parse
// gives the plain parse's tape and error, and what it proves equal the reference
// differ finds equal.
func FuzzParseAgainst(f *testing.F) {
	for i, s := range jsonSeeds {
		f.Add([]byte(s), []byte(jsonSeeds[(i+1)%len(jsonSeeds)]), uint16(i*7))
	}
	f.Add([]byte(`{"a":[12,3],"b":{"c":"x"}}`), []byte(`4`), uint16(6))
	f.Add([]byte(`[{"id":1,"t":"a"},{"id":2,"t":"b"}]`), []byte(`"!"`), uint16(13))
	f.Fuzz(func(t *testing.T, a, b []byte, cut uint16) {
		checkParseAgainst(t, a, b)
		if !json.Valid(a) {
			return
		}
		rev := reverseKeys(a)
		checkParseAgainst(t, a, rev)
		checkParseAgainst(t, a, sortKeys(a))
		k := int(cut) % (len(a) + 1)
		spliced := slices.Concat(a[:k], b, a[k:])
		checkParseAgainst(t, a, spliced)
		if json.Valid(b) {
			checkParseAgainst(t, a, reverseKeys(b))
			checkParseAgainst(t, rev, a)
		}
	})
}

// BenchmarkParseAgainst: parsing the benchmark pages' candidates plainly and against
// the primary's tape, and checking them against it without a parse.
//
//	go test ./diff -run '^$' -bench ParseAgainst
func BenchmarkParseAgainst(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10} {
		doc := benchDoc(size, false)
		ta := new(tape)
		if err := ta.parse(doc); err != nil {
			b.Fatal(err)
		}
		for _, p := range []struct {
			name string
			doc  []byte
		}{{"reversed", reverseKeys(doc)}, {"two-differences", benchDoc(size, true)}} {
			tb := new(tape)
			name := fmt.Sprintf("%dKB/%s", size>>10, p.name)
			b.Run(name+"/plain", func(b *testing.B) {
				b.SetBytes(int64(len(p.doc)))
				b.ReportAllocs()
				for b.Loop() {
					tb.parse(p.doc)
				}
			})
			b.Run(name+"/guided", func(b *testing.B) {
				b.SetBytes(int64(len(p.doc)))
				b.ReportAllocs()
				for b.Loop() {
					tb.parseAgainst(p.doc, ta)
				}
			})
			// the check that spares the reversed page its parse, and fails early on
			// the other
			b.Run(name+"/same-up-to-order", func(b *testing.B) {
				b.SetBytes(int64(len(p.doc)))
				b.ReportAllocs()
				for b.Loop() {
					ta.sameUpToOrder(p.doc, &tb.same)
				}
			})
		}
	}
}

// object returns a JSON object of n members, member(i) the i-th.
func object(n int, member func(i int) string) string {
	ms := make([]string, n)
	for i := range ms {
		ms[i] = member(i)
	}
	return "{" + strings.Join(ms, ",") + "}"
}

// TestParseAgainstBudget: pairs built to make the guide repeat its work parse as parse
// does, and the guide's work on them stays within its budget (about twice the bytes
// parsed), which it would overrun if it compared a deep difference again at every
// level, gathered one large object's names again for each of many small objects
// mapped to it by a repeated name, or scanned all of a counterpart's names for each
// name it lacks.
func TestParseAgainstBudget(t *testing.T) {
	big := `{"x":` + object(64, func(i int) string { return fmt.Sprintf(`"member%02d":%d`, i, i) }) + `}`
	many := object(5000, func(int) string { return `"x":{"member00":0}` })
	// every name unknown to the counterpart
	strangers := `{"x":` + object(64, func(i int) string { return fmt.Sprintf(`"other%03d":%d`, i, i) }) + `}`
	tests := []struct{ name, a, b string }{
		{"many small objects against one large", big, many},
		{"deep, differing at the bottom", strings.Repeat(`[`, 5000) + `1` + strings.Repeat(`]`, 5000),
			strings.Repeat(`[`, 5000) + `2` + strings.Repeat(`]`, 5000)},
		{"deep objects in reverse, differing at the bottom",
			strings.Repeat(`{"a":1,"k":`, 2000) + `1` + strings.Repeat(`}`, 2000),
			strings.Repeat(`{"k":`, 2000) + `2` + strings.Repeat(`,"a":1}`, 2000)},
		{"names the counterpart lacks", big, strangers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkParseAgainst(t, []byte(tc.a), []byte(tc.b))
			ta, tb := new(tape), new(tape)
			if err := ta.parse([]byte(tc.a)); err != nil {
				t.Fatal(err)
			}
			tb.parseAgainst([]byte(tc.b), ta)
			if tb.guide.budget <= 0 {
				t.Errorf("budget of %d overrun: %d left", 2*len(tc.b)+4096, tb.guide.budget)
			}
		})
	}
}

// TestGuideRelease: a tape given back to the pool keeps no large scratch from guiding a
// small document by a large object, and no pointer to the guide's tape.
func TestGuideRelease(t *testing.T) {
	large := []byte(object(100000, func(i int) string { return fmt.Sprintf(`"k%d":%d`, i, i) }))
	ta, tb := new(tape), getTape()
	if err := ta.parse(large); err != nil {
		t.Fatal(err)
	}
	if err := tb.parseAgainst([]byte(`{"k0":0}`), ta); err != nil {
		t.Fatal(err)
	}
	if cap(tb.guide.akeys) < 100000 {
		t.Fatalf("the guide gathered %d names, want the large object's", cap(tb.guide.akeys))
	}
	// the check gathers the large object's names too, and guesses their positions
	swapped := object(100000, func(i int) string {
		if i < 2 {
			i = 1 - i
		}
		return fmt.Sprintf(`"k%d":%d`, i, i)
	})
	if !ta.sameUpToOrder([]byte(swapped), &tb.same) {
		t.Fatal("the large object with two members swapped is not proven equal")
	}
	if cap(tb.same.keys) < 100000 {
		t.Fatalf("the check gathered %d names, want the large object's", cap(tb.same.keys))
	}
	tb.same.perms[0][0] = make([]int32, 100000)
	putTape(tb)
	if tb.guide.a != nil || cap(tb.guide.akeys) > maxPooledNodes/4 || cap(tb.guide.perms[0][(100000*7+4)&3]) > maxPooledNodes/4 {
		t.Errorf("released guide keeps its tape or %d names, %d positions", cap(tb.guide.akeys), cap(tb.guide.perms[0][(100000*7+4)&3]))
	}
	if cap(tb.same.keys) > maxPooledNodes/4 || cap(tb.same.perms[0][0]) > maxPooledNodes/4 {
		t.Errorf("released check keeps %d names, %d positions", cap(tb.same.keys), cap(tb.same.perms[0][0]))
	}
}
