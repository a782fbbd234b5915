package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// benchDoc renders a session listing of about size bytes, like /api/sessions returns;
// changed alters two fields (a title and a count) far apart.
func benchDoc(size int, changed bool) []byte {
	var b strings.Builder
	b.WriteString(`{"sessions":[`)
	n, bumped := 0, false
	for i := 0; b.Len() < size-200; i++ {
		n++
		if i > 0 {
			b.WriteByte(',')
		}
		title := fmt.Sprintf("Conversation %d about the quarterly roadmap", i)
		count := i * 7 % 97
		if changed && i == 3 {
			title += "!"
		}
		if changed && b.Len() > size*3/4 && !bumped {
			count++
			bumped = true
		}
		fmt.Fprintf(&b, `{"id":"s_%06d","title":%q,"model":"gpt-4o-mini","createdAt":"2025-04-%02dT08:12:45.120Z",`+
			`"updatedAt":"2025-05-01T10:%02d:00.000Z","messageCount":%d,"tags":["work","q2","team-%d"],`+
			`"owner":{"id":"u_%d","name":"User %d","avatarUrl":"https://cdn.example.com/a/%d.png"},`+
			`"score":%.4f,"pinned":%t,"archivedAt":null,"usage":{"promptTokens":%d,"completionTokens":%d,"cost":%d.%03d}}`,
			i, title, i%28+1, i%60, count, i%5, i%13, i%13, i%13, float64(i%1000)/997, i%9 == 0, i*31, i*17, i%3, i%1000)
	}
	fmt.Fprintf(&b, `],"total":%d,"next":null}`, n)
	return []byte(b.String())
}

// reverseKeys rewrites a JSON document with the members of every object in reverse
// order, values and spellings unchanged: the shape of the bench harness's second
// backend, another framework's serializer writing the same objects.
func reverseKeys(doc []byte) []byte {
	return reorderKeys(doc, func(_ *tape, keys []int32) { slices.Reverse(keys) })
}

// sortKeys rewrites a JSON document with the members of every object sorted by raw
// name, values and spellings unchanged: a serializer that sorts names but writes
// values as the primary does.
func sortKeys(doc []byte) []byte {
	return reorderKeys(doc, func(t *tape, keys []int32) {
		slices.SortStableFunc(keys, func(x, y int32) int { return bytes.Compare(t.raw(x), t.raw(y)) })
	})
}

// reorderKeys rewrites a JSON document with the members of every object in the order
// reorder puts their key nodes (of the document's tape t) in, values and spellings
// unchanged.
func reorderKeys(doc []byte, reorder func(t *tape, keys []int32)) []byte {
	t := getTape()
	defer putTape(t)
	if err := t.parse(doc); err != nil {
		panic(err)
	}
	var out []byte
	var emit func(v int32)
	emit = func(v int32) {
		n := &t.nodes[v]
		switch n.kind {
		case jObject:
			var keys []int32
			for k := v + 1; k < n.next; k = t.nodes[k+1].next {
				keys = append(keys, k)
			}
			reorder(t, keys)
			out = append(out, '{')
			for i, k := range keys {
				if i > 0 {
					out = append(out, ',')
				}
				out = append(out, t.raw(k)...)
				out = append(out, ':')
				emit(k + 1)
			}
			out = append(out, '}')
		case jArray:
			out = append(out, '[')
			for e := v + 1; e < n.next; e = t.nodes[e].next {
				if e > v+1 {
					out = append(out, ',')
				}
				emit(e)
			}
			out = append(out, ']')
		default:
			out = append(out, t.raw(v)...)
		}
	}
	emit(0)
	return out
}

// walkBench is a pair of parsed documents, for timing the walk alone.
type walkBench struct{ a, b *tape }

func newWalkBench(tb testing.TB, a, b []byte) *walkBench {
	ta, tbp := new(tape), new(tape)
	if err := ta.parse(a); err != nil {
		tb.Fatal(err)
	}
	if err := tbp.parse(b); err != nil {
		tb.Fatal(err)
	}
	return &walkBench{a: ta, b: tbp}
}

// walk compares the two documents as Compare's JSON path does, after parsing.
func (p *walkBench) walk() int {
	w := getWalker(p.a, p.b, defaultRules)
	w.max = defaultRules.maxDiffs
	w.compare(0, 0, w.rootRules(), false)
	n := len(w.out)
	putWalker(w)
	return n
}

func benchPair(size int, changed bool) (*Response, *Response) {
	a := benchDoc(size, false)
	b := benchDoc(size, changed)
	return jsonResp(string(a)), jsonResp(string(b))
}

// BenchmarkCompareJSON measures Compare on JSON pairs, with the baselines it is held
// against in the same run on the two-differences pair: decoding both with
// encoding/json into any plus reflect.DeepEqual, and go-cmp's cmp.Diff on the decoded
// values. Bytes per op count both documents.
//
//	go test ./diff -run '^$' -bench CompareJSON -benchtime 2s
//	go test ./diff -run '^$' -bench 'CompareJSON/64KB/(identical|equal-reversed|two-differences)$' -count 8
func BenchmarkCompareJSON(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10} {
		kb := fmt.Sprintf("%dKB", size>>10)
		identP, identC := benchPair(size, false)
		diffP, diffC := benchPair(size, true)
		if got := len(Compare(diffP, diffC, nil).Differences); got != 2 {
			b.Fatalf("%s pair has %d differences, want 2", kb, got)
		}
		// Equal but not byte-identical: the candidate re-encoded by encoding/json
		// (keys sorted, so every object is matched by lookup).
		var v any
		json.Unmarshal(identP.Body, &v)
		reenc, _ := json.Marshal(v)
		reencC := jsonResp(string(reenc))
		if !Compare(identP, reencC, nil).Equal() {
			b.Fatalf("%s re-encoded pair is not equal", kb)
		}
		// Equal, every object's members in reverse order, values byte for byte the
		// same: the bench harness's shape.
		revC := jsonResp(string(reverseKeys(identP.Body)))
		if !Compare(identP, revC, nil).Equal() || string(revC.Body) == string(identP.Body) {
			b.Fatalf("%s reversed pair is not equal, or identical", kb)
		}
		bodies := func(p, c *Response) int64 { return int64(len(p.Body) + len(c.Body)) }

		b.Run(kb+"/identical", func(b *testing.B) {
			b.SetBytes(bodies(identP, identC))
			b.ReportAllocs()
			for b.Loop() {
				Compare(identP, identC, nil)
			}
		})
		b.Run(kb+"/equal-reordered", func(b *testing.B) {
			b.SetBytes(bodies(identP, reencC))
			b.ReportAllocs()
			for b.Loop() {
				Compare(identP, reencC, nil)
			}
		})
		// Equal, every object's members sorted by name, values byte for byte the same.
		sortC := jsonResp(string(sortKeys(identP.Body)))
		if !Compare(identP, sortC, nil).Equal() {
			b.Fatalf("%s sorted pair is not equal", kb)
		}
		b.Run(kb+"/equal-sorted", func(b *testing.B) {
			b.SetBytes(bodies(identP, sortC))
			b.ReportAllocs()
			for b.Loop() {
				Compare(identP, sortC, nil)
			}
		})
		b.Run(kb+"/equal-reversed", func(b *testing.B) {
			b.SetBytes(bodies(identP, revC))
			b.ReportAllocs()
			for b.Loop() {
				Compare(identP, revC, nil)
			}
		})
		b.Run(kb+"/two-differences", func(b *testing.B) {
			b.SetBytes(bodies(diffP, diffC))
			b.ReportAllocs()
			for b.Loop() {
				Compare(diffP, diffC, nil)
			}
		})
		b.Run(kb+"/baseline-decode-deepequal", func(b *testing.B) {
			b.SetBytes(bodies(diffP, diffC))
			b.ReportAllocs()
			for b.Loop() {
				var x, y any
				if err := json.Unmarshal(diffP.Body, &x); err != nil {
					b.Fatal(err)
				}
				if err := json.Unmarshal(diffC.Body, &y); err != nil {
					b.Fatal(err)
				}
				if reflect.DeepEqual(x, y) {
					b.Fatal("DeepEqual says equal")
				}
			}
		})
		b.Run(kb+"/baseline-go-cmp", func(b *testing.B) {
			b.SetBytes(bodies(diffP, diffC))
			b.ReportAllocs()
			for b.Loop() {
				var x, y any
				json.Unmarshal(diffP.Body, &x)
				json.Unmarshal(diffC.Body, &y)
				if cmp.Diff(x, y) == "" {
					b.Fatal("cmp.Diff says equal")
				}
			}
		})
	}
}

// BenchmarkWalkJSON times the walk of BenchmarkCompareJSON's 64 KB pairs alone, on
// documents parsed once: Compare's cost less two parses (BenchmarkParseTape).
//
//	go test ./diff -run '^$' -bench 'WalkJSON|ParseTape' -benchtime 1s
func BenchmarkWalkJSON(b *testing.B) {
	doc := benchDoc(64<<10, false)
	var v any
	json.Unmarshal(doc, &v)
	reenc, _ := json.Marshal(v)
	pairs := []struct {
		name  string
		a, b  []byte
		diffs int
	}{
		{"equal-reordered", doc, reenc, 0},
		{"equal-reversed", doc, reverseKeys(doc), 0},
		{"two-differences", benchDoc(64<<10, false), benchDoc(64<<10, true), 2},
	}
	for _, p := range pairs {
		wb := newWalkBench(b, p.a, p.b)
		if got := wb.walk(); got != p.diffs {
			b.Fatalf("%s: %d differences, want %d", p.name, got, p.diffs)
		}
		b.Run("64KB/"+p.name, func(b *testing.B) {
			b.SetBytes(int64(len(p.a) + len(p.b)))
			b.ReportAllocs()
			for b.Loop() {
				wb.walk()
			}
		})
	}
}

// BenchmarkCompareDeep: 10000 levels of nesting, a difference at the bottom.
func BenchmarkCompareDeep(b *testing.B) {
	p := jsonResp(strings.Repeat(`{"n":[`, 10000) + `1` + strings.Repeat(`]}`, 10000))
	c := jsonResp(strings.Repeat(`{"n":[`, 10000) + `2` + strings.Repeat(`]}`, 10000))
	b.SetBytes(int64(len(p.Body) + len(c.Body)))
	b.ReportAllocs()
	for b.Loop() {
		Compare(p, c, nil)
	}
}

// BenchmarkParseTape: validating and taping one 64 KB document.
func BenchmarkParseTape(b *testing.B) {
	doc := benchDoc(64<<10, false)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	t := getTape()
	for b.Loop() {
		if err := t.parse(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// hostilePair is a small pair of bodies whose differences have long paths.
type hostilePair struct {
	name string
	a, b []byte
}

// hostilePairs are the inputs that once made a result of tens or hundreds of
// megabytes: a thousand differences under 20,000 and 100,000 levels of nesting, a
// difference at each of 20,000 levels, and a 40,000-character key over a thousand
// differences.
func hostilePairs() []hostilePair {
	leaves := func(v string) string { return strings.TrimSuffix(strings.Repeat(v+",", 1000), ",") }
	nested := func(depth int, v string) []byte {
		return []byte(strings.Repeat("[", depth) + leaves(v) + strings.Repeat("]", depth))
	}
	everyLevel := func(depth int, v string) []byte {
		return []byte(strings.Repeat("["+v+",", depth) + "0" + strings.Repeat("]", depth))
	}
	key := strings.Repeat("k", 40000)
	return []hostilePair{
		{"nested-20000", nested(20000, "1"), nested(20000, "2")},
		{"nested-100000", nested(100000, "1"), nested(100000, "2")},
		{"every-level-20000", everyLevel(20000, "1"), everyLevel(20000, "2")},
		{"key-40000", []byte(`{"` + key + `":[` + leaves("1") + `]}`), []byte(`{"` + key + `":[` + leaves("2") + `]}`)},
	}
}

// BenchmarkCompareHostile measures Compare on hostilePairs: its time, its allocation,
// and out-B, the size of its differences encoded as JSON (what `parity diff --format
// json` prints).
//
//	go test ./diff -run '^$' -bench CompareHostile -benchtime 3x
func BenchmarkCompareHostile(b *testing.B) {
	for _, p := range hostilePairs() {
		pr, cr := jsonResp(string(p.a)), jsonResp(string(p.b))
		b.Run(p.name, func(b *testing.B) {
			b.SetBytes(int64(len(p.a) + len(p.b)))
			b.ReportAllocs()
			var out []byte
			for b.Loop() {
				out, _ = json.Marshal(Compare(pr, cr, nil).Differences)
			}
			b.ReportMetric(float64(len(out)), "out-B")
		})
	}
}
