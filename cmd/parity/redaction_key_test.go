package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parity-dev/parity/shadow"
)

// TestProxyAndReplayShareRedactionKey: the proxy generates its redaction key
// beside its snapshot (0600) and marks the recording's secrets with it; a replay
// given that key file through PARITY_REDACTION_KEY_FILE marks the secrets of its
// report with the same key.
func TestProxyAndReplayShareRedactionKey(t *testing.T) {
	backend := func(token string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"token":"`+token+`"}`)
		}))
		t.Cleanup(s.Close)
		return s
	}
	primary, candidate := backend("cnry-prim-tok-41"), backend("cnry-cand-tok-42")
	dir := t.TempDir()
	snap, recording := filepath.Join(dir, "snapshot.json"), filepath.Join(dir, "traffic.ndjson")
	listen, admin := freeAddr(t), freeAddr(t)
	proxy := startProxyBinary(t, nil, "--listen", listen, "--admin-listen", admin, "--primary", primary.URL,
		"--candidate", candidate.URL, "--snapshot", snap, "--record", recording, "--log-level", "error")
	res, err := http.Get("http://" + listen + "/api/sessions?token=cnry-query-43")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	proxy.stop()

	keyFile := filepath.Join(dir, shadow.RedactionKeyFile)
	st, err := os.Stat(keyFile)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key beside the snapshot: %v, %v; want a 0600 file", st, err)
	}
	red, _, err := shadow.LoadRedactor(keyFile, "", "")
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := os.ReadFile(recording)
	if want := "token=" + red.Mark("cnry-query-43"); !strings.Contains(string(rec), want) {
		t.Errorf("recording %s lacks %s", rec, want)
	}

	snap2 := filepath.Join(t.TempDir(), "replay.json")
	_, stderr, code := runInProcess(t, map[string]string{"PARITY_REDACTION_KEY_FILE": keyFile},
		"replay", "--traffic", recording, "--primary", primary.URL, "--candidate", candidate.URL, "--snapshot", snap2)
	if code != exitOK {
		t.Fatalf("replay exit %d: %s", code, stderr)
	}
	out, _ := os.ReadFile(snap2)
	for _, want := range []string{red.Mark(`"cnry-prim-tok-41"`), red.Mark(`"cnry-cand-tok-42"`)} {
		if !strings.Contains(string(out), want) {
			t.Errorf("replay snapshot lacks %s (the proxy's key)", want)
		}
	}
	if strings.Contains(string(out), "cnry-") {
		t.Errorf("replay snapshot holds a secret: %s", out)
	}
}
