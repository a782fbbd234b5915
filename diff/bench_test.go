package diff

import (
	"encoding/json"
	"fmt"
	"reflect"
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

func benchPair(size int, changed bool) (*Response, *Response) {
	a := benchDoc(size, false)
	b := benchDoc(size, changed)
	return jsonResp(string(a)), jsonResp(string(b))
}

// BenchmarkCompareJSON measures Compare on JSON pairs, with the baselines it is held
// against in the same run: decoding both with encoding/json into any plus
// reflect.DeepEqual, and go-cmp's cmp.Diff on the decoded values. Bytes per op count
// both documents.
//
//	go test ./diff -run '^$' -bench CompareJSON -benchtime 2s
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
		b.Run(kb+"/two-differences", func(b *testing.B) {
			b.SetBytes(bodies(diffP, diffC))
			b.ReportAllocs()
			for b.Loop() {
				Compare(diffP, diffC, nil)
			}
		})
		b.Run(kb+"/two-differences/baseline-decode-deepequal", func(b *testing.B) {
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
		b.Run(kb+"/two-differences/baseline-go-cmp", func(b *testing.B) {
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
