package shadow

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestReloadRollsBackWithoutRestart is the guide's "instant rollback, no
// restart": with the cutover on, /api/health is served by the candidate; the
// config file is rewritten with the cutover off (by rename, then by SIGHUP after
// an in-place edit) and the next request on the same client connection is served
// by the primary. An invalid file (one that would send /api/auth to the
// candidate) is rejected, counted, and the configuration in force keeps serving.
func TestReloadRollsBackWithoutRestart(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "primary") })
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "candidate") })
	dir := t.TempDir()
	path := filepath.Join(dir, "parity.yaml")
	write := func(content string, rename bool) {
		t.Helper()
		target := path
		if rename {
			target = filepath.Join(dir, "parity.yaml.tmp")
		}
		if err := os.WriteFile(target, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if rename {
			if err := os.Rename(target, path); err != nil {
				t.Fatal(err)
			}
		}
	}
	const on = "cutover:\n  enabled: true\n  routes: [/api/health]\n"
	const off = "cutover:\n  enabled: false\n  routes: [/api/health]\n"
	const invalid = "cutover:\n  enabled: true\n  routes: [/api/health, /api/auth]\n"
	write(on, false)

	m := NewMetrics(0)
	reloaded := make(chan bool, 16)
	live := &Live{
		Path:     path,
		OnReload: func(*Config) { m.ConfigReload(true); reloaded <- true },
		OnReject: func(error) { m.ConfigReload(false); reloaded <- false },
	}
	if err := live.Reload(); err != nil {
		t.Fatalf("initial load: %v", err)
	}
	<-reloaded
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal, 1)
	watched := make(chan error, 1)
	go func() { watched <- live.Watch(ctx, hup) }()
	defer func() {
		cancel()
		if err := <-watched; err != nil {
			t.Errorf("watch: %v", err)
		}
	}()

	p := &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Metrics: m,
		Decide: func(r *http.Request) Decision { return live.Router().Decide(r) }}
	h := newHarness(t, p)
	h.client.Transport.(*http.Transport).MaxConnsPerHost = 1

	var conns int
	ask := func() string {
		t.Helper()
		trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
			if !info.Reused {
				conns++
			}
		}}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", h.server.URL+"/api/health", nil)
		res, body := h.do(t, req)
		if res.StatusCode != 200 {
			t.Fatalf("status %d", res.StatusCode)
		}
		return body
	}
	expectReload := func(want bool) {
		t.Helper()
		select {
		case ok := <-reloaded:
			if ok != want {
				t.Fatalf("reload succeeded = %v, want %v", ok, want)
			}
		case <-time.After(waitLimit):
			t.Fatal("no reload")
		}
	}

	if got := ask(); got != "candidate" {
		t.Fatalf("cutover on: served by %s", got)
	}
	write(off, true)
	expectReload(true)
	if got := ask(); got != "primary" {
		t.Errorf("after rollback by rename: served by %s", got)
	}
	write(invalid, true)
	expectReload(false)
	if got := ask(); got != "primary" {
		t.Errorf("after a rejected file: served by %s, want the configuration in force", got)
	}
	write(on, true)
	expectReload(true)
	if got := ask(); got != "candidate" {
		t.Errorf("cutover on again: served by %s", got)
	}
	// An edit in place, announced by SIGHUP.
	write(off, false)
	hup <- syscall.SIGHUP
	expectReload(true)
	if got := ask(); got != "primary" {
		t.Errorf("after SIGHUP: served by %s", got)
	}
	if conns != 1 {
		t.Errorf("the client opened %d connections, want 1: a reload must not drop one", conns)
	}
	if v := metricValue(t, m, "parity_config_reloads_total", map[string]string{"result": "failure"}); v != 1 {
		t.Errorf("failed reloads = %v, want 1", v)
	}
}
