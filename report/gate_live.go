package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/parity-dev/parity/report/buildinfo"
)

// ForDisplay is SnapshotSummary for a reader that judges what it shows (the
// live dashboard and its poll), with opts to render it by: no encoded
// histograms, which cost to make every few seconds, but opts carry each route's
// latency buckets, read under the route's lock, so that the gate judges latency
// on them as it would on the full snapshot. Like a summary, the snapshot cannot
// be merged or read back.
func (a *Aggregator) ForDisplay(opts RenderOptions) (*Snapshot, RenderOptions) {
	s := a.SnapshotSummary()
	held := make(heldLatency, len(s.Routes))
	a.mu.RLock()
	defer a.mu.RUnlock()
	for i := range s.Routes {
		r := a.routes[s.Routes[i].Route]
		if r == nil {
			continue
		}
		r.mu.Lock()
		held[r.route] = &[2]buckets{bucketsOf(r.primary), bucketsOf(r.candidate)}
		r.mu.Unlock()
	}
	opts.held = held
	return s, opts
}

// judgedReport is the JSON report: the snapshot, and each route's verdict with
// its evidence under the thresholds the report was rendered with. The verdicts
// are derived: reading the report back as a snapshot ignores them.
type judgedReport struct {
	*Snapshot
	Verdicts []judgedRoute  `json:"verdicts"`
	Gate     judgedGate     `json:"gate"`
	Build    buildinfo.Info `json:"build"`
}

type judgedRoute struct {
	Route string `json:"route"`
	// NeverMirrored: an auth route, shown apart rather than waiting for evidence
	// (the one rule, neverMirrored, so the dashboard need not keep its own).
	NeverMirrored bool `json:"never_mirrored,omitempty"`
	// Step is the first plan step that sends the route (the plan's prefixes
	// and the auth rule, report/route's), 0 for none or without a plan.
	Step int `json:"step,omitempty"`
	*Evidence
}

// judgedGate is the report's verdict as every renderer states it: with a
// plan, each step judged and the step the rollout waits on. The dashboard
// shows it as it is, and keeps no copy of the plan's or the auth rule.
type judgedGate struct {
	Verdict  Verdict    `json:"verdict"`
	Headline string     `json:"headline"`
	Next     int        `json:"next,omitempty"` // the step the rollout waits on, 0 when every one passes or no plan
	Steps    []stepView `json:"steps,omitempty"`
}

// writeJudged writes s as JSON with a verdicts list beside the routes — each
// route's verdict, reason and evidence (estimate, interval, samples and samples
// still needed, test by test) under opts' thresholds, and its plan step —, the
// gate's verdict, headline and steps ("gate"), and "build" naming the
// parity that rendered it. The live dashboard reads the verdicts from its poll;
// readers of snapshots ignore both.
func writeJudged(w io.Writer, s *Snapshot, opts RenderOptions) error {
	th := opts.thresholds()
	out := judgedReport{Snapshot: s, Verdicts: make([]judgedRoute, len(s.Routes)), Build: opts.build()}
	var v view
	evs := make(map[*RouteStats]*Evidence, len(s.Routes))
	for i := range s.Routes {
		r := &s.Routes[i]
		ev := routeEvidence(r, th, opts.held)
		evs[r] = ev
		never := ev.Verdict == Inconclusive && neverMirrored(r)
		out.Verdicts[i] = judgedRoute{Route: r.Route, Evidence: ev, NeverMirrored: never, Step: opts.stepOf(r.Route)}
		v.tally(ev.Verdict, never)
	}
	if err := v.judge(s, opts, len(s.Routes), evs); err != nil {
		return fmt.Errorf("render json: %w", err)
	}
	out.Gate = judgedGate{Verdict: v.Verdict, Headline: v.Headline, Next: v.nextStep(), Steps: v.Steps}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("render json: %w", err)
	}
	return nil
}
