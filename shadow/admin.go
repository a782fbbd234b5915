package shadow

import (
	"bytes"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"strings"
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
	// Rollout serves the autopilot's GET /parity/rollout and its actions, POST
	// /parity/rollout/{action}; the POSTs are let through only from the same
	// origin (see sameOrigin). nil = not served.
	Rollout http.Handler
	// Hosts are the names accepted in a request's Host header besides the
	// listener's own address (see NewAdminHandler), case-insensitive, with or
	// without a port: the name a Prometheus or a load balancer reaches the admin
	// listener by.
	Hosts []string
}

// NewAdminHandler returns the admin listener's handler: /metrics, /parity/report,
// /parity/report.json, /healthz and /readyz, GET and HEAD only, /debug/pprof/
// when Profiling is set, and the autopilot's /parity/rollout (its actions the
// only POSTs, same-origin only) when Rollout is. It is never mounted
// on the public listener, where these paths go to the backends like any other.
//
// It answers only requests whose Host names the listener itself — the IP address
// the connection arrived on, or localhost when that address is a loopback one —
// or one of a.Hosts; any other Host gets 421 Misdirected Request. A web page that
// rebinds its own DNS name to the admin address so reaches nothing: its requests
// carry its name.
func NewAdminHandler(a Admin) http.Handler {
	return adminHosts(a.Hosts, adminMux(a))
}

func adminMux(a Admin) http.Handler {
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
	if a.Rollout != nil {
		mux.Handle("GET /parity/rollout", a.Rollout)
		mux.Handle("POST /parity/rollout/{action}", sameOrigin(a.Rollout))
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

// adminHosts lets through the requests whose Host names the listener (see
// NewAdminHandler) or one of names.
func adminHosts(names []string, next http.Handler) http.Handler {
	allowed := make(map[string]bool, len(names))
	for _, n := range names {
		allowed[strings.ToLower(hostOnly(n))] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ownHost(r, allowed) {
			w.Header().Set("Connection", "close")
			http.Error(w, "misdirected request: Host is not this admin listener", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// ownHost reports whether r's Host can only have been sent by someone addressing
// the admin listener itself: an IP literal, localhost, or an allowed name. A page
// that rebound its DNS name to the admin address sends that name, never an
// address; and behind a published port, a NAT or a Service the address a client
// used is not the listener's own, so any literal is accepted, as any port is.
func ownHost(r *http.Request, allowed map[string]bool) bool {
	host := strings.ToLower(hostOnly(r.Host))
	switch {
	case host == "":
		return false
	case allowed[host], host == "localhost":
		return true
	}
	_, err := netip.ParseAddr(host)
	return err == nil
}

// hostOnly is a Host header or a configured name without its port.
func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	return strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
}

// sameOrigin lets through an admin POST only when no browser could have sent
// it from another site: its body must be declared JSON (a cross-site form
// cannot say so without a CORS preflight, which the admin listener never
// answers), an Origin header must name this very Host, and Sec-Fetch-Site, when
// a browser sends it, must be same-origin or none. The Host itself was checked
// by adminHosts.
func sameOrigin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if ct != "application/json" {
			http.Error(w, "an admin action takes Content-Type: application/json", http.StatusUnsupportedMediaType)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && o != "http://"+r.Host && o != "https://"+r.Host {
			http.Error(w, "cross-origin admin action refused", http.StatusForbidden)
			return
		}
		if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
			http.Error(w, "cross-site admin action refused", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
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
