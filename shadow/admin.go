package shadow

import (
	"bytes"
	"io"
	"net/http"
	"net/http/pprof"
)

// Admin is what the admin listener serves; a nil func answers 404 for its path.
type Admin struct {
	// Metrics is served at /metrics in the Prometheus exposition format.
	Metrics *Metrics
	// Report writes the live HTML report (/parity/report).
	Report func(w io.Writer) error
	// Snapshot writes the live snapshot as JSON (/parity/report.json).
	Snapshot func(w io.Writer) error
	// Summary writes it without the encoded latency histograms
	// (/parity/report.json?histograms=0, what the live dashboard polls); nil
	// serves Snapshot there too.
	Summary func(w io.Writer) error
	// Ready reports whether the proxy takes traffic (/readyz): configuration
	// loaded, listeners up, not shutting down. nil = always ready.
	Ready func() bool
	// Profiling serves the runtime profiles of net/http/pprof under
	// /debug/pprof/ (off by default: a CPU profile costs while it runs).
	Profiling bool
}

// NewAdminHandler returns the admin listener's handler: /metrics, /parity/report,
// /parity/report.json, /healthz and /readyz, GET and HEAD only, and /debug/pprof/
// when Profiling is set. It is never mounted
// on the public listener, where these paths go to the backends like any other.
func NewAdminHandler(a Admin) http.Handler {
	mux := http.NewServeMux()
	if a.Metrics != nil {
		mux.Handle("GET /metrics", a.Metrics.Handler())
	}
	if a.Report != nil {
		mux.Handle("GET /parity/report", rendered("text/html; charset=utf-8", a.Report))
	}
	if a.Snapshot != nil {
		full := rendered("application/json", a.Snapshot)
		summary := full
		if a.Summary != nil {
			summary = rendered("application/json", a.Summary)
		}
		mux.HandleFunc("GET /parity/report.json", func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("histograms") == "0" {
				summary.ServeHTTP(w, r)
				return
			}
			full.ServeHTTP(w, r)
		})
	}
	if a.Profiling {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if a.Ready != nil && !a.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "not ready\n")
			return
		}
		io.WriteString(w, "ready\n")
	})
	return mux
}

// rendered renders into a buffer first, so that a failure is a clean 500 rather
// than half a page.
func rendered(contentType string, render func(io.Writer) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		if err := render(&buf); err != nil {
			http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Cache-Control", "no-store")
		w.Write(buf.Bytes())
	})
}
