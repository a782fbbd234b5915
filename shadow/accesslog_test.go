package shadow

import (
	"encoding/base64"
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
