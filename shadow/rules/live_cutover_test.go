package rules

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// cutoverOf is the cutover of the configuration in force, without its origin.
func cutoverOf(l *Live) CutoverConfig {
	cfg, _ := l.Current()
	return cfg.Cutover
}

// TestSetCutoverAppliesAndSurvivesReload: a controller's cutover replaces the
// file's routes and weights at once, is put over every configuration loaded
// after it, and nil hands the cutover back to the file.
func TestSetCutoverAppliesAndSurvivesReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parity.yaml")
	writeConfigFile(t, path, "cutover:\n  enabled: true\n  routes: [/api/health]\n  weights: {/api/sessions: 50}\n")
	reloads := 0
	l := &Live{Path: path, OnReload: func(*Config) { reloads++ }}
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	state := &CutoverState{Routes: []string{"/api/metrics"}, Weights: map[string]int{"/api/activity": 10}}
	if err := l.SetCutover(state); err != nil {
		t.Fatal(err)
	}
	state.Weights["/api/activity"] = 90 // the caller's map is not the one in force
	none := 0
	want := CutoverConfig{Enabled: true, Routes: []string{"/api/metrics"}, Weights: map[string]int{"/api/activity": 10}, Rest: &none}
	if diff := cmp.Diff(want, cutoverOf(l)); diff != "" {
		t.Errorf("after SetCutover (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&CutoverState{Routes: []string{"/api/metrics"}, Weights: map[string]int{"/api/activity": 10}}, l.Cutover()); diff != "" {
		t.Errorf("Cutover() (-want +got):\n%s", diff)
	}
	if reloads != 2 {
		t.Errorf("OnReload called %d times, want 2 (the load and SetCutover)", reloads)
	}
	if d := l.Router().Decide(newRequest("GET", "/api/health")); d.Serve != Primary {
		t.Errorf("/api/health, a route of the file only: served by %v, want the primary", d.Serve)
	}
	if d := l.Router().Decide(newRequest("GET", "/api/metrics")); d.Serve != Candidate || d.Weight != 100 {
		t.Errorf("/api/metrics, a route of the controller: served by %v at %d%%, want the candidate at 100", d.Serve, d.Weight)
	}

	writeConfigFile(t, path, "cutover:\n  enabled: true\n  routes: [/api/tools]\n  sticky: header:X-User\n")
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	want.Sticky = "header:X-User"
	if diff := cmp.Diff(want, cutoverOf(l)); diff != "" {
		t.Errorf("after a reload (-want +got):\n%s", diff)
	}

	if err := l.SetCutover(nil); err != nil {
		t.Fatal(err)
	}
	want = CutoverConfig{Enabled: true, Routes: []string{"/api/tools"}, Sticky: "header:X-User"}
	if diff := cmp.Diff(want, cutoverOf(l)); diff != "" {
		t.Errorf("after SetCutover(nil) (-want +got):\n%s", diff)
	}
}

// TestSetCutoverBeforeTheFirstLoad: an invalid state is refused before any
// configuration is loaded too, so that it can never stop the first load.
func TestSetCutoverBeforeTheFirstLoad(t *testing.T) {
	l := &Live{}
	if err := l.SetCutover(&CutoverState{Routes: []string{"/api/AUTH"}}); err == nil {
		t.Fatal("SetCutover(auth) before the first load: no error")
	}
	if l.Cutover() != nil {
		t.Error("a refused state was kept")
	}
	if err := l.Reload(); err != nil {
		t.Errorf("first load after a refused state: %v", err)
	}
}

// TestSetCutoverEmptyRoutesMeanNone: the guide's empty FASTIFY_PROXY_ROUTES means
// every /api/*, but a controller's empty routes mean none.
func TestSetCutoverEmptyRoutesMeanNone(t *testing.T) {
	l := &Live{Getenv: func(k string) string { return map[string]string{"FASTIFY_ENABLED": "true"}[k] }}
	if err := l.SetCutover(&CutoverState{}); err != nil { // before the first load: kept for it
		t.Fatal(err)
	}
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	if d := l.Router().Decide(newRequest("GET", "/api/sessions")); d.Serve != Primary {
		t.Errorf("controller with no routes: served by %v, want the primary", d.Serve)
	}
	if err := l.SetCutover(&CutoverState{Rest: 100}); err != nil {
		t.Fatal(err)
	}
	if d := l.Router().Decide(newRequest("GET", "/api/sessions")); d.Serve != Candidate || d.Weighted != "/api/" {
		t.Errorf("controller with rest 100: served by %v (weighted %q), want the candidate under /api/", d.Serve, d.Weighted)
	}
	if err := l.SetCutover(nil); err != nil {
		t.Fatal(err)
	}
	if d := l.Router().Decide(newRequest("GET", "/api/sessions")); d.Serve != Candidate {
		t.Errorf("no controller, FASTIFY_ENABLED=true and no routes: served by %v, want the candidate", d.Serve)
	}
}

// TestSetCutoverEnvironmentWins: FASTIFY_ENABLED=false keeps everything with the
// primary whatever the controller says, and FASTIFY_PROXY_ROUTES replaces the
// controller's routes (its weights stay).
func TestSetCutoverEnvironmentWins(t *testing.T) {
	env := map[string]string{"FASTIFY_ENABLED": "false", "FASTIFY_PROXY_ROUTES": "/api/health"}
	l := &Live{Getenv: func(k string) string { return env[k] }}
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	if err := l.SetCutover(&CutoverState{Routes: []string{"/api/sessions"}, Weights: map[string]int{"/api/activity": 100}}); err != nil {
		t.Fatal(err)
	}
	if l.Enabled() {
		t.Error("Enabled with FASTIFY_ENABLED=false")
	}
	for _, p := range []string{"/api/health", "/api/sessions", "/api/activity"} {
		if d := l.Router().Decide(newRequest("GET", p)); d.Serve != Primary {
			t.Errorf("%s with FASTIFY_ENABLED=false: served by %v", p, d.Serve)
		}
	}
	env["FASTIFY_ENABLED"] = "true"
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	if !l.Enabled() {
		t.Error("not Enabled with FASTIFY_ENABLED=true")
	}
	for p, want := range map[string]Backend{"/api/health": Candidate, "/api/sessions": Primary, "/api/activity": Candidate} {
		if d := l.Router().Decide(newRequest("GET", p)); d.Serve != want {
			t.Errorf("%s: served by %v, want %v", p, d.Serve, want)
		}
	}
}

// TestSetCutoverRejectsInvalid: a state that would send /api/auth to the
// candidate, or a percent out of range, is refused and changes nothing.
func TestSetCutoverRejectsInvalid(t *testing.T) {
	l := &Live{}
	if err := l.Store(&Config{Cutover: CutoverConfig{Enabled: true, Routes: []string{"/api/health"}}}); err != nil {
		t.Fatal(err)
	}
	before := cutoverOf(l)
	for _, s := range []*CutoverState{
		{Routes: []string{"/api/auth"}},
		{Weights: map[string]int{"/api/": 5}},
		{Weights: map[string]int{"/api/sessions": 101}},
		{Rest: -1},
	} {
		err := l.SetCutover(s)
		if err == nil || !strings.HasPrefix(err.Error(), "set cutover: ") {
			t.Errorf("SetCutover(%+v) = %v, want an error", s, err)
		}
		if diff := cmp.Diff(before, cutoverOf(l)); diff != "" {
			t.Errorf("a refused state changed the cutover (-want +got):\n%s", diff)
		}
	}
	if err := l.SetCutover(&CutoverState{Weights: map[string]int{"/api/auth/x": 1}}); err == nil ||
		err.Error() != `set cutover: config: cutover.weights[/api/auth/x]: prefix "/api/auth/x" covers /api/auth, which never goes to the candidate` {
		t.Errorf("SetCutover(auth) = %v, want the error naming the weight", err)
	}
	// The refused state is not kept for the next load either.
	if err := l.Store(&Config{Cutover: CutoverConfig{Enabled: true}}); err != nil {
		t.Fatal(err)
	}
	if c := cutoverOf(l); c.Rest != nil || l.Cutover() != nil {
		t.Errorf("a refused state was applied to the next configuration: %+v", c)
	}
}

// TestSetCutoverConcurrentWithReloads: a controller setting the cutover while
// the file reloads and requests are routed (run with -race): every Router in
// force carries one of the states set, and the last state set is the one left.
func TestSetCutoverConcurrentWithReloads(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parity.yaml")
	writeConfigFile(t, path, "cutover:\n  enabled: true\n  routes: [/api/health]\n")
	l := &Live{Path: path}
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := l.Reload(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			cfg, rt := l.Current()
			d := rt.Decide(newRequest("GET", "/api/sessions"))
			if w, ok := cfg.Cutover.Weights["/api/sessions"]; ok && d.Weight != w {
				t.Errorf("a Router that is not its configuration's: weight %d, configured %d", d.Weight, w)
				return
			}
		}
	})
	for i := range 200 {
		if err := l.SetCutover(&CutoverState{Weights: map[string]int{"/api/sessions": i % 101}}); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if w := cutoverOf(l).Weights["/api/sessions"]; w != 199%101 {
		t.Errorf("weight in force %d, want the last set, %d", w, 199%101)
	}
}
