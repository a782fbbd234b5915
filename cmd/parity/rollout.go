package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
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
	"github.com/parity-dev/parity/shadow/rules"
)

// rolloutStateFile is the autopilot's state file, beside the snapshot.
const rolloutStateFile = "parity-rollout.json"

// autopilotOf wires the rollout controller into the proxy when --autopilot or
// rollout.mode: autopilot asks for it: judged on the proxy's own aggregator,
// applied through the live configuration, its state beside the snapshot. It
// puts the controller's cutover in force before the proxy serves. Without the
// autopilot, /parity/rollout says the mode is manual.
func (f *proxyFlags) autopilotOf(srv *shadow.Server, live *rules.Live, logger zerolog.Logger) (*rollout.Controller, error) {
	cfg, _ := live.Current()
	if !f.autopilot && !cfg.Rollout.Autopilot() {
		srv.Admin.Rollout = rollout.ManualHandler(func() (rules.CutoverConfig, bool) {
			cfg, _ := live.Current()
			return cfg.Cutover, cfg.Cutover.Enabled
		})
		return nil, nil
	}
	agg, opts := srv.Aggregator, srv.RenderOptions
	ctrl := &rollout.Controller{
		Plan:     opts.Plan,
		Settings: func() rules.RolloutConfig { cfg, _ := live.Current(); return cfg.Rollout },
		Evidence: func(context.Context) (*report.Snapshot, error) { return agg.Snapshot(), nil },
		Judged:   opts.Judged,
		Applier:  live,
		Logger:   logger,
	}
	if f.snapshot != "" {
		ctrl.StateFile = filepath.Join(filepath.Dir(f.snapshot), rolloutStateFile)
	} else {
		logger.Warn().Msg("autopilot without --snapshot: its state is lost on restart")
	}
	if err := ctrl.Open(); err != nil {
		return nil, fmt.Errorf("autopilot: %w", err)
	}
	if err := ctrl.Register(srv.Proxy.Metrics.Registry()); err != nil {
		return nil, fmt.Errorf("autopilot metrics: %w", err)
	}
	srv.Admin.Rollout = ctrl.Handler()
	srv.RenderOptions.Autopilot = true
	return ctrl, nil
}

const rolloutSynopsis = "status|pause|resume|promote|abort --admin URL | run --config F --replica URL..."

// runRollout is `parity rollout`: a person's view of and actions on the
// autopilot at an admin listener (a proxy's, or the fleet controller's), and
// `parity rollout run`, the one decider of a fleet.
func runRollout(ctx context.Context, c *cli, args []string) int {
	if len(args) > 0 && args[0] == "run" {
		return runFleet(ctx, c, args[1:])
	}
	if c.onFlags != nil { // completion asks for every flag, run's too
		runFleet(ctx, c, []string{"-h"})
	}
	flags := c.newFlags("rollout", rolloutSynopsis)
	admin := flags.String("admin", "http://127.0.0.1:9090", "admin listener `URL` of the proxy (or of parity rollout run)")
	asJSON := flags.Bool("json", false, "print the status as JSON")
	pos, code, ok := c.parse(flags, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return c.usagef("rollout: want one of status, pause, resume, promote, abort or run (see 'parity rollout -h')")
	}
	action := pos[0]
	base, err := url.Parse(strings.TrimSuffix(*admin, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return c.usagef("rollout: --admin %q: want the admin listener's http(s) URL", *admin)
	}
	var st rollout.Status
	switch action {
	case "status":
		err = rolloutCall(ctx, http.MethodGet, base.String()+"/parity/rollout", "", &st)
	case "pause", "resume", "promote", "abort":
		err = rolloutCall(ctx, http.MethodPost, base.String()+"/parity/rollout/"+action, c.getenv("USER"), &st)
	default:
		return c.usagef("rollout: unknown action %q: want status, pause, resume, promote, abort or run", action)
	}
	if err != nil {
		return c.fail(exitDifferent, fmt.Errorf("rollout %s: %s", action, oneLineError(err)))
	}
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(st)
		return exitOK
	}
	printRollout(c.stdout, st)
	return exitOK
}

// rolloutCall sends one request to the admin listener and decodes the status
// it answers; a refusal (409) is an error with the listener's reason.
func rolloutCall(ctx context.Context, method, u, user string, st *rollout.Status) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader("{}")
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		if user != "" {
			req.Header.Set("X-Parity-User", user) // who acted, in the event's reason
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return shadow.WithoutURL(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct{ Error string }
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("%s answered %s: %s", u, resp.Status, bytes.TrimSpace(data[:min(len(data), 200)]))
	}
	if err := json.Unmarshal(data, st); err != nil {
		return fmt.Errorf("%s: not a rollout status: %v", u, err)
	}
	return nil
}

// printRollout writes the status for a person: where it stands, the weights
// and the last events.
func printRollout(w io.Writer, st rollout.Status) {
	if st.Mode != "autopilot" {
		fmt.Fprintf(w, "mode %s: the autopilot is off; cutover: decides\n", st.Mode)
		return
	}
	fmt.Fprintf(w, "mode %s, %s at step %d of %d (%s)", st.Mode, st.State, st.Step, st.Steps, st.StepName)
	if !st.Enabled {
		fmt.Fprint(w, " — cutover.enabled is false: nothing goes to the candidate")
	}
	fmt.Fprintln(w)
	for _, pre := range sortedKeys(st.Weights) {
		fmt.Fprintf(w, "  %-24s %3d%%\n", pre, st.Weights[pre])
	}
	evs := st.Events[max(0, len(st.Events)-10):]
	for _, e := range evs {
		fmt.Fprintf(w, "%s  %-8s step %d %d%% → %d%%  %s\n", e.Time.UTC().Format(time.RFC3339), e.Type, e.Step, e.From, e.To, e.Reason)
	}
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
