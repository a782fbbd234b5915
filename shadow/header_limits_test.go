package shadow

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// headRequest is a GET whose head carries n header fields of the given size
// ("a1: x…"), at least 6 bytes each with their line end.
func headRequest(n, size int) string {
	var b strings.Builder
	b.WriteString("GET /api/headers HTTP/1.1\r\nHost: app\r\n")
	for i := range n {
		name := fmt.Sprintf("a%d", i)
		b.WriteString(name + ": " + strings.Repeat("x", max(1, size-len(name)-4)) + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// A request's head is bounded in bytes and in fields before anything of it is
// forwarded: header amplification (a megabyte of tiny headers, copied for the
// backend, the mirror and the recording) cannot grow the proxy's memory. Over
// either bound the client gets 431 and its connection is closed; within them
// the request goes through.
func TestRequestHeadBounds(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	rs := startServer(t, &Server{Proxy: &Proxy{Primary: primary.url(t)}})
	addr := rs.srv.PublicAddress().String()

	cases := []struct {
		name    string
		request string
		status  int
	}{
		{"within both bounds", headRequest(DefaultMaxHeaderCount-10, 100), http.StatusOK},
		{"a megabyte of tiny headers", headRequest(160_000, 6), http.StatusRequestHeaderFieldsTooLarge},
		{"over the byte bound in few fields", headRequest(20, DefaultMaxHeaderBytes/10), http.StatusRequestHeaderFieldsTooLarge},
		{"over the field count in few bytes", headRequest(DefaultMaxHeaderCount+1, 6), http.StatusRequestHeaderFieldsTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := primary.count()
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(waitLimit))
			// The server may answer before the whole head is written.
			go io.WriteString(conn, c.request)
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			res.Body.Close()
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d", res.StatusCode, c.status)
			}
			reached := primary.count() - before
			if c.status == http.StatusOK {
				if reached != 1 {
					t.Errorf("the primary received %d requests, want 1", reached)
				}
				return
			}
			if reached != 0 {
				t.Errorf("the primary received %d requests, want none", reached)
			}
			if !res.Close {
				t.Error("the connection stays open after 431")
			}
		})
	}
}
