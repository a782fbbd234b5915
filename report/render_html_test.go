package report

import (
	"bytes"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/diff"
)

func renderPage(t testing.TB, render renderer, s *Snapshot, opts RenderOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := render(&b, s, opts); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// TestRenderHTMLStandsAlone: the page needs nothing but itself — its only
// scripts are its own, inline — and every value in it is text.
func TestRenderHTMLStandsAlone(t *testing.T) {
	for _, r := range []struct {
		name   string
		render renderer
	}{{"live", RenderHTML}, {"static", RenderStaticHTML}} {
		t.Run(r.name, func(t *testing.T) {
			page := renderPage(t, r.render, renderSnapshot(t), RenderOptions{Title: `<img src=x onerror=alert(1)></script>`, Plan: defaultPlan(t)})
			// The SVG namespace names no resource; the tab icon is a data: URL.
			stripped := strings.ReplaceAll(page, "http://www.w3.org/2000/svg", "")
			if tag := regexp.MustCompile(`<[^>]*\s(src|srcset|action|formaction)=`).FindString(page); tag != "" {
				t.Errorf("page loads something: %q", tag)
			}
			for _, bad := range []string{"<img", "<iframe", "<object", "<embed", "<a ", "http://", "https://", "@import", "url(", "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("} {
				if strings.Contains(stripped, bad) {
					t.Errorf("page contains %q", bad)
				}
			}
			if links := regexp.MustCompile(`<link [^>]*>`).FindAllString(page, -1); len(links) != 1 || !strings.Contains(links[0], `href="data:image/svg`) {
				t.Errorf("page links %q, want only the data: tab icon", links)
			}
			if n := strings.Count(page, "<script"); n != 2 {
				t.Errorf("page has %d scripts, want the configuration and the dashboard script", n)
			}
			config := regexp.MustCompile(`(?s)<script type="application/json" id="parity-config">(.*?)</script>`).FindStringSubmatch(page)
			if config == nil || strings.Contains(config[1], "<") {
				t.Errorf("the configuration is missing or holds markup: %q", config)
			}
			for _, want := range []string{"&lt;img src=x onerror=alert(1)&gt;&lt;/script&gt;", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;",
				"Rollout plan", `class="pbar"`, "<details", `id="chart-parity"`, `id="noise"`, `data-route="GET /api/sessions/:id"`} {
				if !strings.Contains(page, want) {
					t.Errorf("page lacks %q", want)
				}
			}
		})
	}
}

// TestRenderHTMLLiveOrFrozen: RenderHTML's page refreshes itself, RenderStaticHTML's
// says it is frozen and never fetches.
func TestRenderHTMLLiveOrFrozen(t *testing.T) {
	tests := []struct {
		name   string
		render renderer
		want   []string
	}{
		{"live", RenderHTML, []string{`data-live="true"`, `"refresh_ms":3000`, `>snapshot of 2026-03-01T10:30:00Z<`}},
		{"static", RenderStaticHTML, []string{`data-live="false"`, `"refresh_ms":0`, `>frozen snapshot of 2026-03-01T10:30:00Z<`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page := renderPage(t, tc.render, renderSnapshot(t), RenderOptions{})
			for _, w := range tc.want {
				if !strings.Contains(page, w) {
					t.Errorf("page lacks %s", w)
				}
			}
		})
	}
}

// TestRenderHTMLNoSecrets: secrets in real responses reach the page only as
// diff's redaction markers, while their paths are shown.
func TestRenderHTMLNoSecrets(t *testing.T) {
	const canary = "canary-91ab"
	primary := &diff.Response{Status: 200, Header: map[string][]string{"Content-Type": {"application/json"}, "Set-Cookie": {"sid=" + canary + "-1"}},
		Body: []byte(`{"user":{"password":"` + canary + `-2","apiKey":"` + canary + `-3"},"token":"` + canary + `-4","n":1}`)}
	candidate := &diff.Response{Status: 200, Header: map[string][]string{"Content-Type": {"application/json"}, "Set-Cookie": {"sid=" + canary + "-5"}},
		Body: []byte(`{"user":{"password":"` + canary + `-6","apiKey":"` + canary + `-7"},"token":"` + canary + `-8","n":2}`)}
	res := diff.Compare(primary, candidate, nil)
	a := NewAggregator(Limits{})
	a.Observe(Observation{Route: "GET /api/me", Method: "GET", RequestID: "r1", Time: time.Now(), PrimaryStatus: 200, CandidateStatus: 200,
		PrimaryLatency: time.Millisecond, CandidateLatency: time.Millisecond, Differences: res.Differences})
	for _, render := range []renderer{RenderHTML, RenderStaticHTML} {
		page := renderPage(t, render, a.Snapshot(), RenderOptions{Plan: defaultPlan(t)})
		if strings.Contains(page, canary) {
			t.Fatalf("a secret reached the page")
		}
		for _, want := range []string{"body.user.password", "body.token", "header.Set-Cookie", "[redacted"} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
	}
}

// manyRoutes is a snapshot of n routes, each with differences, examples and
// latency: a few aggregated for real, copied under n names with their counts
// varied (copies, because encoding n routes' histograms is slow under -race).
func manyRoutes(t testing.TB, n int) *Snapshot {
	t.Helper()
	a := NewAggregator(Limits{})
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	const kinds = 5
	for k := range kinds {
		route := fmt.Sprintf("GET /api/v1/things/t%d/:id", k)
		for i := range 60 {
			o := Observation{Route: route, RequestID: fmt.Sprintf("req-%d-%03d", k, i), Time: now.Add(-time.Duration(i) * time.Minute),
				PrimaryStatus: 200, CandidateStatus: 200, PrimaryLatency: time.Duration(1000+i*90) * time.Microsecond,
				CandidateLatency: time.Duration(1100+i*(95+k*20)) * time.Microsecond}
			if i%(2+k) == 0 {
				o.Differences = []diff.Difference{
					{Path: fmt.Sprintf("body.items.%d.name", i%4), Pattern: "body.items.#.name", Kind: diff.Changed, Primary: `"alpha"`, Candidate: `"beta"`},
					{Path: "header.Cache-Control", Pattern: "header.Cache-Control", Kind: diff.Missing, Primary: "private, no-store"},
				}
			}
			a.Observe(o)
		}
	}
	base := a.Snapshot()
	s := &Snapshot{Version: SnapshotVersion, Started: base.Started, Updated: now, Limits: base.Limits, Series: base.Series}
	for k := range n {
		r := base.Routes[k%kinds]
		r.Route = fmt.Sprintf("GET /api/v1/things/t%03d/:id", k)
		r.Compared = 20 + int64(k%40)
		r.Matched = min(r.Compared, r.Matched*r.Compared/60+int64(k%3))
		r.finish()
		s.Routes = append(s.Routes, r)
	}
	sortRoutes(s.Routes)
	return s
}

// TestRenderHTML500Routes: hundreds of routes stay one page of bounded size,
// every route once, in worst-first order.
func TestRenderHTML500Routes(t *testing.T) {
	s := manyRoutes(t, 500)
	page := renderPage(t, RenderStaticHTML, s, RenderOptions{Plan: defaultPlan(t)})
	const maxBytes = 5 << 20
	if len(page) > maxBytes {
		t.Errorf("page of 500 routes is %d bytes, over %d", len(page), maxBytes)
	}
	rows := regexp.MustCompile(`<details class="rt [a-z]+" data-route="([^"]+)" data-verdict="[a-z]+" data-order="(\d+)"`).FindAllStringSubmatch(page, -1)
	if len(rows) != 500 {
		t.Fatalf("page has %d route rows, want 500", len(rows))
	}
	seen := map[string]bool{}
	for i, r := range rows {
		if seen[r[1]] || r[2] != fmt.Sprint(i) {
			t.Fatalf("row %d is %q with order %s: rows repeat or are out of order", i, r[1], r[2])
		}
		seen[r[1]] = true
	}
	t.Logf("500 routes: %d bytes, %d per route", len(page), len(page)/500)
}

func TestCharts(t *testing.T) {
	end := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return end.Add(time.Duration(m) * time.Minute) }
	pt := func(m int, mirrored, compared, matched int64) SeriesPoint {
		return SeriesPoint{Minute: at(m), Observed: mirrored, Mirrored: mirrored, Compared: compared, Matched: matched}
	}
	type summary struct {
		Window                 string
		ParityEmpty, BarsEmpty bool
		Dots, Bars             int
		Low                    int // dots under the threshold
		Moves                  int // line segments started afresh
		Floor, Top             string
		Threshold              bool
		XLabels                []string
		Last                   string
	}
	tests := []struct {
		name   string
		series []SeriesPoint
		want   summary
	}{
		{"no traffic", nil, summary{Window: "no traffic charted yet", ParityEmpty: true, BarsEmpty: true}},
		{"one minute", []SeriesPoint{pt(0, 40, 40, 40)}, summary{Window: "last 15 min (UTC)", Dots: 1, Bars: 1, Moves: 1,
			Floor: "98%", Top: "50", Threshold: true, XLabels: []string{"09:46", "09:53", "10:00"},
			Last: "10:00: 40 mirrored, 40 compared, parity 100%"}},
		{"skipped only", []SeriesPoint{{Minute: at(0), Observed: 5}}, summary{Window: "last 15 min (UTC)", ParityEmpty: true, BarsEmpty: true,
			Floor: "98%", Top: "1", Threshold: true, XLabels: []string{"09:46", "09:53", "10:00"}, Last: "10:00: 0 mirrored, 0 compared"}},
		{"an hour with a gap and a bad minute", []SeriesPoint{pt(-40, 10, 10, 10), pt(-39, 10, 10, 10), pt(-30, 120, 100, 97), pt(-1, 3, 0, 0), pt(0, 8, 8, 8)},
			summary{Window: "last 1 h (UTC)", Dots: 4, Bars: 5, Low: 1, Moves: 3, Floor: "95%", Top: "200", Threshold: true,
				XLabels: []string{"09:01", "09:31", "10:00"}, Last: "10:00: 8 mirrored, 8 compared, parity 100%"}},
		{"six hours, half parity", []SeriesPoint{pt(-300, 1000, 1000, 500), pt(0, 1, 1, 1)},
			summary{Window: "last 6 h (UTC)", Dots: 2, Bars: 2, Low: 1, Moves: 2, Floor: "0%", Top: "1,000", Threshold: true,
				XLabels: []string{"04:01", "07:01", "10:00"}, Last: "10:00: 1 mirrored, 1 compared, parity 100%"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cv := newCharts(&Snapshot{Updated: end.Add(30 * time.Second), Series: tc.series}, DefaultThresholds)
			got := summary{Window: cv.Window, ParityEmpty: cv.Parity.Empty, BarsEmpty: cv.Traffic.Empty, Dots: len(cv.Parity.Dots),
				Bars: len(cv.Traffic.Bars), Moves: strings.Count(cv.Parity.Path, "M"), Threshold: cv.Parity.Threshold != "", Last: cv.Last}
			for _, d := range cv.Parity.Dots {
				if d.Low {
					got.Low++
				}
			}
			if len(cv.Parity.YLabels) == 2 {
				got.Floor, got.Top = cv.Parity.YLabels[1].Text, cv.Traffic.YLabels[0].Text
			}
			for _, l := range cv.Parity.XLabels {
				got.XLabels = append(got.XLabels, l.Text)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("charts (-want +got):\n%s", d)
			}
		})
	}
}

func TestNiceCeil(t *testing.T) {
	tests := []struct{ in, want int64 }{{0, 1}, {1, 1}, {2, 2}, {3, 5}, {6, 10}, {11, 20}, {120, 200}, {999, 1000}, {1001, 2000}, {4_999_999, 5_000_000}}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.in), func(t *testing.T) {
			if got := niceCeil(tc.in); got != tc.want {
				t.Errorf("niceCeil(%d) = %d, want %d", tc.in, got, tc.want)
			}
		})
	}
}

func BenchmarkRenderHTML500(b *testing.B) {
	s := manyRoutes(b, 500)
	opts := RenderOptions{Plan: defaultPlan(b)}
	b.ReportAllocs()
	for b.Loop() {
		if err := RenderHTML(io.Discard, s, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderJSON500 is the live dashboard's poll of 500 routes under a
// plan: report.json with each route's verdict and the gate's steps.
func BenchmarkRenderJSON500(b *testing.B) {
	s := manyRoutes(b, 500)
	opts := RenderOptions{Plan: defaultPlan(b)}
	b.ReportAllocs()
	for b.Loop() {
		if err := RenderJSON(io.Discard, s, opts); err != nil {
			b.Fatal(err)
		}
	}
}
