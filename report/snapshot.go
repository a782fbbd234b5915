package report

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"time"

	"github.com/parity-dev/parity/report/route"
)

// SnapshotVersion is the version of the snapshot JSON this package writes and reads.
const SnapshotVersion = 1

// OtherRoute is the route that collects traffic once the distinct-route cap is
// reached (and observations without a route).
const OtherRoute = "OTHER"

// Snapshot is the aggregated state of one or more proxies or replays: what the
// admin endpoint serves, what --snapshot writes, what every renderer and the gate
// read. Routes are sorted by route key.
type Snapshot struct {
	Version int       `json:"version"`
	Started time.Time `json:"started"` // RFC 3339, UTC
	Updated time.Time `json:"updated"` // RFC 3339, UTC
	Limits  Limits    `json:"limits"`
	// RoutesOverflowed counts observations folded into OtherRoute because the
	// distinct-route cap was reached.
	RoutesOverflowed int64        `json:"routes_overflowed"`
	Routes           []RouteStats `json:"routes"`
	// Series is the traffic of the last SeriesMinutes minutes over every route,
	// one point per minute that saw any, oldest first.
	Series []SeriesPoint `json:"series,omitempty"`
	// Learned lists the route templates learned from traffic (see LearnedRoute),
	// sorted by template.
	Learned []LearnedRoute `json:"learned,omitempty"`
	// HistogramsOmitted marks a summary (Aggregator.SnapshotSummary): quantiles
	// without the encoded histograms, for display only; it cannot be read back
	// or merged.
	HistogramsOmitted bool `json:"histograms_omitted,omitempty"`
}

// RouteStats is one route's statistics.
type RouteStats struct {
	Route  string `json:"route"`  // "GET /api/sessions/:id", or OtherRoute
	Method string `json:"method"` // "" for OtherRoute

	// Compared counts requests both backends answered; Matched of them had no
	// difference left after rules and noise, Mismatched had some.
	Compared   int64 `json:"compared"`
	Matched    int64 `json:"matched"`
	Mismatched int64 `json:"mismatched"`
	// CandidateErrors counts candidate transport errors and timeouts
	// (CandidateTransportErrors, not compared) plus candidate 5xx answers where
	// the primary had none (compared, and a mismatch).
	CandidateErrors          int64 `json:"candidate_errors"`
	CandidateTransportErrors int64 `json:"candidate_transport_errors"`
	// CandidateAuthFailures counts candidate 401/403 answers where the primary
	// answered neither.
	CandidateAuthFailures int64 `json:"candidate_auth_failures"`
	// Errors counts candidate transport errors by message.
	Errors map[string]int64 `json:"errors,omitempty"`
	// Skipped counts requests not compared, by reason (the Skip* constants).
	Skipped map[string]int64 `json:"skipped"`
	// Habits counts framework habits absorbed in compared requests, by habit
	// (HabitCanonicalRedirect): not differences, shown so that they are known.
	Habits map[string]int64 `json:"habits,omitempty"`

	Parity      float64 `json:"parity"`       // Matched / Compared; 0 when nothing compared
	ParityLower float64 `json:"parity_lower"` // Wilson score interval lower bound, 95%

	Latency struct {
		Primary   Latency `json:"primary"`
		Candidate Latency `json:"candidate"`
	} `json:"latency"`

	// Differences are grouped by (Pattern, Kind), sorted by count descending,
	// then path and kind.
	Differences []DiffGroup `json:"differences"`
	// DifferencesDropped counts differences not grouped because the route already
	// held Limits.PathsPerRoute groups.
	DifferencesDropped int64 `json:"differences_dropped"`
	// DifferencesOmitted counts differences comparisons found but left out of
	// their bounded results (diff.Result.Omitted): counted, never grouped.
	DifferencesOmitted int64 `json:"differences_omitted,omitempty"`

	// Noise counts the patterns seen to differ between two primaries (left out of
	// parity), sorted like Differences.
	Noise        []NoiseCount `json:"noise"`
	NoiseDropped int64        `json:"noise_dropped"`

	// Reasks counts the re-asks of a primary that answered on this route (each
	// tests the differences not yet learned as noise); ReaskDropped those that were
	// due but not made or not answered (re-ask limits, deadline, error).
	Reasks       int64 `json:"reasks,omitempty"`
	ReaskDropped int64 `json:"reask_dropped,omitempty"`

	// MismatchSets counts the mismatched requests by the set of difference
	// groups they showed, so that accepting groups (Accept) can tell exactly
	// which requests then match; at most maxMismatchSets sets are kept, the
	// requests of others are counted in MismatchSetsDropped (and never credited).
	MismatchSets        []MismatchSet `json:"mismatch_sets,omitempty"`
	MismatchSetsDropped int64         `json:"mismatch_sets_dropped,omitempty"`

	// AcceptedMatched, set only in a judged copy (Accept), counts the requests
	// counted as matched because every difference they showed was accepted.
	AcceptedMatched int64 `json:"accepted_matched,omitempty"`
	// AcceptanceExpired, set only in a judged copy, lists the acceptances past
	// their date whose differences were observed: the gate fails the route.
	AcceptanceExpired []AcceptedBy `json:"acceptance_expired,omitempty"`
}

// DiffGroup is one (path pattern, kind) a route's responses differed at.
type DiffGroup struct {
	Path  string `json:"path"` // the pattern, "#" for any index; paste-able into ignore:
	Kind  string `json:"kind"`
	Count int64  `json:"count"`
	// Security, when set, is the rule (diff.Security) by which the difference
	// weakens what protects the client: a security regression, which fails the
	// gate whatever the parity (Thresholds.Security).
	Security string    `json:"security,omitempty"`
	Examples []Example `json:"examples"`
	// ExamplesDropped counts occurrences not kept as examples (Count minus
	// len(Examples)).
	ExamplesDropped int64 `json:"examples_dropped"`

	// FirstSeen and LastSeen are when the group was first and last observed
	// (zero in snapshots older than them); Merge keeps the earliest and latest.
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Share is the part of the route's compared requests the group affects,
	// Count over Compared (derived).
	Share float64 `json:"share"`
	// Reproducer is the group's reproducer as a shell script (Repro), empty
	// when no example kept its request (derived: recomputed whenever a
	// snapshot is read or made).
	Reproducer string `json:"reproducer,omitempty"`
	// Accepted, set only in a judged copy (Accept), names the acceptance that
	// covers the group; snapshots keep raw counts and never hold it.
	Accepted *AcceptedBy `json:"accepted,omitempty"`
}

// Example is one occurrence of a difference: the request, the exact path and
// both (already redacted, possibly shortened) values.
type Example struct {
	RequestID string `json:"request_id"`
	Path      string `json:"path"`
	Primary   string `json:"primary"`
	Candidate string `json:"candidate"`
	// Request, when kept, is the redacted request that produced the example:
	// what a reproducer sends again (see Reproducer). A group keeps it for the
	// first occurrence it saw.
	Request *Request `json:"request,omitempty"`
}

// NoiseCount is one noise pattern and how often it was left out of a route's
// parity, with what learning it says: re-asks that confirmed it of those that
// tested it, and whether it is learned (left out from then on without a re-ask;
// see NoiseRule).
type NoiseCount struct {
	Path      string `json:"path"`
	Count     int64  `json:"count"`
	Confirmed int64  `json:"confirmed"`
	Reasks    int64  `json:"reasks"`
	Learned   bool   `json:"learned"`
	// Config is the configuration that makes the pattern permanently ignored on
	// its route (derived: recomputed whenever a snapshot is read or made).
	Config string `json:"config"`
}

// MirroredCount is how many requests were sent to both backends: compared plus
// candidate transport errors.
func (r *RouteStats) MirroredCount() int64 { return r.Compared + r.CandidateTransportErrors }

// CandidateErrorRate is CandidateErrors over MirroredCount (0 with no traffic).
func (r *RouteStats) CandidateErrorRate() float64 {
	n := r.MirroredCount()
	if n == 0 {
		return 0
	}
	return float64(r.CandidateErrors) / float64(n)
}

// SkippedTotal sums the skips of every reason.
func (r *RouteStats) SkippedTotal() int64 {
	var n int64
	for _, c := range r.Skipped {
		n += c
	}
	return n
}

// Route returns the statistics of the route with key k, or nil.
func (s *Snapshot) Route(k string) *RouteStats {
	i, ok := slices.BinarySearchFunc(s.Routes, k, func(r RouteStats, k string) int { return cmp.Compare(r.Route, k) })
	if !ok {
		return nil
	}
	return &s.Routes[i]
}

// Wilson returns the lower bound of the Wilson score interval at 95% for
// matched successes out of n: the parity a route can claim with confidence.
func Wilson(matched, n int64) float64 {
	if n <= 0 {
		return 0
	}
	const z = 1.959963984540054
	p := float64(matched) / float64(n)
	nf := float64(n)
	den := 1 + z*z/nf
	centre := p + z*z/(2*nf)
	margin := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	lo := (centre - margin) / den
	if lo < 0 {
		lo = 0
	}
	return round6(lo)
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

// finish recomputes the derived fields (parity, its bound, examples dropped) and
// sorts everything the JSON shows.
func (r *RouteStats) finish() {
	r.Mismatched = r.Compared - r.Matched
	if r.Compared > 0 {
		r.Parity = round6(float64(r.Matched) / float64(r.Compared))
	} else {
		r.Parity = 0
	}
	r.ParityLower = Wilson(r.Matched, r.Compared)
	if r.Skipped == nil {
		r.Skipped = map[string]int64{}
	}
	if r.Differences == nil {
		r.Differences = []DiffGroup{}
	}
	if r.Noise == nil {
		r.Noise = []NoiseCount{}
	}
	for i := range r.Differences {
		g := &r.Differences[i]
		if g.Examples == nil {
			g.Examples = []Example{}
		}
		slices.SortFunc(g.Examples, compareExamples)
		g.ExamplesDropped = g.Count - int64(len(g.Examples))
		g.Share = 0
		if r.Compared > 0 {
			g.Share = round6(float64(g.Count) / float64(r.Compared))
		}
		g.Reproducer = ""
		if rp, ok := g.Repro(r.Route); ok {
			g.Reproducer = rp.Script()
		}
	}
	slices.SortFunc(r.MismatchSets, compareMismatchSets)
	slices.SortFunc(r.Differences, func(a, b DiffGroup) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Path, b.Path), cmp.Compare(a.Kind, b.Kind))
	})
	for i := range r.Noise {
		r.Noise[i].Config = noiseConfig(r.Route, r.Noise[i].Path)
	}
	slices.SortFunc(r.Noise, func(a, b NoiseCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Path, b.Path))
	})
}

// compareExamples orders examples that keep their request first, then by
// request id: any total order keeps Merge's "least n of the union" commutative
// and associative, and this one never trims the last reproducible example away.
func compareExamples(a, b Example) int {
	return cmp.Or(cmp.Compare(boolRank(a.Request == nil), boolRank(b.Request == nil)), cmp.Compare(a.RequestID, b.RequestID), cmp.Compare(a.Path, b.Path),
		cmp.Compare(a.Primary, b.Primary), cmp.Compare(a.Candidate, b.Candidate))
}

// ReadSnapshot decodes and checks a snapshot: its version, its counts and its
// histograms.
func ReadSnapshot(r io.Reader) (*Snapshot, error) {
	dec := json.NewDecoder(r)
	var s Snapshot
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	if s.Version != SnapshotVersion {
		return nil, fmt.Errorf("snapshot version %d is not supported (want %d)", s.Version, SnapshotVersion)
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	s.Started, s.Updated = s.Started.UTC(), s.Updated.UTC()
	s.Series = sumSeries(s.Series)
	finishLearned(s.Learned)
	for i := range s.Routes {
		s.Routes[i].finish()
	}
	slices.SortFunc(s.Routes, func(a, b RouteStats) int { return cmp.Compare(a.Route, b.Route) })
	return &s, nil
}

// validate checks what a merge relies on: non-negative, consistent counts,
// decodable histograms and unique routes.
func (s *Snapshot) validate() error {
	if s.HistogramsOmitted {
		return errors.New("snapshot is a summary without latency histograms (report.json?histograms=0), which cannot be merged or judged: read report.json without the query")
	}
	if err := validateSeries(s.Series); err != nil {
		return err
	}
	if _, err := s.learnedSet(); err != nil {
		return err
	}
	seen := make(map[string]bool, len(s.Routes))
	for i := range s.Routes {
		r := &s.Routes[i]
		if r.Route == "" {
			return fmt.Errorf("snapshot route %d has no route key", i)
		}
		if seen[r.Route] {
			return fmt.Errorf("snapshot lists route %q twice", r.Route)
		}
		seen[r.Route] = true
		if r.DifferencesOmitted < 0 || r.Compared < 0 || r.Matched < 0 || r.Matched > r.Compared || r.CandidateErrors < 0 ||
			r.CandidateTransportErrors < 0 || r.CandidateTransportErrors > r.CandidateErrors || r.CandidateAuthFailures < 0 {
			return fmt.Errorf("snapshot route %q has inconsistent counts", r.Route)
		}
		if err := validateNoise(r); err != nil {
			return err
		}
		for _, l := range []Latency{r.Latency.Primary, r.Latency.Candidate} {
			if _, err := l.histogram(); err != nil {
				return fmt.Errorf("snapshot route %q: %w", r.Route, err)
			}
		}
	}
	return nil
}

// ReadSnapshotFile reads the snapshot at path.
func ReadSnapshotFile(path string) (*Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	defer f.Close()
	s, err := ReadSnapshot(f)
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	return s, nil
}

// WriteSnapshot encodes s as indented JSON.
func WriteSnapshot(w io.Writer, s *Snapshot) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	return nil
}

// WriteSnapshotFile writes s to path atomically (WriteFileAtomic), so a reader (or
// a crash) never sees half a snapshot.
func WriteSnapshotFile(path string, s *Snapshot) error {
	if err := WriteFileAtomic(path, func(w io.Writer) error { return WriteSnapshot(w, s) }); err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	return nil
}

// Merge adds snapshots up exactly: counts sum, histograms merge bucket by bucket,
// difference groups and noise add by path. It is commutative and associative.
// Learned route templates join (route.LearnedSet.Join), and a route that the
// joined templates rekey is added to the template's route (see LearnedRoute).
// A noise pattern learned in any input is learned in the result (its totals sum;
// see NoiseRule).
// Started is the earliest, Updated the latest, Limits the largest of each. Merge
// never drops counts: the result may hold more routes or paths than one
// aggregator's caps, bounded by its inputs; examples per path keep the first
// Limits.ExamplesPerPath in request-id order.
func Merge(snaps ...*Snapshot) (*Snapshot, error) {
	if len(snaps) == 0 {
		return nil, errors.New("merge snapshots: none given")
	}
	out := &Snapshot{Version: SnapshotVersion}
	acc := map[string]*routeAcc{}
	var series []SeriesPoint
	learned := route.LearnedSet{}
	for i, s := range snaps {
		if s == nil {
			continue
		}
		set, err := s.learnedSet()
		if err != nil {
			return nil, fmt.Errorf("merge snapshots: snapshot %d: %w", i, err)
		}
		learned.Join(set)
	}
	for i, s := range snaps {
		if s == nil {
			return nil, fmt.Errorf("merge snapshots: snapshot %d is nil", i)
		}
		if s.Version != SnapshotVersion {
			return nil, fmt.Errorf("merge snapshots: snapshot %d has version %d, want %d", i, s.Version, SnapshotVersion)
		}
		if s.HistogramsOmitted {
			return nil, fmt.Errorf("merge snapshots: snapshot %d is a summary without latency histograms", i)
		}
		if out.Started.IsZero() || (!s.Started.IsZero() && s.Started.Before(out.Started)) {
			out.Started = s.Started
		}
		if s.Updated.After(out.Updated) {
			out.Updated = s.Updated
		}
		out.Limits = out.Limits.max(s.Limits)
		out.RoutesOverflowed += s.RoutesOverflowed
		series = append(series, s.Series...)
		for j := range s.Routes {
			r := &s.Routes[j]
			key := learned.Rekey(r.Route)
			a := acc[key]
			if a == nil {
				a = newRouteAcc(key, r.Method)
				acc[key] = a
			}
			if err := a.add(r); err != nil {
				return nil, fmt.Errorf("merge snapshots: route %q: %w", r.Route, err)
			}
			a.addNoise(r)
		}
	}
	out.Started, out.Updated = out.Started.UTC(), out.Updated.UTC()
	out.Series = sumSeries(series)
	out.Learned = learnedRoutes(learned)
	examples := out.Limits.withDefaults().ExamplesPerPath
	out.Routes = make([]RouteStats, 0, len(acc))
	for _, a := range acc {
		r, err := a.stats(examples, true, withHistograms)
		if err != nil {
			return nil, fmt.Errorf("merge snapshots: route %q: %w", a.route, err)
		}
		a.noiseStats(&r)
		out.Routes = append(out.Routes, r)
	}
	slices.SortFunc(out.Routes, func(a, b RouteStats) int { return cmp.Compare(a.Route, b.Route) })
	return out, nil
}
