package rollout

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/rs/zerolog"

	"github.com/parity-dev/parity/shadow/rules"
)

// Every decision is a JSON log line with its step, routes, weights and
// reason, a count in parity_rollout_events_total, and the step and weights
// are gauges; GET /parity/rollout serves the JSON.
func TestControllerEventsAreVisible(t *testing.T) {
	var logs bytes.Buffer
	f := newFixture(t, rules.RolloutConfig{Weights: []int{10, 100}, MinTime: "0s"}, "")
	f.c = &Controller{Plan: f.c.Plan, Thresholds: f.c.Thresholds, Settings: f.c.Settings, Evidence: f.ev.source,
		Applier: f.app, Now: f.clk.now, Logger: zerolog.New(&logs)}
	if err := f.c.Open(); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if err := f.c.Register(reg); err != nil {
		t.Fatal(err)
	}
	f.ev.add("GET /api/one", 60, true)
	f.eval(t)
	f.eval(t)
	f.ev.add("GET /api/two", 30, false)
	f.eval(t)

	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line not JSON: %q", l)
		}
		lines = append(lines, m)
	}
	last := lines[len(lines)-1]
	if last["event"] != "rollback" || last["step"] != float64(2) || last["from"] != float64(10) || last["to"] != float64(0) ||
		!strings.Contains(last["reason"].(string), "GET /api/two") || last["message"] != "rollout" {
		t.Errorf("last log line %v", last)
	}
	if ev, ok := last["evidence"].([]any); !ok || len(ev) != 1 {
		t.Errorf("log line evidence %v", last["evidence"])
	}

	for event, want := range map[string]float64{"advance": 3, "rollback": 1, "hold": 0} {
		if got := testutil.ToFloat64(f.c.m.events.WithLabelValues(event)); got != want {
			t.Errorf("parity_rollout_events_total{event=%q} = %g, want %g", event, got, want)
		}
	}
	if got := testutil.ToFloat64(f.c.m.step); got != 2 {
		t.Errorf("parity_rollout_step = %g", got)
	}
	for route, want := range map[string]float64{"/api/one": 100, "/api/two": 0} {
		if got := testutil.ToFloat64(f.c.m.weight.WithLabelValues(route)); got != want {
			t.Errorf("parity_rollout_weight{route=%q} = %g, want %g", route, got, want)
		}
	}
	if n, err := testutil.GatherAndCount(reg, "parity_rollout_step", "parity_rollout_weight", "parity_rollout_events_total"); err != nil || n != 1+2+len(EventTypes) {
		t.Errorf("gathered %d series (%v)", n, err)
	}

	rec := httptest.NewRecorder()
	f.c.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/parity/rollout", nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"mode", "state", "step", "weights", "events"} {
		if _, ok := body[k]; !ok {
			t.Errorf("GET /parity/rollout lacks %q: %s", k, rec.Body)
		}
	}
	if body["mode"] != "autopilot" || body["state"] != "rolled_back" || body["step"] != float64(2) {
		t.Errorf("status %v", body)
	}
	ev := body["events"].([]any)[0].(map[string]any)
	for _, k := range []string{"time", "type", "step", "routes", "from", "to", "reason"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("event lacks %q: %v", k, ev)
		}
	}
}

// A person's action names them in its event when their name is plain, and
// never carries a header's line breaks into the log.
func TestHandlerNamesWhoActed(t *testing.T) {
	for _, tc := range []struct{ user, want string }{
		{"ada.lovelace", "paused by ada.lovelace"},
		{"ops\nforged line", "paused by a person at the admin listener"},
		{"", "paused by a person at the admin listener"},
	} {
		f := newFixture(t, rules.RolloutConfig{}, "")
		req := httptest.NewRequest("POST", "/parity/rollout/pause", strings.NewReader("{}"))
		req.Header["X-Parity-User"] = []string{tc.user}
		rec := httptest.NewRecorder()
		f.c.Handler().ServeHTTP(rec, req)
		evs := f.c.Status().Events
		if rec.Code != 200 || evs[len(evs)-1].Reason != tc.want {
			t.Errorf("user %q: %d, reason %q, want %q", tc.user, rec.Code, evs[len(evs)-1].Reason, tc.want)
		}
	}
}
