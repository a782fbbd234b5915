package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/rollout"
	"github.com/parity-dev/parity/shadow"
)

const fleetSynopsis = "run (--config F | --configmap NS/NAME) (--replica URL... | --replica-dns HOST:PORT) [--plan F] [--state F] [--listen ADDR]"

// runFleet is `parity rollout run`: the one decider of a fleet of proxies. It
// judges the replicas' merged /parity/report.json as `parity gate` does and
// writes its decisions into the cutover: section of the config file they all
// reload; its own listener serves /parity/rollout, its actions and /metrics.
func runFleet(ctx context.Context, c *cli, args []string) int {
	flags := c.newFlags("rollout run", fleetSynopsis)
	config := flags.String("config", "", "config `file` every replica reloads; its cutover: section is written")
	configMap := flags.String("configmap", "", "in Kubernetes, the ConfigMap `NAMESPACE/NAME` the replicas mount, written through the API with the pod's service account (instead of --config)")
	configMapKey := flags.String("configmap-key", "parity.yaml", "the ConfigMap's `key` holding the config")
	var replicas stringList
	flags.Var(&replicas, "replica", "a replica's admin `URL` (http://10.0.0.7:9090) or its /parity/report.json (repeatable)")
	replicaDNS := flags.String("replica-dns", "", "`HOST:PORT` whose every address is a replica's admin listener, looked up at each evaluation (a headless Service)")
	planPath := planFlag(flags)
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
	if (*config == "") == (*configMap == "") || (len(replicas) == 0) == (*replicaDNS == "") {
		return c.usagef("rollout run: want one of --config and --configmap, and --replica or --replica-dns (see 'parity rollout run -h')")
	}
	level, ok := logLevels[*logLevel]
	if !ok {
		return c.usagef("rollout run: --log-level %q: want debug, info, warn or error", *logLevel)
	}
	file := &rollout.ConfigFile{Path: *config, Getenv: c.getenv}
	var stateStore rollout.Store
	if *configMap != "" {
		cm, err := rollout.InClusterConfigMap(*configMap, *configMapKey)
		if err != nil {
			return c.usagef("rollout run: --configmap %v", err)
		}
		file.Path, file.Store = "configmap "+*configMap+" "+*configMapKey, cm
		if *state == "" {
			stateStore = cm.Other(rolloutStateFile)
		}
	}
	cfg, err := file.Load()
	if err != nil {
		return c.usagef("rollout run: %s", oneLine(err.Error()))
	}
	if cfg.Rollout.Autopilot() {
		return c.usagef("rollout run: %s: rollout.mode is autopilot, so every replica would decide for itself; set mode: manual and let this controller decide", file.Path)
	}
	sources := make([]string, len(replicas))
	for i, r := range replicas {
		if sources[i], err = reportURL(r); err != nil {
			return c.usagef("rollout run: --replica %q: %v", r, err)
		}
	}
	if *replicaDNS != "" {
		if _, _, err := net.SplitHostPort(*replicaDNS); err != nil {
			return c.usagef("rollout run: --replica-dns %q: want HOST:PORT", *replicaDNS)
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
	ctrl := &rollout.Controller{
		Plan: plan,
		Evidence: func(ctx context.Context) (*report.Snapshot, error) {
			urls, err := replicaURLs(ctx, sources, *replicaDNS, net.DefaultResolver.LookupHost)
			if err != nil {
				return nil, err
			}
			return loadSome(ctx, urls)
		},
		StateStore: stateStore,
		StateFile:  stateFile(*state, *config),
		Logger:     logger,
	}
	file.Attach(ctrl)
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

// loadSome merges the snapshots that load; the error names those that did
// not (partial evidence: the controller rolls back on it, never promotes),
// and no snapshot comes back when none loaded.
func loadSome(ctx context.Context, urls []string) (*report.Snapshot, error) {
	var snaps []*report.Snapshot
	var errs []error
	for _, u := range urls {
		s, err := loadSnapshot(ctx, u)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		snaps = append(snaps, s)
	}
	if len(snaps) == 0 {
		return nil, fmt.Errorf("no replica answered: %w", errors.Join(errs...))
	}
	merged, err := report.Merge(snaps...)
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return merged, fmt.Errorf("%d of %d replicas did not answer: %w", len(errs), len(urls), errors.Join(errs...))
	}
	return merged, nil
}

// stateFile is the fleet's state file: --state, or beside --config; none
// beside a ConfigMap (the state is a key of it).
func stateFile(state, config string) string {
	if state != "" || config == "" {
		return state
	}
	return filepath.Join(filepath.Dir(config), rolloutStateFile)
}

// replicaURLs are the replicas' report URLs: those given, and one for each
// address dns (HOST:PORT) has now.
func replicaURLs(ctx context.Context, given []string, dns string, lookup func(context.Context, string) ([]string, error)) ([]string, error) {
	if dns == "" {
		return given, nil
	}
	host, port, _ := net.SplitHostPort(dns)
	addrs, err := lookup(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("look up replicas %s: %v", host, err)
	}
	slices.Sort(addrs)
	out := slices.Clone(given)
	for _, a := range addrs {
		out = append(out, "http://"+net.JoinHostPort(a, port)+"/parity/report.json")
	}
	return out, nil
}
