package shadow

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

func TestCanonicalRedirect(t *testing.T) {
	reqURL := func(s string) *diff.Request { return &diff.Request{URL: parseTestURL(t, s)} }
	redirect := func(loc string) *diff.Response {
		return &diff.Response{Status: http.StatusPermanentRedirect, Header: http.Header{"Location": {loc}}}
	}
	direct := &diff.Response{Status: 200}
	tests := []struct {
		name      string
		method    string
		req       string
		primary   *diff.Response
		candidate *diff.Response
		side      rules.Backend
		target    string // "" = not canonicalising
	}{
		{"trailing slash dropped, relative", "GET", "http://h/api/docs/x/?view=compact", redirect("/api/docs/x?view=compact"), direct, rules.Primary, "http://h/api/docs/x?view=compact"},
		{"trailing slash added, absolute", "GET", "http://h/api/docs/x", direct, redirect("http://h:80/api/docs/x/"), rules.Candidate, "http://h:80/api/docs/x/"},
		{"canonical form", "GET", "http://h/api//docs/%78", redirect("/api/docs/x"), direct, rules.Primary, "http://h/api/docs/x"},
		{"HEAD", "HEAD", "http://h/api/docs/x/", redirect("/api/docs/x"), direct, rules.Primary, "http://h/api/docs/x"},
		{"another path", "GET", "http://h/api/docs/x/", redirect("/api/docs/y"), direct, 0, ""},
		{"query changed", "GET", "http://h/api/docs/x/?view=compact", redirect("/api/docs/x"), direct, 0, ""},
		{"another origin", "GET", "http://h/api/docs/x/", redirect("https://h/api/docs/x"), direct, 0, ""},
		{"itself", "GET", "http://h/api/docs/x", redirect("/api/docs/x"), direct, 0, ""},
		{"both redirect", "GET", "http://h/api/docs/x/", redirect("/api/docs/x"), redirect("/api/docs/x"), 0, ""},
		{"a write", "POST", "http://h/api/docs/x/", redirect("/api/docs/x"), direct, 0, ""},
		{"into auth", "GET", "http://h/api/auth/x/", redirect("/api/auth/x"), direct, 0, ""},
		{"not a redirect status", "GET", "http://h/api/docs/x/", &diff.Response{Status: 201, Header: http.Header{"Location": {"/api/docs/x"}}}, direct, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.primary.Request = reqURL(tc.req)
			side, target, ok := canonicalRedirect(tc.method, tc.primary, tc.candidate)
			if ok != (tc.target != "") || ok && (side != tc.side || target.String() != tc.target) {
				t.Errorf("canonicalRedirect = %v, %v, %v; want %v, %q", side, target, ok, tc.side, tc.target)
			}
		})
	}
}

func (b *backend) all() []seen {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]seen(nil), b.reqs...)
}

// docs is a backend that serves the document at /api/docs/x; at /api/docs/x/ it
// answers as redirectSlash says: a 308 to the slashless path (SvelteKit), or the
// document directly (Fastify with ignoreTrailingSlash).
func docs(t *testing.T, redirectSlash bool, title string) *backend {
	return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if redirectSlash && r.URL.Path == "/api/docs/x/" {
			w.Header().Set("Location", "/api/docs/x?"+r.URL.RawQuery)
			w.Header().Set("X-Sveltekit-Normalize", "1")
			w.WriteHeader(http.StatusPermanentRedirect)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"x","title":"` + title + `"}`))
	})
}

// TestProxyFollowsCanonicalRedirect: against real backends, a trailing-slash
// redirect of one side and a direct answer of the other are followed one hop off
// the client's path, the final answers compared, and the redirect counted as a
// habit; what the final answers differ in stays a difference; the client gets the
// serving backend's redirect untouched.
func TestProxyFollowsCanonicalRedirect(t *testing.T) {
	tests := []struct {
		name           string
		config         string
		primarySlash   bool
		candidateSlash bool
		candidateTitle string
		want           []string
		habits         []string
		follows        float64
	}{
		{"primary redirects", "", true, false, "Doc", nil, []string{report.HabitCanonicalRedirect}, 1},
		{"candidate redirects", "", false, true, "Doc", nil, []string{report.HabitCanonicalRedirect}, 1},
		{"final answers differ", "", true, false, "Other", []string{"body.title changed"}, []string{report.HabitCanonicalRedirect}, 1},
		{"quiet habit", "compare:\n  quiet_habits: [canonical_redirect]\n", true, false, "Doc", nil, nil, 1},
		{"following off", "compare:\n  follow_redirects: none\n", true, false, "Doc",
			[]string{"body extra", "header.Content-Type extra", "header.Location missing", "header.X-Sveltekit-Normalize missing", "status changed"}, nil, 0},
		{"following off for one route", "routes:\n  - match: GET /api/docs/:id\n    follow_redirects: none\n", true, false, "Doc",
			[]string{"body extra", "header.Content-Type extra", "header.Location missing", "header.X-Sveltekit-Normalize missing", "status changed"}, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			primary := docs(t, tc.primarySlash, "Doc")
			candidate := docs(t, tc.candidateSlash, tc.candidateTitle)
			obs := newObserver()
			m := NewMetrics(0)
			h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t),
				Decide: yamlRouter(t, tc.config).Decide, Observer: obs, Metrics: m})
			h.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			res, _ := h.get(t, "/api/docs/x/?view=compact")
			wantStatus := http.StatusOK
			if tc.primarySlash {
				wantStatus = http.StatusPermanentRedirect
			}
			if res.StatusCode != wantStatus {
				t.Errorf("client got %d, want %d", res.StatusCode, wantStatus)
			}
			o := obs.next(t)
			if o.Skipped != "" {
				t.Fatalf("skipped: %s", o.Skipped)
			}
			if d := cmp.Diff(tc.want, differencePaths(o)); d != "" {
				t.Errorf("differences (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tc.habits, o.Habits); d != "" {
				t.Errorf("habits (-want +got):\n%s", d)
			}
			if o.PrimaryStatus != 200 && tc.follows > 0 || o.CandidateStatus != 200 && tc.follows > 0 {
				t.Errorf("statuses %d, %d: want the final answers'", o.PrimaryStatus, o.CandidateStatus)
			}
			closeProxy(t, h.proxy)
			if got := metricValue(t, m, "parity_redirect_follows_total", map[string]string{"result": "answered"}); got != tc.follows {
				t.Errorf("parity_redirect_follows_total{answered} = %g, want %g", got, tc.follows)
			}
			if tc.follows == 0 {
				return
			}
			// The follow went to the redirecting backend, marked as a shadow request.
			redirector := primary
			if tc.candidateSlash {
				redirector = candidate
			}
			var follow *seen
			for _, s := range redirector.all() {
				if s.RequestURI == "/api/docs/x?view=compact" {
					follow = &s
				}
			}
			if follow == nil || follow.Header.Get(HeaderShadow) != "1" {
				t.Errorf("follow request %+v: want GET /api/docs/x?view=compact marked %s", follow, HeaderShadow)
			}
		})
	}
}

// TestProxyRedirectNotFollowableIsSkipped: a canonicalising redirect that cannot be
// followed (its target unreachable) is skipped, counted, never reported as a
// difference.
func TestProxyRedirectNotFollowableIsSkipped(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/docs/x/" {
			w.Header().Set("Location", "/api/docs/x")
			w.WriteHeader(http.StatusPermanentRedirect)
			return
		}
		// The target's answer breaks off mid-body.
		w.Header().Set("Content-Length", "100")
		w.Write([]byte("{"))
	})
	candidate := docs(t, false, "Doc")
	obs := newObserver()
	m := NewMetrics(0)
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t),
		Decide: yamlRouter(t, "").Decide, Observer: obs, Metrics: m})
	h.client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	h.get(t, "/api/docs/x/")
	if o := obs.next(t); o.Skipped != report.SkipRedirectUnfollowed || len(o.Differences) > 0 {
		t.Errorf("observation %+v: want skipped as %s", o, report.SkipRedirectUnfollowed)
	}
	closeProxy(t, h.proxy)
	if got := metricValue(t, m, "parity_redirect_follows_total", map[string]string{"result": "failed"}); got != 1 {
		t.Errorf("parity_redirect_follows_total{failed} = %g, want 1", got)
	}
}

// TestReplayFollowsCanonicalRedirect: the replay follows the same way, on the
// backend that redirected, behind a path prefix too.
func TestReplayFollowsCanonicalRedirect(t *testing.T) {
	primary := docs(t, true, "Doc")
	candidate := docs(t, false, "Doc")
	obs := &observationLog{}
	rp := &Replayer{Primary: parseTestURL(t, primary.URL), Candidate: parseTestURL(t, candidate.URL), Observer: obs}
	if _, err := rp.Run(context.Background(), ndjsonTraffic(t, `{"method":"GET","url":"/api/docs/x/?view=compact"}`)); err != nil {
		t.Fatal(err)
	}
	if len(obs.all) != 1 {
		t.Fatalf("%d observations", len(obs.all))
	}
	o := obs.all[0]
	if len(o.Differences) > 0 || o.Skipped != "" || !cmp.Equal(o.Habits, []string{report.HabitCanonicalRedirect}) {
		t.Errorf("observation %+v: want no difference and the habit", o)
	}
	var targets []string
	for _, s := range primary.all() {
		targets = append(targets, s.RequestURI)
	}
	if d := cmp.Diff([]string{"/api/docs/x/?view=compact", "/api/docs/x?view=compact"}, targets); d != "" {
		t.Errorf("primary received (-want +got):\n%s", d)
	}
}
