package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDiffSecurityAndURL: parity diff marks a security regression in both formats,
// and --url resolves Location against the request's URL.
func TestDiffSecurityAndURL(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(body, "\n", "\r\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	primary := write("primary.http", "HTTP/1.1 302 Found\nLocation: /api/docs/x?view=compact\nSet-Cookie: sid=1; Path=/; HttpOnly\nContent-Length: 0\n\n")
	candidate := write("candidate.http", "HTTP/1.1 302 Found\nLocation: http://portal.test/api/docs/x?view=compact\nSet-Cookie: sid=1; Path=/\nContent-Length: 0\n\n")

	stdout, stderr, code := runInProcess(t, nil, "diff", "--url", "http://portal.test/api/docs/x/open", primary, candidate)
	want := "header.Set-Cookie.sid.HttpOnly  missing  HttpOnly → (absent)  SECURITY cookie_httponly_lost: a cookie lost HttpOnly: scripts on the page can read it\n"
	if code != exitDifferent || stdout != want {
		t.Errorf("text: exit %d, stdout %q (stderr %q); want 1 and %q", code, stdout, stderr, want)
	}

	stdout, _, code = runInProcess(t, nil, "diff", "--format", "json", primary, candidate)
	var got []diffJSON
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("json output %q: %v", stdout, err)
	}
	wantJSON := []diffJSON{
		{Path: "header.Location", Kind: "changed", Primary: "/api/docs/x?view=compact", Candidate: "http://portal.test/api/docs/x?view=compact"},
		{Path: "header.Set-Cookie.sid.HttpOnly", Kind: "missing", Primary: "HttpOnly", Security: "cookie_httponly_lost"},
	}
	if d := cmp.Diff(wantJSON, got); code != exitDifferent || d != "" {
		t.Errorf("json without --url: exit %d, output (-want +got):\n%s", code, d)
	}

	_, stderr, code = runInProcess(t, nil, "diff", "--url", "/api/x", primary, candidate)
	if code != exitUsage || !strings.Contains(stderr, `diff: --url "/api/x": want an absolute http or https URL`) {
		t.Errorf("relative --url: exit %d, stderr %q", code, stderr)
	}
}

// TestDiffSaysWhatWasLeftOut: a result over its bound says how many differences it
// left out, and "stopped" only when the comparison stopped looking.
func TestDiffSaysWhatWasLeftOut(t *testing.T) {
	var p, c strings.Builder
	p.WriteString("{")
	c.WriteString("{")
	for i := range 1200 {
		if i > 0 {
			p.WriteString(",")
			c.WriteString(",")
		}
		p.WriteString(`"k` + strings.Repeat("x", 900) + strconv.Itoa(i) + `":1`)
		c.WriteString(`"k` + strings.Repeat("x", 900) + strconv.Itoa(i) + `":2`)
	}
	p.WriteString("}")
	c.WriteString("}")
	pf, cf := writeTemp(t, "p.json", p.String()), writeTemp(t, "c.json", c.String())
	_, stderr, code := runInProcess(t, nil, "diff", pf, cf)
	if code != exitDifferent || !strings.Contains(stderr, "differences left out: listing them would take the result over its bound") ||
		!strings.Contains(stderr, "stopped looking after 1000 differences") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	// Under the bound: neither.
	_, stderr, _ = runInProcess(t, nil, "diff", writeTemp(t, "a.json", `{"a":1}`), writeTemp(t, "b.json", `{"a":2}`))
	if strings.Contains(stderr, "left out") || strings.Contains(stderr, "stopped") {
		t.Errorf("small diff: stderr %q", stderr)
	}
}
