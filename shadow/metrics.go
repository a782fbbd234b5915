package shadow

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/report/buildinfo"
	"github.com/parity-dev/parity/report/route"
	"github.com/parity-dev/parity/shadow/rules"
	"github.com/parity-dev/parity/shadow/traffic"
)

// Comparison outcomes, the values of parity_comparisons_total's outcome label.
const (
	OutcomeMatched        = "matched"
	OutcomeMismatched     = "mismatched"
	OutcomeCandidateError = "candidate_error" // transport error, timeout, or a 5xx the primary did not have
	OutcomeExcluded       = "excluded"        // the primary failed: nothing to compare against
)

// otherLabel stands for every route past the cap, every unknown method and every
// status outside 100–599, so that label sets stay bounded.
const otherLabel = "OTHER"

// DefaultMaxRoutes is how many distinct route labels Metrics keeps when MaxRoutes is 0.
const DefaultMaxRoutes = 256

// Metrics holds the proxy's Prometheus collectors in a registry of its own (never
// the global one), so several proxies in one process and tests do not collide.
// Names follow Prometheus conventions and every label set is bounded: the route
// label is the route key capped at MaxRoutes distinct API routes, the rest folded
// into "OTHER", plus the coarse groups of non-API paths, which the keyer bounds to
// route.NonAPIGroups+2 per method. A nil *Metrics records nothing.
type Metrics struct {
	reg *prometheus.Registry

	requestDuration    *prometheus.HistogramVec // route, method, status, backend
	mirrorDuration     *prometheus.HistogramVec // route, backend, status
	comparisons        *prometheus.CounterVec   // route, outcome
	dropped            *prometheus.CounterVec   // reason
	skipped            *prometheus.CounterVec   // reason
	reasks             *prometheus.CounterVec   // result
	security           *prometheus.CounterVec   // route, rule
	follows            *prometheus.CounterVec   // result
	queueDepth         prometheus.Gauge
	inFlight           prometheus.Gauge
	reloads            *prometheus.CounterVec // result
	backendUnavailable *prometheus.CounterVec // backend
	recordDropped      *prometheus.CounterVec // reason
	compareSeconds     prometheus.Counter
	budgetSkipped      *prometheus.CounterVec // route_state

	maxRoutes int
	mu        sync.RWMutex
	routes    map[string]struct{}
	nroutes   atomic.Int64
}

// latencyBuckets reach down to a millisecond: the guide compares p99s against a
// baseline, and most API answers are well under the default 5 ms first bucket.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// NewMetrics returns the proxy's collectors registered in a fresh registry, with
// the Go runtime and process collectors beside them. maxRoutes bounds the distinct
// route labels (0 = DefaultMaxRoutes).
func NewMetrics(maxRoutes int) *Metrics {
	if maxRoutes <= 0 {
		maxRoutes = DefaultMaxRoutes
	}
	m := &Metrics{
		reg:       prometheus.NewRegistry(),
		maxRoutes: maxRoutes,
		routes:    make(map[string]struct{}),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to serve a client request, by route, method, status and the backend that served it.",
			Buckets: latencyBuckets,
		}, []string{"route", "method", "status", "backend"}),
		mirrorDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "parity_mirror_duration_seconds",
			Help:    "Time to the response headers of a mirrored request, by route, the backend mirrored to and its status (\"error\" for transport errors and timeouts).",
			Buckets: latencyBuckets,
		}, []string{"route", "backend", "status"}),
		comparisons: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parity_comparisons_total",
			Help: "Mirrored requests by route and outcome: matched, mismatched, candidate_error, excluded (primary failed).",
		}, []string{"route", "outcome"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parity_mirror_dropped_total",
			Help: "Eligible requests whose mirror was dropped, by reason (queue_full, concurrency, body_too_large, upgrade, compare_budget, hostile_backoff, ...).",
		}, []string{"reason"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parity_mirror_skipped_total",
			Help: "API requests the routing rules did not mirror, by reason (auth, write_method, excluded, sampled_out, ambiguous_path, cut_over).",
		}, []string{"reason"}),
		reasks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parity_noise_reasks_total",
			Help: "Re-asks of a primary to tell noise from differences, by result: answered, dropped (re-ask limits), failed (transport error or deadline).",
		}, []string{"result"}),
		security: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parity_security_differences_total",
			Help: "Differences that weaken what protects the client (security regressions), by route and rule (cookie_httponly_lost, cors_origin_widened, auth_bypassed, ...).",
		}, []string{"route", "rule"}),
		follows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parity_redirect_follows_total",
			Help: "Canonicalising redirects followed one hop to compare the final answers, by result: answered, dropped (re-ask limits), failed (transport error or deadline).",
		}, []string{"result"}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parity_mirror_queue_depth",
			Help: "Mirrors waiting for a worker.",
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "parity_mirror_in_flight",
			Help: "Mirrors being sent or compared.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parity_config_reloads_total",
			Help: "Configuration reloads by result (success, failure).",
		}, []string{"result"}),
		backendUnavailable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parity_backend_unavailable_total",
			Help: "Client requests answered 502 or 504 because the serving backend could not be reached, by backend.",
		}, []string{"backend"}),
		recordDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parity_record_dropped_total",
			Help: "Requests --record did not write, by reason: queue_full, write_error (a full disk; recording goes on once writes succeed), closed.",
		}, []string{"reason"}),
		compareSeconds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "parity_compare_cpu_seconds_total",
			Help: "CPU time spent comparing mirrored answers as the comparison budget counts it: reading the mirror's answer (charged by its size, 1 ns a byte), then decoding, parsing, diffing and aggregating (measured).",
		}),
		budgetSkipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "parity_compare_budget_skipped_total",
			Help: "Pairs not compared because comparisons had spent their CPU budget (most not mirrored at all; the rest with the mirrored answer unread or not compared), by route_state: decided (the gate had a verdict on the route) or undecided. Per-route counts are in the report (skipped compare_budget).",
		}, []string{"route_state"}),
	}
	m.budgetSkipped.WithLabelValues("decided")
	m.budgetSkipped.WithLabelValues("undecided")
	m.reg.MustRegister(m.compareSeconds, m.budgetSkipped)
	m.reg.MustRegister(m.requestDuration, m.mirrorDuration, m.comparisons, m.dropped, m.skipped, m.reasks, m.security, m.follows,
		m.queueDepth, m.inFlight, m.reloads, m.backendUnavailable, m.recordDropped,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildinfo.NewCollector())
	// Reasons and results are few and known: make them visible at zero, so rate()
	// and alerts work before the first event.
	for _, r := range []report.SkipReason{report.SkipQueueFull, report.SkipConcurrency, report.SkipBodyTooLarge, report.SkipUpgrade} {
		m.dropped.WithLabelValues(string(r))
	}
	for _, r := range []string{"success", "failure"} {
		m.reloads.WithLabelValues(r)
	}
	for _, r := range []string{reaskAnswered, reaskDropped, reaskFailed} {
		m.reasks.WithLabelValues(r)
	}
	for _, r := range followResults {
		m.follows.WithLabelValues(r)
	}
	for _, b := range []string{rules.Primary.String(), rules.Candidate.String()} {
		m.backendUnavailable.WithLabelValues(b)
	}
	for _, r := range traffic.DropReasons() {
		m.recordDropped.WithLabelValues(r.String())
	}
	return m
}

// RecordDropped counts a request the recorder did not write (traffic.Recorder's
// OnDrop).
func (m *Metrics) RecordDropped(reason traffic.DropReason) {
	if m == nil {
		return
	}
	m.recordDropped.WithLabelValues(reason.String()).Inc()
}

// Registry is the registry the collectors live in, for /metrics and for tests.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ConfigReload counts one configuration reload; ok is false when the new
// configuration was rejected and the old one kept serving.
func (m *Metrics) ConfigReload(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.reloads.WithLabelValues("success").Inc()
	} else {
		m.reloads.WithLabelValues("failure").Inc()
	}
}

// route returns the label for a route key: itself while fewer than maxRoutes
// distinct keys were seen, else "OTHER". The coarse groups of paths outside the API
// (route.NonAPIRule: at most route.NonAPIGroups+2 paths per method) are labels of
// their own outside that count, so they never take label values from API routes.
func (m *Metrics) route(key string) string {
	if key == "" {
		return otherLabel
	}
	if method, _, _ := strings.Cut(key, " "); route.IsNonAPIKey(key) && methodLabel(method) != otherLabel {
		return key
	}
	m.mu.RLock()
	_, ok := m.routes[key]
	m.mu.RUnlock()
	if ok {
		return key
	}
	if m.nroutes.Load() >= int64(m.maxRoutes) {
		return otherLabel
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.routes[key]; ok {
		return key
	}
	if len(m.routes) >= m.maxRoutes {
		return otherLabel
	}
	m.routes[key] = struct{}{}
	m.nroutes.Store(int64(len(m.routes)))
	return key
}

func (m *Metrics) observeRequest(route, method string, status int, backend rules.Backend, d time.Duration) {
	if m == nil {
		return
	}
	m.requestDuration.WithLabelValues(m.route(route), methodLabel(method), statusLabel(status), backend.String()).
		Observe(d.Seconds())
}

func (m *Metrics) observeMirror(route string, backend rules.Backend, status int, err error, d time.Duration) {
	if m == nil {
		return
	}
	s := "error"
	if err == nil {
		s = statusLabel(status)
	}
	m.mirrorDuration.WithLabelValues(m.route(route), backend.String(), s).Observe(d.Seconds())
}

func (m *Metrics) comparison(route, outcome string) {
	if m == nil {
		return
	}
	m.comparisons.WithLabelValues(m.route(route), outcome).Inc()
}

func (m *Metrics) drop(reason report.SkipReason) {
	if m == nil {
		return
	}
	m.dropped.WithLabelValues(string(reason)).Inc()
}

func (m *Metrics) reask(result string) {
	if m == nil {
		return
	}
	m.reasks.WithLabelValues(result).Inc()
}

func (m *Metrics) follow(result string) {
	if m == nil {
		return
	}
	m.follows.WithLabelValues(result).Inc()
}

// securityDifferences counts the security-marked differences of one comparison.
func (m *Metrics) securityDifferences(route string, diffs []diff.Difference) {
	if m == nil {
		return
	}
	for i := range diffs {
		if rule := diffs[i].Security; rule != "" {
			label := otherLabel
			if rule.Reason() != "" {
				label = string(rule)
			}
			m.security.WithLabelValues(m.route(route), label).Inc()
		}
	}
}

func (m *Metrics) skip(reason report.SkipReason) {
	if m == nil {
		return
	}
	m.skipped.WithLabelValues(string(reason)).Inc()
}

func (m *Metrics) queue(delta float64) {
	if m == nil {
		return
	}
	m.queueDepth.Add(delta)
}

func (m *Metrics) flight(delta float64) {
	if m == nil {
		return
	}
	m.inFlight.Add(delta)
}

func (m *Metrics) unavailable(b rules.Backend) {
	if m == nil {
		return
	}
	m.backendUnavailable.WithLabelValues(b.String()).Inc()
}

// statusLabels holds the label of every status 100–599, so that labelling a
// request allocates nothing.
var statusLabels = func() []string {
	s := make([]string, 600)
	for i := 100; i < 600; i++ {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func statusLabel(code int) string {
	if code >= 100 && code < 600 {
		return statusLabels[code]
	}
	return otherLabel
}

// methodLabel keeps the standard methods and folds everything else, which a client
// can make up at will, into "OTHER".
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return otherLabel
}

// outcomeOf classifies an observation of a mirrored request for
// parity_comparisons_total. A candidate 5xx where the primary had none is a
// candidate error, as the aggregator counts it.
func outcomeOf(o *report.Observation) string {
	switch {
	case o.Skipped != "":
		return OutcomeExcluded
	case o.CandidateError != "":
		return OutcomeCandidateError
	case o.CandidateStatus >= 500 && o.PrimaryStatus < 500:
		return OutcomeCandidateError
	case len(o.Differences) > 0:
		return OutcomeMismatched
	}
	return OutcomeMatched
}

func (m *Metrics) compareCPU(d time.Duration) {
	if m == nil {
		return
	}
	m.compareSeconds.Add(d.Seconds())
}

// budgetSkip counts a pair the comparison budget left out (the skip itself is
// counted by drop, as compare_budget).
func (m *Metrics) budgetSkip(decided bool) {
	if m == nil {
		return
	}
	state := "undecided"
	if decided {
		state = "decided"
	}
	m.budgetSkipped.WithLabelValues(state).Inc()
}
