package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/rollout"
)

// These tests run `parity proxy --autopilot` and `parity rollout run` in the
// test's process against two loopback backends, with short intervals and a
// plan whose thresholds a few hundred requests decide, while clients send
// traffic; they wait on the rollout's state, never on time.

// autopilotPlan: two steps of one prefix each; confidence 0.5 lets a clean
// route's p99 be bounded after ~240 requests a side, and a floor of a second
// keeps the race detector's pauses, which land on one side's tail more than
// the other's, from holding latency inconclusive: these tests are about
// parity.
const autopilotPlan = `thresholds:
  min_samples: 20
  min_parity: 0.8
  parity_margin: 0.1
  max_candidate_error_rate: 0.2
  error_rate_margin: 0.1
  p99_floor_ms: 1000
  confidence: 0.5
steps:
  - name: One
    routes: [/api/one]
  - name: Two
    routes: [/api/one, /api/two]
`

// backend is a loopback portal backend that answers every path alike, names
// itself in X-Backend, and records what it received. The candidate's answers
// differ on the paths set broken.
type backend struct {
	*httptest.Server
	name   string
	mu     sync.Mutex
	got    []string // "served|mirrored METHOD PATH"
	broken sync.Map // path prefix → true
}

func newBackend(t *testing.T, name string) *backend {
	b := &backend{name: name}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		how := "served"
		if r.Header.Get("X-Parity-Shadow") != "" {
			how = "mirrored"
		}
		b.mu.Lock()
		b.got = append(b.got, how+" "+r.Method+" "+r.URL.Path)
		b.mu.Unlock()
		total := 3
		b.broken.Range(func(k, _ any) bool {
			if strings.HasPrefix(r.URL.Path, k.(string)) {
				total = 4
			}
			return true
		})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", name)
		fmt.Fprintf(w, `{"path":%q,"total":%d}`, r.URL.Path, total)
	}))
	t.Cleanup(b.Close)
	return b
}

// received returns what reached the backend under prefix.
func (b *backend) received(prefix string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, g := range b.got {
		if _, p, _ := strings.Cut(strings.SplitN(g, " ", 2)[1], " "); strings.HasPrefix(strings.ToLower(p), prefix) {
			out = append(out, g)
		}
	}
	return out
}

// env is a settable environment for in-process commands.
type env struct {
	mu sync.Mutex
	m  map[string]string
}

func (e *env) get(k string) string { e.mu.Lock(); defer e.mu.Unlock(); return e.m[k] }
func (e *env) set(k, v string)     { e.mu.Lock(); defer e.mu.Unlock(); e.m[k] = v }

// instance is a command running in the test's process.
type instance struct {
	cancel context.CancelFunc
	done   chan int
	stderr *syncBuf
}

func start(t *testing.T, e *env, args ...string) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{cancel: cancel, done: make(chan int, 1), stderr: &syncBuf{}}
	c := &cli{stdout: io.Discard, stderr: in.stderr, getenv: e.get, build: testBuild}
	go func() { in.done <- run(ctx, c, args) }()
	t.Cleanup(in.stop)
	return in
}

func (in *instance) stop() {
	in.cancel()
	select {
	case <-in.done:
	case <-time.After(20 * time.Second):
	}
	in.done <- 0 // a second stop returns at once
}

// rig is two backends, a config, a plan and a state directory.
type rig struct {
	primary, candidate *backend
	dir, config, plan  string
	env                *env
}

func newRig(t *testing.T, rolloutSection string) *rig {
	r := &rig{primary: newBackend(t, "primary"), candidate: newBackend(t, "candidate"), dir: t.TempDir(), env: &env{m: map[string]string{}}}
	r.config = filepath.Join(r.dir, "parity.yaml")
	r.plan = filepath.Join(r.dir, "plan.yaml")
	r.writeConfig(t, rolloutSection)
	if err := os.WriteFile(r.plan, []byte(autopilotPlan), 0o644); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) writeConfig(t *testing.T, rolloutSection string) {
	t.Helper()
	cfg := fmt.Sprintf("primary: %s\ncandidate: %s\ncompare:\n  ignore: [header.X-Backend]\ncutover:\n  enabled: true\n  rest: 0\n  sticky: cookie:uid\n%s", r.primary.URL, r.candidate.URL, rolloutSection)
	if err := os.WriteFile(r.config, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
}

// proxy starts `parity proxy` on the rig; extra flags after the rig's.
func (r *rig) proxy(t *testing.T, name string, extra ...string) (public, admin string, in *instance) {
	t.Helper()
	public, admin = freeAddr(t), freeAddr(t)
	args := append([]string{"proxy", "--listen", public, "--admin-listen", admin, "--config", r.config, "--plan", r.plan,
		"--snapshot", filepath.Join(r.dir, name, "snapshot.json"), "--log-level", "warn"}, extra...)
	os.MkdirAll(filepath.Join(r.dir, name), 0o755)
	in = start(t, r.env, args...)
	waitReady(t, "http://"+admin+"/readyz", in)
	return "http://" + public, "http://" + admin, in
}

func waitReady(t *testing.T, u string, in *instance) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if res, err := http.Get(u); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		select {
		case code := <-in.done:
			in.done <- code
			t.Fatalf("exited with %d before serving:\n%s", code, in.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never ready:\n%s", u, in.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// load sends GETs of paths from clients (cookie uid=client-N) through
// each proxy until stopped, remembering which backend served each client.
type load struct {
	stop   chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	served map[string]map[string]int // "client path" → backend → count
	sent   atomic.Int64
}

func sendTraffic(t *testing.T, proxies []string, clients int, paths ...string) *load {
	tr := &load{stop: make(chan struct{}), served: map[string]map[string]int{}}
	for c := range clients {
		tr.wg.Go(func() {
			client := &http.Client{Timeout: 5 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-tr.stop:
					return
				default:
				}
				path := paths[i%len(paths)]
				req, _ := http.NewRequest("GET", proxies[(c+i)%len(proxies)]+path, nil)
				req.AddCookie(&http.Cookie{Name: "uid", Value: fmt.Sprintf("client-%d", c)})
				res, err := client.Do(req)
				if err != nil {
					continue
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				tr.record(fmt.Sprintf("client-%d %s", c, path), res.Header.Get("X-Backend"))
				tr.sent.Add(1)
				time.Sleep(time.Millisecond)
			}
		})
	}
	t.Cleanup(tr.halt)
	return tr
}

func (tr *load) record(key, backend string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.served[key] == nil {
		tr.served[key] = map[string]int{}
	}
	tr.served[key][backend]++
}

func (tr *load) halt() {
	select {
	case <-tr.stop:
	default:
		close(tr.stop)
	}
	tr.wg.Wait()
}

// reset forgets who served whom.
func (tr *load) reset() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.served = map[string]map[string]int{}
}

func (tr *load) snapshot() map[string]map[string]int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := map[string]map[string]int{}
	for k, v := range tr.served {
		out[k] = map[string]int{}
		for b, n := range v {
			out[k][b] = n
		}
	}
	return out
}

func status(t *testing.T, admin string) rollout.Status {
	t.Helper()
	res, err := http.Get(admin + "/parity/rollout")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var st rollout.Status
	if err := json.NewDecoder(res.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// waitStatus polls the rollout until cond holds, within a deadline.
func waitStatus(t *testing.T, admin, what string, cond func(rollout.Status) bool) rollout.Status {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		st := status(t, admin)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(st, "", "  ")
			t.Fatalf("never %s; rollout:\n%s", what, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func eventsOf(st rollout.Status, typ rollout.EventType) []rollout.Event {
	var out []rollout.Event
	for _, e := range st.Events {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// neverAuth checks that nothing under /api/auth reached the candidate,
// served or mirrored, while the primary did serve it.
func neverAuth(t *testing.T, r *rig) {
	t.Helper()
	if got := r.candidate.received("/api/auth"); len(got) > 0 {
		t.Errorf("/api/auth reached the candidate: %v", got[:min(len(got), 5)])
	}
	if len(r.primary.received("/api/auth")) == 0 {
		t.Error("no /api/auth request reached the primary: the check above proves nothing")
	}
}

const fastRollout = "rollout:\n  mode: autopilot\n  weights: [10, 50, 100]\n  interval: 50ms\n  min_time: 0s\n"

// An equal candidate is promoted through every weight of step 1 to 100%, and
// the controller moves to step 2; /api/auth never reaches the candidate.
func TestAutopilotPromotesAnEqualCandidate(t *testing.T) {
	r := newRig(t, fastRollout)
	public, admin, _ := r.proxy(t, "a", "--autopilot")
	sendTraffic(t, []string{public}, 8, "/api/one", "/api/two", "/api/auth/session")
	st := waitStatus(t, admin, "at step 2", func(s rollout.Status) bool { return s.Step == 2 })
	var moves []string
	for _, e := range eventsOf(st, rollout.Advance) {
		moves = append(moves, fmt.Sprintf("step %d %d→%d", e.Step, e.From, e.To))
	}
	want := []string{"step 1 0→10", "step 1 10→50", "step 1 50→100", "step 2 0→10"}
	if len(moves) < len(want) || !slices.Equal(moves[:len(want)], want) {
		t.Errorf("advances %v, want %v first", moves, want)
	}
	if st.Weights["/api/one"] != 100 || st.Weights["/api/two"] < 10 {
		t.Errorf("weights %v, want /api/one at 100 and /api/two begun", st.Weights)
	}
	if rb := eventsOf(st, rollout.Rollback); len(rb) > 0 {
		t.Errorf("rolled back an equal candidate: %+v", rb)
	}
	if got := r.candidate.received("/api/one"); !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "served") }) {
		t.Error("the candidate never served /api/one")
	}
	neverAuth(t, r)
}

// A regression planted on a step-2 route stops step 2 at its first weight
// and rolls it back to 0, the event naming the route and the difference.
func TestAutopilotRollsBackARegressionOfStep2(t *testing.T) {
	r := newRig(t, fastRollout)
	r.candidate.broken.Store("/api/two", true)
	public, admin, _ := r.proxy(t, "a", "--autopilot")
	sendTraffic(t, []string{public}, 8, "/api/one", "/api/two", "/api/auth/session")
	st := waitStatus(t, admin, "rolled back", func(s rollout.Status) bool { return s.State == rollout.RolledBack })
	rb := eventsOf(st, rollout.Rollback)
	if len(rb) != 1 || rb[0].Step != 2 || rb[0].From != 10 || rb[0].To != 0 {
		t.Fatalf("rollbacks %+v, want step 2 from its first weight (10) to 0", rb)
	}
	for _, want := range []string{"GET /api/two", "body.total changed"} {
		if !strings.Contains(rb[0].Reason, want) {
			t.Errorf("rollback reason %q does not name %q", rb[0].Reason, want)
		}
	}
	for _, e := range st.Events {
		if e.Step == 2 && e.To > 10 {
			t.Errorf("step 2 went past its first weight: %+v", e)
		}
	}
	if st.Weights["/api/two"] != 0 || st.Weights["/api/one"] != 100 {
		t.Errorf("weights %v, want /api/two at 0 and /api/one at 100", st.Weights)
	}
	neverAuth(t, r)
}

// At 50% each client stays with one backend; FASTIFY_ENABLED=false sends
// nothing more to the candidate, at once, and pauses the autopilot; and a
// route broken after promotion, at 50%, is rolled back at the first
// evaluation that begins after the evidence fails it.
func TestAutopilotAt50(t *testing.T) {
	r := newRig(t, "rollout:\n  mode: autopilot\n  weights: [50, 100]\n  interval: 50ms\n  min_time: 1h\n")
	public, admin, _ := r.proxy(t, "a", "--autopilot")
	tr := sendTraffic(t, []string{public}, 16, "/api/one", "/api/auth/session")
	passing := func(s rollout.Status) bool {
		return s.Verdict == report.Pass && s.State == rollout.Progressing && s.Weights["/api/one"] == 50
	}
	waitStatus(t, admin, "passing at 50%", passing)

	// Sticky: every client was served /api/one by one backend only, and both
	// backends served some clients.
	backends := map[string]int{}
	for key, by := range tr.snapshot() {
		if !strings.HasSuffix(key, " /api/one") {
			continue
		}
		if len(by) != 1 {
			t.Errorf("%s flipped between backends: %v", key, by)
		}
		for b := range by {
			backends[b]++
		}
	}
	if backends["primary"] == 0 || backends["candidate"] == 0 {
		t.Errorf("clients per backend at 50%%: %v, want both", backends)
	}

	// The master switch: off, through the environment at the next reload.
	r.env.set("FASTIFY_ENABLED", "false")
	touch(t, r.config)
	waitStatus(t, admin, "paused", func(s rollout.Status) bool { return !s.Enabled && s.State == rollout.Paused })
	tr.reset()
	served := len(r.candidate.received("/api/one"))
	for sent := tr.sent.Load(); tr.sent.Load() < sent+200; {
		time.Sleep(5 * time.Millisecond)
	}
	for key, by := range tr.snapshot() {
		if by["candidate"] > 0 {
			t.Errorf("%s served by the candidate after FASTIFY_ENABLED=false: %v", key, by)
		}
	}
	for _, g := range r.candidate.received("/api/one")[served:] {
		if strings.HasPrefix(g, "served") {
			t.Errorf("the candidate served %q after FASTIFY_ENABLED=false", g)
		}
	}
	if st := status(t, admin); st.Weights["/api/one"] != 50 {
		t.Errorf("the switch changed the autopilot's weights: %v", st.Weights)
	}
	// On again; a person resumes.
	r.env.set("FASTIFY_ENABLED", "")
	touch(t, r.config)
	waitStatus(t, admin, "enabled", func(s rollout.Status) bool { return s.Enabled })
	if out, stderr, code := runInProcess(t, nil, "rollout", "resume", "--admin", admin); code != 0 || !strings.Contains(out, "progressing") {
		t.Fatalf("resume: %d %s %s", code, out, stderr)
	}
	waitStatus(t, admin, "passing at 50% again", passing)

	r.candidate.broken.Store("/api/one", true)
	var begun int64
	deadline := time.Now().Add(90 * time.Second)
	for begun == 0 {
		if failing(t, admin, r.plan) {
			begun = status(t, admin).Evaluations
		} else if time.Now().After(deadline) {
			t.Fatal("the evidence never failed /api/one")
		}
		time.Sleep(20 * time.Millisecond)
	}
	st := waitStatus(t, admin, "rolled back", func(s rollout.Status) bool { return s.State == rollout.RolledBack })
	rb := eventsOf(st, rollout.Rollback)
	if len(rb) != 1 || rb[0].From != 50 || rb[0].To != 0 || !strings.Contains(rb[0].Reason, "GET /api/one") {
		t.Fatalf("rollbacks %+v, want /api/one from 50 to 0", rb)
	}
	if rb[0].Evaluation > begun+1 {
		t.Errorf("rolled back at evaluation %d; the evidence failed before evaluation %d began", rb[0].Evaluation, begun+1)
	}
	neverAuth(t, r)
}

// touch rewrites the config with a comment more, so that it reloads.
func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, append(mustRead(t, path), "# reload\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// failing judges the proxy's live report with the plan, as `parity gate` does.
func failing(t *testing.T, admin, plan string) bool {
	_, _, code := runInProcess(t, nil, "gate", "--step", "1", "--plan", plan, admin+"/parity/report.json")
	return code == exitDifferent
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A restarted proxy keeps the rollout where it was: rolled back stays rolled
// back, whatever the evidence, until a person resumes.
func TestAutopilotStateSurvivesRestart(t *testing.T) {
	r := newRig(t, fastRollout)
	r.candidate.broken.Store("/api/two", true)
	public, admin, in := r.proxy(t, "a", "--autopilot")
	tr := sendTraffic(t, []string{public}, 8, "/api/one", "/api/two")
	before := waitStatus(t, admin, "rolled back", func(s rollout.Status) bool { return s.State == rollout.RolledBack })
	tr.halt()
	in.stop()

	r.candidate.broken.Delete("/api/two")
	public, admin, _ = r.proxy(t, "a", "--autopilot")
	sendTraffic(t, []string{public}, 8, "/api/one", "/api/two")
	st := waitStatus(t, admin, "evaluated after restart", func(s rollout.Status) bool { return s.Evaluations >= 5 })
	if st.State != rollout.RolledBack || st.Step != 2 || st.Weights["/api/two"] != 0 || st.Weights["/api/one"] != 100 {
		t.Fatalf("after restart: %s step %d %v, want rolled back at step 2 with /api/one at 100", st.State, st.Step, st.Weights)
	}
	if len(st.Events) < len(before.Events) || !st.Events[len(before.Events)-1].Time.Equal(before.Events[len(before.Events)-1].Time) {
		t.Errorf("events after restart do not continue the ones before")
	}
	if out, stderr, code := runInProcess(t, nil, "rollout", "resume", "--admin", admin); code != 0 || !strings.Contains(out, "progressing at step 2") {
		t.Fatalf("resume: %d %s %s", code, out, stderr)
	}
}

// Two replicas and one `parity rollout run` deciding for both: the config
// file they reload carries the decisions, and both serve the same cutover.
func TestFleetControllerDrivesTwoReplicas(t *testing.T) {
	r := newRig(t, "rollout:\n  weights: [10, 50, 100]\n  interval: 50ms\n  min_time: 0s\nshadow:\n  verify_cutover: true\n")
	public1, admin1, _ := r.proxy(t, "one")
	public2, admin2, _ := r.proxy(t, "two")
	sendTraffic(t, []string{public1, public2}, 8, "/api/one", "/api/two", "/api/auth/session")
	listen := freeAddr(t)
	ctrl := start(t, r.env, "rollout", "run", "--config", r.config, "--plan", r.plan, "--replica", admin1, "--replica", admin2,
		"--listen", listen, "--log-level", "warn")
	waitReady(t, "http://"+listen+"/healthz", ctrl)
	st := waitStatus(t, "http://"+listen, "done", func(s rollout.Status) bool { return s.State == rollout.Done })
	want := fmt.Sprint(map[string]int{"/api/one": 100, "/api/two": 100})
	if got := fmt.Sprint(st.Weights); got != want {
		t.Errorf("controller's weights %s, want %s", got, want)
	}
	for _, admin := range []string{admin1, admin2} {
		waitStatus(t, admin, "on the controller's cutover", func(s rollout.Status) bool { return s.Mode == "manual" && fmt.Sprint(s.Weights) == want })
	}
	cfg := string(mustRead(t, r.config))
	if !strings.Contains(cfg, "routes: [/api/one, /api/two]") {
		t.Fatalf("config file:\n%s", cfg)
	}
	// A hand edit of the cutover (a re-applied ConfigMap) does not stand: the
	// controller writes its decision again at its next evaluation.
	os.WriteFile(r.config, []byte(strings.Replace(cfg, "routes: [/api/one, /api/two]", "routes: [/api/one]", 1)), 0o644)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(string(mustRead(t, r.config)), "routes: [/api/one, /api/two]") {
		if time.Now().After(deadline) {
			t.Fatalf("the controller never wrote its cutover again:\n%s", mustRead(t, r.config))
		}
		time.Sleep(20 * time.Millisecond)
	}
	neverAuth(t, r)
}
