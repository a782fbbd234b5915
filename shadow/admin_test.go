package shadow

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

func TestAdminHandler(t *testing.T) {
	m := NewMetrics(0)
	m.ConfigReload(false)
	var ready atomic.Bool
	admin := httptest.NewServer(NewAdminHandler(Admin{
		Metrics:  m,
		Report:   func(w io.Writer) error { _, err := io.WriteString(w, "<html>report</html>"); return err },
		Snapshot: func(w io.Writer) error { return errors.New("snapshot unavailable") },
		Ready:    ready.Load,
	}))
	defer admin.Close()

	tests := []struct {
		name, method, path string
		ready              bool
		status             int
		contentType        string
		body               string // substring
	}{
		{"metrics", "GET", "/metrics", true, 200, "text/plain", `parity_config_reloads_total{result="failure"} 1`},
		{"html report", "GET", "/parity/report", true, 200, "text/html; charset=utf-8", "<html>report</html>"},
		{"failed render is a clean 500", "GET", "/parity/report.json", true, 500, "text/plain; charset=utf-8", "snapshot unavailable"},
		{"healthz", "GET", "/healthz", false, 200, "text/plain; charset=utf-8", "ok"},
		{"readyz when ready", "GET", "/readyz", true, 200, "text/plain; charset=utf-8", "ready"},
		{"readyz when not", "GET", "/readyz", false, 503, "text/plain; charset=utf-8", "not ready"},
		{"unknown path", "GET", "/api/sessions", true, 404, "", ""},
		{"writes refused", "POST", "/metrics", true, 405, "", ""},
		{"no profiles unless asked", "GET", "/debug/pprof/", true, 404, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ready.Store(tc.ready)
			req, _ := http.NewRequest(tc.method, admin.URL+tc.path, nil)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Errorf("status %d, want %d (%s)", res.StatusCode, tc.status, b)
			}
			if ct := res.Header.Get("Content-Type"); tc.contentType != "" && !strings.HasPrefix(ct, tc.contentType) {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			if !strings.Contains(string(b), tc.body) {
				t.Errorf("body %q lacks %q", b, tc.body)
			}
		})
	}
}

func TestAdminHandlerProfiling(t *testing.T) {
	admin := httptest.NewServer(NewAdminHandler(Admin{Profiling: true}))
	defer admin.Close()
	for path, want := range map[string]string{
		"/debug/pprof/":                  "goroutine",
		"/debug/pprof/goroutine?debug=1": "goroutine profile:",
		"/debug/pprof/heap?debug=1":      "heap profile:",
		"/debug/pprof/cmdline":           "",
	} {
		res, err := http.Get(admin.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: status %d, body %.80q; want 200 with %q", path, res.StatusCode, b, want)
		}
	}
}

// TestAdminHandlerSummary: /parity/report.json?histograms=0 serves the summary,
// any other form the full snapshot; without a summary both serve the snapshot.
func TestAdminHandlerSummary(t *testing.T) {
	full := func(w io.Writer) error { _, err := io.WriteString(w, `{"full":true}`); return err }
	summary := func(w io.Writer) error { _, err := io.WriteString(w, `{"full":false}`); return err }
	tests := []struct {
		name        string
		withSummary bool
		query, want string
	}{
		{"plain", true, "", `{"full":true}`},
		{"summary", true, "?histograms=0", `{"full":false}`},
		{"histograms asked for", true, "?histograms=1", `{"full":true}`},
		{"no summary configured", false, "?histograms=0", `{"full":true}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := Admin{Snapshot: full}
			if tc.withSummary {
				a.Summary = summary
			}
			srv := httptest.NewServer(NewAdminHandler(a))
			defer srv.Close()
			res, err := http.Get(srv.URL + "/parity/report.json" + tc.query)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || string(b) != tc.want || res.Header.Get("Content-Type") != "application/json" {
				t.Errorf("got %d %q (%s), want 200 %q", res.StatusCode, b, res.Header.Get("Content-Type"), tc.want)
			}
		})
	}
}
