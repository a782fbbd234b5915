package rules

import (
	"math"
	"strconv"

	"github.com/parity-dev/parity/report"
)

// DefaultReaskConcurrency is how many re-asks may be in flight at once when the
// config does not say.
const DefaultReaskConcurrency = 8

// NoisePolicy is how a request's route learns noise: the learning rule, from the
// config's noise: section and the route's own noise: entry, and the bounds of the
// re-asks. The zero value means the defaults.
type NoisePolicy struct {
	Rule report.NoiseRule
	// ReaskConcurrency bounds the re-asks in flight, over every route
	// (0 = DefaultReaskConcurrency).
	ReaskConcurrency int
	// ReaskRate caps the re-asks started per second, over every route (0 = unlimited).
	ReaskRate float64
}

// policy is the noise policy the config's noise: section gives every route.
func (n NoiseConfig) policy() NoisePolicy {
	return NoisePolicy{
		Rule:             report.NoiseRule{Confirm: n.Confirm, Window: n.Window},
		ReaskConcurrency: n.ReaskConcurrency,
		ReaskRate:        n.ReaskRate,
	}
}

// ruleFor is the learning rule of a route with entry r: r's fields, else the
// section's.
func (n NoiseConfig) ruleFor(r NoiseRuleConfig) report.NoiseRule {
	rule := report.NoiseRule{Confirm: n.Confirm, Window: n.Window}
	if r.Confirm != 0 {
		rule.Confirm = r.Confirm
	}
	if r.Window != 0 {
		rule.Window = r.Window
	}
	return rule
}

// checkNoise validates the noise: section.
func (c *Config) checkNoise() error {
	n := c.Noise
	if err := c.checkNoiseRule("noise", n.NoiseRuleConfig); err != nil {
		return err
	}
	if n.ReaskConcurrency < 0 {
		return c.fieldError("noise.reask_concurrency", strconv.Itoa(n.ReaskConcurrency),
			"must be 0 (the default, %d) or more, got %d", DefaultReaskConcurrency, n.ReaskConcurrency)
	}
	if r := n.ReaskRate; r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return c.fieldError("noise.reask_rate", strconv.FormatFloat(r, 'g', -1, 64),
			"must be a finite number of re-asks per second >= 0 (0 = unlimited), got %g", r)
	}
	return nil
}

// checkNoiseRule validates the learning rule at key (noise, or routes[i].noise):
// each field in range, and confirm no larger than window where both are given (in
// the entry or inherited from noise:). A window given alone lowers the default
// confirm to fit.
func (c *Config) checkNoiseRule(key string, r NoiseRuleConfig) error {
	if r.Confirm < 0 {
		return c.fieldError(key+".confirm", strconv.Itoa(r.Confirm), "must be 1 or more (0 = the default), got %d", r.Confirm)
	}
	if r.Window < 0 || r.Window > report.MaxNoiseWindow {
		return c.fieldError(key+".window", strconv.Itoa(r.Window), "must be between 1 and %d (0 = the default, %d), got %d",
			report.MaxNoiseWindow, report.DefaultNoiseWindow, r.Window)
	}
	confirm, confirmKey := r.Confirm, key+".confirm"
	window, windowKey := r.Window, key+".window"
	if key != "noise" {
		if confirm == 0 {
			confirm, confirmKey = c.Noise.Confirm, "noise.confirm"
		}
		if window == 0 {
			window, windowKey = c.Noise.Window, "noise.window"
		}
	}
	if confirm == 0 || window == 0 || confirm <= window {
		return nil
	}
	if r.Confirm != 0 {
		return c.fieldError(key+".confirm", strconv.Itoa(r.Confirm), "confirm %d is more than the window of %d re-asks (%s)", confirm, window, windowKey)
	}
	return c.fieldError(key+".window", strconv.Itoa(r.Window), "window %d is less than confirm %d (%s)", window, confirm, confirmKey)
}
