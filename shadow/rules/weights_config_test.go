package rules

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWeightsConfigReads(t *testing.T) {
	const data = `cutover:
  enabled: true
  routes: [/api/health]
  weights:
    /api/sessions: 10
    /api/v1/search: 100
    /api/activity: 0
  rest: 5
  sticky: cookie:portal_session
`
	cfg, err := ParseConfig("parity.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	five := 5
	want := CutoverConfig{
		Enabled: true,
		Rest:    &five,
		Routes:  []string{"/api/health"},
		Weights: map[string]int{"/api/sessions": 10, "/api/v1/search": 100, "/api/activity": 0},
		Sticky:  "cookie:portal_session",
	}
	if diff := cmp.Diff(want, cfg.Cutover); diff != "" {
		t.Errorf("cutover (-want +got):\n%s", diff)
	}
}

func TestWeightsConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // the whole error
	}{
		{"percent over 100", "cutover:\n  weights:\n    /api/sessions: 10\n    /api/activity: 101\n",
			`parity.yaml:4: cutover.weights[/api/activity]: percent must be between 0 and 100, got 101`},
		{"negative percent", "cutover:\n  weights: {/api/sessions: -1}\n",
			`parity.yaml:2: cutover.weights[/api/sessions]: percent must be between 0 and 100, got -1`},
		{"percent not a whole number", "cutover:\n  weights:\n    /api/sessions: 12.5\n",
			`parity.yaml:3: cutover.weights[/api/sessions]: want a whole number, got "12.5"`},
		{"percent as a string", "cutover:\n  weights:\n    /api/sessions: ten\n",
			`parity.yaml:3: cutover.weights[/api/sessions]: want a whole number, got "ten"`},
		{"weights as a list", "cutover:\n  weights: [/api/sessions]\n",
			`parity.yaml:2: cutover.weights: want a mapping, got a list`},
		{"duplicate prefix", "cutover:\n  weights:\n    /api/sessions: 1\n    /api/sessions: 2\n",
			`parity.yaml:4: cutover.weights: key "/api/sessions" already given at line 3`},
		{"prefix outside /api", "cutover:\n  weights:\n    /healthz: 10\n",
			`parity.yaml:3: cutover.weights[/healthz]: prefix "/healthz" is not under /api/; only /api paths go to the candidate`},
		{"prefix is /api/auth", "cutover:\n  weights:\n    /api/auth: 10\n",
			`parity.yaml:3: cutover.weights[/api/auth]: prefix "/api/auth" covers /api/auth, which never goes to the candidate`},
		{"prefix covers /api/auth", "cutover:\n  weights:\n    /api/: 1\n",
			`parity.yaml:3: cutover.weights[/api/]: prefix "/api/" covers /api/auth, which never goes to the candidate`},
		{"prefix covers /api/auth in another case", "cutover:\n  weights:\n    /API/Auth/callback: 0\n",
			`parity.yaml:3: cutover.weights[/API/Auth/callback]: prefix "/API/Auth/callback" covers /api/auth, which never goes to the candidate`},
		{"prefix not canonical", "cutover:\n  weights:\n    /api/x/../auth: 5\n",
			`parity.yaml:3: cutover.weights[/api/x/../auth]: prefix "/api/x/../auth" is not canonical; write "/api/auth"`},
		{"prefix ambiguous", "cutover:\n  weights:\n    /api/a%2Fb: 5\n",
			`parity.yaml:3: cutover.weights[/api/a%2Fb]: prefix "/api/a%2Fb" is ambiguous (encoded separators, control or non-ASCII bytes)`},
		{"rest over 100", "cutover:\n  rest: 200\n",
			`parity.yaml:2: cutover.rest: percent must be between 0 and 100, got 200`},
		{"prefix with a line break", "cutover:\n  weights: {\"/api/a\\nb\": 1}\n",
			`parity.yaml:2: cutover.weights["/api/a\nb"]: prefix "/api/a\nb" is ambiguous (encoded separators, control or non-ASCII bytes)`},
		{"empty prefix", "cutover:\n  weights: {\"\": 1}\n",
			`parity.yaml:2: cutover.weights[""]: empty prefix`},
		{"sticky unknown", "cutover:\n  sticky: session\n",
			`parity.yaml:2: cutover.sticky: "session": want cookie:NAME, header:NAME or client_ip`},
		{"sticky cookie without a name", "cutover:\n  sticky: \"cookie:\"\n",
			`parity.yaml:2: cutover.sticky: "cookie:": want a cookie name after "cookie:"`},
		{"sticky header with a space", "cutover:\n  sticky: \"header:X User\"\n",
			`parity.yaml:2: cutover.sticky: "header:X User": want a header name after "header:"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := loadString("parity.yaml", tc.yaml, nil)
			if err == nil {
				t.Fatal("no error")
			}
			if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

func TestWeightsStickyAccepted(t *testing.T) {
	for _, v := range []string{"", "client_ip", "cookie:sid", "header:X-Portal-User"} {
		cfg := &Config{Cutover: CutoverConfig{Sticky: v}}
		if err := cfg.Validate(); err != nil {
			t.Errorf("sticky %q: %v", v, err)
		}
	}
}
