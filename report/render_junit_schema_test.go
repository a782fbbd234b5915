package report

import (
	"bytes"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestJUnitValidatesAgainstJenkinsSchema validates RenderJUnit's output with
// xmllint against Jenkins' JUnit schema (testdata/junit-10.xsd).
func TestJUnitValidatesAgainstJenkinsSchema(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (Debian: libxml2-utils)")
	}
	cases := map[string]struct {
		s    *Snapshot
		opts RenderOptions
	}{
		"with plan":      {renderSnapshot(t), RenderOptions{Title: "parity report <staging>", Plan: defaultPlan(t)}},
		"without plan":   {renderSnapshot(t), RenderOptions{}},
		"empty":          {&Snapshot{Version: SnapshotVersion, Routes: []RouteStats{}}, RenderOptions{}},
		"never mirrored": {authOnlySnapshot(), RenderOptions{Plan: defaultPlan(t)}},
	}
	dir := t.TempDir()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := RenderJUnit(&b, tc.s, tc.opts); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, name+".xml")
			if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/junit-10.xsd", path).CombinedOutput(); err != nil {
				t.Errorf("xmllint: %v\n%s", err, out)
			}
		})
	}
}

func TestJUnitTime(t *testing.T) {
	s := renderSnapshot(t) // observed from 09:00 to 10:30
	var b bytes.Buffer
	if err := RenderJUnit(&b, s, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Time  string `xml:"time,attr"`
		Suite struct {
			Time  string `xml:"time,attr"`
			Cases []struct {
				Time *string `xml:"time,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Time != "5400.000" || doc.Suite.Time != "5400.000" {
		t.Errorf("time = %q / %q, want the 90 minutes observed: 5400.000", doc.Time, doc.Suite.Time)
	}
	for i, c := range doc.Suite.Cases {
		if c.Time != nil {
			t.Errorf("testcase %d has time %q; a route's comparisons have no duration", i, *c.Time)
		}
	}
}

// authOnlySnapshot has a route that saw only requests skipped by the auth
// rule, beside a compared one.
func authOnlySnapshot() *Snapshot {
	a := NewAggregator(Limits{})
	for i := 0; i < 7; i++ {
		a.Observe(Observation{Route: "GET /api/auth/session", Method: "GET", Skipped: SkipAuth})
		a.Observe(Observation{Route: "GET /api/health", Method: "GET", PrimaryStatus: 200, CandidateStatus: 200,
			PrimaryLatency: time.Millisecond, CandidateLatency: time.Millisecond})
	}
	s := a.Snapshot()
	s.Started = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s.Updated = time.Date(2026, 3, 1, 9, 5, 0, 0, time.UTC)
	return s
}
