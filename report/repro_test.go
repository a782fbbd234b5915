package report

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The rendered curl command sends the kept request exactly, whatever its
// quoting, with each secret taken from the placeholder the engineer filled.
func TestReproducerCurlSendsTheRequest(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	type seen struct {
		Method, Target, Quote, Auth, Body string
	}
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = seen{r.Method, r.RequestURI, r.Header.Get("X-Quote"), r.Header.Get("Authorization"), string(b)}
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()

	q := &Request{
		Method:        "PATCH",
		Target:        "/api/x/$HOME/{a}?q=it's&token=&n=1",
		Header:        map[string][]string{"X-Quote": {`it's "$(id)" \n`}},
		SecretHeaders: []string{"Authorization"},
		SecretParams:  []string{"token"},
		SecretBody:    []string{"BODY_SECRET_1"},
		Body:          `{"password":"${BODY_SECRET_1}","note":"it's $x"}`,
	}
	g := DiffGroup{Path: "status", Kind: "changed", Examples: []Example{{RequestID: "r1", Request: q}}}
	rp, ok := g.Repro("PATCH /api/x/:id")
	if !ok {
		t.Fatal("no reproducer")
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", strings.Replace(rp.Primary, "curl", curl, 1))
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PRIMARY="+srv.URL, "AUTHORIZATION=Bearer filled", "PARAM_TOKEN=t0k", "BODY_SECRET_1=hunter2")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", rp.Primary, err, out)
	}
	want := seen{"PATCH", "/api/x/$HOME/{a}?q=it's&token=t0k&n=1", `it's "$(id)" \n`, "Bearer filled", `{"password":"hunter2","note":"it's $x"}`}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("request received (-want +got):\n%s", d)
	}
	saved, err := os.ReadFile(filepath.Join(dir, ReproPrimaryFile))
	if err != nil || !strings.HasPrefix(string(saved), "HTTP/1.1 200") {
		t.Errorf("saved answer %q (%v): want the status line, headers and body", saved, err)
	}

	// Unfilled, a placeholder stops the command before anything is sent.
	got = seen{}
	cmd = exec.Command("sh", "-c", strings.Replace(rp.Primary, "curl", curl, 1))
	cmd.Dir, cmd.Env = dir, []string{"PRIMARY=" + srv.URL, "PATH=" + os.Getenv("PATH")}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "PARAM_TOKEN: fill in the token parameter") || got.Method != "" {
		t.Errorf("unfilled: err %v, output %q, sent %+v", err, out, got)
	}
	if !strings.Contains(rp.Script(), "# secrets were redacted; fill in AUTHORIZATION (Authorization header), PARAM_TOKEN (token parameter), BODY_SECRET_1 (in the body)") {
		t.Errorf("the script does not say what to fill in:\n%s", rp.Script())
	}
}
