package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/parity-dev/parity/rollout"
)

// The live dashboard draws the autopilot's timeline from /parity/rollout:
// its state, the weights and each decision with its reason, newest first.
func TestDashboardAutopilotTimeline(t *testing.T) {
	tab, plog := browser(t)
	r := newRig(t, fastRollout)
	r.candidate.broken.Store("/api/two", true)
	public, admin, _ := r.proxy(t, "a", "--autopilot")
	sendTraffic(t, []string{public}, 8, "/api/one", "/api/two")
	waitStatus(t, admin, "rolled back", func(s rollout.Status) bool { return s.State == rollout.RolledBack })

	if err := chromedp.Do(tab, chromedp.Navigate(admin+"/parity/report")); err != nil {
		t.Fatal(err)
	}
	js := `!!document.querySelector('#rollout .timeline li[data-type="rollback"]')`
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("no rollback on the timeline: %v", err)
	}
	got := tabEval[map[string]any](t, tab, `({
		state: document.querySelector('#rollout .rollout-state').textContent,
		first: document.querySelector('#rollout .timeline li').textContent,
		types: [...document.querySelectorAll('#rollout .timeline li')].map(li => li.dataset.type).join(' '),
		weights: document.querySelector('#rollout .rollout-weights').textContent})`)
	if s := got["state"].(string); !strings.Contains(s, "rolled back") || !strings.Contains(s, "step 2 of 2") {
		t.Errorf("state line %q", s)
	}
	if f := got["first"].(string); !strings.Contains(f, "rollback") || !strings.Contains(f, "GET /api/two") || !strings.Contains(f, "10% → 0%") {
		t.Errorf("newest event %q", f)
	}
	if ty := got["types"].(string); !strings.HasSuffix(ty, "advance") || !strings.HasPrefix(ty, "rollback") {
		t.Errorf("timeline types %q, want newest (rollback) first and the start (advance) last", ty)
	}
	if w := got["weights"].(string); !strings.Contains(w, "/api/one 100%") || !strings.Contains(w, "/api/two 0%") {
		t.Errorf("weights %q", w)
	}
	screenshot(t, tab, "dashboard-autopilot.png")
	plog.check(t)
}
