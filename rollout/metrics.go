package rollout

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the controller's Prometheus collectors.
type metrics struct {
	step   prometheus.Gauge
	weight *prometheus.GaugeVec   // route (prefix)
	events *prometheus.CounterVec // event
}

func newMetrics() *metrics {
	m := &metrics{
		step: prometheus.NewGauge(prometheus.GaugeOpts{Name: "parity_rollout_step",
			Help: "The rollout step the autopilot is at, from 1."}),
		weight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "parity_rollout_weight",
			Help: "Percent of a route prefix's requests the candidate serves, as the autopilot decided."}, []string{"route"}),
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "parity_rollout_events_total",
			Help: "The autopilot's decisions by event: advance, hold, rollback, pause, resume, promote, abort, done."}, []string{"event"}),
	}
	for _, e := range EventTypes {
		m.events.WithLabelValues(string(e))
	}
	return m
}

// observe sets the step and weights; the prefixes are the plan's, so the
// route label is bounded by it.
func (m *metrics) observe(step int, weights map[string]int) {
	m.step.Set(float64(step))
	m.weight.Reset()
	for pre, w := range weights {
		m.weight.WithLabelValues(pre).Set(float64(w))
	}
}

// Register adds the controller's metrics (parity_rollout_step,
// parity_rollout_weight{route}, parity_rollout_events_total{event}) to reg.
// Open must have succeeded.
func (c *Controller) Register(reg prometheus.Registerer) error {
	for _, col := range []prometheus.Collector{c.m.step, c.m.weight, c.m.events} {
		if err := reg.Register(col); err != nil {
			return err
		}
	}
	return nil
}
