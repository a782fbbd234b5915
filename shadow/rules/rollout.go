package rules

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Rollout modes: who decides what the candidate serves.
const (
	// RolloutManual: the cutover: section decides, as an operator edits it.
	RolloutManual = "manual"
	// RolloutAutopilot: the rollout controller decides, step by step of the plan,
	// weight by weight of the ladder, on the gate's verdicts.
	RolloutAutopilot = "autopilot"
)

// Defaults of the rollout: section.
const (
	DefaultRolloutInterval  = time.Minute
	DefaultRolloutMinTime   = 5 * time.Minute
	DefaultRolloutThreshold = 1
)

// DefaultLadder is the weights each step's routes go through, in percent.
var DefaultLadder = []int{1, 10, 50, 100}

// RolloutConfig is the rollout: section: how the autopilot moves the plan's
// steps through the ladder of weights. Every field's zero value reads its
// default; durations are Go duration strings ("30s", "5m").
type RolloutConfig struct {
	Mode       string `yaml:"mode"`        // manual (default) or autopilot
	Weights    []int  `yaml:"weights"`     // the ladder: increasing percents ending at 100; default 1, 10, 50, 100
	Interval   string `yaml:"interval"`    // how often the gate is asked; default 1m
	MinTime    string `yaml:"min_time"`    // least time at each weight before the next; default 5m
	Threshold  int    `yaml:"threshold"`   // consecutive failing evaluations before a rollback; default 1
	ConfirmURL string `yaml:"confirm_url"` // asked (POST) before each promotion; must answer 2xx
	Webhook    string `yaml:"webhook"`     // each decision is POSTed here as JSON
}

// Autopilot reports whether the controller decides the cutover.
func (r RolloutConfig) Autopilot() bool { return r.Mode == RolloutAutopilot }

// Ladder is the weights each step goes through (DefaultLadder when unset).
func (r RolloutConfig) Ladder() []int {
	if len(r.Weights) == 0 {
		return slices.Clone(DefaultLadder)
	}
	return slices.Clone(r.Weights)
}

// IntervalDuration is how often the controller evaluates.
func (r RolloutConfig) IntervalDuration() time.Duration {
	return durationOr(r.Interval, DefaultRolloutInterval)
}

// MinTimeDuration is the least time spent at each weight.
func (r RolloutConfig) MinTimeDuration() time.Duration {
	return durationOr(r.MinTime, DefaultRolloutMinTime)
}

// FailureThreshold is how many consecutive failing evaluations roll back.
func (r RolloutConfig) FailureThreshold() int {
	if r.Threshold <= 0 {
		return DefaultRolloutThreshold
	}
	return r.Threshold
}

func durationOr(s string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return def
	}
	return d
}

// checkRollout validates the rollout: section, naming the file and line at fault.
func (c *Config) checkRollout() error {
	r := c.Rollout
	switch r.Mode {
	case "", RolloutManual, RolloutAutopilot:
	default:
		return c.fieldError("rollout.mode", r.Mode, "%q: want manual or autopilot", r.Mode)
	}
	for i, w := range r.Weights {
		key := fmt.Sprintf("rollout.weights[%d]", i)
		switch {
		case w < 1 || w > 100:
			return c.fieldError(key, strconv.Itoa(w), "%d: a weight is a percent from 1 to 100", w)
		case i > 0 && w <= r.Weights[i-1]:
			return c.fieldError(key, strconv.Itoa(w), "%d: the weights must increase (after %d)", w, r.Weights[i-1])
		}
	}
	if n := len(r.Weights); n > 0 && r.Weights[n-1] != 100 {
		return c.fieldError(fmt.Sprintf("rollout.weights[%d]", n-1), strconv.Itoa(r.Weights[n-1]), "the last weight must be 100, so that each step ends on the candidate")
	}
	for _, d := range []struct{ key, v string }{{"rollout.interval", r.Interval}, {"rollout.min_time", r.MinTime}} {
		if d.v == "" {
			continue
		}
		v, err := time.ParseDuration(d.v)
		switch {
		case err != nil:
			return c.fieldError(d.key, d.v, "%q is not a duration (write 30s, 5m, 1h)", d.v)
		case v < 0, d.key == "rollout.interval" && v == 0:
			return c.fieldError(d.key, d.v, "%q: want a positive duration", d.v)
		}
	}
	if r.Threshold < 0 {
		return c.fieldError("rollout.threshold", strconv.Itoa(r.Threshold), "%d: want 1 or more consecutive failing evaluations", r.Threshold)
	}
	for _, u := range []struct{ key, v string }{{"rollout.confirm_url", r.ConfirmURL}, {"rollout.webhook", r.Webhook}} {
		if u.v == "" {
			continue
		}
		p, err := url.Parse(u.v)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return c.fieldError(u.key, u.v, "want an http or https URL")
		}
	}
	return nil
}
