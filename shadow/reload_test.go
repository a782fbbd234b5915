package shadow

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/parity-dev/parity/report/route"
	"github.com/parity-dev/parity/shadow/rules"
)

// reloadVersions are the valid configurations the reload test cycles through.
// Each is told from the others by its fingerprint, and no prefix of one that
// parses (a file cut short) has the fingerprint of any: a version gets a
// trailing comment of its own length so that sizes differ too.
func reloadVersions() []string {
	var out []string
	for i := range 7 {
		enabled := i%2 == 0
		routes := "[/api/health]"
		if i%3 == 1 {
			routes = "[/api/health, /api/sessions]"
		}
		v := fmt.Sprintf("cutover:\n  enabled: %v\n  routes: %s\ncompare:\n  ignore: [body.v%d, header.X-Version-%d]\n"+
			"routes:\n  - match: GET /api/sessions/:id\n    ignore: [body.updatedAt]\nshadow:\n  sample: 1.0\n  exclude: [/api/v%d]\n",
			enabled, routes, i, i, i)
		out = append(out, v+"# version "+fmt.Sprint(i)+" "+strings.Repeat("-", 40*i)+"\n")
	}
	return out
}

// reloadInvalid are files the reload test writes between valid ones: each must
// be rejected and the configuration in force keep serving.
var reloadInvalid = []string{
	"cutover:\n  enabled: true\n  routes: [/api/health, /api/auth]\n", // sends auth to the candidate
	"cutover:\n  enabled: [\n",                                        // not YAML
	"cutover:\n  enabled: true\nshadow:\n  sampel: 1\n",               // unknown key
	"cutover:\n  enabled: true\n  routes: [/api/health]\nshadow:\n  write_routes: [/api/AUTH/x]\n",
}

func fingerprint(c *rules.Config) string {
	return fmt.Sprintf("%v|%q|%q|%+v|%v", c.Cutover, c.Compare.Ignore, c.Shadow.Exclude, c.Routes, c.Shadow.SampleRate())
}

// TestReloadUnderLoad: 1,000 configuration changes — written in place, renamed
// over the file, swapped through a symlink as Kubernetes does, and every eighth
// one invalid — each announced by SIGHUP while the file watcher runs too, with
// clients sending requests all along on kept-alive connections. Every
// configuration loaded is one of the valid versions (never a file cut short or
// torn between two writes), every invalid one is rejected, no request gets a 5xx
// or a broken connection, and /api/auth never reaches the candidate.
func TestReloadUnderLoad(t *testing.T) {
	const changes = 1000
	versions := reloadVersions()
	valid := map[string]int{}
	for i, v := range versions {
		cfg, err := rules.ParseConfig("v", []byte(v))
		if err != nil {
			t.Fatalf("version %d: %v", i, err)
		}
		valid[fingerprint(cfg)] = i
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "parity.yaml")
	writeConfigFile(t, path, versions[0])
	loaded := make(chan int, 1024)     // version index of each configuration loaded
	rejected := make(chan error, 1024) // each rejection
	var bad atomic.Int64
	live := &rules.Live{
		Path:     path,
		Debounce: time.Millisecond, // the watcher's loads race with the SIGHUP ones
		OnReload: func(c *rules.Config) {
			v, ok := valid[fingerprint(c)]
			if !ok {
				bad.Add(1)
				t.Errorf("a configuration that is none of the versions was loaded: %s", fingerprint(c))
				v = -1
			}
			loaded <- v
		},
		OnReject: func(err error) { rejected <- err },
	}
	if err := live.Reload(); err != nil {
		t.Fatal(err)
	}
	<-loaded
	ctx, cancel := context.WithCancel(context.Background())
	hup := make(chan os.Signal, 1)
	watched := make(chan error, 1)
	go func() { watched <- live.Watch(ctx, hup) }()
	defer func() {
		cancel()
		for { // the watcher may still be handing over a load
			select {
			case err := <-watched:
				if err != nil {
					t.Errorf("watch: %v", err)
				}
				return
			case <-loaded:
			case <-rejected:
			}
		}
	}()

	var authToCandidate atomic.Int64
	answer := func(name string) *url.URL {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if name == "candidate" && route.ReadsAsAuth(route.TargetPath(r.RequestURI)) {
				authToCandidate.Add(1)
			}
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, name)
		}))
		t.Cleanup(s.Close)
		return parseTestURL(t, s.URL)
	}
	p := &Proxy{Primary: answer("primary"), Candidate: answer("candidate"), Metrics: NewMetrics(0),
		Decide: func(r *http.Request) rules.Decision { return live.Router().Decide(r) }}
	h := newHarness(t, p)

	// Traffic until the changes are done.
	stop := make(chan struct{})
	var traffic sync.WaitGroup
	var sent atomic.Int64
	for c := range 4 {
		traffic.Go(func() {
			client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
			defer client.CloseIdleConnections()
			paths := []string{"/api/health", "/api/sessions/7", "/api/auth/session", "/api/v3/x"}
			for i := c; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				res, err := client.Get(h.server.URL + paths[i%len(paths)])
				if err != nil {
					t.Errorf("request %s: %v", paths[i%len(paths)], err)
					return
				}
				b, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != 200 || (string(b) != "primary" && string(b) != "candidate") {
					t.Errorf("%s: %d %q %v", paths[i%len(paths)], res.StatusCode, b, err)
					return
				}
				sent.Add(1)
			}
		})
	}

	w := &configWriter{t: t, dir: dir, path: path}
	next := 1
	invalid := 0
	for i := range changes {
		if i%8 == 7 {
			w.write(i, reloadInvalid[invalid%len(reloadInvalid)])
			invalid++
			hup <- syscall.SIGHUP
			waitReject(t, loaded, rejected)
			continue
		}
		w.write(i, versions[next])
		hup <- syscall.SIGHUP
		waitLoad(t, loaded, rejected, next)
		next = (next + 1) % len(versions)
		if t.Failed() {
			break
		}
	}
	close(stop)
	traffic.Wait()
	if bad.Load() > 0 {
		t.Errorf("%d partial or torn files were loaded", bad.Load())
	}
	if sent.Load() == 0 {
		t.Error("no traffic flowed")
	}
	if n := authToCandidate.Load(); n > 0 {
		t.Errorf("the candidate received %d /api/auth requests", n)
	}
	t.Logf("%d changes, %d requests served meanwhile", changes, sent.Load())
}

// waitLoad waits for version want to be loaded; other valid versions may be
// loaded meanwhile by the watcher (a file read before the last change), and a
// rejection may be the watcher's too, but only ever of an invalid file.
func waitLoad(t *testing.T, loaded chan int, rejected chan error, want int) {
	t.Helper()
	for {
		select {
		case v := <-loaded:
			if v == want {
				return
			}
		case err := <-rejected:
			checkRejection(t, err)
		case <-time.After(waitLimit):
			t.Fatalf("version %d was never loaded", want)
		}
	}
}

func waitReject(t *testing.T, loaded chan int, rejected chan error) {
	t.Helper()
	for {
		select {
		case <-loaded: // the watcher's late load of an earlier valid file
		case err := <-rejected:
			checkRejection(t, err)
			if !strings.Contains(err.Error(), "is empty") { // a SIGHUP during an earlier in-place write
				return
			}
		case <-time.After(waitLimit):
			t.Fatal("an invalid file was never rejected")
		}
	}
}

// checkRejection fails for a rejection that is not about an invalid file's
// content: the file was missing or unreadable at some moment.
func checkRejection(t *testing.T, err error) {
	t.Helper()
	if msg := err.Error(); strings.Contains(msg, "no such file") || strings.Contains(msg, "read config") {
		t.Errorf("rejected for a reason other than its content: %v", err)
	}
}

// configWriter changes the config file in the three ways operators and
// Kubernetes do, in turn.
type configWriter struct {
	t         *testing.T
	dir, path string
	dataDir   string // the current Kubernetes-style data directory, "" before the first
}

func (w *configWriter) write(i int, content string) {
	t := w.t
	t.Helper()
	switch i % 3 {
	case 0: // in place: truncated, then written (through the symlink, if it is one)
		writeConfigFile(t, w.path, content)
	case 1: // a new file renamed over the config
		tmp := filepath.Join(w.dir, ".parity.yaml.tmp")
		writeConfigFile(t, tmp, content)
		if err := os.Rename(tmp, w.path); err != nil {
			t.Fatal(err)
		}
	case 2: // a Kubernetes ConfigMap update: a new data directory swapped in by a symlink rename
		name := fmt.Sprintf("..data_%04d", i)
		if err := os.Mkdir(filepath.Join(w.dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		writeConfigFile(t, filepath.Join(w.dir, name, "parity.yaml"), content)
		tmp := filepath.Join(w.dir, "..data_tmp")
		if err := os.Symlink(name, tmp); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(w.dir, "..data")); err != nil {
			t.Fatal(err)
		}
		if target, err := os.Readlink(w.path); err != nil || target != "..data/parity.yaml" {
			// The config is a plain file (written by a rename): make it the link.
			link := filepath.Join(w.dir, ".parity.yaml.link")
			if err := os.Symlink("..data/parity.yaml", link); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(link, w.path); err != nil {
				t.Fatal(err)
			}
		}
		if w.dataDir != "" {
			os.RemoveAll(filepath.Join(w.dir, w.dataDir))
		}
		w.dataDir = name
	}
}

func writeConfigFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

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
	live := &rules.Live{
		Path:     path,
		OnReload: func(*rules.Config) { m.ConfigReload(true); reloaded <- true },
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
		Decide: func(r *http.Request) rules.Decision { return live.Router().Decide(r) }}
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
