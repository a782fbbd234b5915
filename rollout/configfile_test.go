package rollout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/parity-dev/parity/shadow/rules"
)

// The fleet's writer changes the cutover section's routes and weights only:
// every other line of the file stays byte for byte, comments included.
func TestConfigFileKeepsTheRest(t *testing.T) {
	const before = `# parity for the portal
primary: http://localhost:3000   # SvelteKit

cutover:
  enabled: true                  # FASTIFY_ENABLED
  routes: [/api/health]
  sticky: cookie:sid

# comparison rules
compare:
  ignore: [body.meta.requestId]
rollout: {mode: manual, weights: [10, 100]}
`
	path := filepath.Join(t.TempDir(), "parity.yaml")
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &ConfigFile{Path: path}
	if err := f.SetCutover(&rules.CutoverState{Routes: []string{"/api/health", "/api/metrics"}, Weights: map[string]int{"/api/sessions": 10}}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := `# parity for the portal
primary: http://localhost:3000   # SvelteKit

cutover:
  enabled: true # FASTIFY_ENABLED
  routes: [/api/health, /api/metrics]
  sticky: cookie:sid
  weights: {/api/sessions: 10}
  rest: 0

# comparison rules
compare:
  ignore: [body.meta.requestId]
rollout: {mode: manual, weights: [10, 100]}
`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("file (-want +got):\n%s", diff)
	}
	cfg, err := rules.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if !f.Enabled() || !cmp.Equal(cfg.Cutover.Weights, map[string]int{"/api/sessions": 10}) || cfg.Rollout.Ladder()[0] != 10 {
		t.Errorf("read back: %+v", cfg.Cutover)
	}
	// A cutover the config refuses is never written.
	if err := f.SetCutover(&rules.CutoverState{Routes: []string{"/api/auth"}}); err == nil || !strings.Contains(err.Error(), "not written") {
		t.Errorf("auth cutover: %v", err)
	}
	if again, _ := os.ReadFile(path); string(again) != string(got) {
		t.Error("a refused cutover changed the file")
	}
}

// A file without a cutover section gets one at its end, master switch off.
func TestConfigFileAddsTheSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parity.yaml")
	os.WriteFile(path, []byte("primary: http://localhost:3000"), 0o644)
	f := &ConfigFile{Path: path}
	if err := f.SetCutover(&rules.CutoverState{Routes: []string{}, Weights: map[string]int{"/api/health": 1}}); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	if want := "primary: http://localhost:3000\ncutover:\n  routes: []\n  weights: {/api/health: 1}\n  rest: 0\n"; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if f.Enabled() {
		t.Error("enabled without the switch")
	}
}

// A config file still being written in place (its modification time keeps
// moving) is never read half-way, nor written back with the cutover: the
// fleet's controller tries again at its next evaluation.
func TestConfigFileBeingWrittenIsNotRead(t *testing.T) {
	defer func(s time.Duration) { Settle = s }(Settle)
	Settle = 10 * time.Millisecond
	const half = "primary: http://localhost:3000\ncutover:\n  enabled: true\n"
	path := filepath.Join(t.TempDir(), "parity.yaml")
	if err := os.WriteFile(path, []byte(half), 0o644); err != nil {
		t.Fatal(err)
	}
	soon := time.Now().Add(time.Hour) // a writer that has not finished
	if err := os.Chtimes(path, soon, soon); err != nil {
		t.Fatal(err)
	}
	f := &ConfigFile{Path: path}
	err := f.SetCutover(&rules.CutoverState{Routes: []string{"/api/health"}})
	if err == nil || !strings.Contains(err.Error(), "keeps changing") {
		t.Fatalf("SetCutover on a file being written = %v, want it to wait and give up", err)
	}
	if got, _ := os.ReadFile(path); string(got) != half {
		t.Fatalf("the file being written was changed:\n%s", got)
	}
	if f.Enabled() {
		t.Error("a config being written reads as switched on")
	}

	// Once the writer is done, the next evaluation reads the file and the
	// cutover is written.
	past := time.Now().Add(-time.Minute)
	if err := os.Chtimes(path, past, past); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Load(); err != nil {
		t.Fatal(err)
	}
	if err := f.SetCutover(&rules.CutoverState{Routes: []string{"/api/health"}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !strings.Contains(string(got), "routes: [/api/health]") || !strings.HasPrefix(string(got), "primary: http://localhost:3000\n") {
		t.Fatalf("after the write settled:\n%s", got)
	}
}

// A person's edit made after the controller read the config is not
// overwritten with the cutover: the write is refused, and the next read
// (the next evaluation) writes the cutover over the edited file, keeping the
// edit.
func TestConfigFileEditedSinceReadIsNotOverwritten(t *testing.T) {
	defer func(s time.Duration) { Settle = s }(Settle)
	Settle = time.Millisecond
	path := filepath.Join(t.TempDir(), "parity.yaml")
	if err := os.WriteFile(path, []byte("cutover:\n  enabled: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := &ConfigFile{Path: path}
	if _, err := f.Load(); err != nil {
		t.Fatal(err)
	}
	const edited = "# edited by hand\ncutover:\n  enabled: false\n"
	if err := os.WriteFile(path, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	cut := &rules.CutoverState{Routes: []string{"/api/health"}}
	if err := f.SetCutover(cut); err == nil || !strings.Contains(err.Error(), "changed since it was read") {
		t.Fatalf("SetCutover over an edit = %v, want it refused", err)
	}
	if got, _ := os.ReadFile(path); string(got) != edited {
		t.Fatalf("the edit was overwritten:\n%s", got)
	}
	if _, err := f.Load(); err != nil {
		t.Fatal(err)
	}
	if f.Enabled() {
		t.Error("the edit switching the cutover off is not read")
	}
	if err := f.SetCutover(cut); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !strings.HasPrefix(string(got), "# edited by hand\ncutover:\n  enabled: false\n  routes: [/api/health]\n") {
		t.Fatalf("after the next read:\n%s", got)
	}
}
