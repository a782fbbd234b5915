package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/report/route"
)

// Defaults of the configuration, as DESIGN.md fixes them.
const (
	DefaultPrimary   = "http://localhost:3000"
	DefaultCandidate = "http://localhost:3001"
	DefaultSample    = 1.0
)

// DefaultMethods are the methods mirrored when shadow.methods is empty.
var DefaultMethods = []string{"GET", "HEAD", "OPTIONS"}

// maxConfigSize bounds what LoadConfig reads: a config is a few kilobytes.
const maxConfigSize = 4 << 20

// Config is parity's configuration file (--config parity.yaml); flags and the
// environment override it. Its YAML form is in DESIGN.md. A zero Config is valid and
// means the defaults documented on each field.
//
// A Config is not changed once it is handed to NewRouter; live reloads build a new one.
type Config struct {
	Primary   string          `yaml:"primary"`   // default http://localhost:3000 (SVELTEKIT_URL)
	Secondary string          `yaml:"secondary"` // optional second primary, to learn noise
	Candidate string          `yaml:"candidate"` // default http://localhost:3001 (FASTIFY_URL)
	Cutover   CutoverConfig   `yaml:"cutover"`
	Compare   CompareConfig   `yaml:"compare"`
	Routes    []RouteConfig   `yaml:"routes"`
	Shadow    ShadowConfig    `yaml:"shadow"`
	Noise     NoiseConfig     `yaml:"noise"`
	Admin     AdminConfig     `yaml:"admin"`
	Redaction RedactionConfig `yaml:"redaction"`
	Rollout   RolloutConfig   `yaml:"rollout"` // the autopilot (rollout.go)

	// Redactor marks secret values in the differences of every route: the
	// deployment's key, loaded from Redaction.KeyFile or elsewhere by the command
	// (nil: unkeyed markers). It is not read from the file.
	Redactor *diff.Redactor `yaml:"-"`
	// OpenAPI is an OpenAPI 3.x document (a file, or an http(s) URL such as the
	// backends' /api/v1/openapi.json) whose paths are route templates; reloaded with
	// the configuration. A document that cannot be read is reported and left out:
	// it never stops serving.
	OpenAPI string `yaml:"openapi"`
	// Accept lists the differences the team lives with until a date (see
	// report.Acceptance); applied when reports and the gate judge.
	Accept []report.Acceptance `yaml:"accept"`

	// src remembers where each value came from (file line or environment variable),
	// so that Validate can name it.
	src *configSource
}

// CutoverConfig holds the guide's feature flags and the weights that generalise them.
type CutoverConfig struct {
	// Enabled is the master switch (FASTIFY_ENABLED; default false): false sends
	// nothing to the candidate, whatever Routes, Weights or a controller say.
	Enabled bool `yaml:"enabled"`
	// Routes are served entirely by the candidate (FASTIFY_PROXY_ROUTES). Empty
	// means every /api/* but /api/auth — only while Weights is empty and Rest
	// unset (as it is never under a controller, Live.SetCutover); otherwise empty
	// means none.
	Routes []string `yaml:"routes"`
	// Weights maps a route prefix to the percent (0..100) of its requests served
	// by the candidate, sticky per client (Sticky). The longest weighted prefix
	// of a path applies; a prefix of Routes beats any weight (100%).
	Weights map[string]int `yaml:"weights"`
	// Rest is the percent (0..100) of every other /api/* path — under no route
	// and no weighted prefix, /api/auth never — served by the candidate, sticky
	// as the weights: the guide's last step (every /api/*) at a weight. Unset,
	// it is 100 when Routes and Weights are both empty (the guide's empty
	// FASTIFY_PROXY_ROUTES) and 0 otherwise.
	Rest *int `yaml:"rest"`
	// Sticky is what keeps a client on one backend under a weight: cookie:NAME,
	// header:NAME, or client_ip (the default: the connection's address, never
	// X-Forwarded-For). A request without the cookie or header falls back to
	// client_ip.
	Sticky string `yaml:"sticky"`
}

// The sticky sources of cutover.sticky.
const (
	StickyClientIP     = "client_ip"
	stickyCookiePrefix = "cookie:"
	stickyHeaderPrefix = "header:"
)

// RestPercent is the percent of the /api/* paths under no route and no weighted
// prefix that the candidate serves (see Rest).
func (c CutoverConfig) RestPercent() int {
	switch {
	case c.Rest != nil:
		return *c.Rest
	case c.everyAPI():
		return 100
	}
	return 0
}

// everyAPI reports whether the cutover sends every /api/* path (but auth) to the
// candidate the guide's way: no routes, no weights, no rest.
func (c CutoverConfig) everyAPI() bool {
	return len(c.Routes) == 0 && len(c.Weights) == 0 && c.Rest == nil
}

// CompareConfig is a set of comparison rules; global under compare:, and per route.
type CompareConfig struct {
	Ignore    []string `yaml:"ignore"`    // difference paths silenced
	Unordered []string `yaml:"unordered"` // arrays compared as multisets
	Tolerance float64  `yaml:"tolerance"` // numbers within this are equal; 0 = exact
	Shape     []string `yaml:"shape"`     // compared by type and keys only
	// FollowRedirects is canonical (the default: a canonicalising redirect is
	// followed one hop and the final answers compared) or none (see redirects.go).
	FollowRedirects string `yaml:"follow_redirects"`
	// QuietHabits lists absorbed habits not to count or show
	// (report.HabitCanonicalRedirect).
	QuietHabits []string `yaml:"quiet_habits"`
}

// RouteConfig is one entry of routes:; the first whose match fits a request wins.
type RouteConfig struct {
	Match         string `yaml:"match"` // "[METHOD ]/template/:name"; no method = any
	CompareConfig `yaml:",inline"`
	Refetch       bool `yaml:"refetch"`       // re-ask the primary to learn noise (safe methods)
	MirrorWrites  bool `yaml:"mirror_writes"` // this route's writes may be mirrored
	// Noise overrides the noise: section's learning rule for this route; zero
	// fields inherit it.
	Noise NoiseRuleConfig `yaml:"noise"`
}

// AdminConfig is the admin: section. It is read at start only.
type AdminConfig struct {
	// Hosts are the names the admin listener answers to besides its own address
	// and localhost (PARITY_ADMIN_HOSTS, comma-separated): a request with any
	// other Host is refused, so a web page cannot DNS-rebind its way in.
	Hosts []string `yaml:"hosts"`
}

// RedactionConfig is the redaction: section. It is read at start only.
type RedactionConfig struct {
	// KeyFile holds the key of the redaction markers (PARITY_REDACTION_KEY_FILE):
	// replicas and replays given the same key write the same marker for the same
	// secret. Unset, the key is PARITY_REDACTION_KEY, else one generated and kept
	// beside the snapshot.
	KeyFile string `yaml:"key_file"`
}

// NoiseRuleConfig is when a pattern is learned as noise on a route: confirm
// confirmations among the last window re-asks that tested it (see report.NoiseRule).
type NoiseRuleConfig struct {
	Confirm int `yaml:"confirm"` // K; 0 = inherit, or report.DefaultNoiseConfirm (3)
	Window  int `yaml:"window"`  // N; 0 = inherit, or report.DefaultNoiseWindow (5); at most 64
}

// NoiseConfig is the noise: section: the learning rule of every route, and the
// bounds of the re-asks that feed it. A re-ask asks a primary (the secondary, or the
// primary itself on refetch routes) the same safe request again when the
// candidate's answer differs at paths not yet learned as noise; it never touches the
// client's path.
type NoiseConfig struct {
	NoiseRuleConfig `yaml:",inline"`
	// ReaskConcurrency is how many re-asks may be in flight at once, over every
	// route; 0 = DefaultReaskConcurrency. The proxy drops a re-ask that finds no
	// room (counted as reask_dropped); a replay waits for room.
	ReaskConcurrency int `yaml:"reask_concurrency"`
	// ReaskRate caps the re-asks started per second, over every route; 0 =
	// unlimited. Bursts of up to one second's worth are allowed.
	ReaskRate float64 `yaml:"reask_rate"`
}

// ShadowConfig says which requests are mirrored.
type ShadowConfig struct {
	Sample      *float64 `yaml:"sample"`       // fraction mirrored, in [0,1]; nil = 1.0
	Methods     []string `yaml:"methods"`      // safe methods mirrored; default GET, HEAD, OPTIONS
	WriteRoutes []string `yaml:"write_routes"` // prefixes whose writes may be mirrored
	Exclude     []string `yaml:"exclude"`      // never mirrored, besides /api/auth/
	// VerifyCutover mirrors safe requests of cut-over routes (served by the candidate)
	// to the primary, so parity keeps being measured after the switch. Default false:
	// cut-over requests are skipped as report.SkipCutOver.
	VerifyCutover bool `yaml:"verify_cutover"`
	// CompareBudget is the share of the CPU comparisons may use (see
	// shadow.Proxy.CompareBudget), above 0 and at most 1 (1: no budget); nil =
	// the proxy's default. Read when the proxy starts.
	CompareBudget *float64 `yaml:"compare_budget"`
}

// CheckCompareBudget says what is wrong with a comparison budget, nil when
// nothing is: a share of the CPU above 0 and at most 1.
func CheckCompareBudget(v float64) error {
	if math.IsNaN(v) || v <= 0 || v > 1 {
		return fmt.Errorf("want a share of the CPU above 0 and at most 1 (1: no budget), got %g", v)
	}
	return nil
}

// SampleRate is the fraction of eligible requests mirrored (DefaultSample when unset).
func (s ShadowConfig) SampleRate() float64 {
	if s.Sample == nil {
		return DefaultSample
	}
	return *s.Sample
}

// MirrorMethods are the methods mirrored without a route opting in (DefaultMethods
// when unset).
func (s ShadowConfig) MirrorMethods() []string {
	if len(s.Methods) == 0 {
		return DefaultMethods
	}
	return s.Methods
}

// PrimaryURL is the primary's base URL (DefaultPrimary when unset).
func (c *Config) PrimaryURL() (*url.URL, error) {
	return backendURL("primary", c.Primary, DefaultPrimary)
}

// CandidateURL is the candidate's base URL (DefaultCandidate when unset).
func (c *Config) CandidateURL() (*url.URL, error) {
	return backendURL("candidate", c.Candidate, DefaultCandidate)
}

// SecondaryURL is the second primary's base URL, nil when none is configured.
func (c *Config) SecondaryURL() (*url.URL, error) {
	if c.Secondary == "" {
		return nil, nil
	}
	return backendURL("secondary", c.Secondary, "")
}

func backendURL(name, v, def string) (*url.URL, error) {
	if v == "" {
		v = def
	}
	u, err := url.Parse(v)
	if err != nil {
		return nil, fmt.Errorf("%s URL %q does not parse", name, v)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%s URL %q: scheme must be http or https", name, v)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%s URL %q has no host", name, v)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%s URL %q: only scheme, host and path are allowed", name, v)
	}
	return u, nil
}

// configSource says where a Config's values came from.
type configSource struct {
	name string              // file name as given
	pos  map[string]valuePos // "routes[1].match" → line and the value read there
	env  map[string]string   // "candidate" or "cutover.routes" → environment variable
}

type valuePos struct {
	line  int
	value string
}

// LoadConfig reads, parses and validates the configuration file at path. Errors are
// one line naming the file and, where known, the line: `parity.yaml:7: unknown key
// "ignroe" in compare ...`.
func LoadConfig(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config %s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("%s: config is larger than %d bytes", path, maxConfigSize)
	}
	return LoadConfigData(path, data)
}

// LoadConfigData parses and validates a configuration read elsewhere (a
// ConfigMap's key, a file read once and kept), named name in errors, as
// LoadConfig does a file's.
func LoadConfigData(name string, data []byte) (*Config, error) {
	cfg, err := ParseConfig(name, data)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// ParseConfig parses a configuration read from the file called name, strictly: an
// unknown key, a duplicated key, a value of the wrong type or a second YAML document
// is an error naming name and the line. It does not validate values; see Validate.
func ParseConfig(name string, data []byte) (*Config, error) {
	cfg := &Config{src: &configSource{name: name, pos: map[string]valuePos{}}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return cfg, nil // an empty file is the defaults
		}
		return nil, yamlError(name, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("%s:%d: a config is one YAML document; found another", name, extra.Line)
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(name, err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return cfg, nil
		}
		root = root.Content[0]
	}
	if isNull(root) {
		return cfg, nil
	}
	w := walker{name: name, pos: cfg.src.pos}
	if err := w.walk(root, reflect.TypeOf(Config{}), ""); err != nil {
		return nil, err
	}
	if err := root.Decode(cfg); err != nil {
		return nil, yamlError(name, err)
	}
	return cfg, nil
}

var yamlLineRE = regexp.MustCompile(`^(?:yaml: )?(?:unmarshal errors:\s*)?line (\d+): `)

// yamlError turns a yaml error into one line naming the file and line.
func yamlError(name string, err error) error {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s:%s: %s", name, m[1], msg[len(m[0]):])
	}
	return fmt.Errorf("%s: %s", name, strings.TrimPrefix(msg, "yaml: "))
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// walker checks a YAML tree against the Config types before decoding, so that every
// problem is reported with its key and line, and records where each scalar came from.
type walker struct {
	name  string
	pos   map[string]valuePos
	depth int
}

func (w *walker) errorf(n *yaml.Node, key, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if key != "" {
		msg = key + ": " + msg
	}
	return fmt.Errorf("%s:%d: %s", w.name, n.Line, msg)
}

func (w *walker) walk(n *yaml.Node, t reflect.Type, key string) error {
	for n.Kind == yaml.AliasNode {
		if n.Alias == nil || w.depth > 64 {
			return w.errorf(n, key, "bad alias")
		}
		w.depth++
		n = n.Alias
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if isNull(n) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return w.errorf(n, key, "want a mapping of keys, got %s", describe(n))
		}
		if key != "" {
			w.pos[key] = valuePos{line: n.Line} // where an entry missing a key is
		}
		fields := yamlFields(t)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				return w.errorf(k, key, "a key must be a plain string")
			}
			if line, dup := seen[k.Value]; dup {
				return w.errorf(k, key, "key %q already given at line %d", k.Value, line)
			}
			seen[k.Value] = k.Line
			ft, ok := fields[k.Value]
			if !ok {
				where := ""
				if key != "" {
					where = " in " + key
				}
				return fmt.Errorf("%s:%d: unknown key %q%s (known keys: %s)", w.name, k.Line, k.Value, where, strings.Join(sortedKeys(fields), ", "))
			}
			if err := w.walk(v, ft, joinKey(key, k.Value)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return w.errorf(n, key, "want a mapping, got %s", describe(n))
		}
		w.pos[key] = valuePos{line: n.Line}
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
				return w.errorf(k, key, "a key must be a plain string, got %s", describe(k))
			}
			if line, dup := seen[k.Value]; dup {
				return w.errorf(k, key, "key %q already given at line %d", k.Value, line)
			}
			seen[k.Value] = k.Line
			if err := w.walk(v, t.Elem(), entryKey(key, k.Value)); err != nil {
				return err
			}
		}
		return nil
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return w.errorf(n, key, "want a list, got %s", describe(n))
		}
		for i, e := range n.Content {
			if err := w.walk(e, t.Elem(), fmt.Sprintf("%s[%d]", key, i)); err != nil {
				return err
			}
		}
		return nil
	}
	if n.Kind != yaml.ScalarNode {
		return w.errorf(n, key, "want a %s, got %s", kindName(t), describe(n))
	}
	switch t.Kind() {
	case reflect.String:
		if tag := n.ShortTag(); tag != "!!str" && tag != "!!int" && tag != "!!float" && tag != "!!timestamp" {
			return w.errorf(n, key, "want a string, got %s", describe(n))
		}
	case reflect.Bool:
		if n.ShortTag() != "!!bool" {
			return w.errorf(n, key, "want true or false, got %q", n.Value)
		}
	case reflect.Int:
		var i int
		if n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			return w.errorf(n, key, "want a whole number, got %q", n.Value)
		}
	case reflect.Float64:
		if tag := n.ShortTag(); tag != "!!int" && tag != "!!float" {
			return w.errorf(n, key, "want a number, got %q", n.Value)
		}
		var f float64
		if err := n.Decode(&f); err != nil {
			return w.errorf(n, key, "want a number, got %q", n.Value)
		}
	}
	w.pos[key] = valuePos{line: n.Line, value: n.Value}
	return nil
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return strconv.Quote(n.Value)
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Bool:
		return "true or false"
	case reflect.Float64:
		return "number"
	case reflect.Int:
		return "whole number"
	}
	return "string"
}

// entryKey names the entry k of the mapping at key: cutover.weights[/api/sessions],
// with k quoted when it holds anything but printable ASCII, a space or a bracket,
// so that an error stays one line and says where the key ends.
func entryKey(key, k string) string {
	if k == "" || strings.ContainsFunc(k, func(r rune) bool { return r <= ' ' || r > '~' || r == '[' || r == ']' }) {
		k = strconv.Quote(k)
	}
	return key + "[" + k + "]"
}

func joinKey(parent, k string) string {
	if parent == "" {
		return k
	}
	return parent + "." + k
}

// yamlFields maps the YAML keys of struct t (inline structs flattened) to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				m[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// ApplyEnv overrides the configuration with the guide's environment variables, read
// through getenv (an empty value counts as unset): SVELTEKIT_URL, FASTIFY_URL,
// FASTIFY_ENABLED (true/false, 1/0, yes/no, on/off) and FASTIFY_PROXY_ROUTES
// (comma-separated prefixes), and parity's own PARITY_ADMIN_HOSTS (comma-separated)
// and PARITY_REDACTION_KEY_FILE. A FASTIFY_ENABLED that is none of these is an error
// naming it. Values are checked by Validate, which names the variable they came from.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	if getenv == nil {
		return nil
	}
	set := func(field, env string) string {
		v := strings.TrimSpace(getenv(env))
		if v != "" {
			c.origin()[field] = env
		}
		return v
	}
	if v := set("primary", "SVELTEKIT_URL"); v != "" {
		c.Primary = v
	}
	if v := set("candidate", "FASTIFY_URL"); v != "" {
		c.Candidate = v
	}
	if v := set("cutover.enabled", "FASTIFY_ENABLED"); v != "" {
		b, ok := parseBool(v)
		if !ok {
			return fmt.Errorf("FASTIFY_ENABLED=%q: want true or false", v)
		}
		c.Cutover.Enabled = b
	}
	if v := set("cutover.routes", "FASTIFY_PROXY_ROUTES"); v != "" {
		c.Cutover.Routes = splitList(v)
	}
	if v := set("admin.hosts", "PARITY_ADMIN_HOSTS"); v != "" {
		c.Admin.Hosts = splitList(v)
	}
	if v := set("redaction.key_file", "PARITY_REDACTION_KEY_FILE"); v != "" {
		c.Redaction.KeyFile = v
	}
	return nil
}

// splitList splits a comma-separated environment value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (c *Config) origin() map[string]string {
	if c.src == nil {
		c.src = &configSource{}
	}
	if c.src.env == nil {
		c.src.env = map[string]string{}
	}
	return c.src.env
}

func parseBool(v string) (bool, bool) {
	switch strings.ToLower(v) {
	case "true", "1", "yes", "on":
		return true, true
	case "false", "0", "no", "off":
		return false, true
	}
	return false, false
}

// fieldError is a validation problem with the key it concerns; Error names the file
// and line, or the environment variable, the value came from.
func (c *Config) fieldError(key, value, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if c.src != nil {
		base, _, _ := strings.Cut(key, "[")
		if env, ok := c.src.env[base]; ok {
			return fmt.Errorf("%s: %s", env, msg)
		}
		if p, ok := c.src.pos[key]; ok && p.value == value {
			return fmt.Errorf("%s:%d: %s: %s", c.src.name, p.line, key, msg)
		}
		if c.src.name != "" {
			return fmt.Errorf("%s: %s: %s", c.src.name, key, msg)
		}
	}
	return fmt.Errorf("config: %s: %s", key, msg)
}

// The methods parity knows. Safe methods may be mirrored; writes only where a route
// opts in; CONNECT and unknown methods never.
var (
	safeMethods  = map[string]bool{"GET": true, "HEAD": true, "OPTIONS": true, "TRACE": true}
	writeMethods = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "DELETE": true}
)

func knownMethod(m string) bool { return safeMethods[m] || writeMethods[m] || m == "CONNECT" }

// SafeMethod reports whether m is a safe method (GET, HEAD, OPTIONS, TRACE): one
// that may be asked twice.
func SafeMethod(m string) bool { return safeMethods[m] }

// Validate checks the whole configuration and returns the first problem on one line,
// naming the file and line (or the environment variable) it came from: backend URLs
// (http or https), the sample rate, route matches, methods, prefixes, the comparison
// rules, and the guide's hard rule — no cutover prefix may send /api/auth to the
// candidate and no write route may mirror writes under it, in any spelling.
func (c *Config) Validate() error {
	for _, b := range []struct{ key, v, def string }{
		{"primary", c.Primary, DefaultPrimary},
		{"candidate", c.Candidate, DefaultCandidate},
		{"secondary", c.Secondary, ""},
	} {
		if b.v == "" {
			continue
		}
		if _, err := backendURL(b.key, b.v, b.def); err != nil {
			return c.fieldError(b.key, b.v, "%v", strings.TrimPrefix(err.Error(), b.key+" "))
		}
	}
	for i, p := range c.Cutover.Routes {
		key := fmt.Sprintf("cutover.routes[%d]", i)
		if err := c.checkPrefix(key, p, true); err != nil {
			return err
		}
	}
	if err := c.checkWeights(); err != nil {
		return err
	}
	if err := c.checkSticky(); err != nil {
		return err
	}
	if s := c.Shadow.Sample; s != nil && (math.IsNaN(*s) || *s < 0 || *s > 1) {
		return c.fieldError("shadow.sample", strconv.FormatFloat(*s, 'g', -1, 64), "must be between 0 and 1, got %g", *s)
	}
	if b := c.Shadow.CompareBudget; b != nil {
		if err := CheckCompareBudget(*b); err != nil {
			return c.fieldError("shadow.compare_budget", strconv.FormatFloat(*b, 'g', -1, 64), "%v", err)
		}
	}
	for i, m := range c.Shadow.Methods {
		key := fmt.Sprintf("shadow.methods[%d]", i)
		switch {
		case !knownMethod(m):
			return c.fieldError(key, m, "unknown method %q (methods are upper case: GET, HEAD, OPTIONS, ...)", m)
		case !safeMethods[m]:
			return c.fieldError(key, m, "%s is not a safe method; writes are mirrored only through shadow.write_routes or a route's mirror_writes", m)
		}
	}
	for i, p := range c.Shadow.WriteRoutes {
		key := fmt.Sprintf("shadow.write_routes[%d]", i)
		if err := c.checkPrefix(key, p, true); err != nil {
			return err
		}
	}
	for i, p := range c.Shadow.Exclude {
		key := fmt.Sprintf("shadow.exclude[%d]", i)
		if err := c.checkPrefix(key, p, false); err != nil {
			return err
		}
	}
	if err := c.checkRules("compare", c.Compare); err != nil {
		return err
	}
	for i, r := range c.Routes {
		key := fmt.Sprintf("routes[%d].match", i)
		m, err := parseMatch(r.Match)
		if err != nil {
			return c.fieldError(key, r.Match, "%v", err)
		}
		if r.MirrorWrites && m.MayMatchAuth() {
			return c.fieldError(key, r.Match, "mirror_writes on a route that matches /api/auth: auth is never mirrored")
		}
		if err := c.checkRules(fmt.Sprintf("routes[%d]", i), r.CompareConfig); err != nil {
			return err
		}
		if err := c.checkNoiseRule(fmt.Sprintf("routes[%d].noise", i), r.Noise); err != nil {
			return err
		}
	}
	for i, h := range c.Admin.Hosts {
		if h == "" || strings.ContainsAny(h, "/ \t*@?#") {
			return c.fieldError(fmt.Sprintf("admin.hosts[%d]", i), h, "want a host name, optionally with a port (metrics.internal:9090)")
		}
	}
	if err := c.checkAccept(); err != nil {
		return err
	}
	if err := c.checkRollout(); err != nil {
		return err
	}
	return c.checkNoise()
}

// checkRules compiles each path of a rule set on its own, so that an error names the
// entry (and its line) at fault, then the whole set.
func (c *Config) checkRules(key string, cc CompareConfig) error {
	for _, list := range []struct {
		name  string
		paths []string
		opt   func(...string) diff.Option
	}{
		{"ignore", cc.Ignore, diff.Ignore},
		{"unordered", cc.Unordered, diff.Unordered},
		{"shape", cc.Shape, diff.Shape},
	} {
		for i, p := range list.paths {
			if _, err := diff.NewRules(list.opt(p)); err != nil {
				return c.fieldError(fmt.Sprintf("%s.%s[%d]", key, list.name, i), p, "%v", err)
			}
		}
	}
	if t := cc.Tolerance; t < 0 || math.IsNaN(t) || math.IsInf(t, 0) {
		return c.fieldError(key+".tolerance", strconv.FormatFloat(t, 'g', -1, 64), "must be a finite number >= 0, got %g", t)
	}
	if err := c.checkRedirects(key, cc); err != nil {
		return err
	}
	if _, err := compileRules(cc, nil, nil); err != nil {
		return c.fieldError(key, "", "%v", err)
	}
	return nil
}

// checkPrefix checks a route prefix: canonical, and — for prefixes that send requests
// to the candidate (api) — under /api and not covering /api/auth.
func (c *Config) checkPrefix(key, p string, api bool) error {
	if msg := prefixProblem(p, api); msg != "" {
		return c.fieldError(key, p, "%s", msg)
	}
	return nil
}

// prefixProblem is what is wrong with a route prefix (see checkPrefix), "" when
// nothing is.
func prefixProblem(p string, api bool) string {
	if p == "" {
		return "empty prefix"
	}
	if !strings.HasPrefix(p, "/") {
		return fmt.Sprintf("prefix %q must start with /", p)
	}
	canon, amb := route.Canonicalize(p)
	if amb {
		return fmt.Sprintf("prefix %q is ambiguous (encoded separators, control or non-ASCII bytes)", p)
	}
	if canon != p {
		return fmt.Sprintf("prefix %q is not canonical; write %q", p, canon)
	}
	if !api {
		return ""
	}
	if route.CoversAuth(p) {
		return fmt.Sprintf("prefix %q covers /api/auth, which never goes to the candidate", p)
	}
	if !route.UnderFold(p, route.API+"/") {
		return fmt.Sprintf("prefix %q is not under /api/; only /api paths go to the candidate", p)
	}
	return ""
}

// checkWeights checks cutover.weights: each prefix as a cutover route's (under
// /api/, canonical, not covering /api/auth), each percent within 0..100; and
// cutover.rest's percent. Prefixes
// are checked in order, so the first problem reported is the same on every run.
func (c *Config) checkWeights() error {
	for _, p := range sortedKeys(c.Cutover.Weights) {
		w := c.Cutover.Weights[p]
		key, text := entryKey("cutover.weights", p), strconv.Itoa(w)
		// The entry's line is found by its percent, the value read there.
		if msg := prefixProblem(p, true); msg != "" {
			return c.fieldError(key, text, "%s", msg)
		}
		if err := c.checkPercent(key, w); err != nil {
			return err
		}
	}
	if r := c.Cutover.Rest; r != nil {
		return c.checkPercent("cutover.rest", *r)
	}
	return nil
}

func (c *Config) checkPercent(key string, w int) error {
	if w < 0 || w > 100 {
		return c.fieldError(key, strconv.Itoa(w), "percent must be between 0 and 100, got %d", w)
	}
	return nil
}

// checkSticky checks cutover.sticky: client_ip, cookie:NAME with a valid cookie
// name, or header:NAME with a valid header field name.
func (c *Config) checkSticky() error {
	v := c.Cutover.Sticky
	if _, err := parseSticky(v); err != nil {
		return c.fieldError("cutover.sticky", v, "%v", err)
	}
	return nil
}
