// Package hop owns the one list of hop-by-hop headers (RFC 9110 section 7.6.1):
// what the proxy drops before forwarding, what the recorder never writes and what
// the replay never sends. It holds no other rule.
package hop

import (
	"net/http"
	"net/textproto"
	"strings"
)

// Headers are removed on each hop (RFC 9110 section 7.6.1), besides those
// named in Connection.
var Headers = []string{
	"Connection",
	"Proxy-Connection",
	"Keep-Alive",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// Remove deletes from h the hop-by-hop headers and those the Connection header
// names.
func Remove(h http.Header) {
	for _, f := range h["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	for _, f := range Headers {
		delete(h, f)
	}
}
