package rules

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// liveHarness runs Live.Watch on a config file and turns its hooks into channels,
// so that tests wait for what the watcher did instead of sleeping.
type liveHarness struct {
	t       *testing.T
	live    *Live
	reloads chan *Config
	rejects chan error
	sig     chan os.Signal
	stop    func()

	mu  sync.Mutex
	env map[string]string
}

// liveWait bounds every wait on the watcher: a deadline for a failing test, never a
// timing assertion.
const liveWait = 10 * time.Second

func newLiveHarness(t *testing.T, path string) *liveHarness {
	t.Helper()
	return newLiveHarnessDebounce(t, path, 10*time.Millisecond)
}

// newLiveHarnessDebounce is newLiveHarness with the given quiet period.
func newLiveHarnessDebounce(t *testing.T, path string, debounce time.Duration) *liveHarness {
	t.Helper()
	h := &liveHarness{t: t, reloads: make(chan *Config, 64), rejects: make(chan error, 64), sig: make(chan os.Signal, 1), env: map[string]string{}}
	h.live = &Live{
		Path:     path,
		Getenv:   h.getenv,
		Debounce: debounce,
	}
	if err := h.live.Reload(); err != nil {
		t.Fatalf("initial load: %v", err)
	}
	h.live.OnReload = func(c *Config) { h.reloads <- c }
	h.live.OnReject = func(err error) { h.rejects <- err }
	ready := make(chan struct{})
	h.live.watching = func() { close(ready) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.live.Watch(ctx, h.sig) }()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("Watch returned early: %v", err)
	}
	h.stop = func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Watch: %v", err)
			}
		case <-time.After(liveWait):
			t.Error("Watch did not return after cancel")
		}
	}
	t.Cleanup(h.stop)
	return h
}

func (h *liveHarness) getenv(k string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.env[k]
}

func (h *liveHarness) setenv(k, v string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.env[k] = v
}

// waitReload waits for a reload whose config satisfies ok; rejects fail the test.
func (h *liveHarness) waitReload(what string, ok func(*Config) bool) *Config {
	h.t.Helper()
	deadline := time.After(liveWait)
	for {
		select {
		case c := <-h.reloads:
			if ok(c) {
				return c
			}
		case err := <-h.rejects:
			h.t.Fatalf("waiting for %s: unexpected reject: %v", what, err)
		case <-deadline:
			h.t.Fatalf("no reload with %s", what)
		}
	}
}

func (h *liveHarness) waitReject(what string) error {
	h.t.Helper()
	select {
	case err := <-h.rejects:
		return err
	case c := <-h.reloads:
		h.t.Fatalf("waiting for %s: unexpected reload: %+v", what, c)
	case <-time.After(liveWait):
		h.t.Fatalf("no reject for %s", what)
	}
	return nil
}

func cutoverOn(c *Config) bool { return c.Cutover.Enabled }

func writeConfigFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

const (
	cfgOff = "cutover:\n  enabled: false\n  routes: [/api/health]\n"
	cfgOn  = "cutover:\n  enabled: true\n  routes: [/api/health]\n"
)

func TestLiveEditInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parity.yaml")
	writeConfigFile(t, path, cfgOff)
	h := newLiveHarness(t, path)
	if d := h.live.Router().Decide(newRequest("GET", "/api/health")); d.Serve != Primary {
		t.Fatalf("before: served by %v", d.Serve)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(cfgOn); err != nil {
		t.Fatal(err)
	}
	f.Close()
	h.waitReload("cutover enabled", cutoverOn)
	if d := h.live.Router().Decide(newRequest("GET", "/api/health")); d.Serve != Candidate {
		t.Errorf("after: served by %v, want the candidate", d.Serve)
	}
}

func TestLiveRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "parity.yaml")
	writeConfigFile(t, path, cfgOff)
	h := newLiveHarness(t, path)
	tmp := filepath.Join(dir, ".parity.yaml.tmp")
	writeConfigFile(t, tmp, cfgOn)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	h.waitReload("cutover enabled", cutoverOn)
	// And back: rollback by config, no restart.
	writeConfigFile(t, tmp, cfgOff)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	h.waitReload("cutover disabled", func(c *Config) bool { return !c.Cutover.Enabled })
	if _, rt := h.live.Current(); rt.Decide(newRequest("GET", "/api/health")).Serve != Primary {
		t.Error("rollback did not take effect")
	}
}

// TestLiveSymlinkSwap swaps the config as Kubernetes updates a mounted ConfigMap: the
// file is a symlink through "..data", which is replaced atomically by a rename.
func TestLiveSymlinkSwap(t *testing.T) {
	dir := t.TempDir()
	mkdata := func(name, content string) {
		if err := os.Mkdir(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		writeConfigFile(t, filepath.Join(dir, name, "parity.yaml"), content)
	}
	mkdata("..2024_01", cfgOff)
	if err := os.Symlink("..2024_01", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "parity.yaml")
	if err := os.Symlink("..data/parity.yaml", path); err != nil {
		t.Fatal(err)
	}
	h := newLiveHarness(t, path)
	for i, content := range []string{cfgOn, cfgOff} {
		name := []string{"..2024_02", "..2024_03"}[i]
		mkdata(name, content)
		if err := os.Symlink(name, filepath.Join(dir, "..data_tmp")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
			t.Fatal(err)
		}
		old := []string{"..2024_01", "..2024_02"}[i]
		if err := os.RemoveAll(filepath.Join(dir, old)); err != nil {
			t.Fatal(err)
		}
		want := i == 0
		h.waitReload(name, func(c *Config) bool { return c.Cutover.Enabled == want })
	}
}

// TestLiveSymlinkTargetEdited edits the file a symlink points to, in another directory.
func TestLiveSymlinkTargetEdited(t *testing.T) {
	etc, srv := t.TempDir(), t.TempDir()
	target := filepath.Join(srv, "real.yaml")
	writeConfigFile(t, target, cfgOff)
	path := filepath.Join(etc, "parity.yaml")
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	h := newLiveHarness(t, path)
	writeConfigFile(t, target, cfgOn)
	h.waitReload("cutover enabled", cutoverOn)
}

func TestLiveInvalidKeepsOld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parity.yaml")
	writeConfigFile(t, path, cfgOn)
	h := newLiveHarness(t, path)
	before, beforeRT := h.live.Current()
	for _, bad := range []struct{ name, data, want string }{
		{"auth cut over", "cutover:\n  enabled: true\n  routes: [/api/auth]\n", `cutover.routes[0]: prefix "/api/auth" covers /api/auth`},
		{"half written", "cutover:\n  enabled: true\n  routes: [/api/he", "did not find expected"},
		{"unknown key", cfgOn + "shadow:\n  smaple: 0.5\n", `unknown key "smaple"`},
	} {
		writeConfigFile(t, path, bad.data)
		err := h.waitReject(bad.name)
		if !strings.Contains(err.Error(), bad.want) || !strings.HasPrefix(err.Error(), path+":") {
			t.Errorf("%s: reject %q, want it to name %s and contain %q", bad.name, err, path, bad.want)
		}
		if cfg, rt := h.live.Current(); cfg != before || rt != beforeRT {
			t.Fatalf("%s: configuration replaced by an invalid one", bad.name)
		}
	}
	writeConfigFile(t, path, cfgOff)
	h.waitReload("the fixed file", func(c *Config) bool { return !c.Cutover.Enabled })
}

func TestLiveMissingFileKeepsOld(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parity.yaml")
	writeConfigFile(t, path, cfgOn)
	h := newLiveHarness(t, path)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := h.waitReject("removed file"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reject = %v, want not-exist", err)
	}
	if cfg, _ := h.live.Current(); cfg == nil || !cfg.Cutover.Enabled {
		t.Fatal("old configuration not kept")
	}
	writeConfigFile(t, path, cfgOff)
	h.waitReload("the file back", func(c *Config) bool { return !c.Cutover.Enabled })
}

// TestLiveSIGHUP reloads on the signal and re-applies the environment each time.
func TestLiveSIGHUP(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parity.yaml")
	writeConfigFile(t, path, cfgOff)
	h := newLiveHarness(t, path)
	h.setenv("FASTIFY_ENABLED", "true")
	h.setenv("FASTIFY_PROXY_ROUTES", "/api/sessions")
	h.sig <- syscall.SIGHUP
	c := h.waitReload("env applied", cutoverOn)
	if got := strings.Join(c.Cutover.Routes, ","); got != "/api/sessions" {
		t.Errorf("routes = %q, want the environment's", got)
	}
	h.setenv("FASTIFY_ENABLED", "nope")
	h.sig <- syscall.SIGHUP
	if err := h.waitReject("bad env"); !strings.Contains(err.Error(), "FASTIFY_ENABLED") {
		t.Errorf("reject = %v, want it to name FASTIFY_ENABLED", err)
	}
	if cfg, _ := h.live.Current(); !cfg.Cutover.Enabled {
		t.Error("old configuration not kept")
	}
}

func TestLiveWithoutFile(t *testing.T) {
	l := &Live{Getenv: func(k string) string { return map[string]string{"FASTIFY_ENABLED": "yes"}[k] }}
	if cfg, rt := l.Current(); cfg != nil || rt != nil {
		t.Fatal("Current before load is not nil")
	}
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	if d := l.Router().Decide(newRequest("GET", "/api/x")); d.Serve != Candidate {
		t.Errorf("served by %v, want the candidate (FASTIFY_ENABLED=yes, all /api)", d.Serve)
	}
	var rejected error
	l.OnReject = func(err error) { rejected = err }
	if err := l.Store(&Config{Candidate: "ftp://x"}); err == nil || rejected == nil {
		t.Errorf("Store(invalid) = %v, OnReject got %v; want both", err, rejected)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Watch(ctx, nil); err != nil {
		t.Errorf("Watch = %v", err)
	}
}

func TestLiveOverride(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parity.yaml")
	writeConfigFile(t, path, "candidate: http://file:3001\n")
	l := &Live{Path: path, Getenv: func(k string) string { return map[string]string{"FASTIFY_URL": "http://env:3001"}[k] },
		Override: func(c *Config) error { c.Shadow.VerifyCutover = true; return nil }}
	if err := l.Reload(); err != nil {
		t.Fatal(err)
	}
	cfg, _ := l.Current()
	if cfg.Candidate != "http://env:3001" || !cfg.Shadow.VerifyCutover {
		t.Errorf("got candidate %q verify %v; want the environment's and the override's", cfg.Candidate, cfg.Shadow.VerifyCutover)
	}
}

// TestReloadEmptyFileKeepsConfig: a SIGHUP (Reload) that finds the file empty —
// a writer between truncating and writing — keeps the configuration in force
// rather than loading the defaults; a file holding only a comment does load them,
// and so does an empty file at the first load.
func TestReloadEmptyFileKeepsConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parity.yaml")
	writeConfigFile(t, path, "")
	live := &Live{Path: path}
	if err := live.Reload(); err != nil {
		t.Fatalf("first load of an empty file: %v", err)
	}
	writeConfigFile(t, path, cfgOn)
	if err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	writeConfigFile(t, path, " \n")
	if err := live.Reload(); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("Reload of an emptied file = %v, want an error saying it is empty", err)
	}
	if cfg, _ := live.Current(); !cfg.Cutover.Enabled {
		t.Error("the emptied file replaced the configuration in force")
	}
	writeConfigFile(t, path, "# the defaults\n")
	if err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	if cfg, _ := live.Current(); cfg.Cutover.Enabled {
		t.Error("a file holding only a comment did not load the defaults")
	}
}
