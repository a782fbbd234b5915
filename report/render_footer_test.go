package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/parity-dev/parity/report/buildinfo"
)

// testBuild stands for the running build in every golden file, so they do not
// change with the toolchain.
var testBuild = buildinfo.Info{Version: "v0.0.0-test", Commit: "0123456789abcdef", Date: "2026-03-01T00:00:00Z", GoVersion: "go1.x"}

func init() { runningBuild = func() buildinfo.Info { return testBuild } }

// TestEveryReportNamesItsBuild renders with an explicit build and finds it in
// each format's footer.
func TestEveryReportNamesItsBuild(t *testing.T) {
	b := buildinfo.Info{Version: "v1.4.0", Commit: "fedcba9876543210", Date: "2026-11-30T10:00:00Z", GoVersion: "go1.26.8"}
	line := "Rendered by parity v1.4.0 (commit fedcba987654, built 2026-11-30T10:00:00Z, go1.26.8)"
	s := renderSnapshot(t)
	for _, r := range renderers {
		t.Run(r.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := r.render(&out, s, RenderOptions{Build: b}); err != nil {
				t.Fatal(err)
			}
			got := out.String()
			switch r.name {
			case "table":
				if !strings.HasSuffix(got, "\n"+line+"\n") {
					t.Errorf("table does not end with %q:\n…%s", line, got[max(0, len(got)-200):])
				}
			case "markdown":
				if !strings.HasSuffix(got, "<sub>"+line+"</sub>\n") {
					t.Errorf("markdown does not end with the build:\n…%s", got[max(0, len(got)-200):])
				}
			case "html":
				if !strings.Contains(got, `<p id="build">`+line+`.</p>`) {
					t.Errorf("html footer lacks the build")
				}
			case "json":
				var doc struct {
					Build   buildinfo.Info `json:"build"`
					Version int            `json:"version"`
				}
				if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
					t.Fatal(err)
				}
				if doc.Build != b || doc.Version != SnapshotVersion {
					t.Errorf("json build %+v version %d, want %+v and %d", doc.Build, doc.Version, b, SnapshotVersion)
				}
				if _, err := ReadSnapshot(bytes.NewReader(out.Bytes())); err != nil {
					t.Errorf("the rendered JSON is no longer a snapshot: %v", err)
				}
			case "junit":
				var doc struct {
					Props []struct {
						Name  string `xml:"name,attr"`
						Value string `xml:"value,attr"`
					} `xml:"testsuite>properties>property"`
				}
				if err := xml.Unmarshal(out.Bytes(), &doc); err != nil {
					t.Fatal(err)
				}
				found := false
				for _, p := range doc.Props {
					found = found || p.Name == "build" && p.Value == b.String()
				}
				if !found {
					t.Errorf("junit has no build property %q: %+v", b.String(), doc.Props)
				}
			default:
				t.Fatalf("no footer check for %s", r.name)
			}
		})
	}
}
