package route

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestKeyer(t *testing.T) {
	k := NewKeyer([]string{
		"/api/sessions/:id",
		"POST /api/tools/:tool/run",
		"/api/v1/workflows/:wf/runs/:run",
		"",
		"api/activity/:kind",
	})
	tests := []struct {
		name, method, path, want string
	}{
		{"template with one parameter", "GET", "/api/sessions/abc", "GET /api/sessions/:id"},
		{"template keeps its own name for the parameter", "get", "/api/v1/workflows/alpha/runs/beta", "GET /api/v1/workflows/:wf/runs/:run"},
		{"template needs every segment", "GET", "/api/sessions/abc/messages", "GET /api/sessions/abc/messages"},
		{"template does not match a shorter path", "GET", "/api/sessions", "GET /api/sessions"},
		{"method template applies to its method", "POST", "/api/tools/grep/run", "POST /api/tools/:tool/run"},
		{"method template skips other methods", "GET", "/api/tools/grep/run", "GET /api/tools/grep/run"},
		{"template without leading slash", "GET", "/api/activity/feed", "GET /api/activity/:kind"},
		{"query is never part of the key", "GET", "/api/sessions/abc?limit=10&token=x", "GET /api/sessions/:id"},
		{"query dropped without template", "GET", "/api/search?q=secret", "GET /api/search"},
		{"fragment dropped", "GET", "/api/search#frag", "GET /api/search"},
		{"numbers become :id", "DELETE", "/api/things/42", "DELETE /api/things/:id"},
		{"uuid becomes :id", "GET", "/api/things/3f2b8c1e-9a7d-4c3b-8e2f-1a2b3c4d5e6f/x", "GET /api/things/:id/x"},
		{"long hex becomes :id", "GET", "/api/blobs/deadbeefcafebabe0011", "GET /api/blobs/:id"},
		{"all-letter long hex becomes :id", "GET", "/api/blobs/deadbeefcafebabe", "GET /api/blobs/:id"},
		{"ulid becomes :id", "GET", "/api/events/01ARZ3NDEKTSV4RRFFQ69G5FAV", "GET /api/events/:id"},
		{"mixed letters and digits become :id", "GET", "/api/chats/s12", "GET /api/chats/:id"},
		{"mixed hex-like id becomes :id", "GET", "/api/chats/a1b2c3", "GET /api/chats/:id"},
		{"api versions stay", "GET", "/api/v1/search", "GET /api/v1/search"},
		{"names stay", "GET", "/api/v1/openapi.json", "GET /api/v1/openapi.json"},
		{"short hex-looking words stay", "GET", "/api/feed/cafe", "GET /api/feed/cafe"},
		{"opaque tokens become :id", "GET", "/api/share/AbCdEfGhIjKlMnOpQrStUvWx_9", "GET /api/share/:id"},
		{"several ids", "GET", "/api/users/7/sessions/8", "GET /api/users/:id/sessions/:id"},
		{"trailing slash dropped", "GET", "/api/sessions/", "GET /api/sessions"},
		{"root", "GET", "/", "GET /"},
		{"empty path is root", "GET", "", "GET /"},
		{"empty method is GET", "", "/api/x", "GET /api/x"},
		{"a method that is no token is UNKNOWN", "G T", "/api/x", "UNKNOWN /api/x"},
		{"empty segment is kept", "GET", "/api//x", "GET /api//x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := k.Key(tc.method, tc.path); got != tc.want {
				t.Errorf("Key(%q, %q) = %q, want %q", tc.method, tc.path, got, tc.want)
			}
		})
	}
}

func TestKeyerNilAndEmpty(t *testing.T) {
	var nilKeyer *Keyer
	for name, k := range map[string]*Keyer{"nil": nilKeyer, "empty": NewKeyer(nil)} {
		if got, want := k.Key("GET", "/api/sessions/12?x=1"), "GET /api/sessions/:id"; got != want {
			t.Errorf("%s keyer: got %q, want %q", name, got, want)
		}
	}
}

func TestKeyerConcurrent(t *testing.T) {
	k := NewKeyer([]string{"/api/sessions/:id"})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if got := k.Key("GET", "/api/sessions/x"); got != "GET /api/sessions/:id" {
					t.Errorf("got %q", got)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// BenchmarkKey keys a request whose route is known (the hit path) with the
// production set-up: configuration templates and a Learner.
func BenchmarkKey(b *testing.B) {
	k := BuildKeyer(Sources{Config: NewKeyer([]string{"/api/sessions/:id", "/api/v1/workflows/:id"}).templates, Learner: &Learner{}})
	k.Key("GET", "/api/activity/1234?limit=10")
	b.ReportAllocs()
	for b.Loop() {
		k.Key("GET", "/api/activity/1234?limit=10")
	}
}

// BenchmarkKeySources keys a known request of each source.
func BenchmarkKeySources(b *testing.B) {
	declared := []Declared{
		{Template: mustFromPattern(b, "", "/api/v1/teams/{team}/boards/{board}"), Source: SourceOpenAPI},
		{Template: mustFromPattern(b, "", "/api/metrics"), Source: SourcePlan},
	}
	k := BuildKeyer(Sources{Config: []Template{mustParse(b, "GET /api/sessions/:id")}, Declared: declared, Learner: &Learner{}})
	for _, bc := range []struct{ name, path string }{
		{"config", "/api/sessions/s-1"},
		{"declared", "/api/v1/teams/3f2b8c1e-9a7d-4c3b-8e2f-1a2b3c4d5e6f/boards/b-17"},
		{"learner", "/api/v1/customers/cus_NffrFeUfNV2Hib/invoices"},
		{"non-api", "/_app/immutable/chunks/abc123.js"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			k.Key("GET", bc.path)
			b.ReportAllocs()
			for b.Loop() {
				k.Key("GET", bc.path)
			}
		})
	}
}

// BenchmarkKeyDistinctIDs keys a stream of 10,000 distinct slugs (ids that no shape
// rule recognises) on each of four routes, with and without learning: the cost
// learning adds per request.
func BenchmarkKeyDistinctIDs(b *testing.B) {
	const ids = 10000
	routes := []string{"/api/v1/reports/", "/api/v1/boards/", "/api/docs/", "/api/v1/teams/acme/projects/"}
	paths := make([]string, 0, ids*len(routes))
	for i := 0; i < ids; i++ {
		for _, r := range routes {
			paths = append(paths, fmt.Sprintf("%sq-%s-%s", r, slug(i), slug(i/144)))
		}
	}
	for _, bc := range []struct {
		name    string
		learner func() *Learner
	}{
		{"guesses-only", func() *Learner { return nil }},
		{"learning", func() *Learner { return &Learner{} }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			k := BuildKeyer(Sources{Learner: bc.learner()})
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				k.Key("GET", paths[i])
				if i++; i == len(paths) {
					i = 0
				}
			}
		})
	}
}

// BenchmarkLearnerMemory fills a Learner to its limit with distinct positions and
// reports the heap it holds per position.
func BenchmarkLearnerMemory(b *testing.B) {
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := &Learner{}
		k := BuildKeyer(Sources{Learner: l})
		// Fifteen values under each parent stay literal (a sixteenth would fold
		// them): the most positions learning keeps.
		for i := 0; l.Dropped() == 0; i++ {
			k.Key("GET", fmt.Sprintf("/api/%s/%s/%s/%s", slug(i/3375%15), slug(i/225%15), slug(i/15%15), slug(i%15)))
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(l.nodes), "B/position")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MB/full")
		runtime.KeepAlive(l)
	}
}

func FuzzKey(f *testing.F) {
	f.Add("GET", "/api/sessions/12?x=1")
	f.Add("post", "api//a/../b#c")
	f.Add("", "")
	k := NewKeyer([]string{"/api/sessions/:id", "GET /api/x/:a/:b"})
	f.Fuzz(func(t *testing.T, method, path string) {
		key := k.Key(method, path)
		i := strings.IndexByte(key, ' ')
		if i < 0 || !strings.HasPrefix(key[i+1:], "/") {
			t.Fatalf("key %q is not METHOD /path", key)
		}
		if strings.ContainsAny(key[i+1:], "?#") {
			t.Errorf("key %q holds a query or fragment", key)
		}
		if again := k.Key(method, path); again != key {
			t.Errorf("key not stable: %q then %q", key, again)
		}
	})
}
