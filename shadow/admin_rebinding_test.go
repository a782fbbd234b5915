package shadow

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAdminRefusesForeignHost sends real requests to a real admin listener with
// the Host headers a browser would send: a page that rebound its own DNS name to
// the admin address sends its own name, and must read nothing. Addresses (any,
// since a container's published port or a Service rewrites the one a client
// used) and localhost are no DNS names and are served.
func TestAdminRefusesForeignHost(t *testing.T) {
	admin := httptest.NewServer(NewAdminHandler(Admin{
		Snapshot: func(w io.Writer) error { _, err := io.WriteString(w, `{"routes":{"GET /api/x":{}}}`); return err },
		Hosts:    []string{"parity-admin.internal", "Metrics.Example:9090"},
	}))
	defer admin.Close()
	_, port, _ := net.SplitHostPort(admin.Listener.Addr().String())

	tests := []struct {
		name, host string
		status     int
	}{
		{"its own address", "127.0.0.1:" + port, 200},
		{"its own address without port", "127.0.0.1", 200},
		{"localhost on a loopback listener", "localhost:" + port, 200},
		{"a configured name", "parity-admin.internal:" + port, 200},
		{"a configured name in another case", "PARITY-ADMIN.internal", 200},
		{"a configured name given with a port", "metrics.example:9090", 200},
		{"a rebound attacker name", "attacker.example:" + port, 421},
		{"a rebound name that starts like localhost", "localhost.attacker.example:" + port, 421},
		{"a name that ends like a configured one", "evil-parity-admin.internal", 421},
		{"an address behind a published port or NAT", "10.88.0.1:8081", 200},
		{"an IPv6 address", "[::1]:" + port, 200},
		{"a name that looks like an address", "127.0.0.1.attacker.example", 421},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", admin.URL+"/parity/report.json", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = tc.host
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("Host %q: status %d, want %d (%s)", tc.host, res.StatusCode, tc.status, b)
			}
			if leaked := strings.Contains(string(b), "GET /api/x"); leaked != (tc.status == 200) {
				t.Errorf("Host %q: report served = %v, body %q", tc.host, leaked, b)
			}
		})
	}
}

// TestAdminRefusesRequestWithoutHost: an HTTP/1.0 request without Host names no
// listener and gets nothing.
func TestAdminRefusesRequestWithoutHost(t *testing.T) {
	admin := httptest.NewServer(NewAdminHandler(Admin{}))
	defer admin.Close()
	conn, err := net.Dial("tcp", admin.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /healthz HTTP/1.0\r\n\r\n")
	b, _ := io.ReadAll(conn)
	if !strings.HasPrefix(string(b), "HTTP/1.0 421 ") {
		t.Errorf("answer %q, want 421", firstLine(string(b)))
	}
}
