package report

import (
	"bytes"
	"strings"
	"testing"
)

// TestAuthRoutesShownAsNeverMirrored: a route whose requests were all skipped
// by the auth rule reads "never mirrored (by design)" in every report, not
// "inconclusive" or "not yet"; a route skipped for another reason does not.
func TestAuthRoutesShownAsNeverMirrored(t *testing.T) {
	s := authOnlySnapshot()
	for _, r := range renderers {
		if r.name == "json" {
			continue // the snapshot itself: no verdicts
		}
		t.Run(r.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := r.render(&b, s, RenderOptions{}); err != nil {
				t.Fatal(err)
			}
			out := b.String()
			if !strings.Contains(out, neverMirroredLabel) {
				t.Errorf("%s does not say %q", r.name, neverMirroredLabel)
			}
			// The table lists reasons only for routes with differences or failures.
			if r.name != "table" && !strings.Contains(out, "/api/auth stays on SvelteKit") {
				t.Errorf("%s does not give the reason", r.name)
			}
		})
	}

	v, err := newView(s, RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range v.Routes {
		if got, want := r.NeverMirrored, r.Route == "GET /api/auth/session"; got != want {
			t.Errorf("%s: NeverMirrored = %v, want %v", r.Route, got, want)
		}
	}
	// Writes skipped by method are waiting for an opt-in, not by design.
	a := NewAggregator(Limits{})
	a.Observe(Observation{Route: "POST /api/chat", Method: "POST", Skipped: SkipWriteMethod})
	a.Observe(Observation{Route: "POST /api/chat", Method: "POST", Skipped: SkipAuth})
	v, err = newView(a.Snapshot(), RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v.Routes[0].NeverMirrored {
		t.Errorf("a route with write_method skips is shown as never mirrored")
	}
}
