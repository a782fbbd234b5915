package diff

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// randValue builds a random JSON value of bounded size.
func randValue(r *rand.Rand, depth int) any {
	switch k := r.IntN(8); {
	case depth > 4 || k < 3:
		switch r.IntN(5) {
		case 0:
			return nil
		case 1:
			return r.IntN(2) == 0
		case 2:
			return fmt.Sprintf("s%d", r.IntN(4))
		default:
			return r.IntN(5)
		}
	case k < 6:
		m := map[string]any{}
		for i := r.IntN(5); i > 0; i-- {
			m[fmt.Sprintf("k%d", r.IntN(6))] = randValue(r, depth+1)
		}
		return m
	default:
		a := make([]any, r.IntN(5))
		for i := range a {
			a[i] = randValue(r, depth+1)
		}
		return a
	}
}

// render writes v as JSON in one of many equivalent spellings: key order shuffled,
// whitespace, numbers as 1, 1.0 or 10e-1, strings with escapes.
func render(r *rand.Rand, v any, b *strings.Builder) {
	ws := func() {
		if r.IntN(4) == 0 {
			b.WriteString([]string{" ", "\n", "\t ", "  "}[r.IntN(4)])
		}
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		fmt.Fprint(b, x)
	case int:
		spellings := []string{fmt.Sprint(x), fmt.Sprintf("%d.0", x), fmt.Sprintf("%de0", x), fmt.Sprintf("%d0e-1", x)}
		if x == 0 {
			spellings[3] = "-0"
		}
		b.WriteString(spellings[r.IntN(4)])
	case string:
		if r.IntN(2) == 0 {
			fmt.Fprintf(b, "%q", x)
		} else {
			b.WriteString(`"\u0073` + x[1:] + `"`)
		}
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			ws()
			render(r, e, b)
			ws()
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		r.Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			ws()
			fmt.Fprintf(b, "%q:", k)
			ws()
			render(r, x[k], b)
		}
		b.WriteByte('}')
	}
}

// mutate changes one random leaf of v (or leaves it as is), returning the new value.
func mutate(r *rand.Rand, v any) any {
	switch x := v.(type) {
	case []any:
		if len(x) > 0 && r.IntN(4) != 0 {
			cp := append([]any(nil), x...)
			i := r.IntN(len(cp))
			cp[i] = mutate(r, cp[i])
			return cp
		}
		return append(append([]any(nil), x...), 1)
	case map[string]any:
		cp := map[string]any{}
		for k, e := range x {
			cp[k] = e
		}
		for k, e := range cp {
			if r.IntN(3) != 0 {
				cp[k] = mutate(r, e)
				return cp
			}
		}
		cp["new"] = nil
		return cp
	case int:
		return x + 1
	case string:
		return x + "!"
	case bool:
		return !x
	case nil:
		return 0
	}
	return v
}

// TestCompareRandomDocuments: equivalent spellings of one value compare equal; one
// changed leaf is always found, with no other difference reported.
func TestCompareRandomDocuments(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		v := randValue(r, 0)
		var a, b strings.Builder
		render(r, v, &a)
		render(r, v, &b)
		if res := Compare(jsonResp(a.String()), jsonResp(b.String()), nil); !res.Equal() {
			t.Fatalf("equal values differ:\n%s\n%s\n%v", a.String(), b.String(), res.Differences)
		}
		m := mutate(r, v)
		var c strings.Builder
		render(r, m, &c)
		res := Compare(jsonResp(a.String()), jsonResp(c.String()), nil)
		if res.Equal() != refEqual(normalizeInts(v), normalizeInts(m)) || len(res.Differences) > 1 {
			t.Fatalf("one change, got %d differences:\n%s\n%s\n%v", len(res.Differences), a.String(), c.String(), res.Differences)
		}
	}
}

// normalizeInts turns ints into the json.Number refEqual compares.
func normalizeInts(v any) any {
	switch x := v.(type) {
	case int:
		return json.Number(fmt.Sprint(x))
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeInts(e)
		}
		return out
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = normalizeInts(e)
		}
		return out
	}
	return v
}
