package rules

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/report"
)

const acceptEntry = `accept:
  - route: GET /api/sessions
    path: header.Cache-Control
    kind: missing
    reason: the CDN adds it
    owner: team-api
    until: 2026-12-31
    ticket: API-42
`

func TestAcceptConfigReads(t *testing.T) {
	cfg, err := ParseConfig("parity.yaml", []byte(acceptEntry))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	want := []report.Acceptance{{Route: "GET /api/sessions", Path: "header.Cache-Control", Kind: "missing",
		Reason: "the CDN adds it", Owner: "team-api", Until: "2026-12-31", Ticket: "API-42"}}
	if d := cmp.Diff(want, cfg.Accept); d != "" {
		t.Errorf("accept (-want +got):\n%s", d)
	}
}

// Every bad entry is one line naming the file and the line at fault.
func TestAcceptConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"no owner", "accept:\n  - route: GET /api/x\n    path: body.a\n    reason: r\n    until: 2026-12-31\n",
			"parity.yaml:2: accept[0]: owner missing: who answers for the acceptance"},
		{"no date", "accept:\n  - route: GET /api/x\n    path: body.a\n    reason: r\n    owner: me\n",
			"parity.yaml:2: accept[0]: until missing: the last day (YYYY-MM-DD) the difference is accepted"},
		{"not a date", "accept:\n  - route: GET /api/x\n    path: body.a\n    reason: r\n    owner: me\n    until: next week\n",
			`parity.yaml:6: accept[0].until: "next week" is not a date YYYY-MM-DD`},
		{"no reason", "accept:\n  - route: GET /api/x\n    path: body.a\n    owner: me\n    until: 2026-12-31\n",
			"parity.yaml:2: accept[0]: reason missing: say why the difference is acceptable"},
		{"a path no report shows", "accept:\n  - route: GET /api/x\n    path: items.a\n    reason: r\n    owner: me\n    until: 2026-12-31\n",
			`parity.yaml:3: accept[0].path: "items.a" is no difference path a report shows (status, header.<Name>, body.<path>)`},
		{"a glob", "accept:\n  - route: GET /api/x\n    path: header.X-*\n    reason: r\n    owner: me\n    until: 2026-12-31\n",
			`parity.yaml:3: accept[0].path: "header.X-*" has a glob; a report shows each difference at one path, and an acceptance names one`},
		{"not a route key", "accept:\n  - route: /api/x\n    path: status\n    reason: r\n    owner: me\n    until: 2026-12-31\n",
			`parity.yaml:2: accept[0].route: "/api/x" is not a route key as reports show it ("GET /api/sessions/:id")`},
		{"unknown kind", "accept:\n  - route: GET /api/x\n    path: status\n    kind: gone\n    reason: r\n    owner: me\n    until: 2026-12-31\n",
			`parity.yaml:4: accept[0].kind: unknown kind "gone" (changed, missing, extra or type)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig("parity.yaml", []byte(tc.yaml))
			if err == nil {
				err = cfg.Validate()
			}
			if err == nil {
				t.Fatal("no error")
			}
			if d := cmp.Diff(tc.want, err.Error()); d != "" {
				t.Errorf("error (-want +got):\n%s", d)
			}
		})
	}
}
