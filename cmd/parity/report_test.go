package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
)

// The package's one -update flag may be declared by another test file too;
// register it only if nobody has.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
}

// reportGolden compares got with testdata/<path>, rewriting it under -update.
func reportGolden(t *testing.T, path string, got string) {
	t.Helper()
	path = filepath.Join("testdata", path)
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (go test -update creates it): %v", err)
	}
	if d := cmp.Diff(string(want), got); d != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, d)
	}
}

// routeTraffic is what one route saw, for building snapshots in tests.
type routeTraffic struct {
	route                 string
	matched, mismatched   int
	timeouts              int
	primaryMs, candidateM int
}

// writeTestSnapshot aggregates traffic into a snapshot with fixed times and
// writes it to dir/name.
func writeTestSnapshot(t *testing.T, dir, name string, traffic ...routeTraffic) string {
	t.Helper()
	a := report.NewAggregator(report.Limits{})
	n := 0
	for _, tr := range traffic {
		pms, cms := max(tr.primaryMs, 2), max(tr.candidateM, 3)
		base := report.Observation{Route: tr.route, PrimaryStatus: 200, CandidateStatus: 200,
			PrimaryLatency: time.Duration(pms) * time.Millisecond, CandidateLatency: time.Duration(cms) * time.Millisecond}
		for i := 0; i < tr.matched+tr.mismatched+tr.timeouts; i++ {
			n++
			o := base
			o.RequestID = fmt.Sprintf("%s-%03d", name, n)
			switch {
			case i < tr.mismatched:
				o.Differences = []diff.Difference{{Path: "body.total", Pattern: "body.total", Kind: diff.Changed, Primary: "3", Candidate: "4"}}
			case i < tr.mismatched+tr.timeouts:
				o.CandidateStatus, o.CandidateError = 0, "timeout"
			}
			a.Observe(o)
		}
	}
	s := a.Snapshot()
	s.Started = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s.Updated = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	path := filepath.Join(dir, name)
	if err := report.WriteSnapshotFile(path, s); err != nil {
		t.Fatal(err)
	}
	return path
}

// fleet is two replicas' snapshots of the guide's step 2 routes.
func fleet(t *testing.T) (dir, a, b string) {
	dir = t.TempDir()
	a = writeTestSnapshot(t, dir, "a.json",
		routeTraffic{route: "GET /api/health", matched: 400},
		routeTraffic{route: "GET /api/sessions/:id", matched: 380, mismatched: 20},
		routeTraffic{route: "POST /api/chat", matched: 4})
	b = writeTestSnapshot(t, dir, "b.json",
		routeTraffic{route: "GET /api/health", matched: 400},
		routeTraffic{route: "GET /api/activity", matched: 800, candidateM: 40})
	return dir, a, b
}

func TestReportFormatsGolden(t *testing.T) {
	_, a, b := fleet(t)
	for _, format := range []string{"table", "markdown", "json", "junit", "html"} {
		t.Run(format, func(t *testing.T) {
			stdout, stderr, code := runInProcess(t, nil, "report", "--format", format, a, b, "--title", "fleet")
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			reportGolden(t, "report/fleet."+format+".golden", stdout)
		})
	}
}

func TestReportMergesSnapshots(t *testing.T) {
	_, a, b := fleet(t)
	stdout, stderr, code := runInProcess(t, nil, "report", "--format", "json", a, b)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	got, err := report.ReadSnapshot(strings.NewReader(stdout))
	if err != nil {
		t.Fatal(err)
	}
	if h := got.Route("GET /api/health"); h == nil || h.Compared != 800 {
		t.Errorf("GET /api/health = %+v, want 800 compared (400 from each snapshot)", h)
	}
}

func TestReportFromURL(t *testing.T) {
	_, a, b := fleet(t)
	body, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	requests := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests <- r.URL.Path
		if r.URL.Path != "/parity/report.json" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	defer srv.Close()

	stdout, stderr, code := runBinary(t, nil, "report", "--format", "json", srv.URL+"/parity/report.json", b)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if got := <-requests; got != "/parity/report.json" {
		t.Errorf("fetched %q", got)
	}
	s, err := report.ReadSnapshot(strings.NewReader(stdout))
	if err != nil {
		t.Fatal(err)
	}
	if h := s.Route("GET /api/health"); h == nil || h.Compared != 800 {
		t.Errorf("GET /api/health = %+v, want the URL's 400 and the file's 400", h)
	}

	_, stderr, code = runBinary(t, nil, "report", srv.URL+"/nothing/here.json")
	<-requests
	if code != exitUsage || !strings.Contains(stderr, "status 404") || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("missing URL: exit %d, stderr %q; want 2 and one line with the status", code, stderr)
	}
}

func TestReportWritesFile(t *testing.T) {
	dir, a, _ := fleet(t)
	out := filepath.Join(dir, "report.html")
	stdout, stderr, code := runInProcess(t, nil, "report", a, "-o", out, "--format", "html")
	if code != exitOK || stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(page, []byte("<!DOCTYPE html>")) || !bytes.Contains(page, []byte("GET /api/sessions/:id")) {
		t.Errorf("report file is not the HTML page: %.80q", page)
	}
}

func TestReportErrors(t *testing.T) {
	dir, a, _ := fleet(t)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"version": 1, "routes": [`), 0o644)
	tests := []struct {
		name string
		args []string
		err  string
	}{
		{"no snapshot", []string{"report"}, "want at least one SNAPSHOT"},
		{"unknown format", []string{"report", "--format", "pdf", a}, `--format "pdf"`},
		{"missing file", []string{"report", filepath.Join(dir, "nope.json")}, "nope.json"},
		{"bad json", []string{"report", bad}, "bad.json"},
		{"bad plan", []string{"report", "--plan", bad, a}, "bad.json"},
		{"bad colour", []string{"report", "--color", "sometimes", a}, `--color "sometimes"`},
		{"unknown flag", []string{"report", "--frobnicate", a}, "frobnicate"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runBinary(t, nil, tc.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d (stderr %q)", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tc.err) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
				t.Errorf("stderr %q, want one line containing %q", stderr, tc.err)
			}
		})
	}
}

func TestReportColour(t *testing.T) {
	_, a, _ := fleet(t)
	never, _, _ := runInProcess(t, nil, "report", a)
	always, _, _ := runInProcess(t, nil, "report", "--color", "always", a)
	if strings.Contains(never, "\x1b[") {
		t.Error("colour written to a buffer that is no terminal")
	}
	if !strings.Contains(always, "\x1b[") {
		t.Error("--color always wrote no colour")
	}
}
