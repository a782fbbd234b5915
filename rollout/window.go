package rollout

import (
	"strings"
	"time"

	"github.com/parity-dev/parity/report"
)

// Evidence over a window as well as in total.
//
// The totals of a route with a long history move slowly: after a million
// matched comparisons, a candidate that starts failing needs tens of thousands
// of mismatches before the total's confidence sequence leaves the threshold.
// So each evaluation judges twice: the total, and the window since the current
// weight began (or a person's last action; report.Delta of the snapshot then
// and now). A route on the candidate that fails in either fails; a promotion
// needs the total to pass and the window not to fail. The window lives in
// memory: after a restart, or when the counts went down (a proxy restarted
// without its snapshot), it starts afresh and the total alone is judged until
// the next evaluation. report.JudgeWindow judges the window without encoding
// its latency histograms.

// window is where the current window began.
type window struct {
	base  *report.Snapshot // the raw evidence read then; nil before it is taken
	since time.Time        // the state's Since it belongs to
	at    time.Time        // when base was read
}

// windowed returns the raw evidence the current window began with and how
// long ago, or nil when there is none yet: the window (re)starts at raw when
// the current weight began after it (since moved). Partial evidence (a replica
// did not answer) has no window and leaves it where it began: less the
// missing replica's counts, a window could show parity the candidate never
// had, and as a start it would put the replica's whole history into the next
// window. c.act is held.
func (c *Controller) windowed(raw *report.Snapshot, since time.Time, whole bool) (*report.Snapshot, time.Duration) {
	if !whole {
		return nil, 0
	}
	if c.win.base != nil && c.win.since.Equal(since) {
		return c.win.base, c.now().Sub(c.win.at)
	}
	c.startWindow(raw, since, true)
	return nil, 0
}

// rewindow starts the window at raw when the evaluation moved the current
// weight (the state's Since is no longer before). c.act is held.
func (c *Controller) rewindow(raw *report.Snapshot, before time.Time, whole bool) {
	c.mu.Lock()
	since := c.st.Since
	c.mu.Unlock()
	if !since.Equal(before) {
		c.startWindow(raw, since, whole)
	}
}

func (c *Controller) startWindow(raw *report.Snapshot, since time.Time, whole bool) {
	c.win = window{}
	if whole {
		c.win = window{base: raw, since: since, at: c.now()}
	}
}

// judgement is an evaluation's two verdicts and the routes failing in either.
type judgement struct {
	total  *report.GateResult
	window *report.GateResult // nil without a window
	span   string             // the window's length, "2m"
	// failing are the failing routes by step: the total's, then those only
	// the window fails, whose reasons begin "in the last 2m: ".
	failing  map[int][]report.RouteVerdict
	windowed map[string]bool // route keys failing in the window only
}

// judge judges steps 1..n on raw in total and, when there is a window (base,
// begun span ago), on the window; counts that went down since base (a restart
// without the snapshot, a reset) start the window afresh at raw, and the total
// alone is judged this time.
func (c *Controller) judge(raw, base *report.Snapshot, span time.Duration, n int) (*judgement, error) {
	snap := raw
	if c.Judged != nil {
		snap = c.Judged(raw)
	}
	res, err := report.Judge(snap, c.Plan, n, c.thresholds())
	if err != nil {
		return nil, err
	}
	j := &judgement{total: res, failing: map[int][]report.RouteVerdict{}, windowed: map[string]bool{}}
	failed := map[string]bool{}
	for _, rv := range res.Routes {
		if rv.Verdict == report.Fail {
			j.failing[rv.Step] = append(j.failing[rv.Step], rv)
			failed[rv.Route] = true
		}
	}
	if base == nil {
		return j, nil
	}
	if j.window, err = report.JudgeWindow(raw, base, c.Judged, c.Plan, n, c.thresholds()); err != nil {
		c.logger().Warn().Str("error", err.Error()).Msg("rollout window starts again; the total alone is judged this time")
		c.startWindow(raw, c.win.since, true)
		j.window = nil
		return j, nil
	}
	j.span = spanText(span)
	for _, rv := range j.window.Routes {
		if rv.Verdict != report.Fail || failed[rv.Route] {
			continue
		}
		rv.Reason = j.windowPrefix() + rv.Reason
		j.failing[rv.Step] = append(j.failing[rv.Step], rv)
		j.windowed[rv.Route] = true
	}
	return j, nil
}

func (j *judgement) windowPrefix() string { return "in the last " + j.span + ": " }

// verdict is the evaluation's verdict and reason as Status shows them: the
// total's, unless only the window fails.
func (j *judgement) verdict() (report.Verdict, string) {
	if j.total.Verdict != report.Fail && j.window != nil && j.window.Verdict == report.Fail {
		return report.Fail, j.windowPrefix() + j.window.Reason
	}
	return j.total.Verdict, j.total.Reason
}

// failures lists every failing route, by step.
func (j *judgement) failures() []report.RouteVerdict {
	var out []report.RouteVerdict
	for k := 1; k <= j.total.Step; k++ {
		out = append(out, j.failing[k]...)
	}
	return out
}

// evidence is evidenceOf, marking the routes the window decided.
func (j *judgement) evidence(rvs []report.RouteVerdict) []Evidence {
	out := evidenceOf(rvs)
	for i := range out {
		if j.windowed[out[i].Route] {
			out[i].Window = j.span
		}
	}
	return out
}

// windowNote is what a promotion's reason says of the window.
func (j *judgement) windowNote() string {
	if j.window == nil {
		return ""
	}
	return "; " + j.windowPrefix() + j.window.Reason
}

// spanText writes d to the second, without trailing zero units: "2m", "1h5m", "45s".
func spanText(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
