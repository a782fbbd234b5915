package route

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// slug returns a word-like segment that LooksLikeID does not take for an id.
func slug(i int) string {
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet", "kilo", "lima"}
	return words[i%len(words)] + "-" + words[(i/len(words))%len(words)] + "-report"
}

func TestLearnerLearnsAParameterAndKeepsFrequentValues(t *testing.T) {
	l := &Learner{}
	k := BuildKeyer(Sources{Learner: l})
	key := func(p string) string { return k.Key("GET", p) }
	for i := 0; i < 10; i++ {
		key("/api/v1/workflows/export")
		key("/api/v1/workflows")
	}
	// "export" is the first distinct value; the slugs complete the count.
	for i := 0; i < LearnDistinct-2; i++ {
		if got, want := key("/api/v1/workflows/"+slug(i)), "GET /api/v1/workflows/"+slug(i); got != want {
			t.Fatalf("before learning: key = %q, want %q", got, want)
		}
	}
	if l.Generation() != 0 {
		t.Fatalf("learned after %d distinct values, want %d", LearnDistinct-1, LearnDistinct)
	}
	if got, want := key("/api/v1/workflows/"+slug(LearnDistinct-2)), "GET /api/v1/workflows/:id"; got != want {
		t.Errorf("the value that completes learning: key = %q, want %q", got, want)
	}
	for _, tc := range []struct{ path, want string }{
		{"/api/v1/workflows/" + slug(40), "GET /api/v1/workflows/:id"},
		{"/api/v1/workflows/" + slug(3), "GET /api/v1/workflows/:id"},
		{"/api/v1/workflows/export", "GET /api/v1/workflows/export"},
		{"/api/v1/workflows", "GET /api/v1/workflows"},
		{"/api/v1/workflows/wf-77/runs", "GET /api/v1/workflows/:id/runs"},
	} {
		if got := key(tc.path); got != tc.want {
			t.Errorf("after learning: Key(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
	want := []LearnedPosition{{Parent: "/api/v1/workflows", Keep: []string{"export"}}}
	if d := cmp.Diff(want, l.Learned().Positions()); d != "" {
		t.Errorf("learned (-want +got):\n%s", d)
	}
}

func TestLearnerFewFrequentValuesStayLiteral(t *testing.T) {
	l := &Learner{}
	k := BuildKeyer(Sources{Learner: l})
	for i := 0; i < 200; i++ {
		for _, p := range []string{"daily", "weekly", "monthly", "quarterly", "yearly"} {
			if got, want := k.Key("GET", "/api/reports/"+p), "GET /api/reports/"+p; got != want {
				t.Fatalf("Key = %q, want %q", got, want)
			}
		}
	}
	if n := len(l.Learned()); n != 0 {
		t.Errorf("learned %d positions from five values", n)
	}
}

func TestLearnerNeverMergesDeclaredRoutes(t *testing.T) {
	declared := []Declared{
		{Template: mustFromPattern(t, "", "/api/v1/workflows/import"), Source: SourceOpenAPI},
		{Template: mustFromPattern(t, "", "/api/v1/teams/{team}"), Source: SourceOpenAPI},
		{Template: mustFromPattern(t, "", "/api/Admin"), Source: SourceMatrix},
	}
	l := &Learner{}
	k := BuildKeyer(Sources{Declared: declared, Learner: l})
	for i := 0; i < 40; i++ {
		k.Key("GET", "/api/v1/workflows/"+slug(i))
		k.Key("GET", fmt.Sprintf("/api/v1/teams/t%d/boards/%s", i, slug(i)))
		k.Key("GET", "/api/"+slug(i)+"/x")
	}
	for _, tc := range []struct{ path, want string }{
		{"/api/v1/workflows/import", "GET /api/v1/workflows/import"},
		{"/api/v1/workflows/import/status", "GET /api/v1/workflows/import/status"},
		{"/api/v1/workflows/" + slug(99), "GET /api/v1/workflows/:id"},
		{"/api/v1/teams/t9/boards/" + slug(77), "GET /api/v1/teams/:team/boards/:id"},
		{"/api/v1/teams/t9", "GET /api/v1/teams/:team"},
		{"/api/admin/x", "GET /api/Admin/x"},
		{"/api/v1/x", "GET /api/v1/x"},
		{"/api/" + slug(99) + "/x", "GET /api/:id/x"},
	} {
		if got := k.Key("GET", tc.path); got != tc.want {
			t.Errorf("Key(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
	// Declared literals are kept at the learned position, so a merge of snapshots
	// keeps them apart too.
	pos := l.Learned()["/api"]
	for _, kept := range []string{"v1", "Admin"} {
		if !pos.keeps(kept) {
			t.Errorf("learned /api/:id does not keep the declared %q: %+v", kept, pos)
		}
	}
}

func TestLearnerIsDeterministic(t *testing.T) {
	paths := make([]string, 0, 600)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 600; i++ {
		switch rng.IntN(4) {
		case 0:
			paths = append(paths, "/api/docs/"+slug(rng.IntN(60)))
		case 1:
			paths = append(paths, "/api/docs/export")
		case 2:
			paths = append(paths, fmt.Sprintf("/api/teams/%s/boards/%s", slug(rng.IntN(30)), slug(rng.IntN(30))))
		default:
			paths = append(paths, fmt.Sprintf("/api/customers/cus_%08d", rng.IntN(1000)))
		}
	}
	run := func() ([]string, []LearnedPosition, []LearnedTemplate) {
		l := &Learner{}
		k := BuildKeyer(Sources{Learner: l})
		var keys []string
		for _, p := range paths {
			keys = append(keys, k.Key("GET", p))
		}
		return keys, l.Learned().Positions(), l.Templates()
	}
	k1, p1, t1 := run()
	k2, p2, t2 := run()
	if !slices.Equal(k1, k2) || !cmp.Equal(p1, p2) || !cmp.Equal(t1, t2) {
		t.Errorf("two runs on the same traffic differ:\n%s\n%s", cmp.Diff(p1, p2), cmp.Diff(t1, t2))
	}
	if len(p1) == 0 {
		t.Error("nothing learned")
	}
}

func TestLearnerFoldsNestedPositions(t *testing.T) {
	l := &Learner{}
	k := BuildKeyer(Sources{Learner: l})
	for i := 0; i < 30; i++ {
		for j := 0; j < 30; j++ {
			k.Key("GET", "/api/teams/"+slug(i)+"/boards/"+slug(j))
		}
	}
	if got, want := k.Key("GET", "/api/teams/new-team/boards/new-board"), "GET /api/teams/:id/boards/:id"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
	var got []string
	for _, p := range l.Learned().Positions() {
		got = append(got, p.Template())
	}
	if d := cmp.Diff([]string{"/api/teams/:id", "/api/teams/:id/boards/:id"}, got); d != "" {
		t.Errorf("learned templates (-want +got):\n%s", d)
	}
}

func TestLearnerLimit(t *testing.T) {
	l := &Learner{Limit: 8}
	k := BuildKeyer(Sources{Learner: l})
	for i := 0; i < 20; i++ {
		k.Key("GET", fmt.Sprintf("/api/a%c/b/c/d", 'a'+i))
	}
	if l.Dropped() == 0 {
		t.Error("Dropped = 0 past the limit")
	}
	if got, want := k.Key("GET", "/api/zz/b/7"), "GET /api/zz/b/:id"; got != want {
		t.Errorf("past the limit: Key = %q, want the id-shape key %q", got, want)
	}
}

func TestLearnerRestore(t *testing.T) {
	l := &Learner{}
	k := BuildKeyer(Sources{Learner: l})
	for i := 0; i < 40; i++ {
		k.Key("GET", "/api/docs/"+slug(i))
		k.Key("GET", "/api/docs/export")
	}
	set := l.Learned()
	l2 := &Learner{}
	k2 := BuildKeyer(Sources{Learner: l2})
	k2.Key("GET", "/api/docs/"+slug(1)) // seen before the restore: folded by it
	g := l2.Generation()
	l2.Restore(set)
	if l2.Generation() == g {
		t.Error("Restore did not change the generation")
	}
	for _, tc := range []struct{ path, want string }{
		{"/api/docs/" + slug(1), "GET /api/docs/:id"},
		{"/api/docs/fresh-new-doc", "GET /api/docs/:id"},
		{"/api/docs/export", "GET /api/docs/export"},
	} {
		if got := k2.Key("GET", tc.path); got != tc.want {
			t.Errorf("restored: Key(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
	if d := cmp.Diff(set.Positions(), l2.Learned().Positions()); d != "" {
		t.Errorf("learned after restore (-want +got):\n%s", d)
	}
}

func TestKeyerCanonicalCase(t *testing.T) {
	declared := []Declared{{Template: mustFromPattern(t, "", "/api/auth/[...all]"), Source: SourceMatrix}}
	k := BuildKeyer(Sources{Config: []Template{mustParse(t, "GET /api/sessions/:id")}, Declared: declared, Learner: &Learner{}})
	for _, tc := range []struct{ path, want string }{
		{"/api/auth/session", "GET /api/auth/session"},
		{"/API/Auth/session", "GET /api/auth/session"},
		{"/api/AUTH/Session", "GET /api/auth/session"},
		{"/API/Sessions/s-1", "GET /api/sessions/:id"},
		{"/Api/V1/Search", "GET /api/V1/Search"}, // "api" as declared, the rest as first seen...
		{"/api/v1/search", "GET /api/V1/Search"}, // ...is the one kept
	} {
		if got := k.Key("GET", tc.path); got != tc.want {
			t.Errorf("Key(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
}

func TestKeyerNonAPIPaths(t *testing.T) {
	declared := []Declared{{Template: mustFromPattern(t, "", "/healthz"), Source: SourceMatrix}}
	k := BuildKeyer(Sources{Declared: declared, Learner: &Learner{}})
	for _, tc := range []struct{ path, want string }{
		{"/", "GET /"},
		{"/favicon.ico", "GET /*"},
		{"/_app/immutable/chunks/abc123.js", "GET /_app/*"},
		{"/_APP/immutable/chunks/def456.js", "GET /_app/*"},
		{"/healthz", "GET /healthz"},
		{"/12345/x", "GET /*"},
	} {
		if got := k.Key("GET", tc.path); got != tc.want {
			t.Errorf("Key(%q) = %q, want %q", tc.path, got, tc.want)
		}
	}
	for i := 0; i < 40; i++ {
		k.Key("GET", fmt.Sprintf("/page%c/x", 'a'+i%26)+slug(i))
	}
	seen := map[string]bool{}
	for i := 0; i < 40; i++ {
		key := k.Key("GET", fmt.Sprintf("/%s/x", slug(i)))
		if !IsNonAPIKey(key) {
			t.Errorf("non-API key %q is not a coarse group", key)
		}
		seen[key] = true
	}
	if len(seen) > NonAPIGroups+1 {
		t.Errorf("%d non-API groups, want at most %d", len(seen), NonAPIGroups+1)
	}
	if got, want := k.Key("GET", "/api/sessions/s-1"), "GET /api/sessions/:id"; got != want {
		t.Errorf("API key after many non-API paths = %q, want %q", got, want)
	}
}

func TestKeyerHitPathDoesNotAllocate(t *testing.T) {
	declared := []Declared{{Template: mustFromPattern(t, "", "/api/v1/teams/{team}"), Source: SourceOpenAPI}}
	k := BuildKeyer(Sources{Config: []Template{mustParse(t, "/api/sessions/:id")}, Declared: declared, Learner: &Learner{}})
	for _, p := range []string{
		"/api/sessions/s-1",          // configuration template
		"/api/v1/teams/t-1",          // declared template
		"/api/activity/1234",         // guessed id, known to the learner
		"/api/v1/Search",             // literal known to the learner
		"/_app/immutable/x/y.js",     // non-API group
		"/api/customers/cus_Nffr9Hb", // prefixed id
	} {
		k.Key("GET", p)
		if n := testing.AllocsPerRun(100, func() { k.Key("GET", p) }); n != 0 {
			t.Errorf("Key(%q) allocates %v times", p, n)
		}
	}
}

func TestLearnedSetJoinAndRekeyProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	parents := []string{"/api/a", "/api/a/:id/b", "/api/c", "/api"}
	values := []string{"x", "y", "Export", "export", "z"}
	randomSet := func() LearnedSet {
		s := LearnedSet{}
		for _, p := range parents {
			if rng.IntN(2) == 0 {
				var keep []string
				for _, v := range values {
					if rng.IntN(2) == 0 {
						keep = append(keep, v)
					}
				}
				s.add(LearnedPosition{Parent: p, Keep: keep})
			}
		}
		return s
	}
	join := func(sets ...LearnedSet) LearnedSet {
		out := LearnedSet{}
		for _, s := range sets {
			out.Join(s)
		}
		return out
	}
	keys := []string{"GET /api/a/x", "GET /api/a/q/b/y", "GET /api/a/export/b/z", "GET /api/c/Export", "GET /api/w", "POST /api/a/:id/b/x"}
	for i := 0; i < 300; i++ {
		a, b, c := randomSet(), randomSet(), randomSet()
		if !cmp.Equal(join(a, b), join(b, a)) {
			t.Fatalf("Join not commutative:\n%v\n%v", join(a, b), join(b, a))
		}
		if !cmp.Equal(join(join(a, b), c), join(a, join(b, c))) {
			t.Fatalf("Join not associative")
		}
		ab, abc := join(a, b), join(a, b, c)
		for _, k := range keys {
			if got, want := abc.Rekey(ab.Rekey(k)), abc.Rekey(k); got != want {
				t.Fatalf("Rekey(abc, Rekey(ab, %q)) = %q, want %q (ab %v, abc %v)", k, got, want, ab, abc)
			}
		}
	}
}

func TestLearnedSetRekey(t *testing.T) {
	s := LearnedSet{}
	s.add(LearnedPosition{Parent: "/api/v1/workflows", Keep: []string{"export"}})
	s.add(LearnedPosition{Parent: "/api/v1/workflows/:id/runs"})
	for _, tc := range []struct{ key, want string }{
		{"GET /api/v1/workflows/quarterly-report", "GET /api/v1/workflows/:id"},
		{"GET /api/v1/workflows/export", "GET /api/v1/workflows/export"},
		{"GET /api/v1/workflows/EXPORT", "GET /api/v1/workflows/EXPORT"},
		{"DELETE /api/v1/workflows/abc/runs/def", "DELETE /api/v1/workflows/:id/runs/:id"},
		{"GET /api/v1/workflows", "GET /api/v1/workflows"},
		{"GET /api/v1/workflows/:wf", "GET /api/v1/workflows/:wf"},
		{"OTHER", "OTHER"},
		{"GET /_app/*", "GET /_app/*"},
	} {
		if got := s.Rekey(tc.key); got != tc.want {
			t.Errorf("Rekey(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func mustFromPattern(t testing.TB, method, p string) Template {
	t.Helper()
	tm, ok := FromPattern(method, p)
	if !ok {
		t.Fatalf("FromPattern(%q) failed", p)
	}
	return tm
}

func mustParse(t testing.TB, s string) Template {
	t.Helper()
	tm, err := ParseTemplate(s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// FuzzLearner keys a stream of paths with learning: nothing panics, every key is
// "METHOD /path" without a query, and once the stream is keyed, keying it again
// gives stable keys.
func FuzzLearner(f *testing.F) {
	f.Add("/api/v1/workflows/a\n/api/v1/workflows/b\n/API/x/../y\n/_app/z.js")
	f.Add("/api/" + strings.Repeat("s/", 40) + "\n/api/%2F\n/api//x")
	f.Fuzz(func(t *testing.T, stream string) {
		l := &Learner{Limit: 64}
		declared := []Declared{{Template: mustFromPattern(t, "", "/api/v1/teams/{team}"), Source: SourceOpenAPI}}
		k := BuildKeyer(Sources{Declared: declared, Learner: l})
		paths := strings.Split(stream, "\n")
		for range 2 {
			for _, p := range paths {
				canon, _ := Canonicalize(p)
				key := k.Key("GET", canon)
				if !strings.HasPrefix(key, "GET /") || strings.ContainsAny(key, "?#") {
					t.Fatalf("Key(%q) = %q", canon, key)
				}
			}
		}
		g := l.Generation()
		for _, p := range paths {
			canon, _ := Canonicalize(p)
			if a, b := k.Key("GET", canon), k.Key("GET", canon); a != b {
				t.Errorf("Key(%q) = %q then %q", canon, a, b)
			}
		}
		if l.Generation() != g {
			t.Errorf("keying known paths again learned something")
		}
		set := l.Learned()
		again := LearnedSet{}
		again.Join(set)
		if !cmp.Equal(set, again) {
			t.Errorf("Join(empty, learned) = %v, want %v", again, set)
		}
	})
}
