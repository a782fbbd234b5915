package shadow

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// runningServer is a Server bound to loopback ports and running.
type runningServer struct {
	srv  *Server
	stop context.CancelFunc
	done chan error
}

func startServer(t *testing.T, s *Server) *runningServer {
	t.Helper()
	if s.Addr == "" {
		s.Addr = "127.0.0.1:0"
	}
	s.AdminAddr = "127.0.0.1:0"
	if err := s.Open(); err != nil {
		t.Fatalf("open: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rs := &runningServer{srv: s, stop: cancel, done: make(chan error, 1)}
	go func() { rs.done <- s.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-rs.done:
		case <-time.After(waitLimit):
			t.Error("server did not stop")
		}
	})
	waitReady(t, s, true)
	return rs
}

// shutdown stops the server as SIGTERM does and returns Run's result.
func (rs *runningServer) shutdown(t *testing.T) error {
	t.Helper()
	rs.stop()
	select {
	case err := <-rs.done:
		rs.done <- err // for the cleanup
		return err
	case <-time.After(waitLimit):
		t.Fatal("Run did not return")
		return nil
	}
}

func (rs *runningServer) url(path string) string {
	return "http://" + rs.srv.PublicAddress().String() + path
}

// waitReady polls /readyz until it says want: readiness is state, not an event
// the server announces.
func waitReady(t *testing.T, s *Server, want bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		res, err := http.Get("http://" + s.AdminAddress().String() + "/readyz")
		if err == nil {
			res.Body.Close()
			if (res.StatusCode == 200) == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz never became %v (last: %v)", want, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func get(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", url, err)
	}
	return res.StatusCode, string(b)
}

func newShadowProxy(t *testing.T, obs Observer) *Proxy {
	t.Helper()
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) })
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"ok":true}`) })
	return &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true), Observer: obs, Metrics: NewMetrics(0)}
}

// TestServerShutdownDrainsInFlight: on shutdown the server stops being ready and
// accepting, lets the request in flight finish, waits for its comparison, writes
// the snapshot and returns nil.
func TestServerShutdownDrainsInFlight(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/slow" {
			close(started)
			<-release
		}
		io.WriteString(w, "done")
	})
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "done") })
	agg := report.NewAggregator(report.Limits{})
	snap := filepath.Join(t.TempDir(), "parity.snapshot.json")
	p := &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decideFixed(rules.Primary, true), Observer: agg}
	rs := startServer(t, &Server{Proxy: p, Aggregator: agg, SnapshotFile: snap, Grace: waitLimit})

	type result struct {
		status int
		body   string
		err    error
	}
	slow := make(chan result, 1)
	go func() {
		res, err := http.Get(rs.url("/api/slow"))
		if err != nil {
			slow <- result{err: err}
			return
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		slow <- result{res.StatusCode, string(b), err}
	}()
	<-started

	rs.stop()
	waitReady(t, rs.srv, false)
	// Not ready comes first, then the listener closes: wait for the refusal,
	// with the in-flight request still held, so it happens before the drain.
	deadline := time.Now().Add(waitLimit)
	for {
		c, err := net.Dial("tcp", rs.srv.PublicAddress().String())
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the public listener still accepts connections during shutdown")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	if r := <-slow; r.err != nil || r.status != 200 || r.body != "done" {
		t.Errorf("in-flight request got %d %q %v, want 200 done", r.status, r.body, r.err)
	}
	if err := rs.shutdown(t); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	s, err := report.ReadSnapshotFile(snap)
	if err != nil {
		t.Fatalf("snapshot after shutdown: %v", err)
	}
	if r := s.Route("GET /api/slow"); r == nil || r.Compared != 1 {
		t.Errorf("snapshot route GET /api/slow = %+v, want 1 compared", r)
	}
}

// TestServerRestartContinuesCounts: a server restarted on the same snapshot file
// continues its counts.
func TestServerRestartContinuesCounts(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "parity.snapshot.json")
	run := func(n int) {
		agg := report.NewAggregator(report.Limits{})
		rs := startServer(t, &Server{Proxy: newShadowProxy(t, agg), Aggregator: agg, SnapshotFile: snap})
		c := &http.Client{Transport: &http.Transport{}}
		for range n {
			if status, _ := get(t, c, rs.url("/api/sessions")); status != 200 {
				t.Fatalf("status %d", status)
			}
		}
		c.CloseIdleConnections()
		if err := rs.shutdown(t); err != nil {
			t.Fatalf("Run = %v", err)
		}
	}
	run(3)
	run(4)
	s, err := report.ReadSnapshotFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	if r := s.Route("GET /api/sessions"); r == nil || r.Compared != 7 || r.Matched != 7 {
		t.Errorf("after restart: %+v, want 7 compared and matched", r)
	}
}

// TestServerWritesSnapshotPeriodically: the snapshot appears while serving.
func TestServerWritesSnapshotPeriodically(t *testing.T) {
	snap := filepath.Join(t.TempDir(), "parity.snapshot.json")
	agg := report.NewAggregator(report.Limits{})
	rs := startServer(t, &Server{Proxy: newShadowProxy(t, agg), Aggregator: agg, SnapshotFile: snap, SnapshotInterval: 10 * time.Millisecond})
	get(t, http.DefaultClient, rs.url("/api/x"))
	deadline := time.Now().Add(waitLimit)
	for {
		if s, err := report.ReadSnapshotFile(snap); err == nil && s.Route("GET /api/x") != nil && s.Route("GET /api/x").Compared == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no periodic snapshot with the request")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestServerAdminListener: the admin listener serves the live report, snapshot
// and metrics; the public one passes the same paths to the backend.
func TestServerAdminListener(t *testing.T) {
	agg := report.NewAggregator(report.Limits{})
	rs := startServer(t, &Server{Proxy: newShadowProxy(t, agg), Aggregator: agg})
	get(t, http.DefaultClient, rs.url("/api/sessions"))
	admin := "http://" + rs.srv.AdminAddress().String()

	deadline := time.Now().Add(waitLimit)
	for {
		_, body := get(t, http.DefaultClient, admin+"/parity/report.json")
		s, err := report.ReadSnapshot(strings.NewReader(body))
		if err != nil {
			t.Fatalf("report.json: %v", err)
		}
		if r := s.Route("GET /api/sessions"); r != nil && r.Compared == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("live snapshot never showed the comparison: %s", body)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The dashboard's poll: the same counts, no histogram encodings.
	for query, wantHDR := range map[string]bool{"": true, "?histograms=0": false} {
		_, body := get(t, http.DefaultClient, admin+"/parity/report.json"+query)
		var s report.Snapshot
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatalf("report.json%s: %v", query, err)
		}
		r := s.Route("GET /api/sessions")
		if r == nil || r.Compared != 1 || r.Latency.Primary.Count != 1 || (r.Latency.Primary.HDR != "") != wantHDR || s.HistogramsOmitted == wantHDR {
			t.Errorf("report.json%s: route %+v, want 1 comparison, histogram encoded: %v", query, r, wantHDR)
		}
	}
	if status, body := get(t, http.DefaultClient, admin+"/parity/report"); status != 200 || !strings.Contains(body, "/api/sessions") {
		t.Errorf("report: %d %.300s, want 200 naming the route", status, body)
	}
	if status, body := get(t, http.DefaultClient, admin+"/metrics"); status != 200 || !strings.Contains(body, `http_request_duration_seconds_count{backend="primary",method="GET",route="GET /api/sessions",status="200"} 1`) {
		t.Errorf("metrics: %d %s", status, body)
	}
	if status, body := get(t, http.DefaultClient, rs.url("/parity/report.json")); status != 200 || body != `{"ok":true}` {
		t.Errorf("public /parity/report.json: %d %q, want the backend's answer", status, body)
	}
}

// TestServerTLSNegotiatesHTTP2: with a certificate the public listener speaks TLS
// and negotiates HTTP/2.
func TestServerTLSNegotiatesHTTP2(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	agg := report.NewAggregator(report.Limits{})
	rs := startServer(t, &Server{Proxy: newShadowProxy(t, agg), Aggregator: agg, TLSCertFile: certFile, TLSKeyFile: keyFile})
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	res, err := (&http.Client{Transport: tr}).Get("https://" + rs.srv.PublicAddress().String() + "/api/sessions")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.ProtoMajor != 2 || res.StatusCode != 200 || string(b) != `{"ok":true}` {
		t.Errorf("got %s %d %q, want HTTP/2.0 200 from the backend", res.Proto, res.StatusCode, b)
	}
}

// TestServerOpenErrors: what Open cannot do is one error naming the file or address.
func TestServerOpenErrors(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.json")
	os.WriteFile(corrupt, []byte(`{"version":1,"routes":[`), 0o600)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tests := []struct {
		name string
		srv  *Server
		want string
	}{
		{"missing certificate", &Server{TLSCertFile: filepath.Join(dir, "none.pem"), TLSKeyFile: filepath.Join(dir, "none.key")}, "none.pem"},
		{"certificate without key", &Server{TLSCertFile: filepath.Join(dir, "none.pem")}, "both a certificate and a key"},
		{"corrupt snapshot", &Server{SnapshotFile: corrupt, Aggregator: report.NewAggregator(report.Limits{})}, "corrupt.json"},
		{"address in use", &Server{Addr: busy.Addr().String()}, busy.Addr().String()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.srv.Proxy = &Proxy{Primary: deadURL(t)}
			if tc.srv.Addr == "" {
				tc.srv.Addr = "127.0.0.1:0"
			}
			tc.srv.AdminAddr = "127.0.0.1:0"
			err := tc.srv.Open()
			if err == nil {
				tc.srv.Close()
				t.Fatal("Open succeeded")
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
				t.Errorf("error %q, want one line naming %q", msg, tc.want)
			}
		})
	}
}

// TestServerLeavesNoGoroutines: after Run returns nothing of the server, the
// proxy or its mirrors is left running.
func TestServerLeavesNoGoroutines(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Run("serve and stop", func(t *testing.T) {
		agg := report.NewAggregator(report.Limits{})
		rs := startServer(t, &Server{Proxy: newShadowProxy(t, agg), Aggregator: agg,
			SnapshotFile: filepath.Join(t.TempDir(), "s.json"),
			Background:   []func(context.Context) error{func(ctx context.Context) error { <-ctx.Done(); return nil }}})
		c := &http.Client{Transport: &http.Transport{}}
		for range 5 {
			get(t, c, rs.url("/api/x"))
		}
		c.CloseIdleConnections()
		if err := rs.shutdown(t); err != nil {
			t.Fatal(err)
		}
	})
	http.DefaultClient.CloseIdleConnections()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	checkGoroutines(t, base)
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns a pool
// that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "parity test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
