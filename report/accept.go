package report

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parity-dev/parity/diff"
)

// Acceptance is a difference a team decided to live with, for a while: on its
// route, the difference group at Path (of Kind, or of any kind when empty) does
// not count against parity until the end of the day Until (UTC), and counts
// again after it. Reports still show it, marked accepted, with its reason and
// owner. Acceptances are applied when evidence is judged and rendered (Accept);
// snapshots keep the raw counts, so an expiry takes effect without collecting
// again.
type Acceptance struct {
	Route  string `yaml:"route" json:"route"` // a route key as reports show it: "GET /api/sessions/:id"
	Path   string `yaml:"path" json:"path"`   // a difference path as reports show it
	Kind   string `yaml:"kind" json:"kind,omitempty"`
	Reason string `yaml:"reason" json:"reason"`
	Owner  string `yaml:"owner" json:"owner"`
	Until  string `yaml:"until" json:"until"` // YYYY-MM-DD, the last day it holds
	Ticket string `yaml:"ticket" json:"ticket,omitempty"`
}

// AcceptedBy is an acceptance as a judged report shows it on a difference
// group; Expired marks one past its date, whose group counts again.
type AcceptedBy struct {
	Acceptance
	Expired bool `json:"expired,omitempty"`
	// Note says it in a line, as every report shows it: "accepted until …
	// by …: …", or the gate's "acceptance expired on …".
	Note string `json:"note"`
}

func acceptedBy(a Acceptance, now time.Time) AcceptedBy {
	by := AcceptedBy{Acceptance: a, Expired: !now.Before(a.Expires())}
	if by.Expired {
		by.Note = expiredReason(by)
	} else {
		by.Note = fmt.Sprintf("accepted until %s by %s: %s", a.Until, a.Owner, a.Reason)
	}
	if a.Ticket != "" {
		by.Note += " (" + a.Ticket + ")"
	}
	return by
}

const untilLayout = "2006-01-02"

// Check validates a, returning the field at fault (route, path, kind, reason,
// owner or until) with the error.
func (a Acceptance) Check() (field string, err error) {
	method, path, ok := strings.Cut(a.Route, " ")
	switch {
	case a.Route == "":
		return "route", errors.New("missing: a route key as reports show it, like \"GET /api/sessions/:id\"")
	case !ok || method == "" || strings.ToUpper(method) != method || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \t"):
		return "route", fmt.Errorf("%q is not a route key as reports show it (\"GET /api/sessions/:id\")", a.Route)
	}
	if f, err := checkAcceptedPath(a.Path); err != nil {
		return f, err
	}
	switch diff.Kind(a.Kind) {
	case "", diff.Changed, diff.Missing, diff.Extra, diff.Type:
	default:
		return "kind", fmt.Errorf("unknown kind %q (changed, missing, extra or type)", a.Kind)
	}
	if strings.TrimSpace(a.Reason) == "" {
		return "reason", errors.New("missing: say why the difference is acceptable")
	}
	if strings.TrimSpace(a.Owner) == "" {
		return "owner", errors.New("missing: who answers for the acceptance")
	}
	if a.Until == "" {
		return "until", errors.New("missing: the last day (YYYY-MM-DD) the difference is accepted")
	}
	if _, err := time.Parse(untilLayout, a.Until); err != nil {
		return "until", fmt.Errorf("%q is not a date YYYY-MM-DD", a.Until)
	}
	return "", nil
}

// checkAcceptedPath accepts exactly the paths a report can show: the syntax of
// ignore: without globs, since a report shows one pattern and an acceptance
// names one.
func checkAcceptedPath(p string) (string, error) {
	if p == "" {
		return "path", errors.New("missing: a difference path as reports show it (status, header.<Name>, body.<path>)")
	}
	if p != "status" && !strings.HasPrefix(p, "header.") && !strings.HasPrefix(p, "body.") && p != "body" {
		return "path", fmt.Errorf("%q is no difference path a report shows (status, header.<Name>, body.<path>)", p)
	}
	if _, err := diff.NewRules(diff.Ignore(p)); err != nil {
		return "path", err
	}
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '*', '?':
			return "path", fmt.Errorf("%q has a glob; a report shows each difference at one path, and an acceptance names one", p)
		}
	}
	return "", nil
}

// Expires is when a stops holding: the start of the day after Until, UTC.
// The zero time for an invalid Until.
func (a Acceptance) Expires() time.Time {
	d, err := time.Parse(untilLayout, a.Until)
	if err != nil {
		return time.Time{}
	}
	return d.AddDate(0, 0, 1)
}

// ExpiredOn is the day a stops holding, YYYY-MM-DD.
func (a Acceptance) ExpiredOn() string { return a.Expires().Format(untilLayout) }

// covers reports whether a names group g of route.
func (a *Acceptance) covers(route string, g *DiffGroup) bool {
	return a.Route == route && a.Path == g.Path && (a.Kind == "" || a.Kind == g.Kind)
}

// Accept returns a judged copy of s under the acceptances acc at now: each
// covered difference group is marked with its acceptance; on each route the
// mismatched requests whose every difference is accepted (and not expired)
// count as matched, and parity and its bound are recomputed; acceptances past
// their date whose difference was observed are listed on their route, for the
// gate to fail it. s is not modified. With no acceptances it returns s.
func Accept(s *Snapshot, acc []Acceptance, now time.Time) *Snapshot {
	if s == nil || len(acc) == 0 {
		return s
	}
	out := *s
	out.Routes = slices.Clone(s.Routes)
	for i := range out.Routes {
		acceptRoute(&out.Routes[i], acc, now)
	}
	return &out
}

func acceptRoute(r *RouteStats, acc []Acceptance, now time.Time) {
	var mine []*Acceptance
	for i := range acc {
		if acc[i].Route == r.Route {
			mine = append(mine, &acc[i])
		}
	}
	if len(mine) == 0 {
		return
	}
	r.Differences = slices.Clone(r.Differences)
	r.AcceptanceExpired = slices.Clone(r.AcceptanceExpired)
	active := map[GroupRef]bool{}
	for i := range r.Differences {
		g := &r.Differences[i]
		for _, a := range mine {
			if !a.covers(r.Route, g) {
				continue
			}
			by := acceptedBy(*a, now)
			g.Accepted = &by
			if by.Expired {
				if !slices.ContainsFunc(r.AcceptanceExpired, func(e AcceptedBy) bool { return e.Acceptance == *a }) {
					// one failure per acceptance, however many groups it covers
					r.AcceptanceExpired = append(r.AcceptanceExpired, by)
				}
			} else {
				active[GroupRef{Path: g.Path, Kind: g.Kind}] = true
			}
			break
		}
	}
	var credited int64
	for _, m := range r.MismatchSets {
		all := len(m.Groups) > 0
		for _, g := range m.Groups {
			all = all && active[g]
		}
		if all {
			credited += m.Count
		}
	}
	credited = min(credited, r.Compared-r.Matched)
	r.AcceptedMatched += credited
	r.Matched += credited
	r.finish()
}

// Expiring returns the acceptances that stop holding within d of now (and not
// before now), soonest first.
func Expiring(acc []Acceptance, now time.Time, d time.Duration) []Acceptance {
	var out []Acceptance
	for _, a := range acc {
		if e := a.Expires(); !e.IsZero() && !now.After(e) && e.Sub(now) <= d {
			out = append(out, a)
		}
	}
	slices.SortStableFunc(out, func(a, b Acceptance) int { return a.Expires().Compare(b.Expires()) })
	return out
}

// expiredReason is the gate's reason for a route whose acceptance has expired.
func expiredReason(e AcceptedBy) string {
	if e.Note != "" {
		return e.Note
	}
	kind := e.Kind
	if kind == "" {
		kind = "any kind"
	}
	return fmt.Sprintf("acceptance expired on %s: %s %s (accepted until %s by %s: %s)",
		e.ExpiredOn(), e.Path, kind, e.Until, e.Owner, e.Reason)
}
