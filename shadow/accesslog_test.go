package shadow

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/parity-dev/parity/shadow/rules"
	"github.com/rs/zerolog"
)

// TestLogsHoldNoSecrets sends canary secrets in every place a client puts them —
// query, Authorization, two Cookie headers, Proxy-Authorization, X-Api-Key, JSON
// and form bodies — through a proxy logging at debug level, with a candidate
// that answers 500 echoing the request headers and a primary that fails. No canary
// may appear in the log or in /metrics, in plain, base64 or URL-encoded form.
func TestLogsHoldNoSecrets(t *testing.T) {
	canaries := []string{"cnry-query-tok", "cnry-access-tok", "cnry-bearer", "cnry-cookie-a", "cnry-cookie-b",
		"cnry-proxy-auth", "cnry-api-key", "cnry-json-pass", "cnry-form-pass"}
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/broken" {
			w.Header().Set("Content-Length", "50")
			io.WriteString(w, "half")
			w.(http.Flusher).Flush()
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				resetConn(conn)
			}
			return
		}
		w.Header().Set("Set-Cookie", "session="+canaries[3])
		io.WriteString(w, `{"ok":true}`)
	})
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(500)
		r.Header.Write(w) // a careless error page
	})
	var logs syncBuffer
	m := NewMetrics(0)
	obs := newObserver()
	logger := zerolog.New(&logs).Level(zerolog.DebugLevel)
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true),
		Logger: logger, Metrics: m, Observer: obs})
	down := newHarness(t, &Proxy{Primary: deadURL(t), Logger: logger, Metrics: m})

	secrets := func(req *http.Request) {
		req.Header.Set("Authorization", "Bearer "+canaries[2])
		req.Header.Add("Cookie", "a="+canaries[3])
		req.Header.Add("Cookie", "b="+canaries[4])
		req.Header.Set("Proxy-Authorization", "Basic "+canaries[5])
		req.Header.Set("X-Api-Key", canaries[6])
	}
	query := "?token=" + canaries[0] + "&access_token=" + canaries[1]
	for _, tc := range []struct {
		h            *harness
		method, path string
		body, ctype  string
	}{
		{h, "GET", "/api/sessions" + query, "", ""},
		{h, "POST", "/api/login" + query, `{"user":"u","password":"` + canaries[7] + `"}`, "application/json"},
		{h, "PUT", "/api/profile", "user=u&password=" + canaries[8], "application/x-www-form-urlencoded"},
		{down, "GET", "/api/sessions" + query, "", ""},
	} {
		req, _ := http.NewRequest(tc.method, tc.h.server.URL+tc.path, strings.NewReader(tc.body))
		secrets(req)
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		tc.h.do(t, req)
	}
	for range 3 {
		obs.next(t)
	}
	if res, err := h.client.Get(h.server.URL + "/api/broken" + query); err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}
	obs.next(t)

	rec := httptest.NewRecorder()
	NewAdminHandler(Admin{Metrics: m}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	metricsText := rec.Body.String()
	text := logs.String()
	if !strings.Contains(text, `"message":"request"`) || !strings.Contains(text, "Backend unavailable") || !strings.Contains(text, `"message":"comparison"`) {
		t.Fatalf("the log lacks the lines under test:\n%s", text)
	}
	for _, c := range canaries {
		for _, form := range []string{c, base64.StdEncoding.EncodeToString([]byte(c)), base64.URLEncoding.EncodeToString([]byte(c)), url.QueryEscape(c)} {
			if strings.Contains(text, form) {
				t.Errorf("log holds %q (from %q)", form, c)
			}
			if strings.Contains(metricsText, form) {
				t.Errorf("metrics hold %q (from %q)", form, c)
			}
		}
	}
}

// TestAccessLogFields checks the access line carries what operators read — the
// duration in milliseconds, client address (forwarded only when trusted), user
// agent, protocol and the body bytes the client got — and that the client is
// handed the request id the line is logged under, on a backend's answer and on
// parity's own error answer alike.
func TestAccessLogFields(t *testing.T) {
	const body = `{"sessions":[1,2,3]}`
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })
	for _, tc := range []struct {
		name       string
		trust      bool
		primary    *url.URL
		xff        string
		wantClient string
		wantStatus int
	}{
		{name: "direct client", primary: primary.url(t), xff: "203.0.113.7", wantClient: "127.0.0.1", wantStatus: 200},
		{name: "forwarded client trusted", trust: true, primary: primary.url(t), xff: "203.0.113.7, 10.0.0.1", wantClient: "203.0.113.7", wantStatus: 200},
		{name: "error answer", primary: deadURL(t), wantClient: "127.0.0.1", wantStatus: 502},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs syncBuffer
			h := newHarness(t, &Proxy{Primary: tc.primary, Decide: decideFixed(rules.Primary, false),
				Logger: zerolog.New(&logs), TrustForwarded: tc.trust})
			req, _ := http.NewRequest("GET", h.server.URL+"/api/sessions", nil)
			req.Header.Set("User-Agent", "portal-test/1.0")
			if tc.xff != "" {
				req.Header.Set("X-Forwarded-For", tc.xff)
			}
			res, got := h.do(t, req)
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.wantStatus)
			}
			var line map[string]any
			for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if strings.Contains(l, `"message":"request"`) {
					if err := json.Unmarshal([]byte(l), &line); err != nil {
						t.Fatal(err)
					}
				}
			}
			if line == nil {
				t.Fatalf("no access line in %q", logs.String())
			}
			if id := res.Header.Get(HeaderRequestID); id == "" || id != line["request_id"] {
				t.Errorf("client got X-Request-Id %q, access line logged %v", id, line["request_id"])
			}
			if _, ok := line["duration_ms"].(float64); !ok {
				t.Errorf("duration_ms = %#v, want a number", line["duration_ms"])
			}
			if _, ok := line["duration"]; ok {
				t.Error("the unitless duration field is still logged")
			}
			want := map[string]any{"client": tc.wantClient, "user_agent": "portal-test/1.0", "proto": "HTTP/1.1",
				"bytes": float64(len(got)), "status": float64(tc.wantStatus)}
			for k, v := range want {
				if line[k] != v {
					t.Errorf("%s = %#v, want %#v", k, line[k], v)
				}
			}
		})
	}
}
