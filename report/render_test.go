package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report/route"
)

// renderSnapshot is the snapshot every renderer's golden file shows: a route of
// each kind — passing, failing on parity, latency, errors and 401/403,
// inconclusive, skipped only, noisy, over the caps — and values that need
// escaping in every format.
func renderSnapshot(t testing.TB) *Snapshot {
	t.Helper()
	a := NewAggregator(Limits{Routes: 9, PathsPerRoute: 4, ExamplesPerPath: 2, ValueBytes: 48})
	n := 0
	obs := func(route string, count int, f func(i int, o *Observation)) {
		for i := 0; i < count; i++ {
			n++
			o := Observation{Route: route, Method: methodOf(route), RequestID: fmt.Sprintf("req-%04d", n),
				PrimaryStatus: 200, CandidateStatus: 200,
				PrimaryLatency:   time.Duration(2000+(i%10)*300) * time.Microsecond,
				CandidateLatency: time.Duration(2500+(i%10)*300) * time.Microsecond}
			if f != nil {
				f(i, &o)
			}
			a.Observe(o)
		}
	}
	obs("GET /api/health", 60, func(i int, o *Observation) {
		if i%20 == 0 {
			o.Habits = []string{HabitCanonicalRedirect}
		}
	})
	obs("GET /api/sessions/:id", 60, func(i int, o *Observation) {
		o.Noise = []string{"body.meta.requestId"}
		if i%12 == 0 {
			o.Differences = []diff.Difference{
				{Path: fmt.Sprintf("body.items.%d.avatarUrl", i%3), Pattern: "body.items.#.avatarUrl", Kind: diff.Changed,
					Primary: `"<script>alert('x')</script>"`, Candidate: "\"a|b `c` ]]> \x1b[31mred\""},
				{Path: "header.X-Powered-By", Pattern: "header.X-Powered-By", Kind: diff.Extra, Candidate: "Fastify"},
			}
		}
	})
	obs("GET /api/activity", 60, func(i int, o *Observation) { o.CandidateLatency = time.Duration(30+i%20) * time.Millisecond })
	obs("POST /api/chat", 30, func(i int, o *Observation) { *o = Observation{Route: "POST /api/chat", Skipped: SkipWriteMethod} })
	obs("GET /api/metrics", 20, func(i int, o *Observation) {
		if i == 0 {
			o.Differences = []diff.Difference{{Path: "header.Set-Cookie.sid.HttpOnly", Pattern: "header.Set-Cookie.sid.HttpOnly",
				Kind: diff.Missing, Primary: "HttpOnly", Security: diff.CookieHttpOnlyLost}}
		}
	})
	obs("GET /api/v1/search", 63, func(i int, o *Observation) {
		switch i {
		case 0, 1:
			o.CandidateStatus, o.CandidateError = 0, "timeout"
		case 2:
			o.CandidateStatus = 503
			o.Differences = []diff.Difference{{Path: "status", Pattern: "status", Kind: diff.Changed, Primary: "200", Candidate: "503"}}
		}
	})
	obs("GET /api/tools/approve", 11, func(i int, o *Observation) {
		if i == 0 {
			o.CandidateStatus = 403
			o.Differences = []diff.Difference{{Path: "status", Pattern: "status", Kind: diff.Changed, Primary: "200", Candidate: "403"}}
		}
	})
	obs("GET /api/v1/workflows/:id", 12, func(i int, o *Observation) {
		p := fmt.Sprintf("body.steps.%d.name", i%6)
		o.Differences = []diff.Difference{{Path: p, Pattern: p, Kind: diff.Missing, Primary: fmt.Sprintf(`"step %d with a long name that gets shortened"`, i%6)}}
	})
	obs("GET /api/models", 5, func(i int, o *Observation) {
		o.Differences = []diff.Difference{{Path: "body", Pattern: "body", Kind: diff.Type, Primary: "[]", Candidate: "{}"}}
	})
	obs("GET /api/setup/idp", 3, nil) // over the route cap: OTHER
	obs("GET /api/mcp/tools", 2, nil)
	s := a.Snapshot()
	s.Started = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s.Updated = time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)
	return s
}

type renderer func(io.Writer, *Snapshot, RenderOptions) error

var renderers = []struct {
	name, ext string
	render    renderer
}{
	{"table", "txt", RenderTable},
	{"markdown", "md", RenderMarkdown},
	{"json", "json", RenderJSON},
	{"junit", "xml", RenderJUnit},
	{"html", "html", RenderHTML},
}

func TestRenderersGolden(t *testing.T) {
	s := renderSnapshot(t)
	plan := defaultPlan(t)
	for _, r := range renderers {
		for _, withPlan := range []bool{true, false} {
			name := "report." + r.ext
			opts := RenderOptions{Title: "parity report <staging>", Plan: plan}
			if !withPlan {
				name = "report-noplan." + r.ext
				opts = RenderOptions{}
			}
			t.Run(name, func(t *testing.T) {
				var b bytes.Buffer
				if err := r.render(&b, s, opts); err != nil {
					t.Fatal(err)
				}
				golden(t, name, b.Bytes())
				var again bytes.Buffer
				if err := r.render(&again, s, opts); err != nil || !bytes.Equal(b.Bytes(), again.Bytes()) {
					t.Errorf("a second rendering differs (err %v)", err)
				}
			})
		}
	}
	t.Run("report.color.txt", func(t *testing.T) {
		var b bytes.Buffer
		if err := RenderTable(&b, s, RenderOptions{Plan: plan, Color: true}); err != nil {
			t.Fatal(err)
		}
		golden(t, "report.color.txt", b.Bytes())
	})
}

func TestRenderEmptySnapshot(t *testing.T) {
	s := &Snapshot{Version: SnapshotVersion, Routes: []RouteStats{}}
	for _, r := range renderers {
		for _, plan := range []*Plan{nil, defaultPlan(t)} {
			var b bytes.Buffer
			if err := r.render(&b, s, RenderOptions{Plan: plan}); err != nil {
				t.Errorf("%s of an empty snapshot: %v", r.name, err)
			}
			if b.Len() == 0 {
				t.Errorf("%s of an empty snapshot wrote nothing", r.name)
			}
		}
		if err := r.render(io.Discard, nil, RenderOptions{}); err == nil {
			t.Errorf("%s of a nil snapshot succeeded", r.name)
		}
	}
}

func TestRenderTableColourOnlyWhenAsked(t *testing.T) {
	s := renderSnapshot(t)
	var plain, colour bytes.Buffer
	if err := RenderTable(&plain, s, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := RenderTable(&colour, s, RenderOptions{Color: true}); err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsRune(plain.Bytes(), 0x1b) {
		t.Error("plain table holds an escape character (from the data, or colour not asked for)")
	}
	if !bytes.Contains(colour.Bytes(), []byte(ansiRed)) {
		t.Error("coloured table has no colour")
	}
	if strings.Count(colour.String(), "\x1b[31mred") > 0 {
		t.Error("a value's escape sequence reached the terminal")
	}
}

func TestRenderTableWorstParityFirst(t *testing.T) {
	var b bytes.Buffer
	if err := RenderTable(&b, renderSnapshot(t), RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, line := range strings.Split(b.String(), "\n") {
		for _, r := range []string{"GET /api/models", "GET /api/sessions/:id", "GET /api/health ", "POST /api/chat"} {
			if strings.Contains(line, r) && strings.HasPrefix(line, "│") {
				order = append(order, strings.TrimSpace(r))
			}
		}
	}
	want := []string{"GET /api/models", "GET /api/sessions/:id", "GET /api/health", "POST /api/chat"}
	if d := cmp.Diff(want, order); d != "" {
		t.Errorf("table order (-want +got):\n%s", d)
	}
}

func TestRenderJUnitIsValid(t *testing.T) {
	s := renderSnapshot(t)
	var b bytes.Buffer
	if err := RenderJUnit(&b, s, RenderOptions{Plan: defaultPlan(t)}); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("junit does not parse: %v", err)
	}
	if len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != len(s.Routes) {
		t.Fatalf("got %d suites, want 1 with a testcase per route (%d)", len(doc.Suites), len(s.Routes))
	}
	failures := 0
	for _, c := range doc.Suites[0].Cases {
		if c.Failure != nil {
			failures++
			if c.Name == "GET /api/sessions/:id" && !strings.Contains(c.Failure.Text, "body.items.#.avatarUrl changed") {
				t.Errorf("failure text lacks the top difference: %q", c.Failure.Text)
			}
		}
	}
	if failures != doc.Failures || failures == 0 {
		t.Errorf("counted %d failures, header says %d", failures, doc.Failures)
	}
}

func TestRenderJSONRoundTrips(t *testing.T) {
	s := renderSnapshot(t)
	var b bytes.Buffer
	if err := RenderJSON(&b, s, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadSnapshot(&b)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(s, got); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}

func TestMarkdownEscaping(t *testing.T) {
	tests := []struct{ name, in, code, text string }{
		{"plain", "body.a", "`body.a`", "body.a"},
		{"pipe", "a|b", "`a\\|b`", `a\|b`},
		{"backticks", "a`b", "`` a`b ``", "a\\`b"},
		{"html", "<b>&", "`<b>&`", "&lt;b&gt;&amp;"},
		{"newline", "a\nb", "`a b`", "a b"},
		{"emphasis", "*x* _y_ [l](u)", "`*x* _y_ [l](u)`", `\*x\* \_y\_ \[l\](u)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := mdCode(tc.in); got != tc.code {
				t.Errorf("mdCode(%q) = %q, want %q", tc.in, got, tc.code)
			}
			if got := mdText(tc.in); got != tc.text {
				t.Errorf("mdText(%q) = %q, want %q", tc.in, got, tc.text)
			}
		})
	}
}

func TestSilenceYAML(t *testing.T) {
	tests := []struct{ name, route, path, want string }{
		{"plain", "GET /api/x", "body.meta.requestId", "routes:\n  - match: GET /api/x\n    ignore: [body.meta.requestId]\n"},
		{"any index", "GET /api/sessions/:id", "body.items.#.id", "routes:\n  - match: GET /api/sessions/:id\n    ignore: [body.items.#.id]\n"},
		{"header", "GET /api/x", "header.X-Powered-By", "routes:\n  - match: GET /api/x\n    ignore: [header.X-Powered-By]\n"},
		{"needs quotes", "GET /api/x", `body.a, b]`, "routes:\n  - match: GET /api/x\n    ignore: [\"body.a, b]\"]\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := silenceYAML(tc.route, tc.path); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRenderFromComparisons(t *testing.T) {
	// Observations as the proxy builds them: diff.Compare on real responses.
	a := NewAggregator(Limits{})
	k := route.NewKeyer(nil)
	primary := &diff.Response{Status: 200, Header: map[string][]string{"Content-Type": {"application/json"}},
		Body: []byte(`{"items":[{"id":1,"name":"a"}],"total":1}`)}
	bodies := []string{`{"items":[{"id":1,"name":"a"}],"total":1}`}
	for range 5 { // enough mismatches to fail the route, so that every renderer explains it
		bodies = append(bodies, `{"items":[{"id":1,"name":"b"}],"total":2}`)
	}
	for i, body := range bodies {
		candidate := &diff.Response{Status: 200, Header: primary.Header, Body: []byte(body)}
		res := diff.Compare(primary, candidate, nil)
		a.Observe(Observation{Route: k.Key("GET", "/api/sessions/42"), Method: "GET", RequestID: fmt.Sprintf("r%d", i),
			PrimaryStatus: 200, CandidateStatus: 200, PrimaryLatency: time.Millisecond, CandidateLatency: 2 * time.Millisecond,
			Differences: res.Differences})
	}
	s := a.Snapshot()
	r := s.Route("GET /api/sessions/:id")
	if r == nil || r.Compared != 6 || r.Matched != 1 || len(r.Differences) == 0 {
		t.Fatalf("route stats %+v: want 6 compared, 1 matched, differences", r)
	}
	for _, rd := range renderers {
		var b bytes.Buffer
		if err := rd.render(&b, s, RenderOptions{Plan: defaultPlan(t)}); err != nil {
			t.Fatalf("%s: %v", rd.name, err)
		}
		if rd.name != "json" && !strings.Contains(b.String(), r.Differences[0].Path) {
			t.Errorf("%s does not show the difference %s", rd.name, r.Differences[0].Path)
		}
	}
}
