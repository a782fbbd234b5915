package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/parity-dev/parity/report"
)

// TestProxyUsageErrors: everything wrong before serving is exit 2 with one line
// naming the flag, variable, file or address at fault.
func TestProxyUsageErrors(t *testing.T) {
	dir := t.TempDir()
	authCfg := filepath.Join(dir, "auth.yaml")
	os.WriteFile(authCfg, []byte("cutover:\n  enabled: true\n  routes: [/api/auth]\n"), 0o600)
	typo := filepath.Join(dir, "typo.yaml")
	os.WriteFile(typo, []byte("cutover:\n  enabeld: true\n"), 0o600)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	free := "--admin-listen=127.0.0.1:0"
	budgetCfg := filepath.Join(dir, "budget.yaml")
	os.WriteFile(budgetCfg, []byte("shadow:\n  compare_budget: 0\n"), 0o600)

	tests := []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"unknown flag", nil, []string{"--bogus"}, "-bogus"},
		{"unexpected argument", nil, []string{"extra"}, `"extra"`},
		{"bad log level", nil, []string{"--log-level", "loud"}, `--log-level "loud"`},
		{"bad duration", nil, []string{"--grace", "-1s"}, "--grace"},
		{"cert without key", nil, []string{"--tls-cert", "c.pem"}, "--tls-key"},
		{"tiny header bound", nil, []string{"--max-header-bytes", "100"}, "--max-header-bytes 100"},
		{"no header fields", nil, []string{"--max-header-count", "0"}, "--max-header-count 0"},
		{"negative body timeout", nil, []string{"--body-read-timeout", "-1s"}, "--body-read-timeout"},
		{"negative body rate", nil, []string{"--body-min-rate", "-5"}, "--body-min-rate -5"},
		{"compare budget over the CPU", nil, []string{"--compare-budget", "1.5"}, "--compare-budget"},
		{"bad PARITY_COMPARE_BUDGET", []string{"PARITY_COMPARE_BUDGET=-0.5"}, nil, "compare-budget"},
		{"config compare budget", nil, []string{"--config", budgetCfg}, "shadow.compare_budget"},
		{"bad FASTIFY_ENABLED", []string{"FASTIFY_ENABLED=maybe"}, nil, "FASTIFY_ENABLED"},
		{"bad FASTIFY_URL", []string{"FASTIFY_URL=ftp://x"}, nil, "FASTIFY_URL"},
		{"bad PARITY_ADMIN_HOSTS", []string{"PARITY_ADMIN_HOSTS=http://x/"}, nil, "PARITY_ADMIN_HOSTS"},
		{"missing config", nil, []string{"--config", filepath.Join(dir, "none.yaml")}, "none.yaml"},
		{"config sending auth to the candidate", nil, []string{"--config", authCfg}, "auth.yaml"},
		{"config with a typo", nil, []string{"--config", typo}, "enabeld"},
		{"bad --primary", nil, []string{"--primary", "localhost:3000"}, "localhost:3000"},
		{"missing certificate", nil, []string{"--tls-cert", filepath.Join(dir, "c.pem"), "--tls-key", filepath.Join(dir, "k.pem"), "--listen", "127.0.0.1:0", free}, "c.pem"},
		{"record file cannot be created", nil, []string{"--record", filepath.Join(dir, "no", "such", "dir.ndjson"), "--listen", "127.0.0.1:0", free}, "--record"},
		{"address in use", nil, []string{"--listen", busy.Addr().String(), free}, busy.Addr().String()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runBinary(t, tc.env, append([]string{"proxy"}, tc.args...)...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr %q", code, exitUsage, stderr)
			}
			if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 1 || !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr %q, want one line naming %q", stderr, tc.want)
			}
		})
	}
}

// TestProxyPrecedence: flags override the environment, which overrides the file.
func TestProxyPrecedence(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "parity.yaml")
	os.WriteFile(cfgFile, []byte("primary: http://file:1\ncandidate: http://file:2\nsecondary: http://file:3\n"), 0o600)
	tests := []struct {
		name                           string
		flags                          proxyFlags
		env                            map[string]string
		wantPrimary, wantCand, wantSec string
	}{
		{"defaults", proxyFlags{}, nil, "http://localhost:3000", "http://localhost:3001", "<nil>"},
		{"file", proxyFlags{config: cfgFile}, nil, "http://file:1", "http://file:2", "http://file:3"},
		{"environment over file", proxyFlags{config: cfgFile}, map[string]string{"SVELTEKIT_URL": "http://env:1", "FASTIFY_URL": "http://env:2"},
			"http://env:1", "http://env:2", "http://file:3"},
		{"flags over environment", proxyFlags{config: cfgFile, primary: "http://flag:1", candidate: "http://flag:2", secondary: "http://flag:3"},
			map[string]string{"SVELTEKIT_URL": "http://env:1", "FASTIFY_URL": "http://env:2"}, "http://flag:1", "http://flag:2", "http://flag:3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string { return tc.env[k] }}
			srv, _, err := tc.flags.server(c, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			if got := srv.Proxy.Primary.String(); got != tc.wantPrimary {
				t.Errorf("primary %s, want %s", got, tc.wantPrimary)
			}
			if got := srv.Proxy.Candidate.String(); got != tc.wantCand {
				t.Errorf("candidate %s, want %s", got, tc.wantCand)
			}
			sec := "<nil>"
			if srv.Proxy.Secondary != nil {
				sec = srv.Proxy.Secondary.String()
			}
			if sec != tc.wantSec {
				t.Errorf("secondary %s, want %s", sec, tc.wantSec)
			}
		})
	}
}

// TestProxyServesAndStopsOnSIGTERM runs the real binary in front of two test
// backends: it serves from the primary, mirrors to the candidate, logs one
// access line per request without secrets, and on SIGTERM exits 0 after writing
// the snapshot.
func TestProxyServesAndStopsOnSIGTERM(t *testing.T) {
	primary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"from":"primary"}`)
	}))
	defer primary.Close()
	var mu sync.Mutex
	var mirrored []string
	candidate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		mirrored = append(mirrored, r.Method+" "+r.RequestURI+" shadow="+r.Header.Get("X-Parity-Shadow"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"from":"candidate"}`)
	}))
	defer candidate.Close()

	dir := t.TempDir()
	snap := filepath.Join(dir, "snapshot.json")
	recording := filepath.Join(dir, "traffic.ndjson")
	listen, admin := freeAddr(t), freeAddr(t)
	cmd := exec.Command(parityBin, "proxy", "--listen", listen, "--admin-listen", admin,
		"--primary", primary.URL, "--snapshot", snap, "--grace", "5s", "--record", recording)
	cmd.Env = append(os.Environ(), "FASTIFY_URL="+candidate.URL, "FASTIFY_ENABLED=false")
	var stderr syncBuf
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	}()
	waitFor(t, "http://"+admin+"/readyz", exited)

	const canary = "canary-7f3a9c"
	req, _ := http.NewRequest("GET", "http://"+listen+"/api/sessions?token="+canary, nil)
	req.Header.Set("Authorization", "Bearer "+canary)
	req.Header.Set("Cookie", "sid="+canary)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != `{"from":"primary"}` {
		t.Errorf("client got %q, want the primary's answer", body)
	}
	http.DefaultClient.CloseIdleConnections()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}

	mu.Lock()
	if len(mirrored) != 1 || mirrored[0] != "GET /api/sessions?token="+canary+" shadow=1" {
		t.Errorf("candidate received %q, want the mirrored GET", mirrored)
	}
	mu.Unlock()
	s, err := report.ReadSnapshotFile(snap)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	if r := s.Route("GET /api/sessions"); r == nil || r.Compared != 1 || r.Mismatched != 1 {
		t.Errorf("snapshot route = %+v, want 1 compared, mismatched", r)
	}

	rec, err := os.ReadFile(recording)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(rec), canary) || strings.Count(string(rec), "\n") != 1 || !strings.Contains(string(rec), `"url":"/api/sessions?token=`) {
		t.Errorf("recording %q, want one line for /api/sessions, token redacted", rec)
	}

	logs := stderr.String()
	if strings.Contains(logs, canary) {
		t.Errorf("a secret reached the log:\n%s", logs)
	}
	var access map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Errorf("log line not JSON: %q", sc.Text())
			continue
		}
		if line["message"] == "request" {
			access = line
		}
	}
	want := map[string]any{"method": "GET", "path": "/api/sessions", "route": "GET /api/sessions", "status": float64(200),
		"backend": "primary", "mirror": "mirrored"}
	for k, v := range want {
		if access[k] != v {
			t.Errorf("access line %s = %v, want %v (line %v)", k, access[k], v, access)
		}
	}
	for _, k := range []string{"duration_ms", "request_id", "client", "proto", "bytes"} {
		if _, ok := access[k]; !ok {
			t.Errorf("access line lacks %s: %v", k, access)
		}
	}
	// Timestamps to the millisecond: requests a few ms apart must not share a time.
	if ts, _ := access["time"].(string); !logTime.MatchString(ts) {
		t.Errorf("access line time %q, want RFC 3339 with milliseconds", ts)
	}
}

var logTime = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$`)

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitFor polls url until it answers 200, failing if the process exits first.
func waitFor(t *testing.T, url string, exited chan error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("parity exited before serving: %v", err)
		default:
		}
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never answered 200", url)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestProxyPprofFlag: --pprof serves the runtime profiles on the admin listener;
// on the public listener the same path still goes to the primary.
func TestProxyPprofFlag(t *testing.T) {
	primary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "primary")
	}))
	defer primary.Close()
	listen, admin := freeAddr(t), freeAddr(t)
	cmd := exec.Command(parityBin, "proxy", "--listen", listen, "--admin-listen", admin,
		"--primary", primary.URL, "--candidate", primary.URL, "--pprof", "--log-level", "error")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Kill()
		<-exited
	}()
	waitFor(t, "http://"+admin+"/readyz", exited)

	for _, tc := range []struct{ url, want string }{
		{"http://" + admin + "/debug/pprof/goroutine?debug=1", "goroutine profile:"},
		{"http://" + listen + "/debug/pprof/goroutine?debug=1", "primary"},
	} {
		res, err := http.Get(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), tc.want) {
			t.Errorf("%s: %d %.80q, want 200 with %q", tc.url, res.StatusCode, b, tc.want)
		}
	}
}

// TestProxyCompareBudgetPrecedence: --compare-budget (or PARITY_COMPARE_BUDGET)
// over shadow.compare_budget over the proxy's default.
func TestProxyCompareBudgetPrecedence(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "parity.yaml")
	os.WriteFile(cfgFile, []byte("shadow:\n  compare_budget: 0.5\n"), 0o600)
	for _, tc := range []struct {
		name  string
		flags proxyFlags
		want  float64
	}{
		{"default", proxyFlags{}, 0},
		{"file", proxyFlags{config: cfgFile}, 0.5},
		{"flag over file", proxyFlags{config: cfgFile, compareBudget: 1}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
			srv, _, err := tc.flags.server(c, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			if got := srv.Proxy.CompareBudget; got != tc.want {
				t.Errorf("CompareBudget %v, want %v", got, tc.want)
			}
			if srv.Proxy.Decided == nil {
				t.Error("no Decided: the budget cannot favour undecided routes")
			}
		})
	}
}
