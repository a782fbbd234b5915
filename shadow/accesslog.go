package shadow

import (
	"net/http"
	"time"
)

// accessLog writes the one access line of a request: method, canonical path (never
// the query, where secrets travel), route, status, duration, serving backend,
// request id and what happened to the mirror. Header values are never logged.
func (p *Proxy) accessLog(r *http.Request, st *serveState) {
	e := p.Logger.Info()
	if e == nil {
		return
	}
	e.Str("method", r.Method).
		Str("path", st.dec.Path).
		Str("route", st.dec.Route).
		Int("status", st.status).
		Dur("duration", time.Since(st.start)).
		Str("backend", st.dec.Serve.String()).
		Str("request_id", st.id).
		Str("mirror", st.mirrorText())
	if st.err != nil {
		e.Str("error", errorText(st.err))
	}
	e.Msg("request")
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
