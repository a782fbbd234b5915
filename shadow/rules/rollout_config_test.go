package rules

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The rollout: section is read strictly, each bad value named with its file
// and line.
func TestRolloutConfigErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"bad mode", "rollout:\n  mode: auto\n", `parity.yaml:2: rollout.mode: "auto": want manual or autopilot`},
		{"weight over 100", "rollout:\n  weights: [1, 10, 150]\n", `parity.yaml:2: rollout.weights[2]: 150: a weight is a percent from 1 to 100`},
		{"weights not increasing", "rollout:\n  weights: [10, 5, 100]\n", `parity.yaml:2: rollout.weights[1]: 5: the weights must increase (after 10)`},
		{"ladder short of 100", "rollout:\n  weights: [1, 50]\n", `parity.yaml:2: rollout.weights[1]: the last weight must be 100, so that each step ends on the candidate`},
		{"bad interval", "rollout:\n  interval: 5 minutes\n", `parity.yaml:2: rollout.interval: "5 minutes" is not a duration (write 30s, 5m, 1h)`},
		{"zero interval", "rollout:\n  interval: 0s\n", `parity.yaml:2: rollout.interval: "0s": want a positive duration`},
		{"negative min_time", "rollout:\n  min_time: -1m\n", `parity.yaml:2: rollout.min_time: "-1m": want a positive duration`},
		{"negative threshold", "rollout:\n  threshold: -2\n", `parity.yaml:2: rollout.threshold: -2: want 1 or more consecutive failing evaluations`},
		{"confirm not a URL", "rollout:\n  confirm_url: ci.internal/approve\n", `parity.yaml:2: rollout.confirm_url: want an http or https URL`},
		{"unknown key", "rollout:\n  step_weights: [5]\n", `parity.yaml:2: unknown key "step_weights" in rollout (known keys: confirm_url, interval, min_time, mode, threshold, webhook, weights)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := loadString("parity.yaml", tc.yaml, nil)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRolloutConfigDefaults(t *testing.T) {
	var zero RolloutConfig
	if zero.Autopilot() || !cmp.Equal(zero.Ladder(), []int{1, 10, 50, 100}) || zero.IntervalDuration() != time.Minute ||
		zero.MinTimeDuration() != 5*time.Minute || zero.FailureThreshold() != 1 {
		t.Errorf("defaults: %v %v %v %v %v", zero.Autopilot(), zero.Ladder(), zero.IntervalDuration(), zero.MinTimeDuration(), zero.FailureThreshold())
	}
	cfg, err := ParseConfig("parity.yaml", []byte("rollout:\n  mode: autopilot\n  weights: [5, 100]\n  interval: 10s\n  min_time: 0s\n  threshold: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r := cfg.Rollout
	if !r.Autopilot() || !cmp.Equal(r.Ladder(), []int{5, 100}) || r.IntervalDuration() != 10*time.Second || r.MinTimeDuration() != 0 || r.FailureThreshold() != 3 {
		t.Errorf("read: %+v", r)
	}
}
