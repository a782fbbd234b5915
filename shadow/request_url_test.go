package shadow

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// differencePaths lists an observation's differences as "path kind [security]".
func differencePaths(o report.Observation) []string {
	var out []string
	for _, d := range o.Differences {
		s := d.Path + " " + string(d.Kind)
		if d.Security != "" {
			s += " " + string(d.Security)
		}
		out = append(out, s)
	}
	return out
}

// TestProxyJudgesLocationAgainstClientURL: a relative Location of one backend and
// the absolute one of the other, naming the host and scheme the client addressed,
// are one target — the scheme taken from a trusted X-Forwarded-Proto only.
func TestProxyJudgesLocationAgainstClientURL(t *testing.T) {
	for _, tc := range []struct {
		name  string
		trust bool
		want  []string
	}{
		{"trusted proto", true, nil},
		{"untrusted proto", false, []string{"header.Location changed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", "/api/docs/x?view=compact")
				w.WriteHeader(http.StatusFound)
			})
			candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				// Fastify's habit: an absolute URL from the Host and the forwarded proto.
				w.Header().Set("Location", "https://"+r.Host+"/api/docs/x?view=compact")
				w.WriteHeader(http.StatusFound)
			})
			obs := newObserver()
			h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t),
				Decide: decideFixed(rules.Primary, true), Observer: obs, TrustForwarded: tc.trust})
			req, _ := http.NewRequest(http.MethodGet, h.server.URL+"/api/docs/x/open", nil)
			req.Header.Set("X-Forwarded-Proto", "https")
			h.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			h.do(t, req)
			o := obs.next(t)
			if d := cmp.Diff(tc.want, differencePaths(o)); d != "" {
				t.Errorf("differences (-want +got):\n%s", d)
			}
		})
	}
}

// TestProxyPassesOriginToComparison: the request's Origin reaches the comparison, so
// that a candidate allowing an origin other than the request's is not taken for
// one that allows the request's own.
func TestProxyPassesOriginToComparison(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "https://a.example")
	})
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("X-Allow"))
	})
	obs := newObserver()
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t),
		Decide: decideFixed(rules.Primary, true), Observer: obs})
	for _, tc := range []struct {
		allow string
		want  []string
	}{
		{"https://b.example", []string{"header.Access-Control-Allow-Origin changed"}},
		{"https://evil.example", []string{"header.Access-Control-Allow-Origin changed cors_origin_widened"}},
	} {
		req, _ := http.NewRequest(http.MethodGet, h.server.URL+"/api/embed", nil)
		req.Header.Set("Origin", "https://evil.example")
		req.Header.Set("X-Allow", tc.allow)
		h.do(t, req)
		if d := cmp.Diff(tc.want, differencePaths(obs.next(t))); d != "" {
			t.Errorf("allow %s: differences (-want +got):\n%s", tc.allow, d)
		}
	}
}

func TestClientRequest(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target string
		tls    bool
		proto  string
		trust  bool
		want   string
	}{
		{"plain", "/api/x?a=1", false, "", false, "http://parity.test/api/x?a=1"},
		{"tls", "/api/x", true, "", false, "https://parity.test/api/x"},
		{"forwarded untrusted", "/api/x", false, "https", false, "http://parity.test/api/x"},
		{"forwarded trusted", "/api/x", false, "HTTPS, http", true, "https://parity.test/api/x"},
		{"forwarded junk", "/api/x", true, "gopher", true, "https://parity.test/api/x"},
		{"escapes kept", "/api/a%2Fb/%7Ex?q=%20", false, "", false, "http://parity.test/api/a%2Fb/%7Ex?q=%20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.target, nil)
			r.Host = "parity.test"
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			} else {
				r.TLS = nil
			}
			if tc.proto != "" {
				r.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			r.Header.Set("Origin", "https://o.example")
			got := clientRequest(r, tc.trust)
			if got.URL.String() != tc.want || got.Origin != "https://o.example" {
				t.Errorf("clientRequest = %s (origin %q), want %s", got.URL, got.Origin, tc.want)
			}
		})
	}
}

// TestReplayJudgesLocationAgainstEachBackend: in a replay each answer's Location is
// resolved against its own backend's URL, so two backends naming their own hosts
// point to the same target.
func TestReplayJudgesLocationAgainstEachBackend(t *testing.T) {
	absolute := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "http://"+r.Host+"/api/docs/x?view=compact")
		w.WriteHeader(http.StatusFound)
	}
	primary := httptest.NewServer(http.HandlerFunc(absolute))
	defer primary.Close()
	candidate := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("elsewhere") != "" {
			w.Header().Set("Location", "http://elsewhere.example/api/docs/x?view=compact")
			w.WriteHeader(http.StatusFound)
			return
		}
		w.Header().Set("Location", "x?view=compact")
		w.WriteHeader(http.StatusFound)
	}))
	defer candidate.Close()
	obs := &observationLog{}
	rp := &Replayer{Primary: parseTestURL(t, primary.URL), Candidate: parseTestURL(t, candidate.URL), Observer: obs, Concurrency: 1}
	if _, err := rp.Run(context.Background(), ndjsonTraffic(t,
		`{"method":"GET","url":"/api/docs/open"}`,
		`{"method":"GET","url":"/api/docs/open?elsewhere=1"}`)); err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, o := range obs.all {
		got = append(got, differencePaths(o))
	}
	want := [][]string{nil, {"header.Location changed"}}
	if len(got) == 2 && len(obs.all[0].Differences) > 0 {
		got[0], got[1] = got[1], got[0]
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("differences (-want +got):\n%s", d)
	}
}

var jsonType = http.Header{"Content-Type": {"application/json"}}

// TestObservationCarriesOmitted: a result cut at its bound says so in the
// observation, and never counts as matched.
func TestObservationCarriesOmitted(t *testing.T) {
	rs, err := diff.NewRules(diff.MaxDifferences(2))
	if err != nil {
		t.Fatal(err)
	}
	x := Exchange{Decision: rules.Decision{Route: "GET /api/x", Rules: rs}, Method: "GET",
		Primary:   &diff.Response{Status: 200, Header: jsonType, Body: []byte(`{"a":1,"b":2,"c":3,"d":4}`)},
		Candidate: &diff.Response{Status: 200, Header: jsonType, Body: []byte(`{"a":2,"b":3,"c":4,"d":5}`)}}
	o := x.Observation()
	if !o.Truncated {
		t.Errorf("observation not marked truncated: %+v", o)
	}
	agg := report.NewAggregator(report.Limits{})
	agg.Observe(o)
	r := agg.Snapshot().Route("GET /api/x")
	if r == nil || r.Matched != 0 || r.Compared != 1 {
		t.Errorf("route stats %+v: want 1 compared, none matched", r)
	}
}
