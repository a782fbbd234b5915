package shadow

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/parity-dev/parity/diff"
)

// clientRequest is the request both answers to r are judged against
// (diff.Response.Request): the URL as the client addressed it — the scheme it spoke
// (TLS, or a trusted X-Forwarded-Proto), its Host, the raw path and query — and its
// Origin header. A Location is resolved against it, and a canonicalising redirect is
// recognised by it.
func clientRequest(r *http.Request, trustForwarded bool) *diff.Request {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if trustForwarded {
		if p := forwardedProto(r.Header["X-Forwarded-Proto"]); p != "" {
			scheme = p
		}
	}
	return &diff.Request{URL: requestURL(scheme, r.Host, rawPath(r), r.URL.RawQuery, r.URL.ForceQuery),
		Origin: r.Header.Get("Origin")}
}

// forwardedProto is the scheme a trusted load balancer says the client spoke: the
// first of X-Forwarded-Proto's values when it is http or https, else "".
func forwardedProto(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	first, _, _ := strings.Cut(vs[0], ",")
	switch p := strings.ToLower(strings.TrimSpace(first)); p {
	case "http", "https":
		return p
	}
	return ""
}

// backendRequest is the request a replayed answer is judged against: the backend's
// URL (its path prefix included) with the recorded target's path and query, and the
// recorded Origin. Each side of a replay has its own, so that a Location naming the
// backend's own host compares as the path it points to.
func backendRequest(base *url.URL, target string, h http.Header) *diff.Request {
	path, query, hasQuery := strings.Cut(target, "?")
	return &diff.Request{URL: requestURL(base.Scheme, base.Host, strings.TrimSuffix(base.EscapedPath(), "/")+path, query, hasQuery && query == ""),
		Origin: h.Get("Origin")}
}

// requestURL builds an absolute URL from a raw (escaped) path, kept as sent.
func requestURL(scheme, host, rawPath, rawQuery string, forceQuery bool) *url.URL {
	u := &url.URL{Scheme: scheme, Host: host, RawQuery: rawQuery, ForceQuery: forceQuery}
	if p, err := url.PathUnescape(rawPath); err == nil {
		u.Path = p
		if u.EscapedPath() != rawPath {
			u.RawPath = rawPath
		}
	} else {
		u.Path = rawPath
	}
	return u
}
