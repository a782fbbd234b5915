package route

import (
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

func BenchmarkKey(b *testing.B) {
	k := NewKeyer([]string{"/api/sessions/:id", "/api/v1/workflows/:id"})
	b.ReportAllocs()
	for b.Loop() {
		k.Key("GET", "/api/activity/1234?limit=10")
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
