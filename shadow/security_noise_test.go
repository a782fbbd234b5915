package shadow

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/shadow/rules"
)

// TestSecurityDifferenceIsNeverNoise: neither a learned pattern nor a re-ask that
// differs the same way silences a security-marked difference.
func TestSecurityDifferenceIsNeverNoise(t *testing.T) {
	sec := diff.Difference{Path: "header.Set-Cookie.sid.HttpOnly", Pattern: "header.Set-Cookie.sid.HttpOnly", Kind: diff.Missing, Security: diff.CookieHttpOnlyLost}
	plain := diff.Difference{Path: "body.at", Pattern: "body.at", Kind: diff.Changed}
	learned := []string{"body.at", "header.Set-Cookie.sid.HttpOnly"}
	kept, noise := learnedNoise([]diff.Difference{plain, sec}, learned)
	if d := cmp.Diff([]diff.Difference{sec}, kept); d != "" {
		t.Errorf("learnedNoise kept (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"body.at"}, noise); d != "" {
		t.Errorf("learnedNoise noise (-want +got):\n%s", d)
	}
	kept, noise = splitNoise([]diff.Difference{plain, sec}, []diff.Difference{plain, sec})
	if d := cmp.Diff([]diff.Difference{sec}, kept); d != "" {
		t.Errorf("splitNoise kept (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"body.at"}, noise); d != "" {
		t.Errorf("splitNoise noise (-want +got):\n%s", d)
	}
}

// TestProxyCountsSecurityDifferences: a candidate that drops a cookie's HttpOnly is
// counted in parity_security_differences_total by route and rule.
func TestProxyCountsSecurityDifferences(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "sid=1; Path=/; HttpOnly; SameSite=Lax")
	})
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "sid=1; Path=/; SameSite=Lax")
	})
	obs := newObserver()
	m := NewMetrics(0)
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t),
		Decide: decideFixed(rules.Primary, true), Observer: obs, Metrics: m})
	h.get(t, "/api/prefs")
	o := obs.next(t)
	if d := cmp.Diff([]string{"header.Set-Cookie.sid.HttpOnly missing cookie_httponly_lost"}, differencePaths(o)); d != "" {
		t.Errorf("differences (-want +got):\n%s", d)
	}
	closeProxy(t, h.proxy) // the metric is counted before the observation is handed on
	if got := metricValue(t, m, "parity_security_differences_total", map[string]string{"route": "GET /api/prefs", "rule": "cookie_httponly_lost"}); got != 1 {
		t.Errorf("parity_security_differences_total = %g, want 1", got)
	}
}
