package rules

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/parity-dev/parity/report/route"
)

const openAPIDoc = `{"openapi":"3.0.3","info":{"title":"portal","version":"1"},
"servers":[{"url":"/api/v1"}],
"paths":{"/teams/{team}/boards/{board}":{"get":{}},"/reports/{slug}":{"get":{}}}}`

func routeOf(t *testing.T, rt *Router, target string) string {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	return rt.Decide(r).Route
}

// TestLiveOpenAPI reads the templates of an OpenAPI document served by a backend
// (a real loopback server), keys requests by them, keeps them when the document
// breaks on a reload (reported in one line, serving goes on), and picks up a
// changed document on the next reload.
func TestLiveOpenAPI(t *testing.T) {
	var doc atomic.Value
	doc.Store(openAPIDoc)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/openapi.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(doc.Load().(string)))
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "parity.yaml")
	if err := os.WriteFile(cfgPath, []byte("openapi: "+srv.URL+"/api/v1/openapi.json\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	live := &Live{Path: cfgPath, OnWarn: func(err error) { warnings = append(warnings, err.Error()) }}
	if err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	if got, want := routeOf(t, live.Router(), "/api/v1/teams/acme/boards/roadmap"), "GET /api/v1/teams/:team/boards/:board"; got != want {
		t.Errorf("route = %q, want %q", got, want)
	}
	learner := live.Router().Keyer().Learner()

	doc.Store(`{"openapi":"3.0.3","paths":{`) // broken
	if err := live.Reload(); err != nil {
		t.Fatalf("a broken OpenAPI document rejected the configuration: %v", err)
	}
	if len(warnings) != 1 || strings.Contains(warnings[0], "\n") || !strings.Contains(warnings[0], srv.URL) || !strings.Contains(warnings[0], "the 2 templates read from it before stay") {
		t.Errorf("warnings = %q, want one line naming the URL and saying the templates stay", warnings)
	}
	if got, want := routeOf(t, live.Router(), "/api/v1/reports/quarterly-report"), "GET /api/v1/reports/:slug"; got != want {
		t.Errorf("after a broken document: route = %q, want %q", got, want)
	}
	if live.Router().Keyer().Learner() != learner {
		t.Error("the Learner changed on reload")
	}

	doc.Store(`{"openapi":"3.1.0","paths":{"/api/v1/reports/{report}":{}}}`)
	if err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	if got, want := routeOf(t, live.Router(), "/api/v1/reports/quarterly-report"), "GET /api/v1/reports/:report"; got != want {
		t.Errorf("after a changed document: route = %q, want %q", got, want)
	}
}

func TestLiveOpenAPIUnreachableIsNotFatal(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/openapi.json"
	srv.Close() // unreachable
	for _, ref := range []string{url, filepath.Join(t.TempDir(), "missing.yaml")} {
		var warnings []string
		live := &Live{
			Override: func(c *Config) error { c.OpenAPI = ref; return nil },
			OnWarn:   func(err error) { warnings = append(warnings, err.Error()) },
		}
		if err := live.Reload(); err != nil {
			t.Fatalf("%s: %v", ref, err)
		}
		if live.Router() == nil {
			t.Fatalf("%s: no router", ref)
		}
		if len(warnings) != 1 || !strings.Contains(warnings[0], "openapi "+ref) || !strings.Contains(warnings[0], "serving without its templates") {
			t.Errorf("%s: warnings = %q", ref, warnings)
		}
	}
}

// TestRouterSourcesPrecedence: the configuration's routes win over declared
// templates, which win over learning and id shapes; rules follow the key.
func TestRouterSourcesPrecedence(t *testing.T) {
	cfg, err := ParseConfig("parity.yaml", []byte("routes:\n  - match: GET /api/v1/teams/:t/boards/special\n    ignore: [body.x]\n"))
	if err != nil {
		t.Fatal(err)
	}
	tm, _ := route.FromPattern("", "/api/v1/teams/{team}/boards/{board}")
	rt, err := NewRouterFrom(cfg, Sources{Declared: []route.Declared{{Template: tm, Source: route.SourceOpenAPI}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ target, want string }{
		{"/api/v1/teams/acme/boards/special", "GET /api/v1/teams/:t/boards/special"},
		{"/api/v1/teams/acme/boards/roadmap", "GET /api/v1/teams/:team/boards/:board"},
		{"/api/v1/teams/acme/boards/cus_NffrFeUfNV2Hib/x", "GET /api/v1/teams/:team/boards/:board/x"},
	} {
		if got := routeOf(t, rt, tc.target); got != tc.want {
			t.Errorf("route of %s = %q, want %q", tc.target, got, tc.want)
		}
	}
}
