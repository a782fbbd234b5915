package rules

import (
	"fmt"
	"math/bits"
	"net"
	"net/http"
	"net/textproto"
	"sort"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// weightedPrefix is one entry of cutover.weights.
type weightedPrefix struct {
	prefix  string
	percent int
}

// compileWeights orders cutover.weights longest prefix first, so that the first
// prefix a path is under is the most specific; equal lengths in prefix order.
func compileWeights(m map[string]int) []weightedPrefix {
	ws := make([]weightedPrefix, 0, len(m))
	for p, w := range m {
		ws = append(ws, weightedPrefix{prefix: p, percent: w})
	}
	sort.Slice(ws, func(i, j int) bool {
		if len(ws[i].prefix) != len(ws[j].prefix) {
			return len(ws[i].prefix) > len(ws[j].prefix)
		}
		return ws[i].prefix < ws[j].prefix
	})
	return ws
}

// sticky is cutover.sticky compiled: where a request's sticky key is read. Both
// names empty is client_ip.
type sticky struct {
	cookie string // cookie name
	header string // canonical header name
}

// parseSticky reads a cutover.sticky value: "" or client_ip, cookie:NAME or
// header:NAME, NAME a token (RFC 9110) as cookie and header names are.
func parseSticky(v string) (sticky, error) {
	switch {
	case v == "" || v == StickyClientIP:
		return sticky{}, nil
	case strings.HasPrefix(v, stickyCookiePrefix):
		name := v[len(stickyCookiePrefix):]
		if !httpguts.ValidHeaderFieldName(name) {
			return sticky{}, fmt.Errorf("%q: want a cookie name after \"cookie:\"", v)
		}
		return sticky{cookie: name}, nil
	case strings.HasPrefix(v, stickyHeaderPrefix):
		name := v[len(stickyHeaderPrefix):]
		if !httpguts.ValidHeaderFieldName(name) {
			return sticky{}, fmt.Errorf("%q: want a header name after \"header:\"", v)
		}
		return sticky{header: textproto.CanonicalMIMEHeaderKey(name)}, nil
	}
	return sticky{}, fmt.Errorf("%q: want cookie:NAME, header:NAME or client_ip", v)
}

// key is the request's sticky key: the named cookie's or header's value, or —
// without one, or for client_ip — the connection's address without its port.
// X-Forwarded-For is never read: any client could choose its backend with it.
func (s sticky) key(r *http.Request) string {
	switch {
	case s.cookie != "":
		if c, err := r.Cookie(s.cookie); err == nil && c.Value != "" {
			return c.Value
		}
	case s.header != "":
		if v := r.Header[s.header]; len(v) > 0 && v[0] != "" {
			return v[0]
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// bucket places a sticky key in one of 100 buckets of a weighted prefix, the same
// in every process and replica: FNV-1a over the key and the prefix, a 64-bit
// finaliser (MurmurHash3's) so that keys differing only in their last bytes spread
// over every bucket, and the high bits of the product with 100 as the bucket. The
// prefix takes part so that a client's share of one route says nothing of its
// share of another.
func bucket(key, prefix string) int {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint64(key[i])) * prime
	}
	h *= prime // a NUL between them, which no header, cookie or address holds: "ab"+"c" is not "a"+"bc"
	for i := 0; i < len(prefix); i++ {
		h = (h ^ uint64(prefix[i])) * prime
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	hi, _ := bits.Mul64(h, 100)
	return int(hi)
}
