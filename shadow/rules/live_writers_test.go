package rules

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A config file written in place by a writer that pauses mid-file, holding the
// file open, is not applied in between — its first half alone ("enabled: true"
// without its routes) would send every /api/* route to the candidate — but once
// the writer has closed it, and then at once.
func TestLiveInPlaceWriteWaitsForTheWriterToClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "parity.yaml")
	writeConfigFile(t, path, cfgOff)
	h := newLiveHarness(t, path)

	// A real writer, another process: the first half, a pause, the rest, close.
	w := exec.Command("sh", "-c", `exec 3>"$1"; printf 'cutover:\n  enabled: true\n' >&3; sleep 0.6; printf '  routes: [/api/health]\n' >&3; exec 3>&-`, "writer", path)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- w.Wait() }()
	deadline := time.Now().Add(liveWait)
	for {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), "enabled: true") {
			break // the writer is in its pause
		}
		if time.Now().After(deadline) {
			t.Fatal("the writer never wrote its first half")
		}
		time.Sleep(5 * time.Millisecond)
	}
	complete := func(c *Config) bool {
		return c.Cutover.Enabled && slices.Equal(c.Cutover.Routes, []string{"/api/health"})
	}
	select {
	case c := <-h.reloads:
		// The writer's close and its exit race: only the whole file may load.
		if !complete(c) {
			t.Fatalf("applied while the writer still held the file open: enabled %v, routes %v", c.Cutover.Enabled, c.Cutover.Routes)
		}
		<-exited
		return
	case err := <-h.rejects:
		t.Fatalf("rejected while the writer still held the file open: %v", err)
	case err := <-exited:
		if err != nil {
			t.Fatalf("writer: %v", err)
		}
	case <-time.After(liveWait):
		t.Fatal("the writer did not finish")
	}
	h.waitReload("the whole file", complete)
}

// A busy file beside the config — a log written more often than the quiet
// period — neither postpones nor triggers reloads: only the config file and the
// entries on its way are watched. Edits in place and renames are still applied.
func TestLiveBusyNeighbourDoesNotDelayReloads(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "parity.yaml")
	writeConfigFile(t, path, cfgOff)
	h := newLiveHarnessDebounce(t, path, 500*time.Millisecond)

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		log, err := os.OpenFile(filepath.Join(dir, "parity.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Error(err)
			return
		}
		defer log.Close()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				log.WriteString("a line of log\n")
			}
		}
	}()
	defer func() { close(stop); <-done }()

	writeConfigFile(t, path, cfgOn)
	h.waitReload("the file edited in place", cutoverOn)
	tmp := filepath.Join(dir, ".parity.yaml.tmp")
	writeConfigFile(t, tmp, cfgOff)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	h.waitReload("the file renamed over", func(c *Config) bool { return !c.Cutover.Enabled })
}
