package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const fullConfig = `primary: http://sveltekit:3000
candidate: https://fastify:3001
secondary: http://sveltekit-2:3000
cutover:
  enabled: true
  routes: [/api/health, /api/healthz, /api/metrics, /api/v1/]
compare:
  ignore: [header.X-Response-Time, body.meta.requestId]
routes:
  - match: GET /api/v1/search
    unordered: [body.results]
    tolerance: 1e-9
    shape: []
    ignore: [body.took]
  - match: /api/sessions/:id
    refetch: true
    mirror_writes: true
    noise: {confirm: 4}
shadow:
  sample: 0.25
  methods: [GET, HEAD]
  write_routes: [/api/tools/]
  exclude: [/api/metrics]
  verify_cutover: true
noise:
  confirm: 2
  window: 6
  reask_concurrency: 2
  reask_rate: 10
`

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig("parity.yaml", []byte(fullConfig))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	sample := 0.25
	want := &Config{
		Primary:   "http://sveltekit:3000",
		Candidate: "https://fastify:3001",
		Secondary: "http://sveltekit-2:3000",
		Cutover:   CutoverConfig{Enabled: true, Routes: []string{"/api/health", "/api/healthz", "/api/metrics", "/api/v1/"}},
		Compare:   CompareConfig{Ignore: []string{"header.X-Response-Time", "body.meta.requestId"}},
		Routes: []RouteConfig{
			{Match: "GET /api/v1/search", CompareConfig: CompareConfig{Unordered: []string{"body.results"}, Tolerance: 1e-9, Shape: []string{}, Ignore: []string{"body.took"}}},
			{Match: "/api/sessions/:id", Refetch: true, MirrorWrites: true, Noise: NoiseRuleConfig{Confirm: 4}},
		},
		Shadow: ShadowConfig{Sample: &sample, Methods: []string{"GET", "HEAD"}, WriteRoutes: []string{"/api/tools/"},
			Exclude: []string{"/api/metrics"}, VerifyCutover: true},
		Noise: NoiseConfig{NoiseRuleConfig: NoiseRuleConfig{Confirm: 2, Window: 6}, ReaskConcurrency: 2, ReaskRate: 10},
	}
	if diff := cmp.Diff(want, cfg, cmpopts.IgnoreUnexported(Config{})); diff != "" {
		t.Errorf("ParseConfig (-want +got):\n%s", diff)
	}
}

func TestConfigDefaults(t *testing.T) {
	for _, data := range []string{"", "# nothing\n", "---\n", "~\n"} {
		cfg, err := ParseConfig("empty.yaml", []byte(data))
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		p, _ := cfg.PrimaryURL()
		c, _ := cfg.CandidateURL()
		s, _ := cfg.SecondaryURL()
		got := []any{p.String(), c.String(), s == nil, cfg.Shadow.SampleRate(), cfg.Shadow.MirrorMethods(), cfg.Cutover.Enabled}
		want := []any{DefaultPrimary, DefaultCandidate, true, 1.0, []string{"GET", "HEAD", "OPTIONS"}, false}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%q defaults (-want +got):\n%s", data, diff)
		}
	}
}

// TestConfigErrors: every problem is one line naming the file and line (or the
// environment variable) at fault.
func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want string // the whole error
	}{
		{"unknown key", "compare:\n  ignroe: [x]\n", nil,
			`parity.yaml:2: unknown key "ignroe" in compare (known keys: follow_redirects, ignore, quiet_habits, shape, tolerance, unordered)`},
		{"unknown top-level key", "primary: http://a\n\nprimray: http://b\n", nil,
			`parity.yaml:3: unknown key "primray" (known keys: accept, admin, candidate, compare, cutover, noise, openapi, primary, redaction, rollout, routes, secondary, shadow)`},
		{"unknown key in a route", "routes:\n  - match: /api/x\n    mirror_write: true\n", nil,
			`parity.yaml:3: unknown key "mirror_write" in routes[0] (known keys: follow_redirects, ignore, match, mirror_writes, noise, quiet_habits, refetch, shape, tolerance, unordered)`},
		{"duplicate key", "primary: http://a\nprimary: http://b\n", nil,
			`parity.yaml:2: key "primary" already given at line 1`},
		{"syntax error", "cutover:\n  enabled: true\n routes: [\n", nil,
			`parity.yaml:2: did not find expected key`},
		{"tab indentation", "cutover:\n\tenabled: true\n", nil,
			`parity.yaml:2: found character that cannot start any token`},
		{"bool of wrong type", "cutover:\n  enabled: maybe\n", nil,
			`parity.yaml:2: cutover.enabled: want true or false, got "maybe"`},
		{"number of wrong type", "shadow:\n  sample: lots\n", nil,
			`parity.yaml:2: shadow.sample: want a number, got "lots"`},
		{"list where a string is wanted", "primary: [a]\n", nil,
			`parity.yaml:1: primary: want a string, got a list`},
		{"string where a list is wanted", "cutover:\n  routes: /api/health\n", nil,
			`parity.yaml:2: cutover.routes: want a list, got "/api/health"`},
		{"not a mapping", "- a\n- b\n", nil,
			`parity.yaml:1: want a mapping of keys, got a list`},
		{"two documents", "primary: http://a\n---\nprimary: http://b\n", nil,
			`parity.yaml:2: a config is one YAML document; found another`},
		{"bad scheme", "primary: http://a\ncandidate: ftp://fastify\n", nil,
			`parity.yaml:2: candidate: URL "ftp://fastify": scheme must be http or https`},
		{"no host", "primary: http://\n", nil,
			`parity.yaml:1: primary: URL "http://" has no host`},
		{"sample over 1", "shadow:\n  sample: 1.5\n", nil,
			`parity.yaml:2: shadow.sample: must be between 0 and 1, got 1.5`},
		{"negative sample", "shadow:\n  sample: -0.1\n", nil,
			`parity.yaml:2: shadow.sample: must be between 0 and 1, got -0.1`},
		{"unknown mirrored method", "shadow:\n  methods: [GET, get]\n", nil,
			`parity.yaml:2: shadow.methods[1]: unknown method "get" (methods are upper case: GET, HEAD, OPTIONS, ...)`},
		{"unsafe mirrored method", "shadow:\n  methods:\n    - GET\n    - POST\n", nil,
			`parity.yaml:4: shadow.methods[1]: POST is not a safe method; writes are mirrored only through shadow.write_routes or a route's mirror_writes`},
		{"bad route method", "routes:\n  - match: GTE /api/x\n", nil,
			`parity.yaml:2: routes[0].match: unknown method "GTE" in match "GTE /api/x" (methods are upper case)`},
		{"route without slash", "routes:\n  - match: GET api/x\n", nil,
			`parity.yaml:2: routes[0].match: match "GET api/x": the path must start with /`},
		{"route with three words", "routes:\n  - match: GET /api/x extra\n", nil,
			`parity.yaml:2: routes[0].match: match "GET /api/x extra": want "[METHOD ]/path/:name"`},
		{"route not canonical", "routes:\n  - match: /api//x\n", nil,
			`parity.yaml:2: routes[0].match: match "/api//x": the path is not canonical (write "/api/x")`},
		{"bad parameter", "routes:\n  - match: '/api/x/:'\n", nil,
			`parity.yaml:2: routes[0].match: match "/api/x/:": bad parameter ":" (want :name)`},
		{"noise rule not a number", "noise:\n  confirm: many\n", nil,
			`parity.yaml:2: noise.confirm: want a whole number, got "many"`},
		{"noise window not whole", "noise:\n  window: 2.5\n", nil,
			`parity.yaml:2: noise.window: want a whole number, got "2.5"`},
		{"noise window too large", "noise:\n  window: 65\n", nil,
			`parity.yaml:2: noise.window: must be between 1 and 64 (0 = the default, 5), got 65`},
		{"noise confirm over the window", "noise:\n  confirm: 4\n  window: 3\n", nil,
			`parity.yaml:2: noise.confirm: confirm 4 is more than the window of 3 re-asks (noise.window)`},
		{"route window under the inherited confirm", "noise:\n  confirm: 4\nroutes:\n  - match: /api/x\n    noise:\n      window: 2\n", nil,
			`parity.yaml:6: routes[0].noise.window: window 2 is less than confirm 4 (noise.confirm)`},
		{"negative route confirm", "routes:\n  - match: /api/x\n    noise: {confirm: -1}\n", nil,
			`parity.yaml:3: routes[0].noise.confirm: must be 1 or more (0 = the default), got -1`},
		{"negative re-ask concurrency", "noise:\n  reask_concurrency: -1\n", nil,
			`parity.yaml:2: noise.reask_concurrency: must be 0 (the default, 8) or more, got -1`},
		{"negative re-ask rate", "noise:\n  reask_rate: -2\n", nil,
			`parity.yaml:2: noise.reask_rate: must be a finite number of re-asks per second >= 0 (0 = unlimited), got -2`},
		{"unknown noise key", "noise:\n  confirms: 2\n", nil,
			`parity.yaml:2: unknown key "confirms" in noise (known keys: confirm, reask_concurrency, reask_rate, window)`},
		{"cutover of auth", "cutover:\n  routes: [/api/health, /api/auth]\n", nil,
			`parity.yaml:2: cutover.routes[1]: prefix "/api/auth" covers /api/auth, which never goes to the candidate`},
		{"cutover of all api", "cutover:\n  routes:\n  - /api/\n", nil,
			`parity.yaml:3: cutover.routes[0]: prefix "/api/" covers /api/auth, which never goes to the candidate`},
		{"cutover of api", "cutover:\n  routes: [/api]\n", nil,
			`parity.yaml:2: cutover.routes[0]: prefix "/api" covers /api/auth, which never goes to the candidate`},
		{"cutover of auth in upper case", "cutover:\n  routes: [/API/Auth]\n", nil,
			`parity.yaml:2: cutover.routes[0]: prefix "/API/Auth" covers /api/auth, which never goes to the candidate`},
		{"cutover below auth", "cutover:\n  routes: [/api/auth/callback]\n", nil,
			`parity.yaml:2: cutover.routes[0]: prefix "/api/auth/callback" covers /api/auth, which never goes to the candidate`},
		{"cutover of root", "cutover:\n  routes: [/]\n", nil,
			`parity.yaml:2: cutover.routes[0]: prefix "/" covers /api/auth, which never goes to the candidate`},
		{"cutover spelled around auth", "cutover:\n  routes: [/api/x/../auth]\n", nil,
			`parity.yaml:2: cutover.routes[0]: prefix "/api/x/../auth" is not canonical; write "/api/auth"`},
		{"cutover encoded", "cutover:\n  routes: [/api/%61uth]\n", nil,
			`parity.yaml:2: cutover.routes[0]: prefix "/api/%61uth" is not canonical; write "/api/auth"`},
		{"cutover ambiguous", "cutover:\n  routes: [/api/a%2Fb]\n", nil,
			`parity.yaml:2: cutover.routes[0]: prefix "/api/a%2Fb" is ambiguous (encoded separators, control or non-ASCII bytes)`},
		{"cutover outside api", "cutover:\n  routes: [/healthz]\n", nil,
			`parity.yaml:2: cutover.routes[0]: prefix "/healthz" is not under /api/; only /api paths go to the candidate`},
		{"cutover without slash", "cutover:\n  routes: [api/health]\n", nil,
			`parity.yaml:2: cutover.routes[0]: prefix "api/health" must start with /`},
		{"write routes over auth", "shadow:\n  write_routes: [/api/Auth/]\n", nil,
			`parity.yaml:2: shadow.write_routes[0]: prefix "/api/Auth/" covers /api/auth, which never goes to the candidate`},
		{"mirror writes on an auth route", "routes:\n  - match: POST /api/auth/:step\n    mirror_writes: true\n", nil,
			`parity.yaml:2: routes[0].match: mirror_writes on a route that matches /api/auth: auth is never mirrored`},
		{"mirror writes on a route that may be auth", "routes:\n  - match: POST /api/:section/x\n    mirror_writes: true\n", nil,
			`parity.yaml:2: routes[0].match: mirror_writes on a route that matches /api/auth: auth is never mirrored`},
		{"bad ignore path", "compare:\n  ignore:\n    - header.X-Response-Time\n    - bdy.took\n", nil,
			`parity.yaml:4: compare.ignore[1]: ignore path "bdy.took": must start with "status", "header" or "body"`},
		{"unordered header", "routes:\n  - match: /api/x\n    unordered: [header.Vary]\n", nil,
			`parity.yaml:3: routes[0].unordered[0]: unordered path "header.Vary": only body paths take this rule`},
		{"negative tolerance", "routes:\n  - match: /api/x\n    tolerance: -1\n", nil,
			`parity.yaml:3: routes[0].tolerance: must be a finite number >= 0, got -1`},
		{"bad redirect policy", "compare:\n  follow_redirects: always\n", nil,
			`parity.yaml:2: compare.follow_redirects: "always": want canonical or none`},
		{"unknown habit", "routes:\n  - match: /api/x\n    quiet_habits: [trailing_slash]\n", nil,
			`parity.yaml:3: routes[0].quiet_habits[0]: unknown habit "trailing_slash" (want canonical_redirect)`},
		{"env cutover of auth", "", map[string]string{"FASTIFY_PROXY_ROUTES": "/api/health, /api/auth"},
			`FASTIFY_PROXY_ROUTES: prefix "/api/auth" covers /api/auth, which never goes to the candidate`},
		{"env bad URL", "candidate: http://ok:3001\n", map[string]string{"FASTIFY_URL": "localhost:3001"},
			`FASTIFY_URL: URL "localhost:3001": scheme must be http or https`},
		{"env bad flag", "", map[string]string{"FASTIFY_ENABLED": "ture"},
			`FASTIFY_ENABLED="ture": want true or false`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := loadString("parity.yaml", tc.yaml, tc.env)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func loadString(name, data string, env map[string]string) error {
	cfg, err := ParseConfig(name, []byte(data))
	if err != nil {
		return err
	}
	if err := cfg.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		return err
	}
	return cfg.Validate()
}

func TestApplyEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{"nothing set keeps the file", nil,
			Config{Primary: "http://a:1", Cutover: CutoverConfig{Routes: []string{"/api/health"}}}},
		{"guide step 2", map[string]string{"FASTIFY_ENABLED": "true", "FASTIFY_PROXY_ROUTES": "/api/health,/api/healthz,/api/metrics,/api/sessions,/api/activity"},
			Config{Primary: "http://a:1", Cutover: CutoverConfig{Enabled: true, Routes: []string{"/api/health", "/api/healthz", "/api/metrics", "/api/sessions", "/api/activity"}}}},
		{"urls and spaces", map[string]string{"SVELTEKIT_URL": " http://sk:3000 ", "FASTIFY_URL": "http://api:3001", "FASTIFY_ENABLED": "0", "FASTIFY_PROXY_ROUTES": " /api/chat , ,/api/tools "},
			Config{Primary: "http://sk:3000", Candidate: "http://api:3001", Cutover: CutoverConfig{Routes: []string{"/api/chat", "/api/tools"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig("parity.yaml", []byte("primary: http://a:1\ncutover:\n  routes: [/api/health]\n"))
			if err != nil {
				t.Fatal(err)
			}
			if err := cfg.ApplyEnv(func(k string) string { return tc.env[k] }); err != nil {
				t.Fatal(err)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&tc.want, cfg, cmpopts.IgnoreUnexported(Config{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "parity.yaml")
	if err := os.WriteFile(good, []byte(fullConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(good); err != nil {
		t.Fatalf("LoadConfig: %v", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("shadow:\n  sample: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadConfig(bad)
	if want := bad + ":2: shadow.sample: must be between 0 and 1, got 2"; err == nil || err.Error() != want {
		t.Errorf("LoadConfig(bad) = %v, want %q", err, want)
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("LoadConfig(missing) = %v, want an error naming the file", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(fullConfig))
	f.Add([]byte("cutover:\n  routes: [/api/auth]\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("routes:\n  - match: GET /api/:x\n    tolerance: .inf\n"))
	f.Add([]byte("shadow: {sample: .nan}\n"))
	f.Add([]byte("cutover:\n  weights: {/api/sessions: 10, \"/api/a\\nb\": 1, /api/: 100}\n  rest: 50\n  sticky: header:X\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig("fuzz.yaml", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error not one line naming the file: %q", err)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("validation error not one line: %q", err)
			}
			return
		}
		rt, err := NewRouter(cfg)
		if err != nil {
			t.Fatalf("valid config rejected by NewRouter: %v", err)
		}
		for _, target := range []string{"/api/auth/login", "/API/AUTH", "/api//auth", "/api/auth;x"} {
			for _, m := range []string{"GET", "POST"} {
				d := rt.Decide(newRequest(m, target))
				if d.Serve == Candidate || d.Mirror {
					t.Fatalf("valid config sends %s %s to the candidate: %+v", m, target, d)
				}
			}
		}
	})
}
