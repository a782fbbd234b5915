package rollout

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// countingStore counts the reads of the config it wraps.
type countingStore struct {
	Store
	reads atomic.Int64
}

func (s *countingStore) Read() ([]byte, error) { s.reads.Add(1); return s.Store.Read() }

// The fleet's controller reads its config once per evaluation and once per
// action, however many of the config's answers (the master switch, the
// rollout: section, the acceptances, the cutover written back) the decision
// needs.
func TestConfigFileReadOncePerEvaluation(t *testing.T) {
	defer func(s time.Duration) { Settle = s }(Settle)
	Settle = time.Millisecond
	path := filepath.Join(t.TempDir(), "parity.yaml")
	const config = "cutover:\n  enabled: true\nrollout:\n  weights: [10, 50, 100]\n  min_time: 0s\n"
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	store := &countingStore{Store: &fileStore{path: path}}
	file := &ConfigFile{Path: path, Store: store}
	ev := newEvidence()
	plan := mustPlan(t, testPlan)
	noLatency := plan.Thresholds
	noLatency.MaxP99Ratio = 0
	c := &Controller{Plan: plan, Thresholds: &noLatency, Evidence: ev.source, Reassert: true}
	file.Attach(c)
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	if n := store.reads.Load(); n != 1 {
		t.Errorf("Open read the config %d times, want 1", n)
	}
	ev.add("GET /api/one", 60, true)
	for i, want := range []int{50, 100} {
		before := store.reads.Load()
		if err := c.Evaluate(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := store.reads.Load() - before; n != 1 {
			t.Errorf("evaluation %d read the config %d times, want 1", i+1, n)
		}
		if s := c.Status(); s.Weights["/api/one"] != want {
			t.Fatalf("evaluation %d: weights %v, want /api/one at %d", i+1, s.Weights, want)
		}
	}
	before := store.reads.Load()
	if _, err := c.Do(ActPause, "ops"); err != nil {
		t.Fatal(err)
	}
	if n := store.reads.Load() - before; n != 1 {
		t.Errorf("an action read the config %d times, want 1", n)
	}
	got, _ := os.ReadFile(path)
	cfg, err := file.Load()
	if err != nil || len(cfg.Cutover.Routes) != 1 || cfg.Cutover.Routes[0] != "/api/one" {
		t.Errorf("the file's cutover after /api/one reached 100%%: %v\n%s", err, got)
	}
}
