package report

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/parity-dev/parity/diff"
)

// securityTraffic is a route whose answers all match but n, each of which lost a
// cookie's HttpOnly.
func securityTraffic(route string, matched, n int) []Observation {
	var out []Observation
	for i := 0; i < matched+n; i++ {
		o := matched1(route)
		if i < n {
			o.Differences = []diff.Difference{{Path: "header.Set-Cookie.sid.HttpOnly", Pattern: "header.Set-Cookie.sid.HttpOnly",
				Kind: diff.Missing, Primary: "HttpOnly", Security: diff.CookieHttpOnlyLost}}
		}
		out = append(out, o)
	}
	return out
}

func matched1(route string) Observation { return matched(route, 2, 2) }

func TestSecurityDifferenceFailsTheRoute(t *testing.T) {
	// Lenient enough that the matched traffic alone passes on 99 samples.
	lenient := DefaultThresholds
	lenient.MinParity = 0.5
	lenient.MaxCandidateErrorRate = 0.2
	lenient.MaxP99Ratio = 0
	warn := lenient
	warn.Security = SecurityWarn
	zero := lenient
	zero.Security = "" // the zero value fails too
	tests := []struct {
		name        string
		matched, n  int
		th          Thresholds
		want        Verdict
		wantReason  string
		wantNeedAny bool
	}{
		// Parity 0.99 passes the threshold; the security difference fails the route.
		{"enough samples, parity passes", 99, 1, lenient, Fail, "security regression: header.Set-Cookie.sid.HttpOnly missing ×1 (cookie_httponly_lost: a cookie lost HttpOnly", false},
		// Two samples would be inconclusive; a security regression needs no more evidence.
		{"too few samples", 1, 1, lenient, Fail, "security regression: header.Set-Cookie.sid.HttpOnly", false},
		{"zero policy fails", 1, 1, zero, Fail, "security regression:", false},
		{"warn keeps the verdict", 1, 1, warn, Inconclusive, "; warning: security regression: header.Set-Cookie.sid.HttpOnly", true},
		{"no security difference", 99, 0, lenient, Pass, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := snapshotOf(t, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), securityTraffic("GET /api/prefs", tc.matched, tc.n))
			r := s.Route("GET /api/prefs")
			v, reason, needed := JudgeRoute(r, tc.th)
			if v != tc.want || !strings.Contains(reason, tc.wantReason) || (needed > 0) != tc.wantNeedAny {
				t.Errorf("JudgeRoute = %s, %q, needed %d; want %s containing %q", v, reason, needed, tc.want, tc.wantReason)
			}
			// The evidence the dashboard and report.json's verdicts carry says the same.
			if ev := RouteEvidence(r, tc.th); ev.Verdict != v || ev.Reason != reason {
				t.Errorf("RouteEvidence = %s, %q; JudgeRoute said %s, %q", ev.Verdict, ev.Reason, v, reason)
			}
		})
	}
}

func TestSecurityKeptBySnapshotAndMerge(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	a := snapshotOf(t, at, securityTraffic("GET /api/prefs", 3, 0))
	// The same path and kind, once unmarked, once marked: the group is marked.
	plain := matched1("GET /api/prefs")
	plain.Differences = []diff.Difference{{Path: "header.Set-Cookie.sid.HttpOnly", Pattern: "header.Set-Cookie.sid.HttpOnly", Kind: diff.Missing}}
	b := snapshotOf(t, at, append([]Observation{plain}, securityTraffic("GET /api/prefs", 0, 2)...))
	for _, order := range [][]*Snapshot{{a, b}, {b, a}} {
		m, err := Merge(order...)
		if err != nil {
			t.Fatal(err)
		}
		var buf strings.Builder
		if err := WriteSnapshot(&buf, m); err != nil {
			t.Fatal(err)
		}
		back, err := ReadSnapshot(strings.NewReader(buf.String()))
		if err != nil {
			t.Fatal(err)
		}
		got := back.Route("GET /api/prefs").Differences
		want := []DiffGroup{{Path: "header.Set-Cookie.sid.HttpOnly", Kind: "missing", Count: 3, Security: string(diff.CookieHttpOnlyLost), Share: 0.5}}
		if d := cmp.Diff(want, got, cmpopts.IgnoreFields(DiffGroup{}, "Examples", "ExamplesDropped")); d != "" {
			t.Errorf("merged groups (-want +got):\n%s", d)
		}
	}
}

// TestSecurityFirstInTop: a rare security regression is shown before more frequent
// differences, whatever the top's size.
func TestSecurityFirstInTop(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var obs []Observation
	for i := 0; i < 5; i++ {
		o := matched1("GET /api/prefs")
		o.Differences = []diff.Difference{changed("body.total", "body.total", "3", "4")}
		obs = append(obs, o)
	}
	obs = append(obs, securityTraffic("GET /api/prefs", 0, 1)...)
	s := snapshotOf(t, at, obs)
	v, err := newView(s, RenderOptions{TopDifferences: 1})
	if err != nil {
		t.Fatal(err)
	}
	if top := v.Routes[0].Top; len(top) != 1 || top[0].Security == "" {
		t.Errorf("top = %+v, want the security regression", top)
	}
}
