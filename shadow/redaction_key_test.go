package shadow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRedactionKeyKeptBesideSnapshot: on first start a key is generated beside the
// snapshot, readable by its owner only, and a restart marks secrets as before;
// another deployment (another snapshot directory) marks them differently, and
// replicas given one key file mark them alike.
func TestRedactionKeyKeptBesideSnapshot(t *testing.T) {
	dirA, dirB := t.TempDir(), t.TempDir()
	load := func(keyFile, key, snapshot string) string {
		t.Helper()
		red, _, err := LoadRedactor(keyFile, key, snapshot)
		if err != nil {
			t.Fatal(err)
		}
		return red.Mark("hunter2")
	}
	first := load("", "", filepath.Join(dirA, "snapshot.json"))
	keyPath := filepath.Join(dirA, RedactionKeyFile)
	st, err := os.Stat(keyPath)
	if err != nil {
		t.Fatalf("no key beside the snapshot: %v", err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	if b, _ := os.ReadFile(keyPath); len(strings.TrimSpace(string(b))) != 64 {
		t.Errorf("key file holds %q, want 64 hex digits", b)
	}
	if again := load("", "", filepath.Join(dirA, "snapshot.json")); again != first {
		t.Errorf("after a restart %s, before %s", again, first)
	}
	if other := load("", "", filepath.Join(dirB, "snapshot.json")); other == first {
		t.Errorf("two deployments mark alike: %s", other)
	}
	if replica := load(keyPath, "", ""); replica != first {
		t.Errorf("a replica given the key file marks %s, want %s", replica, first)
	}
	if env, env2 := load("", "0123456789abcdef-env", ""), load("", "0123456789abcdef-env", ""); env != env2 || env == first {
		t.Errorf("PARITY_REDACTION_KEY marks %s and %s", env, env2)
	}
	if a, b := load("", "", ""), load("", "", ""); a == b {
		t.Errorf("two processes without a snapshot or key mark alike: %s", a)
	}
}

func TestRedactionKeyErrors(t *testing.T) {
	dir := t.TempDir()
	short := filepath.Join(dir, "short.key")
	os.WriteFile(short, []byte("abc\n"), 0o600)
	tests := []struct{ name, keyFile, key, snapshot, want string }{
		{"file and value", short, "0123456789abcdef", "", "give one"},
		{"short file", short, "", "", short},
		{"missing file", filepath.Join(dir, "none.key"), "", "", "none.key"},
		{"short value", "", "abc", "", "PARITY_REDACTION_KEY"},
		{"snapshot directory missing", "", "", filepath.Join(dir, "no", "snap.json"), RedactionKeyFile},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := LoadRedactor(tc.keyFile, tc.key, tc.snapshot)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line naming %q", err, tc.want)
			}
		})
	}
}
