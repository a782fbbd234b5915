package rollout

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// Source returns the evidence to judge: the live snapshot of the proxy, or the
// replicas' merged. A snapshot with an error is partial (a replica did not
// answer): judged for rollbacks, never for a promotion; no snapshot is no
// decision.
type Source func(ctx context.Context) (*report.Snapshot, error)

// ErrConflict is an action that the rollout's state does not allow (resuming
// what runs, promoting what is done); its message says why.
var ErrConflict = errors.New("not now")

// Controller drives the plan's steps through the ladder of weights on the
// gate's verdicts. Open restores its state and applies it; Run evaluates every
// interval until its context ends; Pause, Resume, Promote and Abort are a
// person's actions. It is safe for concurrent use.
type Controller struct {
	// Plan gives the steps and the gate's thresholds. Required.
	Plan *report.Plan
	// Thresholds, when set, replaces the plan's.
	Thresholds *report.Thresholds
	// Settings returns the rollout: section in force, read at each evaluation
	// (a reloaded ladder or interval applies from the next); nil = defaults.
	Settings func() rules.RolloutConfig
	// Evidence returns the snapshot judged. Required.
	Evidence Source
	// Judged applies the acceptances in force to a snapshot before it is
	// judged (report.RenderOptions.Judged); nil = none.
	Judged func(*report.Snapshot) *report.Snapshot
	// Applier puts each decision in force. Required.
	Applier Applier
	// Reload, when set, is called once at the start of every evaluation
	// (after the evidence is read) and of every action and Open, before
	// Settings, Judged and the Applier are asked: a config kept in a file or
	// a ConfigMap is read there, once, and they answer from that read
	// (ConfigFile.Attach).
	Reload func()
	// Reassert puts the cutover in force at every evaluation, not only when it
	// changed: for a config others may write too (the fleet's file or
	// ConfigMap, re-applied by hand), so that the controller's decision stands.
	Reassert bool
	// StateFile keeps the state across restarts; "" = kept in memory only.
	StateFile string
	// StateStore, when set, keeps the state instead of StateFile (a key of
	// the fleet's ConfigMap); its Read answers nil, nil while there is none.
	StateStore Store
	// Logger receives every event as a JSON line; zero = zerolog.Nop().
	Logger zerolog.Logger
	// Client calls confirm_url and the webhook; nil = a client with
	// HookTimeout.
	Client *http.Client
	// Now is the clock; nil = time.Now.
	Now func() time.Time

	act sync.Mutex // serialises decisions: evaluations and actions
	mu  sync.Mutex // guards st and applied for readers
	st  persisted
	gs  [][]string

	win      window              // the evidence when the current weight began; c.act is held
	applied  *rules.CutoverState // last put in force, nil when it must be (again)
	holdKind string              // the kind of the last hold event, "" after any other event
	verdict  report.Verdict      // of the last evaluation, under mu
	reason   string
	enabled  bool // the master switch as last read, under mu
	evals    atomic.Int64
	deciding int64 // the evaluation under way, 0 for a person's action; c.act is held
	m        *metrics
	hooks    chan Event
}

// HookTimeout bounds a call of confirm_url or the webhook.
const HookTimeout = 5 * time.Second

// Open checks the controller, restores its state from StateFile (a state
// written for another plan is an error) or starts at the first weight of
// step 1, and applies it.
func (c *Controller) Open() error {
	if c.Plan == nil || c.Evidence == nil || c.Applier == nil {
		return errors.New("rollout controller needs a plan, evidence and an applier")
	}
	c.gs = groups(c.Plan)
	c.m = newMetrics()
	c.hooks = make(chan Event, 64)
	c.reload()
	st, err := c.restore()
	if err != nil {
		return err
	}
	c.act.Lock()
	defer c.act.Unlock()
	c.mu.Lock()
	c.st = *st
	c.mu.Unlock()
	c.switchOn()
	if st.Events == nil {
		c.emit(Event{Type: Advance, Step: 1, Routes: c.gs[0], From: 0, To: c.st.Weights[0],
			Reason: "the autopilot starts step 1, " + c.stepName(1), Time: c.now()})
	}
	c.commit()
	return nil
}

func (c *Controller) restore() (*persisted, error) {
	ladder := c.settings().Ladder()
	fresh := &persisted{Version: stateVersion, Groups: c.gs, State: Progressing, Step: 1,
		Weights: make([]int, len(c.gs)), Since: c.now()}
	fresh.Weights[0] = ladder[0]
	st := c.stateStore()
	if st == nil {
		return fresh, nil
	}
	p, err := readState(st, c.stateName())
	if err != nil {
		return nil, err
	}
	if p == nil {
		return fresh, nil
	}
	if !sameGroups(p.Groups, c.gs) || len(p.Weights) != len(c.gs) || p.Step < 1 || p.Step > len(c.gs) {
		return nil, fmt.Errorf("rollout state %s was written for another plan (steps %v, now %v); move it away to start over", c.stateName(), p.Groups, c.gs)
	}
	return p, nil
}

// stateStore is where the state is kept, nil for nowhere.
func (c *Controller) stateStore() Store {
	switch {
	case c.StateStore != nil:
		return c.StateStore
	case c.StateFile != "":
		return optionalFile(c.StateFile)
	}
	return nil
}

func (c *Controller) stateName() string {
	if c.StateStore != nil {
		return "in its store"
	}
	return c.StateFile
}

func (c *Controller) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Controller) reload() {
	if c.Reload != nil {
		c.Reload()
	}
}

func (c *Controller) settings() rules.RolloutConfig {
	if c.Settings == nil {
		return rules.RolloutConfig{}
	}
	return c.Settings()
}

func (c *Controller) thresholds() report.Thresholds {
	if c.Thresholds != nil {
		return *c.Thresholds
	}
	return c.Plan.Thresholds
}

func (c *Controller) stepName(n int) string {
	if st := c.Plan.Step(n); st != nil {
		return fmt.Sprintf("%q", st.Name)
	}
	return ""
}

// Run evaluates every interval until ctx ends, and sends events to the
// webhook meanwhile. Open must have succeeded.
func (c *Controller) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { c.sendHooks(ctx) })
	t := time.NewTimer(c.settings().IntervalDuration())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := c.Evaluate(ctx); err != nil && ctx.Err() == nil {
				c.logger().Warn().Str("error", err.Error()).Msg("rollout evaluation skipped")
			}
			t.Reset(c.settings().IntervalDuration())
		}
	}
}

func (c *Controller) logger() *zerolog.Logger { return &c.Logger }

// switchOn reads the master switch and keeps it for Status.
func (c *Controller) switchOn() bool {
	on := c.Applier.Enabled()
	c.mu.Lock()
	c.enabled = on
	c.mu.Unlock()
	return on
}

// moving reports whether the rollout may advance by itself.
func moving(s State) bool { return s == Progressing || s == Holding }

// Evaluate makes one decision on the evidence now: see the package comment.
// An error (the evidence could not be read) makes no decision.
func (c *Controller) Evaluate(ctx context.Context) error {
	c.act.Lock()
	defer c.act.Unlock()
	c.deciding = c.evals.Add(1)
	defer func() { c.deciding = 0 }()
	snap, partial := c.Evidence(ctx)
	if snap == nil {
		if partial == nil {
			partial = errors.New("no snapshot")
		}
		return fmt.Errorf("read evidence: %w", partial)
	}
	c.reload()
	set := c.settings()
	st := c.state()
	whole := partial == nil
	base, span := c.windowed(snap, st.Since, whole)
	defer c.rewindow(snap, st.Since, whole)

	n := st.Step
	for i, w := range st.Weights {
		if w > 0 {
			n = max(n, i+1)
		}
	}
	j, err := c.judge(snap, base, span, n)
	if err != nil {
		return err
	}
	res := j.total
	c.mu.Lock()
	c.verdict, c.reason = j.verdict()
	c.mu.Unlock()
	var bad []int // steps on the candidate whose routes fail
	for k := 1; k <= n; k++ {
		if len(j.failing[k]) > 0 && st.Weights[k-1] > 0 {
			bad = append(bad, k)
		}
	}
	defer c.commit()
	if len(bad) > 0 {
		c.failed(&st, bad, j, set.FailureThreshold())
		return nil
	}
	c.set(func(p *persisted) { p.Failures = 0 })
	if !c.switchOn() {
		if moving(st.State) {
			c.set(func(p *persisted) { p.State = Paused })
			c.emit(c.event(Pause, st, st.Weights[st.Step-1], "cutover.enabled is false (FASTIFY_ENABLED): nothing goes to the candidate and the autopilot stops; a person resumes it"))
		}
		return nil
	}
	if !moving(st.State) {
		return nil
	}
	cur := routesOf(res, st.Step)
	if len(j.failing) > 0 {
		// Routes failing that the candidate does not serve: wait, serve nothing more.
		c.hold(st, "failing", fmt.Sprintf("step %d holds: routes it does not send yet fail: %s", st.Step, reasonOf(j.failures())), nil)
		return nil
	}
	if res.Verdict == report.Inconclusive {
		c.hold(st, "inconclusive", fmt.Sprintf("step %d holds at %d%%: %s", st.Step, st.Weights[st.Step-1], inconclusiveReason(res)), evidenceOf(cur))
		return nil
	}
	if partial != nil {
		// Part of the evidence is missing (a replica did not answer): enough
		// to roll back on, not to promote.
		c.hold(st, "partial", fmt.Sprintf("step %d holds: part of the evidence is missing: %v", st.Step, partial), nil)
		return nil
	}
	if wait := set.MinTimeDuration() - c.now().Sub(st.Since); wait > 0 {
		c.set(func(p *persisted) { p.State = Progressing })
		return nil
	}
	from, to, step, last := c.next(st, set.Ladder())
	if last {
		c.set(func(p *persisted) { p.State = Done })
		c.emit(Event{Type: Finish, Step: st.Step, Routes: c.gs[st.Step-1], From: from, To: from, Time: c.now(),
			Reason: fmt.Sprintf("every step is at 100%% and the gate passes: %s", res.Reason), Evidence: evidenceOf(cur)})
		return nil
	}
	if u := set.ConfirmURL; u != "" {
		if err := c.confirm(ctx, u, step, from, to); err != nil {
			c.hold(st, "confirm", fmt.Sprintf("step %d passes, but confirm_url did not confirm %d%% → %d%%: %v", step, from, to, err), evidenceOf(cur))
			return nil
		}
	}
	reason := fmt.Sprintf("step %d passes after %s at %d%%: %s%s", st.Step, c.now().Sub(st.Since).Round(time.Second), st.Weights[st.Step-1], res.Reason, j.windowNote())
	c.move(Advance, step, from, to, reason, evidenceOf(cur))
	return nil
}

// next is where the rollout goes from st: the next weight of the current
// step, or the next step not yet at 100% at its first weight; last when every
// step is at 100%.
func (c *Controller) next(st persisted, ladder []int) (from, to, step int, last bool) {
	w := st.Weights[st.Step-1]
	if w < 100 {
		for _, l := range ladder {
			if l > w {
				return w, l, st.Step, false
			}
		}
		return w, 100, st.Step, false
	}
	for k := 1; k <= len(st.Weights); k++ {
		if st.Weights[k-1] < 100 {
			return st.Weights[k-1], max(ladder[0], st.Weights[k-1]), k, false
		}
	}
	return w, w, st.Step, true
}

// move puts step at weight to, from from, as a decision of type typ.
func (c *Controller) move(typ EventType, step, from, to int, reason string, ev []Evidence) {
	c.set(func(p *persisted) {
		p.Step, p.Weights[step-1], p.Since, p.State, p.Failures = step, to, c.now(), Progressing, 0
	})
	c.emit(Event{Type: typ, Step: step, Routes: c.gs[step-1], From: from, To: to, Reason: reason, Evidence: ev, Time: c.now()})
}

// failed handles routes failing on the candidate: a hold until the threshold
// of consecutive failures, then the failing steps and the current one back to 0.
func (c *Controller) failed(st *persisted, bad []int, j *judgement, threshold int) {
	failing := j.failing
	var all []report.RouteVerdict
	for _, k := range bad {
		all = append(all, failing[k]...)
	}
	failures := st.Failures + 1
	if failures < threshold {
		c.set(func(p *persisted) { p.Failures = failures })
		c.hold(*st, fmt.Sprintf("failing %d", failures), fmt.Sprintf("failing check %d of %d: %s", failures, threshold, reasonOf(all)), j.evidence(all))
		return
	}
	targets := slices.Clone(bad)
	if moving(st.State) && st.Weights[st.Step-1] > 0 && !slices.Contains(targets, st.Step) {
		targets = append(targets, st.Step)
		slices.Sort(targets)
	}
	for _, k := range targets {
		from := st.Weights[k-1]
		c.set(func(p *persisted) { p.Weights[k-1], p.State, p.Failures, p.Since = 0, RolledBack, 0, c.now() })
		why := reasonOf(failing[k])
		if len(failing[k]) == 0 {
			why = "an earlier step fails: " + reasonOf(all)
		}
		c.emit(Event{Type: Rollback, Step: k, Routes: c.gs[k-1], From: from, To: 0, Time: c.now(),
			Reason: fmt.Sprintf("step %d rolled back after %d failing check(s): %s", k, failures, why), Evidence: j.evidence(all)})
	}
}

// hold records a hold once per kind: repeated evaluations that hold for the
// same kind of reason add no event.
func (c *Controller) hold(st persisted, kind, reason string, ev []Evidence) {
	if moving(st.State) {
		c.set(func(p *persisted) { p.State = Holding })
	}
	if c.holdKind == kind {
		return
	}
	e := c.event(Hold, st, st.Weights[st.Step-1], reason)
	e.Evidence = ev
	c.emit(e)
	c.holdKind = kind
}

func (c *Controller) event(typ EventType, st persisted, to int, reason string) Event {
	return Event{Type: typ, Step: st.Step, Routes: c.gs[st.Step-1], From: st.Weights[st.Step-1], To: to, Reason: reason, Time: c.now()}
}

// state is a copy of the state, taken under its lock.
func (c *Controller) state() persisted {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	st.Weights = slices.Clone(st.Weights)
	st.Events = slices.Clone(st.Events)
	return st
}

// set changes the state under its lock.
func (c *Controller) set(f func(*persisted)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.st)
}

// commit puts the state's cutover in force when it changed (or the last
// attempt failed) and writes the state file. c.act is held.
func (c *Controller) commit() {
	st := c.state()
	want := cutoverOf(c.gs, st.Weights)
	c.mu.Lock()
	stale := c.Reassert || c.applied == nil || !sameCutover(*c.applied, want)
	c.mu.Unlock()
	c.m.observe(st.Step, shownWeights(c.gs, st.Weights, st.Step))
	if stale {
		if err := c.Applier.SetCutover(&want); err != nil {
			c.logger().Error().Str("error", err.Error()).Msg("rollout decision not applied; retried at the next evaluation")
		} else {
			c.mu.Lock()
			c.applied = &want
			c.mu.Unlock()
		}
	}
	if s := c.stateStore(); s != nil {
		if err := writeState(s, &st); err != nil {
			c.logger().Error().Str("error", err.Error()).Msg("rollout state not written")
		}
	}
}

func sameCutover(a, b rules.CutoverState) bool {
	return slices.Equal(a.Routes, b.Routes) && a.Rest == b.Rest && len(a.Weights) == len(b.Weights) && func() bool {
		for k, v := range a.Weights {
			if w, ok := b.Weights[k]; !ok || w != v {
				return false
			}
		}
		return true
	}()
}

// emit records an event: in the state, the log, the metrics and the webhook's queue.
func (c *Controller) emit(e Event) {
	if e.Type != Hold {
		c.holdKind = ""
	}
	e.Evaluation = c.deciding
	c.set(func(p *persisted) {
		p.Events = append(p.Events, e)
		if len(p.Events) > maxEvents {
			p.Events = slices.Delete(p.Events, 0, len(p.Events)-maxEvents)
		}
	})
	c.logger().Info().Str("event", string(e.Type)).Int("step", e.Step).Strs("routes", e.Routes).
		Int("from", e.From).Int("to", e.To).Str("reason", e.Reason).Interface("evidence", e.Evidence).Msg("rollout")
	c.m.events.WithLabelValues(string(e.Type)).Inc()
	select {
	case c.hooks <- e:
	default:
		c.logger().Warn().Str("event", string(e.Type)).Msg("rollout webhook queue full; event not sent")
	}
}

// routesOf returns the verdicts of step k's routes.
func routesOf(res *report.GateResult, k int) []report.RouteVerdict {
	var out []report.RouteVerdict
	for _, rv := range res.Routes {
		if rv.Step == k {
			out = append(out, rv)
		}
	}
	return out
}

// evidenceOf turns the gate's verdicts into events' evidence.
func evidenceOf(rvs []report.RouteVerdict) []Evidence {
	out := make([]Evidence, 0, len(rvs))
	for _, rv := range rvs {
		e := Evidence{Route: rv.Route, Step: rv.Step, Verdict: rv.Verdict, Reason: rv.Reason}
		if ev := rv.Evidence; ev != nil {
			e.Compared, e.Parity, e.Interval = ev.Compared, ev.Parity.Estimate, [2]float64{ev.Parity.Lower, ev.Parity.Upper}
		}
		if rv.Stats != nil && len(rv.Stats.Differences) > 0 {
			d := rv.Stats.Differences[0]
			e.Difference = fmt.Sprintf("%s %s ×%d", d.Path, d.Kind, d.Count)
		}
		out = append(out, e)
	}
	return out
}

// reasonOf names each failing route with the gate's reason: its estimate,
// interval and top difference.
func reasonOf(rvs []report.RouteVerdict) string {
	var parts []string
	for _, rv := range rvs {
		if rv.Verdict == report.Fail {
			parts = append(parts, rv.Route+": "+rv.Reason)
		}
	}
	return strings.Join(parts, "; ")
}

// inconclusiveReason names the first route that lacks evidence.
func inconclusiveReason(res *report.GateResult) string {
	for _, rv := range res.Routes {
		if rv.Verdict == report.Inconclusive {
			return fmt.Sprintf("%s (%s: %s)", res.Reason, rv.Route, rv.Reason)
		}
	}
	return res.Reason
}
