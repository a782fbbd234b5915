package rollout

import (
	"fmt"
	"slices"
)

// Action is what a person asks of the controller.
type Action string

// The actions, as `parity rollout ACTION` and POST /parity/rollout/ACTION name them.
const (
	ActPause   Action = "pause"
	ActResume  Action = "resume"
	ActPromote Action = "promote"
	ActAbort   Action = "abort"
)

// Actions are every action.
var Actions = []Action{ActPause, ActResume, ActPromote, ActAbort}

// Do carries out a person's action, and returns the status after it; an
// action the state does not allow is ErrConflict, saying why.
//
//   - pause stops the autopilot's promotions where they are (a failure still
//     rolls back);
//   - resume lets a paused rollout move again, or starts a rolled-back one
//     again at the first weight of the first step not at 100%;
//   - promote moves to the next weight (or the next step) now, without the
//     gate, the minimum time or confirm_url: the person is the confirmation;
//   - abort rolls the current step back to 0 and stops, as a failure would.
//
// Resume and promote are refused while cutover.enabled is false.
func (c *Controller) Do(a Action, who string) (Status, error) {
	c.act.Lock()
	c.reload()
	err := c.do(a, who)
	if err == nil {
		c.commit()
	}
	c.act.Unlock()
	return c.Status(), err
}

func (c *Controller) do(a Action, who string) error {
	st := c.state()
	by := "by " + who
	w := st.Weights[st.Step-1]
	conflict := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrConflict, fmt.Sprintf(format, args...))
	}
	if (a == ActResume || a == ActPromote) && !c.switchOn() {
		return conflict("cutover.enabled is false (FASTIFY_ENABLED): set it to true first")
	}
	switch a {
	case ActPause:
		if !moving(st.State) {
			return conflict("the rollout is %s, not moving", st.State)
		}
		c.set(func(p *persisted) { p.State = Paused })
		c.emit(c.event(Pause, st, w, "paused "+by))
	case ActResume:
		switch st.State {
		case Paused:
			c.set(func(p *persisted) { p.State, p.Since = Progressing, c.now() })
			c.emit(c.event(Resume, st, w, "resumed "+by))
		case RolledBack:
			k := slices.IndexFunc(st.Weights, func(w int) bool { return w < 100 }) + 1
			if k == 0 {
				return conflict("every step is at 100%%")
			}
			from, to := st.Weights[k-1], max(c.settings().Ladder()[0], st.Weights[k-1])
			c.move(Resume, k, from, to, fmt.Sprintf("resumed %s: step %d starts again at %d%%", by, k, to), nil)
		default:
			return conflict("the rollout is %s: nothing to resume", st.State)
		}
	case ActPromote:
		if st.State == RolledBack || st.State == Done {
			return conflict("the rollout is %s: resume it first", st.State)
		}
		from, to, step, last := c.next(st, c.settings().Ladder())
		if last {
			c.set(func(p *persisted) { p.State = Done })
			c.emit(c.event(Finish, st, w, "promoted "+by+": every step is at 100%"))
			return nil
		}
		c.move(Promote, step, from, to, fmt.Sprintf("promoted %s: step %d %d%% → %d%%", by, step, from, to), nil)
	case ActAbort:
		if w == 0 {
			return conflict("step %d is at 0%%: nothing to abort", st.Step)
		}
		c.set(func(p *persisted) { p.Weights[p.Step-1], p.State, p.Failures, p.Since = 0, RolledBack, 0, c.now() })
		c.emit(c.event(Abort, st, 0, fmt.Sprintf("aborted %s: step %d back to 0%%", by, st.Step)))
	default:
		return fmt.Errorf("unknown action %q (want pause, resume, promote or abort)", a)
	}
	return nil
}

// Status is where the rollout stands, with its events.
func (c *Controller) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.st
	since := st.Since
	s := Status{
		Mode: "autopilot", State: st.State, Step: st.Step, Steps: len(c.gs),
		Enabled:     c.enabled,
		Weights:     shownWeights(c.gs, st.Weights, st.Step),
		Since:       &since,
		Failures:    st.Failures,
		Evaluations: c.evals.Load(),
		Verdict:     c.verdict,
		Reason:      c.reason,
		Events:      slices.Clone(st.Events),
	}
	if p := c.Plan.Step(st.Step); p != nil {
		s.StepName = p.Name
	}
	if s.Events == nil {
		s.Events = []Event{}
	}
	if since.IsZero() {
		s.Since = nil
	}
	return s
}
