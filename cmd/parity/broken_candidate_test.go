package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parity-dev/parity/report"
)

// brokenCanary is what a broken candidate holds in memory and blurts out in
// place of HTTP: it is nowhere in the request, so only keeping the candidate's
// bytes out of every output keeps it out.
const brokenCanary = "cnry-brokencand-5e21d7"

// brokenCandidate is a raw TCP server that answers HTTP requests wrongly, by path:
// /api/nostatus without a status line, /api/badheader with a header line that is
// not one, /api/short with a Content-Length shorter than the body it sends (the
// rest arrives on the idle connection).
func brokenCandidate(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Go(func() {
				defer conn.Close()
				br := bufio.NewReader(conn)
				for {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					switch req.URL.Path {
					case "/api/nostatus":
						io.WriteString(conn, "password="+brokenCanary+"\r\n\r\n")
						return
					case "/api/badheader":
						io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nsecret "+brokenCanary+"\r\n\r\n{}")
						return
					case "/api/short":
						io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"+
							"{\"token\":\""+brokenCanary+"\"}")
					default:
						io.WriteString(conn, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
					}
				}
			})
		}
	})
	return "http://" + l.Addr().String()
}

// proxyBinary is a `parity proxy` process of a test.
type proxyBinary struct {
	t      *testing.T
	cmd    *exec.Cmd
	exited chan error
}

// startProxyBinary starts the built binary as `parity proxy args...`, its stderr
// to stderr (nil: discarded), and waits until its admin listener is ready; it is
// killed at the end of the test unless stop ended it.
func startProxyBinary(t *testing.T, stderr io.Writer, args ...string) *proxyBinary {
	t.Helper()
	admin := ""
	for i, a := range args {
		if a == "--admin-listen" && i+1 < len(args) {
			admin = args[i+1]
		}
	}
	p := &proxyBinary{t: t, cmd: exec.Command(parityBin, append([]string{"proxy"}, args...)...), exited: make(chan error, 1)}
	p.cmd.Stderr = stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			<-p.exited
		}
	})
	waitFor(t, "http://"+admin+"/readyz", p.exited)
	return p
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proxyBinary) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		if err != nil {
			p.t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		p.t.Fatal("no exit after SIGTERM")
	}
}

// TestBrokenCandidateBytesReachNoOutput runs the real binary, at debug level,
// against a candidate that answers without a status line, with a broken header
// line, and with a body longer than its Content-Length. The candidate's bytes —
// a canary secret among them — must reach neither /parity/report.json, nor the
// HTML report, nor the snapshot file's errors, nor stderr; the reports still say
// what kind of failure it was.
func TestBrokenCandidateBytesReachNoOutput(t *testing.T) {
	primary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true}`)
	}))
	defer primary.Close()
	candidate := brokenCandidate(t)

	dir := t.TempDir()
	snap := filepath.Join(dir, "snapshot.json")
	listen, admin := freeAddr(t), freeAddr(t)
	var stderr syncBuf
	proxy := startProxyBinary(t, &stderr, "--listen", listen, "--admin-listen", admin,
		"--primary", primary.URL, "--candidate", candidate, "--snapshot", snap, "--grace", "5s", "--log-level", "debug")

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	get := func(url string) string {
		t.Helper()
		res, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	paths := []string{"/api/nostatus", "/api/badheader", "/api/short", "/api/short", "/api/short"}
	for _, p := range paths {
		if got := get("http://" + listen + p); got != `{"ok":true}` {
			t.Errorf("GET %s: client got %q, want the primary's answer", p, got)
		}
	}
	// Every mirror observed: the live snapshot counts them all.
	deadline := time.Now().Add(10 * time.Second)
	var live report.Snapshot
	for {
		if err := json.Unmarshal([]byte(get("http://"+admin+"/parity/report.json")), &live); err != nil {
			t.Fatal(err)
		}
		n := int64(0)
		for _, r := range live.Routes {
			n += r.Compared + r.CandidateTransportErrors
		}
		if n == int64(len(paths)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d mirrors observed: %+v", n, len(paths), live.Routes)
		}
		time.Sleep(10 * time.Millisecond)
	}
	outputs := map[string]string{
		"/parity/report.json": get("http://" + admin + "/parity/report.json"),
		"/parity/report":      get("http://" + admin + "/parity/report"),
	}
	for _, r := range []string{"GET /api/nostatus", "GET /api/badheader"} {
		if rs := live.Route(r); rs == nil || rs.CandidateErrors != 1 || rs.Errors["malformed response"] != 1 {
			t.Errorf("%s: %+v, want one candidate error of kind \"malformed response\"", r, rs)
		}
	}
	client.CloseIdleConnections()

	proxy.stop()
	b, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	outputs["snapshot file"] = string(b)
	outputs["stderr"] = stderr.String()
	// The transport's own line about the bytes left on the idle connection went
	// through the logger, scrubbed.
	if !strings.Contains(outputs["stderr"], `"level":"debug","error":"Unsolicited response received on idle HTTP channel starting with [`) {
		t.Errorf("stderr lacks the transport's scrubbed debug line:\n%s", outputs["stderr"])
	}
	for name, out := range outputs {
		if strings.Contains(out, brokenCanary) {
			i := strings.Index(out, brokenCanary)
			t.Errorf("the candidate's bytes reached %s: …%s…", name, out[max(0, i-120):min(len(out), i+60)])
		}
	}
}
