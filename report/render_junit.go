package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// The JUnit XML written here validates against Jenkins' schema (junit-10.xsd,
// in testdata/): <testsuites> carries no skipped count, and `time` is the span
// the snapshot observed traffic over — a route's comparisons have no duration of
// their own, so test cases carry none.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr,omitempty"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Errors     int             `xml:"errors,attr"`
	Time       string          `xml:"time,attr,omitempty"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitMessage `xml:"failure"`
	Skipped   *junitMessage `xml:"skipped"`
	SystemOut *junitCDATA   `xml:"system-out"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",cdata"`
}

// junitCDATA keeps multi-line text readable; the encoder splits any "]]>".
type junitCDATA struct {
	Text string `xml:",cdata"`
}

// RenderJUnit writes JUnit XML: one testcase per route (a failure carrying the
// reason and the top differences with examples; inconclusive routes are
// skipped), so any CI shows parity natively.
func RenderJUnit(w io.Writer, s *Snapshot, opts RenderOptions) error {
	v, err := newView(s, opts)
	if err != nil {
		return err
	}
	suite := junitSuite{Name: xmlText(v.Title), Timestamp: v.Updated, Time: junitSpan(s), Properties: []junitProperty{
		{"started", v.Started}, {"updated", v.Updated}, {"verdict", string(v.Verdict)}, {"headline", xmlText(v.Headline)},
		{"thresholds", xmlText(thresholdsLine(v.Thresholds))}, {"build", xmlText(opts.build().String())},
	}}
	for _, st := range v.Steps {
		suite.Properties = append(suite.Properties, junitProperty{fmt.Sprintf("step %d", st.Number),
			xmlText(fmt.Sprintf("%s: %s (%s)", st.Name, st.Verdict, st.Reason))})
	}
	for i := range v.Routes {
		r := &v.Routes[i]
		tc := junitCase{Name: xmlText(r.Route), Classname: "parity." + junitClass(r.Method),
			SystemOut: &junitCDATA{xmlText(routeSummary(r) + noiseText(r))}}
		switch r.Verdict {
		case Fail:
			tc.Failure = &junitMessage{Message: xmlText(r.Reason), Type: "threshold", Text: xmlText(differencesText(r))}
			suite.Failures++
		case Inconclusive:
			tc.Skipped = &junitMessage{Message: xmlText(r.Reason), Text: xmlText(differencesText(r))}
			suite.Skipped++
		}
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Tests = len(suite.Cases)
	doc := junitSuites{Name: suite.Name, Tests: suite.Tests, Failures: suite.Failures, Time: suite.Time, Suites: []junitSuite{suite}}
	ew := &errWriter{w: w}
	fmt.Fprint(ew, xml.Header)
	enc := xml.NewEncoder(ew)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("render junit: %w", err)
	}
	fmt.Fprintln(ew)
	return ew.err
}

// junitSpan is the seconds from the snapshot's start to its last update, as
// JUnit's time (Surefire's "1234.567"); "" when unknown.
func junitSpan(s *Snapshot) string {
	if s.Started.IsZero() || s.Updated.Before(s.Started) {
		return ""
	}
	return fmt.Sprintf("%.3f", s.Updated.Sub(s.Started).Seconds())
}

func junitClass(method string) string {
	if method == "" {
		return "other"
	}
	return xmlText(method)
}

func routeSummary(r *routeView) string {
	return fmt.Sprintf("compared %d, matched %d, parity %s (lower bound %s), candidate errors %s, candidate 401/403 %d, skipped %s, p99 primary %s, p99 candidate %s",
		r.Compared, r.Matched, fmtParity(r.RouteStats), fmtLower(r.RouteStats), fmtErrors(r.RouteStats),
		r.CandidateAuthFailures, r.skippedCount(), fmtLatency(r.Latency.Primary), fmtLatency(r.Latency.Candidate))
}

// noiseText lists a route's noise for its system-out: each pattern with how often
// re-asks confirmed it, whether it is learned and the config line that keeps it
// out for good; "" for a route without noise or re-asks.
func noiseText(r *routeView) string {
	if len(r.Noise) == 0 && r.Reasks == 0 && r.ReaskDropped == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\nnoise, left out of parity (%s):\n", fmtReasks(r.RouteStats))
	for _, n := range r.Noise {
		tested := "no re-ask tested it"
		if n.Reasks > 0 {
			tested = "confirmed by " + fmtConfirmed(n)
		}
		fmt.Fprintf(&b, "  %s ×%d, %s, %s", n.Path, n.Count, tested, fmtLearned(n))
		if l := ignoreLine(r.Route, n.Path); l != "" {
			fmt.Fprintf(&b, "; permanent with %s", l)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// differencesText lists a route's top differences with their examples and the
// config that would silence each.
func differencesText(r *routeView) string {
	var b strings.Builder
	for _, d := range r.Top {
		fmt.Fprintf(&b, "%s %s ×%d\n", d.Path, d.Kind, d.Count)
		if d.Security != "" {
			fmt.Fprintf(&b, "  %s\n", securityNote(&d))
		}
		if d.Accepted != nil {
			fmt.Fprintf(&b, "  %s\n", d.Accepted.Note)
		}
		for _, e := range d.Examples {
			fmt.Fprintf(&b, "  request %s at %s: primary %s, candidate %s\n", e.RequestID, e.Path, quoteValue(e.Primary), quoteValue(e.Candidate))
		}
		fmt.Fprintf(&b, "  silence with:\n")
		for _, line := range strings.Split(strings.TrimSuffix(silenceYAML(r.Route, d.Path), "\n"), "\n") {
			fmt.Fprintf(&b, "    %s\n", line)
		}
	}
	if r.MoreDiffs > 0 {
		fmt.Fprintf(&b, "… and %d more difference paths\n", r.MoreDiffs)
	}
	return b.String()
}

func quoteValue(s string) string {
	if s == "" {
		return "(absent)"
	}
	return oneLineControl(s)
}

// xmlText drops what XML 1.0 cannot carry at all (most control characters,
// invalid UTF-8); the encoder escapes the rest.
func xmlText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return r
		case r < 0x20, r == 0xFFFE, r == 0xFFFF:
			return -1
		case r >= 0xD800 && r <= 0xDFFF:
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}
