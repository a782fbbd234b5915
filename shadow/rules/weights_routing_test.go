package rules

import (
	"fmt"
	"math"
	"net"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/parity-dev/parity/report"
)

// weightRouter is the Router of an enabled cutover with the given routes, weights
// and sticky source, over the rest of cfg (nil = the defaults; its cutover.rest
// is kept).
func weightRouter(tb testing.TB, cfg *Config, routes []string, weights map[string]int, sticky string) *Router {
	tb.Helper()
	if cfg == nil {
		cfg = &Config{}
	}
	cfg.Cutover = CutoverConfig{Enabled: true, Routes: routes, Weights: weights, Sticky: sticky, Rest: cfg.Cutover.Rest}
	rt, err := NewRouter(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return rt
}

// fromClient is a request for target from the connection address addr.
func fromClient(method, target, addr string) *http.Request {
	r := newRequest(method, target)
	r.RemoteAddr = addr
	return r
}

// clientAddr is the address of the i-th synthetic client: distinct hosts, ports
// that change with every connection.
func clientAddr(i, conn int) string {
	return fmt.Sprintf("10.%d.%d.%d:%d", i>>16&0xff, i>>8&0xff, i&0xff, 40000+conn)
}

// straddle finds two clients on opposite sides of 50% of prefix, the first
// whose bucket is below 50 and the first whose is not, among the addresses
// addr(0), addr(1), ... (host[:port]; the port is not part of the key).
func straddle(prefix string, addr func(int) string) (in, out string) {
	for i := 0; in == "" || out == ""; i++ {
		a := addr(i)
		host := a
		if h, _, err := net.SplitHostPort(a); err == nil {
			host = h
		}
		if bucket(host, prefix) < 50 {
			in = a
		} else {
			out = a
		}
	}
	return in, out
}

// binomialBound is how far the count of candidate-served clients among n may lie
// from n·p and still be what a fair assignment gives: five standard deviations of
// the binomial distribution, which a fair assignment exceeds with probability
// under 1e-6. The inputs are fixed, so a test either always passes or never does.
func binomialBound(n int, p float64) float64 {
	return 5 * math.Sqrt(float64(n)*p*(1-p))
}

// TestWeightShareNearTheWeight: over many clients, the share served by the
// candidate under a weight w is w% within the binomial bound — whether the
// clients are told apart by address, cookie or header.
func TestWeightShareNearTheWeight(t *testing.T) {
	const clients = 20000
	for _, sticky := range []string{"client_ip", "cookie:sid", "header:X-User"} {
		for _, w := range []int{1, 5, 10, 25, 50, 90, 99} {
			rt := weightRouter(t, nil, nil, map[string]int{"/api/sessions": w}, sticky)
			served := 0
			for i := range clients {
				r := fromClient("GET", "/api/sessions/42", clientAddr(i, 0))
				switch sticky {
				case "cookie:sid":
					r.RemoteAddr = "192.0.2.1:1234" // one NAT for all
					r.Header.Set("Cookie", fmt.Sprintf("theme=dark; sid=s%07d", i))
				case "header:X-User":
					r.RemoteAddr = "192.0.2.1:1234"
					r.Header.Set("X-User", fmt.Sprintf("user-%d", i))
				}
				d := rt.Decide(r)
				if d.Weight != w || d.Weighted != "/api/sessions" {
					t.Fatalf("%s at %d%%: Weight %d Weighted %q", sticky, w, d.Weight, d.Weighted)
				}
				if d.Serve == Candidate {
					served++
				}
			}
			p := float64(w) / 100
			if dev := math.Abs(float64(served) - clients*p); dev > binomialBound(clients, p) {
				t.Errorf("%s at %d%%: %d of %d clients served by the candidate, %.0f from the %.0f expected (bound %.0f)",
					sticky, w, served, clients, dev, clients*p, binomialBound(clients, p))
			}
		}
	}
}

// TestWeightStickyPerClient: a client keeps its backend across requests (and
// connections, and any path under the prefix), across Routers built apart — as
// replicas of a fleet are — and when the weight grows it only gains clients: one
// served by the candidate at 10% still is at 50%.
func TestWeightStickyPerClient(t *testing.T) {
	const clients = 400
	prev := map[int]bool{}
	for _, w := range []int{10, 50, 90} {
		a := weightRouter(t, nil, nil, map[string]int{"/api/sessions": w}, "")
		b := weightRouter(t, nil, []string{"/api/health"}, map[string]int{"/api/sessions": w, "/api/activity": 3}, "")
		for i := range clients {
			first := a.Decide(fromClient("GET", "/api/sessions", clientAddr(i, 0))).Serve
			for conn := range 50 {
				for _, rt := range []*Router{a, b} {
					path := fmt.Sprintf("/api/sessions/%d?page=%d", conn, conn)
					if got := rt.Decide(fromClient("GET", path, clientAddr(i, conn))).Serve; got != first {
						t.Fatalf("at %d%%, client %d: request %d served by %v, the first by %v", w, i, conn, got, first)
					}
				}
			}
			if prev[i] && first != Candidate {
				t.Errorf("client %d served by the candidate at a lower weight, by the primary at %d%%", i, w)
			}
			prev[i] = first == Candidate
		}
	}
}

// TestWeightBucketIsStable pins the bucket of a few keys: replicas running
// different versions of parity must put a client in the same bucket, and an
// upgrade must not move clients between backends.
func TestWeightBucketIsStable(t *testing.T) {
	got := map[string]int{}
	for _, k := range [][2]string{{"10.0.0.1", "/api/sessions"}, {"10.0.0.2", "/api/sessions"}, {"10.0.0.1", "/api/activity"}, {"", "/api/v1/"}} {
		got[k[0]+" "+k[1]] = bucket(k[0], k[1])
	}
	want := map[string]int{"10.0.0.1 /api/sessions": 28, "10.0.0.2 /api/sessions": 30, "10.0.0.1 /api/activity": 26, " /api/v1/": 46}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("buckets (-want +got):\n%s", diff)
	}
}

// TestWeightBucketsIndependentPerPrefix: being served by the candidate under one
// prefix says nothing of another: at 50% on two prefixes about a quarter of the
// clients are served by the candidate on both.
func TestWeightBucketsIndependentPerPrefix(t *testing.T) {
	const clients = 20000
	rt := weightRouter(t, nil, nil, map[string]int{"/api/sessions": 50, "/api/activity": 50}, "")
	both := 0
	for i := range clients {
		s := rt.Decide(fromClient("GET", "/api/sessions", clientAddr(i, 0))).Serve
		a := rt.Decide(fromClient("GET", "/api/activity", clientAddr(i, 0))).Serve
		if s == Candidate && a == Candidate {
			both++
		}
	}
	if dev := math.Abs(float64(both) - clients*0.25); dev > binomialBound(clients, 0.25) {
		t.Errorf("%d of %d clients served by the candidate on both prefixes, want about %d (bound %.0f)", both, clients, clients/4, binomialBound(clients, 0.25))
	}
}

// TestWeightDecide is the routing table of weights: 0 and 100, the longest
// prefix, cutover routes beating weights, the sticky sources and their
// fallback, the reverse shadow at every weight, and writes.
func TestWeightDecide(t *testing.T) {
	// Clients on opposite sides of 50% on /api/sessions, and of the rest (/api/).
	in, out := straddle("/api/sessions", func(i int) string { return clientAddr(i, 0) })
	in2, out2 := straddle("/api/", func(i int) string { return clientAddr(i, 0) })
	rest := func(w int) *Config { return &Config{Cutover: CutoverConfig{Rest: &w}} }
	writes := &Config{
		Routes: []RouteConfig{{Match: "POST /api/sessions", MirrorWrites: true}},
		Shadow: ShadowConfig{WriteRoutes: []string{"/api/tools/"}},
	}
	type want struct {
		Serve    Backend
		Weight   int
		Weighted string
		Mirror   bool
		Skip     report.SkipReason
	}
	tests := []struct {
		name string
		rt   *Router
		req  *http.Request
		want want
	}{
		{"weight 0: the primary, mirrored to the candidate",
			weightRouter(t, nil, nil, map[string]int{"/api/sessions": 0}, ""), fromClient("GET", "/api/sessions", in),
			want{Primary, 0, "/api/sessions", true, ""}},
		{"weight 100: the candidate, mirrored to the primary without verify_cutover",
			weightRouter(t, nil, nil, map[string]int{"/api/sessions": 100}, ""), fromClient("GET", "/api/sessions", out),
			want{Candidate, 100, "/api/sessions", true, ""}},
		{"a cutover route: the candidate, not mirrored without verify_cutover",
			weightRouter(t, nil, []string{"/api/sessions"}, nil, ""), fromClient("GET", "/api/sessions", out),
			want{Candidate, 100, "", false, report.SkipCutOver}},
		{"a cutover route beats a longer weighted prefix",
			weightRouter(t, nil, []string{"/api/v1/"}, map[string]int{"/api/v1/search": 0}, ""), fromClient("GET", "/api/v1/search", in),
			want{Candidate, 100, "", false, report.SkipCutOver}},
		{"in the share at 50%",
			weightRouter(t, nil, nil, map[string]int{"/api/sessions": 50}, ""), fromClient("GET", "/api/sessions/7", in),
			want{Candidate, 50, "/api/sessions", true, ""}},
		{"out of the share at 50%",
			weightRouter(t, nil, nil, map[string]int{"/api/sessions": 50}, ""), fromClient("GET", "/api/sessions/7", out),
			want{Primary, 50, "/api/sessions", true, ""}},
		{"the longest prefix wins",
			weightRouter(t, nil, nil, map[string]int{"/api/sessions": 100, "/api/sessions/archive": 0}, ""), fromClient("GET", "/api/sessions/archive/3", out),
			want{Primary, 0, "/api/sessions/archive", true, ""}},
		{"the shorter prefix applies beside the longer",
			weightRouter(t, nil, nil, map[string]int{"/api/sessions": 100, "/api/sessions/archive": 0}, ""), fromClient("GET", "/api/sessions/archived", out),
			want{Candidate, 100, "/api/sessions", true, ""}},
		{"prefixes match case-sensitively, as the backends route",
			weightRouter(t, nil, nil, map[string]int{"/api/sessions": 100}, ""), fromClient("GET", "/api/Sessions", out),
			want{Primary, 0, "", true, ""}},
		{"a path under no prefix",
			weightRouter(t, nil, nil, map[string]int{"/api/sessions": 100}, ""), fromClient("GET", "/api/activity", out),
			want{Primary, 0, "", true, ""}},
		{"weights with no routes do not cut every /api/* over",
			weightRouter(t, nil, nil, map[string]int{"/api/sessions": 0}, ""), fromClient("GET", "/api/activity", out),
			want{Primary, 0, "", true, ""}},
		{"rest: a path under no prefix, in the share",
			weightRouter(t, rest(50), []string{"/api/health"}, map[string]int{"/api/sessions": 0}, ""), fromClient("GET", "/api/v1/search", in2),
			want{Candidate, 50, "/api/", true, ""}},
		{"rest: a path under no prefix, out of the share",
			weightRouter(t, rest(50), []string{"/api/health"}, map[string]int{"/api/sessions": 0}, ""), fromClient("GET", "/api/v1/search", out2),
			want{Primary, 50, "/api/", true, ""}},
		{"rest: a weighted prefix beats it",
			weightRouter(t, rest(100), nil, map[string]int{"/api/sessions": 0}, ""), fromClient("GET", "/api/sessions", in),
			want{Primary, 0, "/api/sessions", true, ""}},
		{"rest 100: the candidate, mirrored to the primary",
			weightRouter(t, rest(100), nil, nil, ""), fromClient("GET", "/api/v1/search", out2),
			want{Candidate, 100, "/api/", true, ""}},
		{"rest 0 with no routes and no weights: nothing cut over",
			weightRouter(t, rest(0), nil, nil, ""), fromClient("GET", "/api/v1/search", in2),
			want{Primary, 0, "", true, ""}},
		{"rest: /api itself is not under /api/",
			weightRouter(t, rest(100), nil, nil, ""), fromClient("GET", "/api", in2),
			want{Primary, 0, "", true, ""}},
		{"rest 100: /api/auth stays with the primary",
			weightRouter(t, rest(100), nil, nil, ""), fromClient("GET", "/api/auth/callback", in2),
			want{Primary, 0, "", false, report.SkipAuth}},
		{"/api/auth stays with the primary beside a weight of 100",
			weightRouter(t, nil, nil, map[string]int{"/api/au": 100, "/api/authx": 100}, ""), fromClient("GET", "/api/auth/callback", in),
			want{Primary, 0, "", false, report.SkipAuth}},
		{"an auth spelling stays with the primary",
			weightRouter(t, nil, nil, map[string]int{"/api/sessions": 100}, ""), fromClient("GET", "/api/sessions/%2e%2e/auth/x", in),
			want{Primary, 0, "", false, report.SkipAuth}},
		{"an ambiguous path stays with the primary at 100%",
			weightRouter(t, nil, nil, map[string]int{"/api/sessions": 100}, ""), fromClient("GET", "/api/sessions/a%2Fb", in),
			want{Primary, 0, "", false, report.SkipAmbiguous}},
		{"a write in the share is served by the candidate and never mirrored to the primary",
			weightRouter(t, writes, nil, map[string]int{"/api/sessions": 50}, ""), fromClient("POST", "/api/sessions", in),
			want{Candidate, 50, "/api/sessions", false, report.SkipWriteMethod}},
		{"a write out of the share is mirrored to the candidate where a route opts in",
			weightRouter(t, writes, nil, map[string]int{"/api/sessions": 50}, ""), fromClient("POST", "/api/sessions", out),
			want{Primary, 50, "/api/sessions", true, ""}},
		{"a write out of the share without an opt-in is not mirrored",
			weightRouter(t, writes, nil, map[string]int{"/api/sessions": 50}, ""), fromClient("DELETE", "/api/sessions/3", out),
			want{Primary, 50, "/api/sessions", false, report.SkipWriteMethod}},
		{"a write under a weight of 0 stays with the primary",
			weightRouter(t, writes, nil, map[string]int{"/api/tools": 0}, ""), fromClient("POST", "/api/tools/execute", in),
			want{Primary, 0, "/api/tools", true, ""}},
		{"a write of a client at 100% moves with its step",
			weightRouter(t, writes, nil, map[string]int{"/api/tools": 100}, ""), fromClient("POST", "/api/tools/execute", out),
			want{Candidate, 100, "/api/tools", false, report.SkipWriteMethod}},
		{"excluded from mirroring, still served by the weight",
			weightRouter(t, &Config{Shadow: ShadowConfig{Exclude: []string{"/api/sessions"}}}, nil, map[string]int{"/api/sessions": 100}, ""), fromClient("GET", "/api/sessions", out),
			want{Candidate, 100, "/api/sessions", false, report.SkipExcluded}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.rt.Decide(tc.req)
			got := want{d.Serve, d.Weight, d.Weighted, d.Mirror, d.Skip}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Decide(%s %s from %s) (-want +got):\n%s", tc.req.Method, tc.req.RequestURI, tc.req.RemoteAddr, diff)
			}
		})
	}
}

// TestWeightDisabled: with the master switch off nothing goes to the candidate,
// whatever the weights, and no weight is reported.
func TestWeightDisabled(t *testing.T) {
	cfg := &Config{Cutover: CutoverConfig{Routes: []string{"/api/health"}, Weights: map[string]int{"/api/sessions": 100}}}
	rt, err := NewRouter(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		for _, p := range []string{"/api/health", "/api/sessions"} {
			d := rt.Decide(fromClient("GET", p, clientAddr(i, 0)))
			if d.Serve != Primary || d.Weight != 0 || d.Weighted != "" {
				t.Fatalf("%s, cutover disabled: Serve %v Weight %d Weighted %q", p, d.Serve, d.Weight, d.Weighted)
			}
		}
	}
}

// TestWeightStickySources: the cookie or header named decides, the same value
// the same way from any address; without it, or with it empty, the connection's
// address decides — never X-Forwarded-For.
func TestWeightStickySources(t *testing.T) {
	// keyed finds a value of the sticky key served by the given backend at 50%.
	keyed := func(b Backend) string {
		for i := 0; ; i++ {
			k := fmt.Sprintf("k%d", i)
			if (bucket(k, "/api/sessions") < 50) == (b == Candidate) {
				return k
			}
		}
	}
	hostIn, hostOut := straddle("/api/sessions", func(i int) string { return fmt.Sprintf("10.9.0.%d", i) })
	w := map[string]int{"/api/sessions": 50}
	cookie := weightRouter(t, nil, nil, w, "cookie:sid")
	header := weightRouter(t, nil, nil, w, "header:x-portal-user") // any case
	byIP := weightRouter(t, nil, nil, w, "client_ip")
	req := func(addr string, h ...string) *http.Request {
		r := fromClient("GET", "/api/sessions", addr)
		for i := 0; i+1 < len(h); i += 2 {
			r.Header.Add(h[i], h[i+1])
		}
		return r
	}
	tests := []struct {
		name string
		rt   *Router
		req  *http.Request
		want Backend
	}{
		{"cookie in the share, from an address out of it", cookie, req(hostOut+":1", "Cookie", "sid="+keyed(Candidate)), Candidate},
		{"cookie out of the share, from an address in it", cookie, req(hostIn+":1", "Cookie", "a=b; sid="+keyed(Primary)), Primary},
		{"no cookie: the address", cookie, req(hostIn + ":1"), Candidate},
		{"an empty cookie: the address", cookie, req(hostIn+":1", "Cookie", "sid="), Candidate},
		{"another cookie only: the address", cookie, req(hostOut+":1", "Cookie", "session="+keyed(Candidate)), Primary},
		{"header in the share", header, req(hostOut+":1", "X-Portal-User", keyed(Candidate)), Candidate},
		{"header out of the share", header, req(hostIn+":1", "X-Portal-User", keyed(Primary)), Primary},
		{"no header: the address", header, req(hostIn + ":1"), Candidate},
		{"client_ip ignores X-Forwarded-For", byIP, req(hostOut+":1", "X-Forwarded-For", hostIn), Primary},
		{"client_ip ignores the port", byIP, req(hostIn + ":65000"), Candidate},
		{"client_ip of an IPv6 address", byIP, req("[2001:db8::1]:443"), byIP.Decide(req("[2001:db8::1]:80")).Serve},
	}
	for _, tc := range tests {
		if got := tc.rt.Decide(tc.req).Serve; got != tc.want {
			t.Errorf("%s: served by %v, want %v", tc.name, got, tc.want)
		}
	}
}

// weightedRouters send paths beside /api/auth, and every other /api/* path
// (cutover.rest), to the candidate at several weights, sticky by a header the
// fuzzer controls, and verify by mirroring.
func weightedRouters(tb testing.TB) []*Router {
	var out []*Router
	for _, w := range []int{1, 50, 100} {
		out = append(out, weightRouter(tb, &Config{Cutover: CutoverConfig{Rest: &w}, Shadow: ShadowConfig{VerifyCutover: true, WriteRoutes: []string{"/api/v1/"}}},
			[]string{"/api/v1/"}, map[string]int{"/api/au": w, "/api/authors": w, "/api/sessions": w, "/api/v1/a": w, "/api/x/": w}, "header:X-User"))
	}
	return out
}

// TestWeightAuthSpellingsStayWithThePrimary: no spelling of /api/auth is served
// by or mirrored to the candidate at any weight, from any client.
func TestWeightAuthSpellingsStayWithThePrimary(t *testing.T) {
	routers := weightedRouters(t)
	for _, target := range authSpellings(t) {
		for _, rt := range routers {
			for i := range 20 {
				for _, method := range []string{"GET", "POST"} {
					r := fromClient(method, target, clientAddr(i, 0))
					r.Header.Set("X-User", fmt.Sprint(i))
					if d := rt.Decide(r); d.Serve == Candidate || d.Mirror {
						t.Fatalf("%s %q, client %d: Serve=%v Mirror=%v, want the primary and no mirror", method, target, i, d.Serve, d.Mirror)
					}
				}
			}
		}
	}
}

// FuzzWeightsNeverSendAuthToTheCandidate is the auth rule under weights as a
// property: whatever the target and the client's sticky key, a target some
// server reads as /api/auth, or an ambiguous one, is neither served by nor
// mirrored to the candidate.
func FuzzWeightsNeverSendAuthToTheCandidate(f *testing.F) {
	for _, s := range authSpellings(f) {
		f.Add(s, "u1")
	}
	f.Add("/api/sessions", "u2")
	f.Add("/api/au/../auth", "")
	routers := weightedRouters(f)
	f.Fuzz(func(t *testing.T, target, key string) {
		auth := someServerReadsAuth(target)
		for _, rt := range routers {
			for _, method := range []string{"GET", "POST"} {
				r := fromClient(method, target, "10.0.0.1:5")
				r.Header.Set("X-User", key)
				d := rt.Decide(r)
				if (auth || d.Auth || d.Ambiguous) && (d.Serve == Candidate || d.Mirror) {
					t.Fatalf("%s %q (key %q): auth %v ambiguous %v, yet Serve=%v Mirror=%v", method, target, key, auth || d.Auth, d.Ambiguous, d.Serve, d.Mirror)
				}
			}
		}
	})
}

// BenchmarkDecideWeighted is Decide on a path under a weight, by each sticky
// source, beside the same path under a cutover route.
func BenchmarkDecideWeighted(b *testing.B) {
	const target = "/api/sessions/3f1c2a9e-1111-4222-8333-444455556666"
	weights := map[string]int{"/api/sessions": 50, "/api/activity": 10, "/api/v1/search": 1}
	for _, bc := range []struct {
		name   string
		rt     *Router
		header [2]string
	}{
		{"route", weightRouter(b, nil, []string{"/api/health", "/api/sessions"}, nil, ""), [2]string{}},
		{"client_ip", weightRouter(b, nil, []string{"/api/health"}, weights, ""), [2]string{}},
		{"header", weightRouter(b, nil, []string{"/api/health"}, weights, "header:X-User"), [2]string{"X-User", "user-4711"}},
		{"cookie", weightRouter(b, nil, []string{"/api/health"}, weights, "cookie:sid"), [2]string{"Cookie", "theme=dark; sid=0f6c1e8a9b; lang=en"}},
	} {
		r := fromClient("GET", target, "203.0.113.9:52114")
		if bc.header[0] != "" {
			r.Header.Set(bc.header[0], bc.header[1])
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.rt.Decide(r)
			}
		})
	}
}
