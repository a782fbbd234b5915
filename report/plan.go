package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/parity-dev/parity/report/route"
)

// Plan is a rollout plan: the steps that move routes to the candidate, in order,
// and the thresholds each step's routes must meet.
type Plan struct {
	Thresholds Thresholds
	Steps      []Step
}

// Thresholds are the gate's criteria, after the guide's monitoring section.
type Thresholds struct {
	// MinSamples is the compared requests a route needs before it can pass.
	MinSamples int64 `json:"min_samples"`
	// MinParity is the least matched/compared (noise excluded) that passes.
	MinParity float64 `json:"min_parity"`
	// MaxCandidateErrorRate is the most candidate errors (transport errors,
	// timeouts, 5xx where the primary had none) per mirrored request that passes.
	MaxCandidateErrorRate float64 `json:"max_candidate_error_rate"`
	// MaxP99Ratio fails a route whose candidate p99 is over this multiple of the
	// primary's p99 ...
	MaxP99Ratio float64 `json:"max_p99_ratio"`
	// ... by more than P99FloorMs milliseconds (so 1 ms against 3 ms is no failure).
	P99FloorMs float64 `json:"p99_floor_ms"`
	// AllowCandidateAuthFailures, when false, fails a route on any candidate
	// 401/403 where the primary answered neither.
	AllowCandidateAuthFailures bool `json:"allow_candidate_auth_failures"`

	// Confidence is how sure each of a route's tests (parity, candidate errors,
	// latency) must be before it passes or fails the route: 1 − Confidence is
	// the most often a good route fails, or a bad one passes, however often the
	// gate looks. 0 reads DefaultConfidence.
	Confidence float64 `json:"confidence"`
	// ParityMargin is the indifference zone around MinParity: a route whose
	// parity is at least MinParity+ParityMargin fails with probability at most
	// 1 − Confidence, one at or below MinParity−ParityMargin passes with at most
	// that; in between either verdict may come. 0 reads DefaultParityMargin.
	ParityMargin float64 `json:"parity_margin"`
	// ErrorRateMargin is the same zone around MaxCandidateErrorRate. 0 reads
	// DefaultErrorRateMargin.
	ErrorRateMargin float64 `json:"error_rate_margin"`
	// Security is what a security-marked difference does to a route: fail it
	// whatever its parity (SecurityFail, also the zero value) or only warn.
	Security SecurityPolicy `json:"security"`
}

// DefaultThresholds are the guide's monitoring thresholds, with the minimum
// evidence parity asks for. A plan's thresholds section overrides them key by key.
var DefaultThresholds = Thresholds{
	MinSamples:            50,
	MinParity:             0.99,
	MaxCandidateErrorRate: 0.01,
	MaxP99Ratio:           2.0,
	P99FloorMs:            10,
	Confidence:            DefaultConfidence,
	ParityMargin:          DefaultParityMargin,
	ErrorRateMargin:       DefaultErrorRateMargin,
	Security:              SecurityFail,
}

// Step is one rollout step.
type Step struct {
	Number int    // from 1, as in the guide
	Name   string // "Health & Metrics Only"
	// Routes is the step's FASTIFY_PROXY_ROUTES: path prefixes sent to the
	// candidate. Empty means every /api/* route but /api/auth.
	Routes []string
	// Validate is what the guide asks the operator to check (shown in reports).
	Validate string
}

// CatchAll reports whether the step sends every /api/* route.
func (s *Step) CatchAll() bool { return len(s.Routes) == 0 }

// Sends reports whether the step sends path to the candidate: /api/auth never;
// otherwise a path matching one of its prefixes, or any /api path when it has
// none.
func (s *Step) Sends(path string) bool {
	if IsAuthPath(path) {
		return false
	}
	if s.CatchAll() {
		return PrefixMatch("/api", path)
	}
	for _, p := range s.Routes {
		if PrefixMatch(p, path) {
			return true
		}
	}
	return false
}

// PrefixMatch reports whether prefix covers path on segment boundaries:
// "/api/health" matches "/api/health" and "/api/health/x" but not
// "/api/healthz"; a prefix ending in "/" matches everything under it. It is
// route.Under, the one prefix rule.
func PrefixMatch(prefix, path string) bool { return route.Under(path, prefix) }

// IsAuthPath reports whether path is under /api/auth, in any letter case: route.IsAuth.
func IsAuthPath(path string) bool { return route.IsAuth(path) }

// Step returns step n (from 1), or nil.
func (p *Plan) Step(n int) *Step {
	if n < 1 || n > len(p.Steps) {
		return nil
	}
	return &p.Steps[n-1]
}

// ReadPlan parses a plan from YAML. name (the file name) prefixes every error,
// which is one line: "plan.yaml:7: unknown key \"min_sample\" in thresholds".
func ReadPlan(name string, r io.Reader) (*Plan, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: read plan: %w", name, err)
	}
	return ParsePlan(name, data)
}

// ParsePlan parses a plan from YAML; see ReadPlan.
func ParsePlan(name string, data []byte) (*Plan, error) {
	root, err := parseYAML(name, data)
	if err != nil {
		return nil, err
	}
	p := &Plan{Thresholds: DefaultThresholds}
	y := yamlReader{name: name}
	seenSteps := false
	y.mapping(root, "plan", func(key string, k, v *yaml.Node) {
		switch key {
		case "thresholds":
			y.thresholds(v, &p.Thresholds)
		case "steps":
			seenSteps = true
			y.steps(v, p)
		default:
			y.failf(k, "unknown key %q in plan (want thresholds, steps)", key)
		}
	})
	if y.err == nil && !seenSteps {
		y.failf(root, "plan has no steps")
	}
	if y.err != nil {
		return nil, y.err
	}
	return p, nil
}

// parseYAML decodes data into its document node, which must be a mapping.
func parseYAML(name string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: file is empty", name)
		}
		return nil, fmt.Errorf("%s: %s", name, oneLine(strings.TrimPrefix(err.Error(), "yaml: ")))
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: file is empty", name)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping at the top level", name, root.Line)
	}
	return root, nil
}

// oneLine joins a multi-line message.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// yamlReader walks YAML nodes, keeping the first error with its file and line.
type yamlReader struct {
	name string
	err  error
}

func (y *yamlReader) failf(n *yaml.Node, format string, args ...any) {
	if y.err == nil {
		y.err = fmt.Errorf("%s:%d: %s", y.name, n.Line, fmt.Sprintf(format, args...))
	}
}

// mapping calls fn for each key of a mapping node (what names it in errors).
func (y *yamlReader) mapping(n *yaml.Node, what string, fn func(key string, k, v *yaml.Node)) {
	if y.err != nil {
		return
	}
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			return
		}
		y.failf(n, "%s: want a mapping", what)
		return
	}
	seen := make(map[string]int, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content) && y.err == nil; i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if line, dup := seen[k.Value]; dup {
			y.failf(k, "%s: key %q repeats the one on line %d", what, k.Value, line)
			return
		}
		seen[k.Value] = k.Line
		fn(k.Value, k, v)
	}
}

func (y *yamlReader) scalar(n *yaml.Node, key string) (string, bool) {
	if y.err != nil {
		return "", false
	}
	if n.Kind != yaml.ScalarNode {
		y.failf(n, "%s: want a single value", key)
		return "", false
	}
	return n.Value, true
}

func (y *yamlReader) float(n *yaml.Node, key string, lo, hi float64) float64 {
	s, ok := y.scalar(n, key)
	if !ok {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || n.Tag == "!!str" && n.Style != 0 {
		y.failf(n, "%s: %q is not a number", key, s)
		return 0
	}
	if f < lo || f > hi {
		y.failf(n, "%s: %s is out of range %g..%g", key, s, lo, hi)
	}
	return f
}

// openFloat is float on the open range lo..hi, ends excluded.
func (y *yamlReader) openFloat(n *yaml.Node, key string, lo, hi float64) float64 {
	f := y.float(n, key, lo, hi)
	if y.err == nil && (f == lo || f == hi) {
		y.failf(n, "%s: %s is out of range: want more than %g and less than %g", key, n.Value, lo, hi)
	}
	return f
}

func (y *yamlReader) int(n *yaml.Node, key string, lo int64) int64 {
	s, ok := y.scalar(n, key)
	if !ok {
		return 0
	}
	i, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		y.failf(n, "%s: %q is not a whole number", key, s)
		return 0
	}
	if i < lo {
		y.failf(n, "%s: %d is below %d", key, i, lo)
	}
	return i
}

func (y *yamlReader) bool(n *yaml.Node, key string) bool {
	s, ok := y.scalar(n, key)
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(s)
	if err != nil || n.Style != 0 {
		switch s {
		case "yes", "Yes":
			return true
		case "no", "No":
			return false
		}
		y.failf(n, "%s: %q is not true or false", key, s)
	}
	return b
}

func (y *yamlReader) stringValue(n *yaml.Node, key string) string {
	s, _ := y.scalar(n, key)
	return s
}

func (y *yamlReader) thresholds(n *yaml.Node, t *Thresholds) {
	y.mapping(n, "thresholds", func(key string, k, v *yaml.Node) {
		switch key {
		case "min_samples":
			t.MinSamples = y.int(v, key, 0)
		case "min_parity":
			t.MinParity = y.float(v, key, 0, 1)
		case "max_candidate_error_rate":
			t.MaxCandidateErrorRate = y.float(v, key, 0, 1)
		case "max_p99_ratio":
			t.MaxP99Ratio = y.float(v, key, 1, math.MaxFloat64)
		case "p99_floor_ms":
			t.P99FloorMs = y.float(v, key, 0, math.MaxFloat64)
		case "allow_candidate_auth_failures":
			t.AllowCandidateAuthFailures = y.bool(v, key)
		case "confidence":
			t.Confidence = y.float(v, key, 0.5, 0.9999)
		case "parity_margin":
			t.ParityMargin = y.openFloat(v, key, 0, 0.5)
		case "error_rate_margin":
			t.ErrorRateMargin = y.openFloat(v, key, 0, 0.5)
		case "security":
			t.Security = y.securityPolicy(v, key)
		default:
			y.failf(k, "unknown key %q in thresholds (want min_samples, min_parity, max_candidate_error_rate, max_p99_ratio, p99_floor_ms, allow_candidate_auth_failures, confidence, parity_margin, error_rate_margin, security)", key)
		}
	})
}

func (y *yamlReader) securityPolicy(n *yaml.Node, key string) SecurityPolicy {
	s, ok := y.scalar(n, key)
	if !ok {
		return ""
	}
	switch p := SecurityPolicy(s); p {
	case SecurityFail, SecurityWarn:
		return p
	}
	y.failf(n, "%s: %q is not fail or warn", key, s)
	return ""
}

func (y *yamlReader) steps(n *yaml.Node, p *Plan) {
	if y.err != nil {
		return
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		y.failf(n, "steps: want a list of at least one step")
		return
	}
	for i, sn := range n.Content {
		st := Step{Number: i + 1}
		hasRoutes := false
		y.mapping(sn, fmt.Sprintf("step %d", i+1), func(key string, k, v *yaml.Node) {
			switch key {
			case "name":
				st.Name = strings.TrimSpace(y.stringValue(v, key))
			case "validate":
				st.Validate = strings.TrimSpace(y.stringValue(v, key))
			case "routes":
				hasRoutes = true
				st.Routes = y.prefixes(v, i+1)
			default:
				y.failf(k, "unknown key %q in step %d (want name, routes, validate)", key, i+1)
			}
		})
		if y.err != nil {
			return
		}
		if sn.Kind != yaml.MappingNode {
			y.failf(sn, "step %d: want a mapping with name and routes", i+1)
			return
		}
		if st.Name == "" {
			y.failf(sn, "step %d has no name", i+1)
			return
		}
		if !hasRoutes {
			y.failf(sn, "step %d has no routes key (write routes: [] to send every /api/* route)", i+1)
			return
		}
		p.Steps = append(p.Steps, st)
	}
}

// prefixes reads a step's routes: a YAML list, or one comma-separated string as
// FASTIFY_PROXY_ROUTES is written.
func (y *yamlReader) prefixes(n *yaml.Node, step int) []string {
	var raw []*yaml.Node
	switch {
	case n.Kind == yaml.SequenceNode:
		raw = n.Content
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return nil
	case n.Kind == yaml.ScalarNode:
		var out []string
		for _, p := range strings.Split(n.Value, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, y.prefix(n, p, step))
			}
		}
		return out
	default:
		y.failf(n, "step %d routes: want a list of path prefixes", step)
		return nil
	}
	out := make([]string, 0, len(raw))
	for _, rn := range raw {
		s, ok := y.scalar(rn, "routes")
		if !ok {
			return nil
		}
		out = append(out, y.prefix(rn, strings.TrimSpace(s), step))
	}
	return out
}

func (y *yamlReader) prefix(n *yaml.Node, p string, step int) string {
	if !strings.HasPrefix(p, "/") {
		y.failf(n, "step %d routes: %q is not a path prefix (want it to start with /)", step, p)
	}
	return p
}

// Templates returns the plan's prefixes as declared route templates, each the
// route it names ("/api/v1/" declares "/api/v1"), in the order of the steps. name
// is the plan's file, for the origins.
func (p *Plan) Templates(name string) []route.Declared {
	var out []route.Declared
	seen := map[string]bool{}
	for _, st := range p.Steps {
		for _, pre := range st.Routes {
			t, ok := route.FromPattern("", pre)
			if !ok || seen[t.Path] {
				continue
			}
			seen[t.Path] = true
			out = append(out, route.Declared{Template: t, Source: route.SourcePlan, Origin: fmt.Sprintf("%s: step %d, %s", name, st.Number, pre)})
		}
	}
	return out
}
