package rules

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/report/route"
)

// Router holds a configuration compiled once for the per-request Decide: cutover
// prefixes, exclusions, write opt-ins, the mirrored methods, the sample rate, each
// route's comparison rules and the report keyer. It is immutable and safe for
// concurrent use; a new configuration gets a new Router.
type Router struct {
	cfg          *Config
	enabled      bool
	cutover      []string         // served entirely by the candidate
	weights      []weightedPrefix // longest prefix first
	rest         int              // percent of the other /api/* paths (cutover.rest)
	everyAPI     bool             // rest is the guide's empty routes, not a weight
	sticky       sticky
	exclude      []string // lower case; matched ignoring case
	writeRoutes  []string
	methods      map[string]bool
	sample       float64
	verify       bool
	routes       []compiledRoute
	defaultRules *diff.Rules
	noise        NoisePolicy
	redirects    redirectPolicy
	keyer        *route.Keyer // over the routes' templates, in order: index i is routes[i]

	// random returns a number in [0,1) for sampling; rand.Float64 by default.
	random func() float64
	// allowWrites mirrors every method but CONNECT, override headers or not: a
	// replay against staging backends with --allow-writes.
	allowWrites bool
}

type compiledRoute struct {
	rules        *diff.Rules
	refetch      bool
	mirrorWrites bool
	noise        report.NoiseRule
	redirects    redirectPolicy
}

// Sources are the route templates a Router keys requests by besides the
// configuration's routes[].match: the declared templates of the route matrix, the
// rollout plan and an OpenAPI document, strongest first, and the Learner that
// learns templates from traffic. The Learner outlives configuration reloads: every
// Router of a Live shares it, and the Aggregator persists what it learned.
type Sources struct {
	Declared []route.Declared
	Learner  *route.Learner // nil = a Learner of the Router's own
}

// NewRouter validates cfg and compiles it, with a Learner of its own and no
// declared templates. cfg must not be changed afterwards.
func NewRouter(cfg *Config) (*Router, error) { return NewRouterFrom(cfg, Sources{}) }

// NewRouterFrom is NewRouter keying requests by the templates of cfg and src, in
// the order of route.Source.
func NewRouterFrom(cfg *Config, src Sources) (*Router, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	rt := &Router{
		cfg:         cfg,
		enabled:     cfg.Cutover.Enabled,
		cutover:     cfg.Cutover.Routes,
		weights:     compileWeights(cfg.Cutover.Weights),
		rest:        cfg.Cutover.RestPercent(),
		everyAPI:    cfg.Cutover.everyAPI(),
		writeRoutes: cfg.Shadow.WriteRoutes,
		methods:     map[string]bool{},
		sample:      cfg.Shadow.SampleRate(),
		verify:      cfg.Shadow.VerifyCutover,
		noise:       cfg.Noise.policy(),
		redirects:   redirectPolicyOf(cfg.Compare, nil),
		random:      rand.Float64,
	}
	for _, p := range cfg.Shadow.Exclude {
		rt.exclude = append(rt.exclude, strings.ToLower(p))
	}
	for _, m := range cfg.Shadow.MirrorMethods() {
		rt.methods[m] = true
	}
	var err error
	if rt.sticky, err = parseSticky(cfg.Cutover.Sticky); err != nil {
		return nil, fmt.Errorf("cutover.sticky: %w", err)
	}
	if rt.defaultRules, err = compileRules(cfg.Compare, nil, cfg.Redactor); err != nil {
		return nil, fmt.Errorf("compile compare rules: %w", err)
	}
	var templates []route.Template
	for i, r := range cfg.Routes {
		t, err := parseMatch(r.Match)
		if err != nil {
			return nil, fmt.Errorf("routes[%d].match: %w", i, err)
		}
		rules, err := compileRules(cfg.Compare, &r.CompareConfig, cfg.Redactor)
		if err != nil {
			return nil, fmt.Errorf("compile rules of routes[%d]: %w", i, err)
		}
		rt.routes = append(rt.routes, compiledRoute{rules: rules, refetch: r.Refetch, mirrorWrites: r.MirrorWrites,
			noise: cfg.Noise.ruleFor(r.Noise), redirects: redirectPolicyOf(cfg.Compare, &r.CompareConfig)})
		templates = append(templates, t)
	}
	if src.Learner == nil {
		src.Learner = &route.Learner{}
	}
	rt.keyer = route.BuildKeyer(route.Sources{Config: templates, Declared: src.Declared, Learner: src.Learner})
	return rt, nil
}

// Config returns the configuration the Router was built from. It must not be changed.
func (rt *Router) Config() *Config { return rt.cfg }

// Keyer returns the report keyer built from the configuration's route templates and
// the Router's Sources.
func (rt *Router) Keyer() *route.Keyer { return rt.keyer }

// Decide applies the routing rules to one request and fills every field of Decision.
// The target is r.RequestURI when set (a server's inbound request), else r.URL's
// request URI. r is not changed.
//
// Serve is the candidate only when the cutover is enabled and the canonical path is
// under /api, not auth, not ambiguous, and either under a cutover prefix (none, with
// no weights and no controller, = every /api/*) or under a weighted prefix whose
// share the request's client falls in (assign). Mirror is set only for /api paths that are not auth, not ambiguous and not
// excluded, whose method may be mirrored — a safe method of shadow.methods, without
// a method-override header naming another method; a write only where a route opts in
// (mirror_writes or shadow.write_routes) and never to the primary of a cut-over route;
// CONNECT and unknown methods never — and that are sampled in. A request served by
// the candidate is mirrored (to the primary) when a weight assigned it, at any
// weight, 100 included; under a cutover prefix only with shadow.verify_cutover.
// Otherwise Skip says why.
//
// The route whose rules apply and the route key reported are the same template's
// (route.Keyer.Match). Auth is the canonical path under /api/auth, or a raw target
// that reads as it before dot segments are resolved (route.ReadsAsAuth).
func (rt *Router) Decide(r *http.Request) Decision {
	target := r.RequestURI
	if target == "" && r.URL != nil {
		target = r.URL.RequestURI()
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	path, amb := route.Canonicalize(target)
	i := rt.keyer.Match(method, path)
	d := Decision{
		Path:      path,
		Ambiguous: amb,
		Auth:      route.IsAuth(path) || route.ReadsAsAuth(route.TargetPath(target)),
		API:       route.IsAPI(path),
		Route:     rt.keyer.KeyAt(i, method, path),
		Rules:     rt.defaultRules,
		Noise:     rt.noise,
	}
	redirects := rt.redirects
	var cr *compiledRoute
	if i >= 0 {
		cr = &rt.routes[i]
		d.Rules = cr.rules
		d.Refetch = cr.refetch && safeMethods[method]
		d.Noise.Rule = cr.noise
		redirects = cr.redirects
	}
	d.FollowCanonical, d.QuietRedirects = redirects.follow && safeMethods[method], redirects.quiet
	if rt.enabled && d.API && !d.Auth && !d.Ambiguous {
		rt.assign(r, path, &d)
	}
	if !d.API {
		return d
	}
	switch {
	case d.Auth:
		d.Skip = report.SkipAuth
	case d.Ambiguous:
		d.Skip = report.SkipAmbiguous
	case d.Serve == Candidate && !rt.verify && d.Weighted == "":
		d.Skip = report.SkipCutOver
	case rt.excluded(path):
		d.Skip = report.SkipExcluded
	case !rt.methodMirrored(r, method, path, cr, d.Serve):
		d.Skip = report.SkipWriteMethod
	case rt.sample < 1 && (rt.sample <= 0 || rt.random() >= rt.sample):
		d.Skip = report.SkipSampledOut
	default:
		d.Mirror = true
	}
	if d.Skip != "" {
		d.Refetch = false
	}
	return d
}

// assign decides who serves an /api path that may go to the candidate and sets
// d.Serve, d.Weight and d.Weighted: a path under a cutover prefix (or any, when
// the guide's empty routes cut every /api/* over) is the candidate's, weight 100;
// else under the longest weighted prefix — or, under none, /api/ at cutover.rest
// — the candidate serves it when the client's sticky bucket of that prefix is
// among the first weight of 100; else the primary does. Prefixes match
// case-sensitively, as the backends route.
func (rt *Router) assign(r *http.Request, path string, d *Decision) {
	const api = route.API + "/"
	if rt.everyAPI && route.Under(path, api) {
		d.Serve, d.Weight = Candidate, 100
		return
	}
	for _, p := range rt.cutover {
		if route.Under(path, p) {
			d.Serve, d.Weight = Candidate, 100
			return
		}
	}
	for _, w := range rt.weights {
		if route.Under(path, w.prefix) {
			rt.weigh(r, w.prefix, w.percent, d)
			return
		}
	}
	if rt.rest > 0 && route.Under(path, api) {
		rt.weigh(r, api, rt.rest, d)
	}
}

// weigh serves a request under a weighted prefix from the candidate when its
// client's sticky bucket of the prefix is among the first percent of 100.
func (rt *Router) weigh(r *http.Request, prefix string, percent int, d *Decision) {
	d.Weight, d.Weighted = percent, prefix
	if percent > 0 && bucket(rt.sticky.key(r), prefix) < percent {
		d.Serve = Candidate
	}
}

// excluded matches shadow.exclude ignoring case: excluding too much is the safe side.
func (rt *Router) excluded(path string) bool {
	for _, p := range rt.exclude {
		if route.UnderFold(path, p) {
			return true
		}
	}
	return false
}

// ForReplay returns a copy of rt for replaying recorded traffic: nothing is cut
// over and nothing sampled out — those flags are about live traffic, and a replay
// compares every eligible request, including routes of earlier rollout steps — and,
// with allowWrites, writes are sent to the candidate too.
func (rt *Router) ForReplay(allowWrites bool) *Router {
	c := *rt
	c.enabled = false // and so nothing is weighted either
	c.sample = 1
	c.allowWrites = allowWrites
	return &c
}

func (rt *Router) methodMirrored(r *http.Request, method, path string, cr *compiledRoute, serve Backend) bool {
	if rt.allowWrites && serve == Primary && method != http.MethodConnect && (!safeMethods[method] || overridden(r.Header, method)) {
		return true
	}
	if overridden(r.Header, method) {
		return false
	}
	if safeMethods[method] {
		return rt.methods[method]
	}
	if !writeMethods[method] || serve == Candidate {
		return false
	}
	if cr != nil && cr.mirrorWrites {
		return true
	}
	for _, p := range rt.writeRoutes {
		if route.Under(path, p) {
			return true
		}
	}
	return false
}

// methodOverrideHeaders are the headers some frameworks read to change a request's
// method; one naming another method makes a request unsafe to mirror.
var methodOverrideHeaders = []string{"X-Http-Method-Override", "X-Method-Override", "X-Http-Method"}

func overridden(h http.Header, method string) bool {
	for _, name := range methodOverrideHeaders {
		for _, v := range h[name] {
			if !strings.EqualFold(strings.TrimSpace(v), method) {
				return true
			}
		}
	}
	return false
}

// parseMatch parses a routes[].match entry: a route template whose method, when
// given, is one parity knows.
func parseMatch(s string) (route.Template, error) {
	t, err := route.ParseTemplate(s)
	if err == nil && t.Method != "" && !knownMethod(t.Method) {
		err = fmt.Errorf("unknown method %q in match %q (methods are upper case)", t.Method, s)
	}
	return t, err
}

// compileRules builds the comparison rules of the global compare: section followed by
// a route's entry (nil for none); later options add to earlier ones. Secret values
// are marked by red.
func compileRules(global CompareConfig, route *CompareConfig, red *diff.Redactor) (*diff.Rules, error) {
	opts := global.Options()
	if route != nil {
		opts = append(opts, route.Options()...)
	}
	opts = append(opts, diff.Redaction(red))
	return diff.NewRules(opts...)
}

// Options maps a rule set to diff options: ignore, unordered, tolerance, shape. Empty
// lists and a zero tolerance add nothing, so a route's options appended to the global
// ones add to them (a route's tolerance replaces the global one).
func (c CompareConfig) Options() []diff.Option {
	var opts []diff.Option
	if len(c.Ignore) > 0 {
		opts = append(opts, diff.Ignore(c.Ignore...))
	}
	if len(c.Unordered) > 0 {
		opts = append(opts, diff.Unordered(c.Unordered...))
	}
	if c.Tolerance > 0 {
		opts = append(opts, diff.Tolerance(c.Tolerance))
	}
	if len(c.Shape) > 0 {
		opts = append(opts, diff.Shape(c.Shape...))
	}
	return opts
}
