package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/report/route"
)

// TestRoutesCommand lists the templates of every source with their origin and the
// traffic of a snapshot, learned templates with the config that pins them.
func TestRoutesCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"openapi":"3.0.3","servers":[{"url":"/api/v1"}],"paths":{"/teams/{team}/boards/{board}":{"get":{}}}}`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "parity.yaml")
	if err := os.WriteFile(cfg, []byte("routes:\n  - match: GET /api/sessions/:id\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	agg := report.NewAggregator(report.Limits{})
	k := route.BuildKeyer(route.Sources{Learner: agg.Learner()})
	for i := 0; i < 40; i++ {
		agg.Observe(report.Observation{Route: k.Key("GET", fmt.Sprintf("/api/v1/reports/q%c-%s-report", 'a'+i%26, strings.Repeat("x", i/26+1))), PrimaryStatus: 200, CandidateStatus: 200})
	}
	agg.Observe(report.Observation{Route: "GET /api/sessions/:id", PrimaryStatus: 200, CandidateStatus: 200})
	agg.Observe(report.Observation{Route: "GET /_app/*", Skipped: report.SkipExcluded})
	snapFile := filepath.Join(dir, "snap.json")
	if err := report.WriteSnapshotFile(snapFile, agg.Snapshot()); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := runInProcess(t, nil, "routes", "--config", cfg, "--openapi", srv.URL+"/openapi.json", "--format", "json", snapFile)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rows []routeRow
	if err := json.Unmarshal([]byte(stdout), &rows); err != nil {
		t.Fatal(err)
	}
	bySource := map[string][]string{}
	requests := map[string]int64{}
	for _, r := range rows {
		bySource[r.Source] = append(bySource[r.Source], r.Template)
		requests[r.Template] += r.Requests
	}
	for src, want := range map[string]string{
		"config": "GET /api/sessions/:id", "matrix": "POST /api/chat", "plan": "/api/v1",
		"openapi": "/api/v1/teams/:team/boards/:board", "learned": "/api/v1/reports/:id", "non-api": "GET /_app/*",
	} {
		if !strings.Contains(strings.Join(bySource[src], "|"), want) {
			t.Errorf("source %s lists %q, want %q among them", src, bySource[src], want)
		}
	}
	if d := cmp.Diff(map[string]int64{"GET /api/sessions/:id": 1, "/api/v1/reports/:id": 40, "GET /_app/*": 1},
		map[string]int64{"GET /api/sessions/:id": requests["GET /api/sessions/:id"], "/api/v1/reports/:id": requests["/api/v1/reports/:id"], "GET /_app/*": requests["GET /_app/*"]}); d != "" {
		t.Errorf("requests (-want +got):\n%s", d)
	}

	table, _, code := runInProcess(t, nil, "routes", "--config", cfg, snapFile)
	if code != exitOK || !strings.Contains(table, "To pin the learned templates") || !strings.Contains(table, "    - match: /api/v1/reports/:id") {
		t.Errorf("table (exit %d):\n%s", code, table)
	}
}

func TestRoutesCommandBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("routes:\n  - match: /api/x/:1\n"), 0o644)
	for _, args := range [][]string{{"routes", "--config", bad}, {"routes", "--format", "xml"}, {"routes", filepath.Join(dir, "missing.json")}} {
		_, stderr, code := runInProcess(t, nil, args...)
		if code != exitUsage || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line", args, code, stderr)
		}
	}
	// An OpenAPI document that cannot be read is a warning, not a failure.
	_, stderr, code := runInProcess(t, nil, "routes", "--openapi", filepath.Join(dir, "missing-openapi.json"))
	if code != exitOK || !strings.Contains(stderr, "warning: openapi") {
		t.Errorf("missing OpenAPI document: exit %d, stderr %q", code, stderr)
	}
}
