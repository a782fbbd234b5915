package shadow

import (
	"net"
	"net/http"
	"strings"
	"time"
)

// accessLog writes the one access line of a request: method, canonical path (never
// the query, where secrets travel), route, status, duration in milliseconds, serving
// backend (and the weight that chose it, under cutover.weights), request id, what happened to the mirror, and who asked — the client's
// address (the first X-Forwarded-For entry when forwarded headers are trusted),
// user agent, protocol and the response's body bytes. No other header is logged.
func (p *Proxy) accessLog(r *http.Request, st *serveState) {
	e := p.Logger.Info()
	if e == nil {
		return
	}
	e.Str("method", r.Method).
		Str("path", st.dec.Path).
		Str("route", st.dec.Route).
		Int("status", st.status).
		Float64("duration_ms", float64(time.Since(st.start).Microseconds())/1000).
		Str("backend", st.dec.Serve.String())
	if st.dec.Weighted != "" {
		// A weight chose the backend: the share it was chosen by.
		e.Int("weight", st.dec.Weight)
	}
	e.Str("request_id", st.id).
		Str("mirror", st.mirrorText()).
		Str("client", clientAddr(r, p.TrustForwarded)).
		Str("user_agent", r.UserAgent()).
		Str("proto", r.Proto).
		Int64("bytes", st.bytes)
	if st.err != nil {
		e.Str("error", errorText(st.err))
	}
	e.Msg("request")
}

// clientAddr is the address of the client a request came from: the connection's
// peer, or with trust the first address of X-Forwarded-For, the client the
// trusted proxies in front of parity served.
func clientAddr(r *http.Request, trust bool) string {
	if trust {
		if v := r.Header.Get("X-Forwarded-For"); v != "" {
			first, _, _ := strings.Cut(v, ",")
			if first = strings.TrimSpace(first); first != "" {
				return first
			}
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// mirrorText is what the access line says of the mirror: "mirrored", "none", or
// the reason it was skipped or dropped.
func (st *serveState) mirrorText() string {
	switch st.mirror {
	case mirrorQueued:
		return "mirrored"
	case mirrorSkipped, mirrorDropped:
		return string(st.reason)
	case mirrorPending:
		return "pending"
	}
	return "none"
}
