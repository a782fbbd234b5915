package shadow

// Config is parity's configuration file (--config parity.yaml); flags and the
// environment override it. Its YAML form is in DESIGN.md. A zero Config is valid and
// means the defaults documented on each field.
type Config struct {
	Primary   string        `yaml:"primary"`   // default http://localhost:3000 (SVELTEKIT_URL)
	Secondary string        `yaml:"secondary"` // optional second primary, to learn noise
	Candidate string        `yaml:"candidate"` // default http://localhost:3001 (FASTIFY_URL)
	Cutover   CutoverConfig `yaml:"cutover"`
	Compare   CompareConfig `yaml:"compare"`
	Routes    []RouteConfig `yaml:"routes"`
	Shadow    ShadowConfig  `yaml:"shadow"`
}

// CutoverConfig holds the guide's feature flags.
type CutoverConfig struct {
	Enabled bool     `yaml:"enabled"` // FASTIFY_ENABLED
	Routes  []string `yaml:"routes"`  // FASTIFY_PROXY_ROUTES; empty = every /api/*
}

// CompareConfig is a set of comparison rules; global under compare:, and per route.
type CompareConfig struct {
	Ignore    []string `yaml:"ignore"`
	Unordered []string `yaml:"unordered"`
	Tolerance float64  `yaml:"tolerance"`
	Shape     []string `yaml:"shape"`
}

// RouteConfig is one entry of routes:; the first whose match fits a request wins.
type RouteConfig struct {
	Match         string `yaml:"match"` // "[METHOD ]/template/:name"
	CompareConfig `yaml:",inline"`
	Refetch       bool `yaml:"refetch"`       // re-ask the primary to learn noise (safe methods)
	MirrorWrites  bool `yaml:"mirror_writes"` // this route's writes may be mirrored
}

// ShadowConfig says which requests are mirrored.
type ShadowConfig struct {
	Sample      *float64 `yaml:"sample"`       // fraction mirrored; nil = 1.0
	Methods     []string `yaml:"methods"`      // default GET, HEAD, OPTIONS
	WriteRoutes []string `yaml:"write_routes"` // prefixes whose writes may be mirrored
	Exclude     []string `yaml:"exclude"`      // never mirrored, besides /api/auth/
}
