package shadow

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/parity-dev/parity/diff"
)

// RedactionKeyFile is the name of the redaction key parity generates beside its
// snapshot on first start.
const RedactionKeyFile = "parity-redaction.key"

// LoadRedactor returns the deployment's Redactor and says where its key came
// from. The key is, in this order: the contents of keyFile (surrounding white
// space trimmed), the value key (PARITY_REDACTION_KEY), the file RedactionKeyFile
// in the snapshot's directory — created on first start with 32 random bytes,
// hex-encoded, readable by its owner only (0600) — or, with no snapshot to keep it
// beside, 32 random bytes for this process alone. keyFile and key together are an
// error, as is a key shorter than diff.MinRedactionKeyBytes.
//
// Replicas and replays given the same key write the same marker for the same
// secret; without the key a marker says nothing of its value.
func LoadRedactor(keyFile, key, snapshotFile string) (*diff.Redactor, string, error) {
	switch {
	case keyFile != "" && key != "":
		return nil, "", errors.New("redaction key given both as a file and in PARITY_REDACTION_KEY: give one")
	case keyFile != "":
		red, err := readRedactionKey(keyFile)
		return red, keyFile, err
	case key != "":
		red, err := diff.NewRedactor([]byte(key))
		if err != nil {
			return nil, "", fmt.Errorf("PARITY_REDACTION_KEY: %w", err)
		}
		return red, "PARITY_REDACTION_KEY", nil
	case snapshotFile != "":
		path := filepath.Join(filepath.Dir(snapshotFile), RedactionKeyFile)
		red, err := readRedactionKey(path)
		if errors.Is(err, fs.ErrNotExist) {
			if err = createRedactionKey(path); err == nil {
				red, err = readRedactionKey(path)
			}
		}
		return red, path, err
	}
	var b [32]byte
	rand.Read(b[:])
	red, err := diff.NewRedactor(b[:])
	return red, "this process only (no --snapshot to keep a key beside)", err
}

func readRedactionKey(path string) (*diff.Redactor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read redaction key %s: %w", path, err)
	}
	red, err := diff.NewRedactor(bytes.TrimSpace(b))
	if err != nil {
		return nil, fmt.Errorf("redaction key %s: %w", path, err)
	}
	return red, nil
}

// createRedactionKey writes a new key at path, whole or not at all: it is written
// to a temporary file (0600) and linked into place, so a replica starting at the
// same time either reads it whole or keeps its own first.
func createRedactionKey(path string) error {
	var b [32]byte
	rand.Read(b[:])
	tmp, err := os.CreateTemp(filepath.Dir(path), ".parity-redaction-key-*")
	if err != nil {
		return fmt.Errorf("create redaction key %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(b[:]) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
	}
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create redaction key %s: %w", path, err)
	}
	return nil
}
