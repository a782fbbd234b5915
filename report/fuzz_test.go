package report

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/parity-dev/parity/fixtures"
)

func FuzzParsePlan(f *testing.F) {
	f.Add(fixtures.Plan)
	f.Add([]byte("steps:\n  - name: a\n    routes: /api/a, /api/b\n"))
	f.Add([]byte("thresholds: {min_parity: 2}\nsteps: []\n"))
	f.Add([]byte("- [a, b]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePlan("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q does not name the file on one line", err)
			}
			return
		}
		if len(p.Steps) == 0 {
			t.Error("a plan without steps parsed")
		}
		for _, s := range p.Steps {
			for _, r := range s.Routes {
				if !strings.HasPrefix(r, "/") {
					t.Errorf("prefix %q parsed", r)
				}
			}
		}
	})
}

func FuzzParseMatrix(f *testing.F) {
	f.Add(fixtures.Routes)
	f.Add([]byte("routes:\n  - route: GET /a/*\n    fastify: no\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMatrix("m.yaml", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			return
		}
		CheckPlan(&Plan{Steps: []Step{{Number: 1, Name: "x"}, {Number: 2, Name: "y", Routes: []string{"/api/v1/"}}}}, m)
	})
}

func FuzzReadSnapshot(f *testing.F) {
	var b bytes.Buffer
	if err := WriteSnapshot(&b, renderSnapshot(f)); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte(`{"version":1,"routes":[{"route":"GET /a","compared":2,"matched":1,"differences":[{"path":"body","kind":"changed","count":1}]}]}`))
	f.Add([]byte(`{"version":1,"routes":[{"route":"GET /a","latency":{"primary":{"count":1,"hdr":"HISTFAAAAB14nJNpmSzMwMDAxAABzFCaEUoLQ2gmAA=="}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadSnapshot(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever reads must merge and render.
		m, err := Merge(s, s)
		if err != nil {
			t.Fatalf("merging a snapshot that read back: %v", err)
		}
		for _, r := range renderers {
			if err := r.render(io.Discard, m, RenderOptions{}); err != nil {
				t.Errorf("%s: %v", r.name, err)
			}
		}
	})
}
