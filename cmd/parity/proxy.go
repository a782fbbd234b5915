package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow"
	"github.com/parity-dev/parity/shadow/rules"
	"github.com/parity-dev/parity/shadow/traffic"
)

// proxyFlags are `parity proxy`'s flags; an empty string or false means "not
// given", so the environment and then the config file decide.
type proxyFlags struct {
	config, listen, adminListen       string
	primary, candidate, secondary     string
	snapshot, record, tlsCert, tlsKey string
	snapshotInterval, grace           time.Duration
	verifyCutover                     bool
	logLevel                          string
	plan, matrix, openapi             string
	mirrorConcurrency, mirrorQueue    int
	mirrorTimeout                     time.Duration
	trustForwarded                    bool
	pprof                             bool
	autopilot                         bool
	adminHosts                        stringList
	redaction                         redaction
	maxHeaderBytes, maxHeaderCount    int
	bodyReadTimeout                   time.Duration
	bodyMinRate                       int64
	compareBudget                     float64
}

func runProxy(ctx context.Context, c *cli, args []string) int {
	var f proxyFlags
	fs := c.newFlags("proxy", "[flags]")
	fs.StringVar(&f.config, "config", "", "configuration `file` (YAML); reloaded on SIGHUP and when it changes")
	fs.StringVar(&f.listen, "listen", shadow.DefaultListen, "public listen `address`")
	fs.StringVar(&f.adminListen, "admin-listen", shadow.DefaultAdminListen, "admin listen `address` (/metrics, /parity/report, /healthz, /readyz)")
	fs.StringVar(&f.primary, "primary", "", "primary (SvelteKit) `URL`; env SVELTEKIT_URL, default "+rules.DefaultPrimary)
	fs.StringVar(&f.candidate, "candidate", "", "candidate (Fastify) `URL`; env FASTIFY_URL, default "+rules.DefaultCandidate)
	fs.StringVar(&f.secondary, "secondary", "", "second primary `URL`: routes with refetch: true ask it too, to learn noise (default: the primary again)")
	fs.StringVar(&f.snapshot, "snapshot", "", "snapshot `file`: restored on start, written every interval and on shutdown")
	fs.DurationVar(&f.snapshotInterval, "snapshot-interval", shadow.DefaultSnapshotInterval, "how often the snapshot is written")
	fs.StringVar(&f.record, "record", "", "append mirrored requests to this NDJSON `file` (secrets redacted)")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate `file` for the public listener (HTTP/2 too)")
	fs.StringVar(&f.tlsKey, "tls-key", "", "TLS key `file` for the public listener")
	fs.DurationVar(&f.grace, "grace", shadow.DefaultGrace, "on SIGTERM, how long in-flight requests and then pending comparisons may take (each)")
	fs.BoolVar(&f.verifyCutover, "verify-cutover", false, "mirror requests served by the candidate to the primary, to keep measuring parity after cutover")
	fs.StringVar(&f.logLevel, "log-level", "info", "log `level`: debug, info, warn, error")
	fs.StringVar(&f.plan, "plan", "", "rollout plan `file` whose steps the live dashboard judges and whose prefixes are route templates (default: the guide's five steps)")
	fs.StringVar(&f.matrix, "routes", "", "route matrix `file` whose routes are route templates (default: the guide's Route Parity Matrix, built in)")
	fs.StringVar(&f.openapi, "openapi", "", "OpenAPI 3.x document, `file or URL`, whose paths are route templates (overrides openapi:)")
	fs.IntVar(&f.mirrorConcurrency, "mirror-concurrency", shadow.DefaultMirrorConcurrency, "mirrors sent and compared at once")
	fs.IntVar(&f.mirrorQueue, "mirror-queue", shadow.DefaultMirrorQueue, "mirrors that may wait for a worker (negative: none)")
	fs.DurationVar(&f.mirrorTimeout, "mirror-timeout", shadow.DefaultMirrorTimeout, "deadline of a mirror, from queueing to comparison")
	fs.BoolVar(&f.trustForwarded, "trust-forwarded", false, "keep the client's X-Forwarded-* headers (behind a trusted load balancer)")
	fs.StringVar(&f.redaction.flagFile, "redaction-key-file", "", redactionKeyUsage)
	fs.Var(&f.adminHosts, "admin-host", "`name` the admin listener also answers to, besides its own address and localhost (repeatable; env PARITY_ADMIN_HOSTS, config admin.hosts)")
	fs.IntVar(&f.maxHeaderBytes, "max-header-bytes", shadow.DefaultMaxHeaderBytes, "largest request head (request line and header fields) in `bytes`; larger is answered 431")
	fs.IntVar(&f.maxHeaderCount, "max-header-count", shadow.DefaultMaxHeaderCount, "most header fields a request may carry; more is answered 431")
	fs.DurationVar(&f.bodyReadTimeout, "body-read-timeout", shadow.DefaultBodyReadTimeout, "longest wait for the next bytes of a request body; slower clients get 408 (0: none)")
	fs.Int64Var(&f.bodyMinRate, "body-min-rate", shadow.DefaultBodyMinRate, "slowest request body, in `bytes` per second, after the first body-read-timeout; slower clients get 408 (0: none)")
	fs.Float64Var(&f.compareBudget, "compare-budget", 0, "`share` of the CPU comparisons may use, above 0 and at most 1 (1: compare every pair); beyond it pairs are sampled and counted as skipped compare_budget (config shadow.compare_budget; default "+strconv.FormatFloat(shadow.DefaultCompareBudget, 'g', -1, 64)+")")
	fs.BoolVar(&f.autopilot, "autopilot", false, "let the rollout controller move the plan's steps to the candidate by itself (as rollout.mode: autopilot)")
	fs.BoolVar(&f.pprof, "pprof", false, "serve runtime profiles (net/http/pprof) on the admin listener under /debug/pprof/")
	pos, code, ok := c.parse(fs, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.usagef("proxy: unexpected argument %q (see 'parity proxy -h')", pos[0])
	}
	if err := f.check(); err != nil {
		return c.usagef("proxy: %v", err)
	}
	level, ok := logLevels[f.logLevel]
	if !ok {
		return c.usagef("proxy: --log-level %q: want debug, info, warn or error", f.logLevel)
	}
	logger := zerolog.New(c.stderr).Level(level).With().Timestamp().Logger()
	defer routeStandardLog(logger)()

	srv, live, err := f.server(c, logger)
	if err != nil {
		return c.usagef("proxy: %v", err)
	}
	ctrl, err := f.autopilotOf(srv, live, logger)
	if err != nil {
		return c.usagef("proxy: %v", err)
	}
	if err := srv.Open(); err != nil {
		return c.usagef("proxy: %v", err)
	}

	if f.record != "" {
		file, err := os.OpenFile(f.record, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			srv.Close()
			return c.usagef("proxy: --record: %v", err)
		}
		rec := traffic.NewRecorder(file)
		rec.Redactor = f.redaction.red
		rec.Logger = logger.With().Str("file", f.record).Logger()
		rec.OnDrop = srv.Proxy.Metrics.RecordDropped
		srv.Proxy.Record = rec.Record
		defer func() {
			// After Run: no handler records any more.
			if err := rec.Close(); err != nil {
				logger.Error().Str("file", f.record).Str("error", err.Error()).Msg("recording incomplete")
			}
			file.Close()
			logger.Info().Str("file", f.record).Int64("written", rec.Written()).Int64("dropped", rec.Dropped()).Msg("recording closed")
		}()
	}

	logger.Info().Str("key", f.redaction.from).Msg("redaction markers keyed")
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	srv.Background = append(srv.Background, func(ctx context.Context) error { return live.Watch(ctx, hup) })
	if ctrl != nil {
		srv.Background = append(srv.Background, ctrl.Run)
	}
	if err := srv.Run(ctx); err != nil {
		return c.fail(exitDifferent, fmt.Errorf("proxy: %w", err))
	}
	return exitOK
}

// logTimeFormat stamps log lines to the millisecond, in RFC 3339: requests a few
// milliseconds apart stay in order, and every log tool reads it.
const logTimeFormat = "2006-01-02T15:04:05.000Z07:00"

func init() { zerolog.TimeFieldFormat = logTimeFormat }

var logLevels = map[string]zerolog.Level{
	"debug": zerolog.DebugLevel, "info": zerolog.InfoLevel, "warn": zerolog.WarnLevel, "error": zerolog.ErrorLevel,
}

// check validates what flags alone can be judged on.
func (f *proxyFlags) check() error {
	for name, v := range map[string]time.Duration{"--snapshot-interval": f.snapshotInterval, "--grace": f.grace, "--mirror-timeout": f.mirrorTimeout} {
		if v <= 0 {
			return fmt.Errorf("%s %v: want a positive duration", name, v)
		}
	}
	if f.bodyReadTimeout < 0 {
		return fmt.Errorf("--body-read-timeout %v: want a positive duration, or 0 for none", f.bodyReadTimeout)
	}
	if f.bodyMinRate < 0 {
		return fmt.Errorf("--body-min-rate %d: want bytes per second, or 0 for none", f.bodyMinRate)
	}
	if f.maxHeaderBytes < 1024 {
		return fmt.Errorf("--max-header-bytes %d: want at least 1024", f.maxHeaderBytes)
	}
	if f.maxHeaderCount <= 0 {
		return fmt.Errorf("--max-header-count %d: want at least 1", f.maxHeaderCount)
	}
	if f.compareBudget != 0 {
		if err := rules.CheckCompareBudget(f.compareBudget); err != nil {
			return fmt.Errorf("--compare-budget: %v", err)
		}
	}
	if f.mirrorConcurrency <= 0 {
		return fmt.Errorf("--mirror-concurrency %d: want at least 1", f.mirrorConcurrency)
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	return nil
}

// override applies the flags that were given over the environment and the file.
func (f *proxyFlags) override(cfg *rules.Config) error {
	overrideBackends(cfg, f.primary, f.candidate, f.secondary)
	setOpenAPI(cfg, f.openapi)
	// The autopilot keeps judging what it cut over: served by the candidate,
	// mirrored to the primary.
	if f.verifyCutover || f.autopilot || cfg.Rollout.Autopilot() {
		cfg.Shadow.VerifyCutover = true
	}
	if len(f.adminHosts) > 0 {
		cfg.Admin.Hosts = f.adminHosts
	}
	if f.compareBudget != 0 {
		cfg.Shadow.CompareBudget = &f.compareBudget
	}
	return f.redaction.apply(cfg)
}

// server loads the configuration (file, then environment, then flags) and wires
// the proxy, its metrics, the aggregator and the server around them.
func (f *proxyFlags) server(c *cli, logger zerolog.Logger) (*shadow.Server, *rules.Live, error) {
	metrics := shadow.NewMetrics(0)
	f.redaction.snapshot, f.redaction.getenv = f.snapshot, c.getenv
	var backends [2]*url.URL
	declared, plan, err := declaredSources(f.plan, f.matrix)
	if err != nil {
		return nil, nil, err
	}
	agg := report.NewAggregator(report.Limits{})
	started := false // the first load's failure is the command's error, not a log line
	live := &rules.Live{
		Path:     f.config,
		Getenv:   c.getenv,
		Override: f.override,
		Sources:  rules.Sources{Declared: declared, Learner: agg.Learner()},
		OnWarn: func(err error) {
			logger.Warn().Str("error", err.Error()).Msg("route templates incomplete")
		},
		OnReload: func(cfg *rules.Config) {
			if !started {
				return
			}
			metrics.ConfigReload(true)
			logger.Info().Bool("cutover_enabled", cfg.Cutover.Enabled).Strs("cutover_routes", cfg.Cutover.Routes).
				Any("cutover_weights", cfg.Cutover.Weights).Int("cutover_rest", cfg.Cutover.RestPercent()).
				Msg("configuration reloaded")
			p, _ := cfg.PrimaryURL()
			cu, _ := cfg.CandidateURL()
			if p.String() != backends[0].String() || cu.String() != backends[1].String() {
				logger.Warn().Msg("backend URLs change only on restart; the ones in use stay")
			}
		},
		OnReject: func(err error) {
			if !started {
				return
			}
			metrics.ConfigReload(false)
			logger.Error().Str("error", err.Error()).Msg("configuration rejected; the previous one keeps serving")
		},
	}
	if err := live.Reload(); err != nil {
		return nil, nil, err
	}
	started = true
	cfg, _ := live.Current()
	if backends[0], err = cfg.PrimaryURL(); err != nil {
		return nil, nil, err
	}
	if backends[1], err = cfg.CandidateURL(); err != nil {
		return nil, nil, err
	}
	secondary, err := cfg.SecondaryURL()
	if err != nil {
		return nil, nil, err
	}

	queue := f.mirrorQueue
	if queue == 0 {
		queue = -1 // --mirror-queue 0 means none; the Proxy's zero is its default
	}
	proxy := &shadow.Proxy{
		Primary:           backends[0],
		Candidate:         backends[1],
		Secondary:         secondary,
		Decide:            func(r *http.Request) rules.Decision { return live.Router().Decide(r) },
		Observer:          agg,
		Logger:            logger,
		Metrics:           metrics,
		MirrorConcurrency: f.mirrorConcurrency,
		MirrorQueue:       queue,
		MirrorTimeout:     f.mirrorTimeout,
		TrustForwarded:    f.trustForwarded,
		MaxHeaderCount:    f.maxHeaderCount,
		BodyReadTimeout:   noneIfZero(f.bodyReadTimeout),
		BodyMinRate:       noneIfZero(f.bodyMinRate),
	}
	if b := cfg.Shadow.CompareBudget; b != nil {
		proxy.CompareBudget = *b
	}
	renderOpts := report.RenderOptions{Title: "parity — live", Plan: plan, Now: c.now,
		Accepted: func() []report.Acceptance { cfg, _ := live.Current(); return liveAcceptances(cfg) }}
	// The comparison budget's last share goes to routes the gate has not
	// decided yet, judged as the dashboard judges them.
	proxy.Decided = (&report.DecidedRoutes{Aggregator: agg, Options: renderOpts}).Decided
	srv := &shadow.Server{
		Addr:             f.listen,
		AdminAddr:        f.adminListen,
		Proxy:            proxy,
		Aggregator:       agg,
		SnapshotFile:     f.snapshot,
		SnapshotInterval: f.snapshotInterval,
		TLSCertFile:      f.tlsCert,
		TLSKeyFile:       f.tlsKey,
		Grace:            f.grace,
		MaxHeaderBytes:   f.maxHeaderBytes,
		Logger:           logger,
		Admin:            shadow.Admin{Ready: func() bool { return live.Router() != nil }, Profiling: f.pprof, Hosts: cfg.Admin.Hosts},
		RenderOptions:    renderOpts,
	}
	return srv, live, nil
}

// noneIfZero turns a flag's 0 ("none") into the negative value that says so to
// the shadow package, whose zero means its default.
func noneIfZero[T int64 | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}
