package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An acceptance holds through its `until` day and fails its route's gate from
// the day after, without collecting again: the snapshot keeps raw counts.
func TestGateAcceptanceExpiresOnTheDayAfter(t *testing.T) {
	dir := t.TempDir()
	// 2000 compared on one route, 200 of them differing at body.total: parity
	// 0.90 fails min_parity 0.99 unless the difference is accepted, and enough
	// requests for the gate's sequence to pass it when it is.
	snap := writeTestSnapshot(t, dir, "snap.json", routeTraffic{route: "GET /api/sessions", matched: 1800, mismatched: 200})
	plan := filepath.Join(dir, "plan.yaml")
	writeFile(t, plan, "thresholds:\n  min_samples: 50\n  min_parity: 0.99\n  max_candidate_error_rate: 0.01\nsteps:\n  - name: Sessions\n    routes: [/api/sessions]\n")
	cfg := filepath.Join(dir, "parity.yaml")
	writeFile(t, cfg, "accept:\n  - route: GET /api/sessions\n    path: body.total\n    kind: changed\n    reason: totals are counted after the page now\n    owner: team-api\n    until: 2026-12-01\n    ticket: API-7\n")

	gate := func(now time.Time, extra ...string) (string, int) {
		var o, e bytes.Buffer
		c := &cli{stdout: &o, stderr: &e, getenv: func(string) string { return "" }, build: testBuild, now: func() time.Time { return now }}
		args := append([]string{"gate", "--step", "1", "--plan", plan}, extra...)
		code := run(context.Background(), c, append(args, snap))
		return o.String() + e.String(), code
	}
	if out, code := gate(time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)); code != exitDifferent {
		t.Fatalf("without --config: exit %d, want 1 (parity 0.90):\n%s", code, out)
	}
	lastDay := time.Date(2026, 12, 1, 23, 59, 59, 0, time.UTC)
	if out, code := gate(lastDay, "--config", cfg); code != exitOK {
		t.Fatalf("on the until day: exit %d, want 0 (accepted):\n%s", code, out)
	}
	out, code := gate(lastDay.Add(time.Second), "--config", cfg)
	if code != exitDifferent {
		t.Fatalf("the day after: exit %d, want 1:\n%s", code, out)
	}
	if !strings.Contains(out, "acceptance expired on 2026-12-02: body.total changed (accepted until 2026-12-01 by team-api") {
		t.Errorf("the day after: the reason does not say the acceptance expired:\n%s", out)
	}
}

// A report under --config shows an accepted difference as accepted, with its
// reason and owner, in every format.
func TestReportShowsAcceptedDifferences(t *testing.T) {
	dir := t.TempDir()
	snap := writeTestSnapshot(t, dir, "snap.json", routeTraffic{route: "GET /api/sessions", matched: 90, mismatched: 10})
	cfg := filepath.Join(dir, "parity.yaml")
	writeFile(t, cfg, "accept:\n  - route: GET /api/sessions\n    path: body.total\n    reason: totals are counted after the page now\n    owner: team-api\n    until: 2099-01-01\n")
	for _, format := range []string{"table", "markdown", "json", "html"} {
		out, errOut, code := runInProcess(t, nil, "report", "--format", format, "--config", cfg, snap)
		if code != exitOK {
			t.Fatalf("%s: exit %d: %s", format, code, errOut)
		}
		want := "accepted until 2099-01-01 by team-api: totals are counted after the page now"
		if format == "table" {
			want = "accepted"
		}
		if !strings.Contains(out, want) {
			t.Errorf("%s: no %q in the report", format, want)
		}
	}
	out, _, _ := runInProcess(t, nil, "report", "--format", "json", "--config", cfg, snap)
	if !strings.Contains(out, `"parity": 1,`) || !strings.Contains(out, `"accepted_matched": 10`) {
		t.Errorf("json: the accepted requests do not count as matched")
	}
	raw, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("accepted")) {
		t.Errorf("the snapshot itself was changed")
	}
}

// Every command that loads the config rejects a bad accept: entry with its
// file and line, exit 2.
func TestBadAcceptanceIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	snap := writeTestSnapshot(t, dir, "snap.json", routeTraffic{route: "GET /api/sessions", matched: 60})
	cfg := filepath.Join(dir, "parity.yaml")
	writeFile(t, cfg, "accept:\n  - route: GET /api/sessions\n    path: body.total\n    reason: r\n    until: 2099-01-01\n")
	for _, args := range [][]string{
		{"report", "--config", cfg, snap},
		{"gate", "--step", "1", "--config", cfg, snap},
		{"config", "check", "--config", cfg},
		{"diff", "--config", cfg, snap, snap},
		{"replay", "--config", cfg, "--traffic", snap},
	} {
		_, errOut, code := runInProcess(t, nil, args...)
		if code != exitUsage || !strings.Contains(errOut, cfg+":2: accept[0]: owner missing") || strings.Count(strings.TrimSpace(errOut), "\n") > 0 {
			t.Errorf("%s: exit %d, stderr %q; want 2 and one line naming %s:2", args[0], code, errOut, cfg)
		}
	}
}

// config check lists the acceptances expiring within 14 days.
func TestConfigCheckListsExpiringAcceptances(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "parity.yaml")
	writeFile(t, cfg, "accept:\n"+
		"  - {route: GET /api/a, path: body.x, reason: r, owner: alice, until: 2026-12-10}\n"+
		"  - {route: GET /api/b, path: body.y, reason: r, owner: bob, until: 2027-03-01}\n"+
		"  - {route: GET /api/c, path: status, reason: r, owner: carol, until: 2026-11-30}\n")
	var o, e bytes.Buffer
	now := time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC)
	c := &cli{stdout: &o, stderr: &e, getenv: func(string) string { return "" }, build: testBuild, now: func() time.Time { return now }}
	code := run(context.Background(), c, []string{"config", "check", "--config", cfg})
	if code != exitDifferent {
		t.Fatalf("exit %d, want 1: %s%s", code, o.String(), e.String())
	}
	want := "expired on 2026-12-01: GET /api/c status (any kind) (owner carol: r)\n" +
		"expires on 2026-12-11 (in 8 days): GET /api/a body.x (any kind) (owner alice: r)\n"
	if o.String() != want {
		t.Errorf("got\n%s\nwant\n%s", o.String(), want)
	}
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
