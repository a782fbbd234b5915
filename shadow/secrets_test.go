package shadow

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/rs/zerolog"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
	"github.com/parity-dev/parity/shadow/traffic"
)

// secretCanaries are distinct secret values, each in one place a client or a
// backend puts secrets.
var secretCanaries = struct {
	auth, cookieA, cookieB, proxyAuth, apiKey, query                string
	jsonPassword, jsonAccess, jsonEscaped, form, gzipRequest        string
	respPassword, respAccess, respEscaped, respCookie, candPassword string
	candAccess, candEscaped, candCookie, ssePrimary, sseCandidate   string
	gzipPrimary, gzipCandidate                                      string
}{
	auth: "cnry-authz-7f3a91", cookieA: "cnry-cookie-a-52be", cookieB: "cnry-cookie-b-c0d4", proxyAuth: "cnry-proxyauth-88e1",
	apiKey: "cnry-apikey-4b2d", query: "cnry-querytok-a9f0",
	jsonPassword: "cnry-jsonpass-31c7", jsonAccess: "cnry-jsonaccess-d6e2", jsonEscaped: "cnry-jsonesc-07b9",
	form: "cnry-formpass-e5a3", gzipRequest: "cnry-gzipreq-19fd",
	respPassword: "cnry-resppass-6c08", respAccess: "cnry-respaccess-b7a1", respEscaped: "cnry-respesc-2e94", respCookie: "cnry-respcookie-f31b",
	candPassword: "cnry-candpass-90dc", candAccess: "cnry-candaccess-4f67", candEscaped: "cnry-candesc-a3b5", candCookie: "cnry-candcookie-7d02",
	ssePrimary: "cnry-ssep-c81e", sseCandidate: "cnry-ssec-5a9f",
	gzipPrimary: "cnry-gzipp-e0b6", gzipCandidate: "cnry-gzipc-13d8",
}

func allCanaries() []string {
	c := secretCanaries
	basic := base64.StdEncoding.EncodeToString([]byte("ops:" + c.proxyAuth))
	return []string{c.auth, c.cookieA, c.cookieB, c.proxyAuth, basic, c.apiKey, c.query,
		c.jsonPassword, c.jsonAccess, c.jsonEscaped, c.form, c.gzipRequest,
		c.respPassword, c.respAccess, c.respEscaped, c.respCookie, c.candPassword, c.candAccess, c.candEscaped, c.candCookie,
		c.ssePrimary, c.sseCandidate, c.gzipPrimary, c.gzipCandidate}
}

func gzipBytes(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	io.WriteString(zw, s)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// secretsBackend answers as the primary or the candidate of the secrets test: the
// same shapes with different secret values, so that every secret path differs and
// is reported with examples; the candidate fails the writes with a 500 that echoes
// the request (headers, query and decoded body), as a careless error page does.
func secretsBackend(t *testing.T, candidate bool) *backend {
	c := secretCanaries
	title, pass, access, esc, cookie := "primary", c.respPassword, c.respAccess, c.respEscaped, c.respCookie
	sse, gz := c.ssePrimary, c.gzipPrimary
	if candidate {
		title, pass, access, esc, cookie = "candidate", c.candPassword, c.candAccess, c.candEscaped, c.candCookie
		sse, gz = c.sseCandidate, c.gzipCandidate
	}
	gzBody := gzipBytes(t, `{"n":"`+title+`","secret":"`+gz+`"}`)
	return newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/sessions":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Set-Cookie", "sid="+cookie+"; Path=/; HttpOnly")
			io.WriteString(w, `{"title":"`+title+`","Password":"`+pass+`","nested":{"list":[{"deep":{"access_token":"`+access+`"}}]},"pass\u0077ord":"`+esc+`"}`)
		case "/api/chat":
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, `data: {"delta":"`+title+`","access_token":"`+sse+`"}`+"\n\n")
		case "/api/archive":
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(gzBody)
		case "/api/garbage":
			if candidate { // not HTTP: the transport's error quotes the line
				if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
					io.WriteString(conn, r.Header.Get("Authorization")+"\r\n\r\n")
					conn.Close()
				}
				return
			}
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"ok":true}`)
		default:
			if !candidate {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"ok":true}`)
				return
			}
			var body []byte
			if r.Header.Get("Content-Encoding") == "gzip" {
				if zr, err := gzip.NewReader(r.Body); err == nil {
					body, _ = io.ReadAll(zr)
				}
			} else {
				body, _ = io.ReadAll(r.Body)
			}
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "internal error on "+r.URL.RequestURI()+"\n")
			r.Header.Write(w)
			w.Write(body)
		}
	})
}

// TestSecretsNeverLeave runs a real Server — public and admin listeners, the
// aggregator, the snapshot file, a recording — with differences forced on every
// route, so that reports carry examples with values. Canary secrets travel in
// Authorization, two Cookie headers, Proxy-Authorization, X-Api-Key, the query,
// JSON request bodies (keys at depth, spelled Password, access_token and
// pass\u0077ord), a form body, a gzipped body, the responses (JSON keys, an event
// stream's data line, gzipped JSON, Set-Cookie) and a candidate 500 that echoes the
// request. None may appear, plain, URL-encoded or base64 at any alignment, in the
// logs, /metrics, the live report and snapshot, the snapshot file, any report
// renderer's output or the recording (bodies decoded).
func TestSecretsNeverLeave(t *testing.T) {
	c := secretCanaries
	primary, candidate := secretsBackend(t, false), secretsBackend(t, true)
	red := testRedactor(t)
	rt, err := rules.NewRouter(&rules.Config{Redactor: red, Shadow: rules.ShadowConfig{WriteRoutes: []string{"/api/login", "/api/profile", "/api/upload"}}})
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	logger := zerolog.New(&logs).Level(zerolog.DebugLevel)
	dir := t.TempDir()
	recFile, err := os.Create(filepath.Join(dir, "recorded.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	defer recFile.Close()
	rec := traffic.NewRecorder(recFile)
	rec.Redactor = red
	agg := report.NewAggregator(report.Limits{})
	obs := newObserver()
	p := &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: rt.Decide,
		Observer: teeObserver{agg, obs}, Logger: logger, Metrics: NewMetrics(0), Record: rec.Record}
	snapFile := filepath.Join(dir, "parity.snapshot.json")
	rs := startServer(t, &Server{Proxy: p, Aggregator: agg, SnapshotFile: snapFile, Logger: logger})
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	defer client.CloseIdleConnections()

	send := func(method, path, ctype, encoding string, body []byte) {
		t.Helper()
		req, err := http.NewRequest(method, rs.url(path), bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+c.auth)
		req.Header.Add("Cookie", "a="+c.cookieA)
		req.Header.Add("Cookie", "b="+c.cookieB)
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("ops:"+c.proxyAuth)))
		req.Header.Set("X-Api-Key", c.apiKey)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if encoding != "" {
			req.Header.Set("Content-Encoding", encoding)
		}
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Errorf("%s %s: status %d, want the primary's 200", method, path, res.StatusCode)
		}
	}
	query := "?token=" + c.query + "&limit=10"
	send("GET", "/api/sessions"+query, "", "", nil)
	send("GET", "/api/chat"+query, "", "", nil)
	send("GET", "/api/archive"+query, "", "", nil)
	send("GET", "/api/echo"+query, "", "", nil)
	send("GET", "/api/garbage", "", "", nil)
	send("POST", "/api/login"+query, "application/json", "",
		[]byte(`{"user":"u","Password":"`+c.jsonPassword+`","profile":{"keys":[{"access_token":"`+c.jsonAccess+`"}]},"pass\u0077ord":"`+c.jsonEscaped+`"}`))
	send("POST", "/api/profile", "application/x-www-form-urlencoded", "", []byte("user=u&password="+c.form))
	send("POST", "/api/upload", "application/json", "gzip", gzipBytes(t, `{"user":"u","password":"`+c.gzipRequest+`"}`))
	const requests = 8
	for range requests {
		if ob := obs.next(t); ob.Skipped != "" {
			t.Errorf("%s not compared: skipped %s", ob.Route, ob.Skipped)
		}
	}

	admin := "http://" + rs.srv.AdminAddress().String()
	outputs := map[string][]byte{}
	for _, path := range []string{"/metrics", "/parity/report", "/parity/report.json"} {
		status, body := get(t, client, admin+path)
		if status != 200 {
			t.Fatalf("admin %s: status %d", path, status)
		}
		outputs["admin "+path] = []byte(body)
	}
	if err := rs.shutdown(t); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if err := rec.Close(); err != nil {
		t.Fatalf("close recording: %v", err)
	}
	outputs["log"] = []byte(logs.String())

	snapData, err := os.ReadFile(snapFile)
	if err != nil {
		t.Fatal(err)
	}
	outputs["snapshot file"] = snapData
	snap, err := report.ReadSnapshotFile(snapFile)
	if err != nil {
		t.Fatal(err)
	}
	renderers := map[string]func(io.Writer, *report.Snapshot, report.RenderOptions) error{
		"table": report.RenderTable, "markdown": report.RenderMarkdown, "json": report.RenderJSON,
		"junit": report.RenderJUnit, "html": report.RenderHTML, "static-html": report.RenderStaticHTML,
	}
	for name, render := range renderers {
		var b bytes.Buffer
		if err := render(&b, snap, report.RenderOptions{TopDifferences: 100}); err != nil {
			t.Fatalf("render %s: %v", name, err)
		}
		outputs["report "+name] = b.Bytes()
	}

	recorded, err := os.ReadFile(recFile.Name())
	if err != nil {
		t.Fatal(err)
	}
	outputs["recording"] = recorded
	tr, err := traffic.Open("recorded.ndjson", bytes.NewReader(recorded))
	if err != nil {
		t.Fatal(err)
	}
	var bodies [][]byte
	for {
		r, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b := r.Body
		if r.Header.Get("Content-Encoding") == "gzip" && len(b) > 0 {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("recorded gzip body of %s %s does not decode: %v", r.Method, r.URL, err)
			}
			if b, err = io.ReadAll(zr); err != nil {
				t.Fatalf("recorded gzip body of %s %s does not decode: %v", r.Method, r.URL, err)
			}
		}
		bodies = append(bodies, b)
	}
	if len(bodies) != requests {
		t.Errorf("recording holds %d requests, want %d", len(bodies), requests)
	}
	outputs["recording, bodies decoded"] = bytes.Join(bodies, []byte("\n--\n"))

	for where, out := range outputs {
		assertNoLeak(t, where, out, allCanaries())
	}

	// The check is not vacuous: the examples carry values, and secret ones show
	// as redaction markers.
	sessions := snap.Route("GET /api/sessions")
	if sessions == nil {
		t.Fatalf("no route GET /api/sessions in %s", snapData)
	}
	var title *report.DiffGroup
	for i := range sessions.Differences {
		if sessions.Differences[i].Path == "body.title" {
			title = &sessions.Differences[i]
		}
	}
	if title == nil || len(title.Examples) == 0 || title.Examples[0].Primary != `"primary"` || title.Examples[0].Candidate != `"candidate"` {
		t.Errorf("body.title difference %+v, want an example with both values", title)
	}
	for where, out := range outputs {
		if strings.HasPrefix(where, "report") || where == "snapshot file" || where == "admin /parity/report.json" {
			if !bytes.Contains(out, []byte("redacted:")) {
				t.Errorf("%s shows no redaction marker: the secret paths were not reported", where)
			}
		}
	}
}

// TestSecretsNeverLeaveReplay: a replay of traffic that carries real secrets (a
// browser's HAR holds its cookies) against a candidate whose 500 echoes the
// request reports the difference without them.
func TestSecretsNeverLeaveReplay(t *testing.T) {
	c := secretCanaries
	primary, candidate := secretsBackend(t, false), secretsBackend(t, true)
	rt, err := rules.NewRouter(&rules.Config{Shadow: rules.ShadowConfig{WriteRoutes: []string{"/api/login"}}})
	if err != nil {
		t.Fatal(err)
	}
	obs := &observationLog{}
	rp := &Replayer{Primary: primary.url(t), Candidate: candidate.url(t), Router: rt, Observer: obs}
	line := `{"method":"POST","url":"/api/login?token=` + c.query + `","headers":{"Authorization":["Bearer ` + c.auth + `"],` +
		`"Cookie":["a=` + c.cookieA + `","b=` + c.cookieB + `"],"X-Api-Key":["` + c.apiKey + `"],"Content-Type":["application/json"]},` +
		`"body":"{\"user\":\"u\",\"Password\":\"` + c.jsonPassword + `\",\"deep\":[{\"access_token\":\"` + c.jsonAccess + `\"}]}"}`
	stats, err := rp.Run(t.Context(), ndjsonTraffic(t, line))
	if err != nil {
		t.Fatal(err)
	}
	if stats.Compared != 1 || len(obs.all) != 1 || len(obs.all[0].Differences) == 0 {
		t.Fatalf("stats %+v, observations %+v: want one compared pair with differences", stats, obs.all)
	}
	out, err := json.Marshal(obs.all)
	if err != nil {
		t.Fatal(err)
	}
	assertNoLeak(t, "replay observation", out, allCanaries())
	if !bytes.Contains(out, []byte("internal error on /api/login")) {
		t.Errorf("the echo is not reported at all: %s", out)
	}
}

func TestRequestSecrets(t *testing.T) {
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		io.WriteString(zw, s)
		zw.Close()
		return b.Bytes()
	}
	basic := base64.StdEncoding.EncodeToString([]byte("ops:hunter22"))
	tests := []struct {
		name   string
		header http.Header
		path   string
		query  string
		body   []byte
		want   []string
	}{
		{"secret headers", http.Header{
			"Authorization": {"Bearer tok-123456"}, "Proxy-Authorization": {"Basic " + basic},
			"Cookie": {"sid=cookie-1; theme=dark", "csrf=cookie-22"}, "X-Api-Key": {"key-98765"},
			"Accept": {"application/json-not-secret"},
		}, "", "", nil, []string{"sid=cookie-1; theme=dark", "Basic " + basic, "Bearer tok-123456", basic, "csrf=cookie-22", "ops:hunter22", "tok-123456", "cookie-22", "key-98765", "cookie-1", "hunter22"}},
		{"query", nil, "", "limit=10&token=q-secret-1&access_token=q%2Dsecret%2D2&code=oauth-code-3&q=public-words", nil,
			[]string{"q%2Dsecret%2D2", "oauth-code-3", "q-secret-1", "q-secret-2"}},
		{"json at any depth, any spelling", http.Header{"Content-Type": {"application/json"}}, "", "",
			[]byte(`{"user":"public-user","Password":"pw-111111","a":{"b":[{"access_token":"at-222222"}]},"pass\u0077ord":"esc-333333","apiKeys":["k-444444",{"id":"nested-id-555"}],"session":{"id":"sess-id-666"},"pin":123456789,"token_count":1234567}`),
			[]string{"nested-id-555", "sess-id-666", "esc-333333", "at-222222", "pw-111111", "k-444444", "1234567"}},
		{"json: short names, and everything under a secret name", http.Header{"Content-Type": {"application/json"}}, "", "",
			[]byte(`{"pass":"pass-777777","jwt":"jwt-888888","password2":{"value":"nested-999999"},"credentials":{"pass":"cred-000000"},"compass":"north-public"}`),
			[]string{"nested-999999", "cred-000000", "pass-777777", "jwt-888888"}},
		{"path parameters", nil, "/app;jsessionid=JS%2DSESSION%2D1/x;v=public-version", "", nil,
			[]string{"JS%2DSESSION%2D1", "JS-SESSION-1"}},
		{"form body", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "", "",
			[]byte("user=public-user&password=form-secret-1&client_secret=form%20secret%202"),
			[]string{"form%20secret%202", "form secret 2", "form-secret-1"}},
		{"gzipped json body", http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}, "", "",
			gz(`{"password":"gz-secret-1"}`), []string{"gz-secret-1"}},
		{"short values are not looked for", http.Header{"Cookie": {"a=1"}}, "", "pwd=12", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := requestSecrets(tc.header, tc.path, tc.query, tc.body)
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("requestSecrets (-want +got):\n%s", diff)
			}
		})
	}
}

func TestScrubObservation(t *testing.T) {
	const s = "sekret-value-42"
	red := testRedactor(t)
	mark := red.Mark(s)
	tests := []struct {
		name      string
		candidate string
		want      string
	}{
		{"plain echo", `"Authorization: Bearer sekret-value-42\r\n"`, `"Authorization: Bearer ` + mark + `\r\n"`},
		{"url-encoded", `"next=` + url.QueryEscape("?t="+s) + `"`, `"next=%3Ft%3D` + mark + `"`},
		{"base64", `"` + base64.StdEncoding.EncodeToString([]byte(s)) + `"`, `"` + mark + `"`},
		{"cut at the end", `"Bearer sekret-val"…[900 bytes]`, `"Bearer [redacted]"…[900 bytes]`},
		{"cut at the start", `…"ue-42 and more"…[900 bytes]`, `…"[redacted] and more"…[900 bytes]`},
		{"three bytes at a cut are not a secret", `"Bearer sek"…[900 bytes]`, `"Bearer sek"…[900 bytes]`},
		{"nothing secret", `"hello"`, `"hello"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := report.Observation{Differences: []diff.Difference{{Path: "body", Primary: `{"ok":true}`, Candidate: tc.candidate}}}
			scrubObservation(&o, []string{s}, red)
			want := []diff.Difference{{Path: "body", Primary: `{"ok":true}`, Candidate: tc.want}}
			if d := cmp.Diff(want, o.Differences); d != "" {
				t.Errorf("scrubbed (-want +got):\n%s", d)
			}
		})
	}
}

// FuzzScrubObservation: whatever surrounds a secret in a difference's value, it
// is gone after scrubbing, in every spelling secretForms knows; and requestSecrets
// never fails on any body.
func FuzzScrubObservation(f *testing.F) {
	f.Add("sekret-value-42", `Authorization: Bearer `, `\r\n`, []byte(`{"password":"x"}`))
	f.Add("p@ss w/ord=1&2", `?q=`, `&x=1`, []byte(`user=u&password=p%40ss`))
	f.Add("ÿÿÿÿÿÿ", `"`, `"…[900 bytes]`, []byte{0x1f, 0x8b})
	red := testRedactor(f)
	f.Fuzz(func(t *testing.T, secret, before, after string, body []byte) {
		requestSecrets(http.Header{"Content-Type": {"application/json"}, "Content-Encoding": {"gzip"}}, string(body), string(body), body)
		requestSecrets(http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, string(body), string(body), body)
		if len(secret) < minSecretLen || strings.Contains(red.Mark(secret)+"[redacted]", secret) {
			return
		}
		o := report.Observation{Differences: []diff.Difference{{Path: "body", Candidate: before + secret + after}}}
		scrubObservation(&o, []string{secret}, red)
		for _, form := range secretForms(secret) {
			if strings.Contains(o.Differences[0].Candidate, form) && !strings.Contains(before+after, form) {
				t.Fatalf("%q left in %q", form, o.Differences[0].Candidate)
			}
		}
	})
}

// testRedactor is a deployment's Redactor in these tests.
func testRedactor(t testing.TB) *diff.Redactor {
	t.Helper()
	red, err := diff.NewRedactor([]byte("shadow-test-key-0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	return red
}
