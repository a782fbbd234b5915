package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/rollout"
	"github.com/parity-dev/parity/shadow"
	"github.com/parity-dev/parity/shadow/rules"
)

const fleetSynopsis = "run --config F --replica URL... [--plan F] [--state F] [--listen ADDR]"

// runFleet is `parity rollout run`: the one decider of a fleet of proxies. It
// judges the replicas' merged /parity/report.json as `parity gate` does and
// writes its decisions into the cutover: section of the config file they all
// reload; its own listener serves /parity/rollout, its actions and /metrics.
func runFleet(ctx context.Context, c *cli, args []string) int {
	flags := c.newFlags("rollout run", fleetSynopsis)
	config := flags.String("config", "", "config `file` every replica reloads; its cutover: section is written (required)")
	var replicas stringList
	flags.Var(&replicas, "replica", "a replica's admin `URL` (http://10.0.0.7:9090) or its /parity/report.json (repeatable, required)")
	planPath := flags.String("plan", "", "rollout plan `file` (default: the guide's plan, built in)")
	state := flags.String("state", "", "state `file` (default: "+rolloutStateFile+" beside --config)")
	listen := flags.String("listen", "127.0.0.1:9091", "`address` of the controller's listener (/parity/rollout, /metrics, /healthz)")
	var hosts stringList
	flags.Var(&hosts, "admin-host", "`name` the listener also answers to, besides its own address and localhost (repeatable)")
	logLevel := flags.String("log-level", "info", "log `level`: debug, info, warn, error")
	pos, code, ok := c.parse(flags, args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.usagef("rollout run: unexpected argument %q", pos[0])
	}
	if *config == "" || len(replicas) == 0 {
		return c.usagef("rollout run: --config and at least one --replica are required (see 'parity rollout run -h')")
	}
	level, ok := logLevels[*logLevel]
	if !ok {
		return c.usagef("rollout run: --log-level %q: want debug, info, warn or error", *logLevel)
	}
	cfg, err := rules.LoadConfig(*config)
	if err != nil {
		return c.usagef("rollout run: %s", oneLine(err.Error()))
	}
	if cfg.Rollout.Autopilot() {
		return c.usagef("rollout run: %s: rollout.mode is autopilot, so every replica would decide for itself; set mode: manual and let this controller decide", *config)
	}
	sources := make([]string, len(replicas))
	for i, r := range replicas {
		if sources[i], err = reportURL(r); err != nil {
			return c.usagef("rollout run: --replica %q: %v", r, err)
		}
	}
	plan, err := loadPlanFile(*planPath)
	if err != nil {
		return c.usagef("rollout run: --plan: %v", err)
	}
	logger := zerolog.New(c.stderr).Level(level).With().Timestamp().Logger()
	if !cfg.Shadow.VerifyCutover {
		logger.Warn().Msg("shadow.verify_cutover is false: once a prefix is at 100% the replicas stop comparing it, and the controller judges it on old evidence only")
	}
	file := &rollout.ConfigFile{Path: *config, Getenv: c.getenv}
	ctrl := &rollout.Controller{
		Plan:      plan,
		Settings:  file.Settings,
		Evidence:  func(ctx context.Context) (*report.Snapshot, error) { return loadSnapshots(ctx, sources) },
		Judged:    func(s *report.Snapshot) *report.Snapshot { return fleetAcceptances(file.Path, c).Judged(s) },
		Applier:   file,
		StateFile: cmp.Or(*state, filepath.Join(filepath.Dir(*config), rolloutStateFile)),
		Logger:    logger,
	}
	if err := ctrl.Open(); err != nil {
		return c.usagef("rollout run: %v", err)
	}
	metrics := shadow.NewMetrics(0)
	if err := ctrl.Register(metrics.Registry()); err != nil {
		return c.fail(exitUsage, fmt.Errorf("rollout run: %w", err))
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return c.usagef("rollout run: --listen %s: %v", *listen, err)
	}
	srv := &http.Server{Handler: shadow.NewAdminHandler(shadow.Admin{Metrics: metrics, Rollout: ctrl.Handler(), Hosts: hosts}),
		ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info().Str("listen", ln.Addr().String()).Str("config", *config).Strs("replicas", sources).Msg("rollout controller running")
	ctrl.Run(ctx)
	shutCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	srv.Shutdown(shutCtx)
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return c.fail(exitDifferent, fmt.Errorf("rollout run: %w", err))
	}
	return exitOK
}

// reportURL is a replica's /parity/report.json: the URL as given when it has
// a path, else the admin listener's.
func reportURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("want an http(s) URL")
	}
	if strings.Trim(u.Path, "/") == "" {
		u.Path = "/parity/report.json"
	}
	return u.String(), nil
}

// fleetAcceptances are the accept: entries of the config in force now (none
// when it does not load).
func fleetAcceptances(path string, c *cli) report.RenderOptions {
	opts, err := c.acceptOptions(path, report.RenderOptions{})
	if err != nil {
		return report.RenderOptions{}
	}
	return opts
}
