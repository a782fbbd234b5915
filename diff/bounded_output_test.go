package diff

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestResultStaysWithinItsBound: small bodies whose differences have long paths —
// 20,000 and 100,000 levels of nesting, a 40,000-character key — give a result of at
// most MaxResultBytes encoded as JSON, say how many differences were left out, and
// list only whole paths, each of which Ignore takes.
func TestResultStaysWithinItsBound(t *testing.T) {
	for _, p := range hostilePairs() {
		t.Run(p.name, func(t *testing.T) {
			pr, cr := jsonResp(string(p.a)), jsonResp(string(p.b))
			res := Compare(pr, cr, nil)
			out, err := json.Marshal(res.Differences)
			if err != nil {
				t.Fatal(err)
			}
			if len(out) > DefaultMaxResultBytes {
				t.Errorf("differences encode to %d bytes, over the bound of %d", len(out), DefaultMaxResultBytes)
			}
			if len(res.Differences) == 0 || res.Omitted == 0 || !res.Truncated || res.Equal() {
				t.Fatalf("%d listed, %d omitted, truncated %v, equal %v: want some of each, truncated, not equal",
					len(res.Differences), res.Omitted, res.Truncated, res.Equal())
			}
			if found := len(res.Differences) + res.Omitted; found != DefaultMaxDifferences {
				t.Errorf("%d listed + %d omitted = %d, want the %d found", len(res.Differences), res.Omitted, found, DefaultMaxDifferences)
			}
			x := res.Differences[0]
			if !strings.HasSuffix(x.Path, ".0") || strings.Contains(x.Path, "…") {
				t.Errorf("first path is not a whole path to the first leaf: …%s", x.Path[max(0, len(x.Path)-40):])
			}
			// The listed path is paste-able: ignoring it lists the next one instead.
			again := Compare(pr, cr, mustRules(t, Ignore(x.Path)))
			for _, y := range again.Differences {
				if y.Path == x.Path {
					t.Errorf("Ignore(%s…) does not silence it", x.Path[:40])
				}
			}
		})
	}
}

// TestResultBoundKeepsStatusAndHeaders: when a body's differences fill the bound, the
// status and header differences are still listed.
func TestResultBoundKeepsStatusAndHeaders(t *testing.T) {
	p := hostilePairs()[0]
	pr := resp(200, string(p.a), "Content-Type", "application/json", "X-Version", "1")
	cr := resp(500, string(p.b), "Content-Type", "application/json", "X-Version", "2")
	res := Compare(pr, cr, nil)
	var status, header bool
	for _, x := range res.Differences {
		status = status || x.Path == "status"
		header = header || x.Path == "header.X-Version"
	}
	if !status || !header || res.Omitted == 0 {
		t.Errorf("status listed %v, header listed %v, %d omitted: want both listed and some omitted", status, header, res.Omitted)
	}
}

// TestResultNeverReadsEqualWhenAllIsLeftOut: a difference whose path alone is over
// the bound is left out, and the result says so at "body" rather than read as equal.
func TestResultNeverReadsEqualWhenAllIsLeftOut(t *testing.T) {
	deep := func(v string) string { return strings.Repeat("[", 2000) + v + strings.Repeat("]", 2000) }
	res := Compare(jsonResp(deep("1")), jsonResp(deep("2")), mustRules(t, MaxResultBytes(1024)))
	want := d("body", Changed, "", "")
	want.Note = "1 differences left out: listing them would take the result over 1024 bytes"
	if len(res.Differences) != 1 || res.Differences[0] != want || res.Omitted != 1 || res.Equal() {
		t.Errorf("got %+v, omitted %d, equal %v; want only %+v", res.Differences, res.Omitted, res.Equal(), want)
	}
	if Compare(jsonResp(deep("1")), jsonResp(deep("2")), mustRules(t, MaxResultBytes(1024), Ignore("body"))).Truncated {
		t.Error("Ignore(body) leaves the summary or the count")
	}
}

func TestMaxResultBytesValidated(t *testing.T) {
	for _, n := range []int{0, 1023, maxLimit + 1} {
		if _, err := NewRules(MaxResultBytes(n)); err == nil {
			t.Errorf("MaxResultBytes(%d) accepted", n)
		}
	}
}

// TestResultBoundIsDeterministic: when headers alone are over the bound, the same
// ones are listed every time, in path order.
func TestResultBoundIsDeterministic(t *testing.T) {
	var hp, hq []string
	for i := 0; i < 40; i++ {
		name := "X-H" + itoa(i)
		hp = append(hp, name, strings.Repeat("a", 150))
		hq = append(hq, name, strings.Repeat("b", 150))
	}
	rules := mustRules(t, MaxResultBytes(4096))
	first := Compare(resp(200, "", hp...), resp(200, "", hq...), rules)
	if first.Omitted == 0 || len(first.Differences) == 0 {
		t.Fatalf("%d listed, %d omitted: want both", len(first.Differences), first.Omitted)
	}
	for i := 0; i < 20; i++ {
		again := Compare(resp(200, "", hp...), resp(200, "", hq...), rules)
		if len(again.Differences) != len(first.Differences) || again.Differences[0].Path != first.Differences[0].Path ||
			again.Differences[len(again.Differences)-1].Path != first.Differences[len(first.Differences)-1].Path {
			t.Fatalf("run %d listed %d differences, another %d", i, len(again.Differences), len(first.Differences))
		}
	}
}
