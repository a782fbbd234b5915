package shadow

import (
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/shadow/rules"
)

// weightsStand is a proxy whose routing is a live configuration file, in front
// of two loopback backends that answer with their own name.
type weightsStand struct {
	h                  *harness
	live               *rules.Live
	path               string
	env                map[string]string
	primary, candidate *backend
	obs                *observer
	logs               *syncBuffer
}

func newWeightsStand(t *testing.T, config string) *weightsStand {
	t.Helper()
	s := &weightsStand{path: filepath.Join(t.TempDir(), "parity.yaml"), env: map[string]string{}, obs: newObserver(), logs: &syncBuffer{}}
	answer := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"backend":%q,"path":%q}`, name, r.URL.Path)
		}
	}
	s.primary, s.candidate = newBackend(t, answer("primary")), newBackend(t, answer("candidate"))
	writeConfigFile(t, s.path, config)
	s.live = &rules.Live{Path: s.path, Getenv: func(k string) string { return s.env[k] }}
	if err := s.live.Reload(); err != nil {
		t.Fatal(err)
	}
	s.h = newHarness(t, &Proxy{Primary: s.primary.url(t), Candidate: s.candidate.url(t), Observer: s.obs,
		Logger: zerolog.New(s.logs), Decide: func(r *http.Request) rules.Decision { return s.live.Router().Decide(r) }})
	return s
}

// drain keeps the recorders' channels empty for tests that send more requests
// than they hold, and that read what was received through received().
func (s *weightsStand) drain(t *testing.T) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for _, ch := range []chan seen{s.primary.got, s.candidate.got} {
		wg.Go(func() {
			for {
				select {
				case <-ch:
				case <-done:
					return
				}
			}
		})
	}
	wg.Go(func() {
		for {
			select {
			case <-s.obs.ch:
			case <-done:
				return
			}
		}
	})
	t.Cleanup(func() { close(done); wg.Wait() })
}

// reload writes config to the file and loads it.
func (s *weightsStand) reload(t *testing.T, config string) {
	t.Helper()
	writeConfigFile(t, s.path, config)
	if err := s.live.Reload(); err != nil {
		t.Fatal(err)
	}
}

// servedBy sends GET path with the given header pairs through client (nil: the
// stand's) and says which backend answered.
func (s *weightsStand) servedBy(t *testing.T, client *http.Client, path string, header ...string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.h.server.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	if client == nil {
		client = s.h.client
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	switch {
	case res.StatusCode != http.StatusOK:
		t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
	case strings.Contains(string(body), `"backend":"candidate"`):
		return "candidate"
	case strings.Contains(string(body), `"backend":"primary"`):
		return "primary"
	}
	t.Fatalf("GET %s: answer %q names no backend", path, body)
	return ""
}

// received is every request the backend has received so far.
func (b *backend) received() []seen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]seen(nil), b.reqs...)
}

// clientFrom is a client whose connections come from the loopback address ip,
// a new connection for every request.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true, Proxy: nil}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// TestWeightsClientKeepsItsBackend: through the proxy, each client — told apart
// by the connection's address, whatever X-Forwarded-For it sends — is answered
// by the same backend across 50 requests on 50 connections, and at 50% both
// backends serve some of them.
func TestWeightsClientKeepsItsBackend(t *testing.T) {
	s := newWeightsStand(t, "cutover:\n  enabled: true\n  weights: {/api/sessions: 50}\n")
	seen := map[string]int{}
	for i := 1; i <= 12; i++ {
		ip := fmt.Sprintf("127.0.%d.%d", i/200, 1+i%200)
		client := clientFrom(t, ip)
		first := s.servedBy(t, client, "/api/sessions")
		seen[first]++
		for n := range 50 {
			got := s.servedBy(t, client, fmt.Sprintf("/api/sessions/%d", n), "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", n))
			if got != first {
				t.Fatalf("client %s: request %d answered by the %s, the first by the %s", ip, n, got, first)
			}
		}
	}
	if seen["primary"] == 0 || seen["candidate"] == 0 {
		t.Errorf("at 50%%, 12 clients were answered %v; want both backends serving some", seen)
	}
}

// TestWeightsManyClientsSplitNearTheWeight: 1,000 clients, told apart by a
// cookie, are served by the candidate in the weight's share (within the
// binomial bound); the requests /api/auth and the paths under no weight get
// never reach the candidate.
func TestWeightsManyClientsSplitNearTheWeight(t *testing.T) {
	const clients, w = 1000, 30
	s := newWeightsStand(t, fmt.Sprintf("cutover:\n  enabled: true\n  weights: {/api/sessions: %d}\n  sticky: cookie:sid\nshadow:\n  sample: 0\n", w))
	s.drain(t)
	served := 0
	for i := range clients {
		cookie := fmt.Sprintf("sid=client-%d", i)
		if s.servedBy(t, nil, "/api/sessions", "Cookie", cookie) == "candidate" {
			served++
		}
		if i%50 == 0 {
			for _, p := range []string{"/api/auth/session", "/api/activity"} {
				if got := s.servedBy(t, nil, p, "Cookie", cookie); got != "primary" {
					t.Errorf("%s answered by the %s", p, got)
				}
			}
		}
	}
	p := float64(w) / 100
	bound := 5 * math.Sqrt(clients*p*(1-p))
	if dev := math.Abs(float64(served) - clients*p); dev > bound {
		t.Errorf("%d of %d clients served by the candidate at %d%%, %.0f from the %.0f expected (bound %.0f)", served, clients, w, dev, clients*p, bound)
	}
	for _, r := range s.candidate.received() {
		if strings.HasPrefix(r.RequestURI, "/api/auth") {
			t.Errorf("the candidate received %s", r.RequestURI)
		}
	}
}

// TestWeightsReverseShadow: a request a weight sends to the candidate is
// mirrored to the primary and compared with the roles kept — the primary's
// answer as the primary's —, without verify_cutover; one it leaves with the
// primary is mirrored to the candidate. The access line names the backend that
// served and the weight.
func TestWeightsReverseShadow(t *testing.T) {
	s := newWeightsStand(t, "cutover:\n  enabled: true\n  weights: {/api/sessions: 100, /api/activity: 0}\n")
	for _, tc := range []struct{ path, served, mirrored string }{
		{"/api/sessions/1", "candidate", "primary"},
		{"/api/activity", "primary", "candidate"},
	} {
		if got := s.servedBy(t, nil, tc.path); got != tc.served {
			t.Fatalf("%s answered by the %s, want the %s", tc.path, got, tc.served)
		}
		to := s.primary
		if tc.mirrored == "candidate" {
			to = s.candidate
		}
		var m seen
		for m = to.next(t); m.Header.Get(HeaderShadow) != "1"; m = to.next(t) {
		}
		if m.RequestURI != tc.path {
			t.Errorf("mirror to the %s: %s, want %s", tc.mirrored, m.RequestURI, tc.path)
		}
		ob := s.obs.next(t)
		if ob.Skipped != "" {
			t.Fatalf("%s: skipped (%s), want compared", tc.path, ob.Skipped)
		}
		want := []diff.Difference{{Path: "body.backend", Pattern: "body.backend", Kind: diff.Changed, Primary: `"primary"`, Candidate: `"candidate"`}}
		if got := ob.Differences; len(got) != 1 || got[0].Path != want[0].Path || got[0].Primary != want[0].Primary || got[0].Candidate != want[0].Candidate {
			t.Errorf("%s: differences %+v, want %+v", tc.path, got, want)
		}
	}
	log := s.logs.String()
	if !strings.Contains(log, `"path":"/api/sessions/1"`) || !strings.Contains(log, `"backend":"candidate","weight":100`) {
		t.Errorf("access log does not say the candidate served /api/sessions/1 at 100%%:\n%s", log)
	}
	if !strings.Contains(log, `"backend":"primary","weight":0`) {
		t.Errorf("access log does not say the primary served /api/activity at 0%%:\n%s", log)
	}
}

// TestWeightsSetCutoverSurvivesReload: a controller's cutover takes effect on
// the next request, stays over configuration reloads, and nil hands the routing
// back to the file.
func TestWeightsSetCutoverSurvivesReload(t *testing.T) {
	s := newWeightsStand(t, "cutover:\n  enabled: true\n  routes: [/api/health]\n")
	if got := s.servedBy(t, nil, "/api/sessions"); got != "primary" {
		t.Fatalf("before: /api/sessions answered by the %s", got)
	}
	if err := s.live.SetCutover(&rules.CutoverState{Weights: map[string]int{"/api/sessions": 100}}); err != nil {
		t.Fatal(err)
	}
	check := func(when string, want map[string]string) {
		t.Helper()
		for p, b := range want {
			if got := s.servedBy(t, nil, p); got != b {
				t.Errorf("%s: %s answered by the %s, want the %s", when, p, got, b)
			}
		}
	}
	check("after SetCutover", map[string]string{"/api/sessions": "candidate", "/api/health": "primary"})
	s.reload(t, "cutover:\n  enabled: true\n  routes: [/api/health, /api/activity]\ncompare:\n  ignore: [body.path]\n")
	check("after a reload", map[string]string{"/api/sessions": "candidate", "/api/health": "primary", "/api/activity": "primary"})
	if err := s.live.SetCutover(nil); err != nil {
		t.Fatal(err)
	}
	check("after SetCutover(nil)", map[string]string{"/api/sessions": "primary", "/api/health": "candidate", "/api/activity": "candidate"})
}

// TestWeightsMasterSwitch: enabled: false in the file, or FASTIFY_ENABLED=false,
// sends nothing to the candidate from the next request on, whatever the weights
// and the controller say; turned back on, the weights apply again.
func TestWeightsMasterSwitch(t *testing.T) {
	const on = "cutover:\n  enabled: true\n  weights: {/api/sessions: 100}\n"
	s := newWeightsStand(t, on)
	if err := s.live.SetCutover(&rules.CutoverState{Routes: []string{"/api/activity"}, Weights: map[string]int{"/api/sessions": 100}}); err != nil {
		t.Fatal(err)
	}
	if got := s.servedBy(t, nil, "/api/sessions"); got != "candidate" {
		t.Fatalf("enabled: /api/sessions answered by the %s", got)
	}
	before := s.candidate.count()
	stays := func(when string) {
		t.Helper()
		if s.live.Enabled() {
			t.Errorf("%s: Live.Enabled() is true", when)
		}
		for _, p := range []string{"/api/sessions", "/api/activity", "/api/sessions/9"} {
			if got := s.servedBy(t, nil, p); got != "primary" {
				t.Errorf("%s: %s answered by the %s", when, p, got)
			}
		}
	}
	s.reload(t, strings.Replace(on, "enabled: true", "enabled: false", 1))
	stays("enabled: false")
	s.reload(t, on)
	s.env["FASTIFY_ENABLED"] = "false"
	if err := s.live.Reload(); err != nil {
		t.Fatal(err)
	}
	stays("FASTIFY_ENABLED=false")
	// The mirrors of those requests reached the candidate; none was served by it.
	for _, r := range s.candidate.received()[before:] {
		if r.Header.Get(HeaderShadow) != "1" {
			t.Errorf("with the switch off the candidate served %s", r.RequestURI)
		}
	}
	delete(s.env, "FASTIFY_ENABLED")
	if err := s.live.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := s.servedBy(t, nil, "/api/sessions"); got != "candidate" {
		t.Errorf("switched back on: /api/sessions answered by the %s", got)
	}
}
