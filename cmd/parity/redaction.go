package main

import (
	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/shadow"
	"github.com/parity-dev/parity/shadow/rules"
)

// redaction resolves the deployment's redaction key once (shadow.LoadRedactor:
// --redaction-key-file over PARITY_REDACTION_KEY_FILE over redaction.key_file,
// or PARITY_REDACTION_KEY, or the key kept beside the snapshot) and hands it to
// every configuration loaded; a new key needs a restart. proxy and replay share it,
// so a recording and a replay's reports mark secrets the same way.
type redaction struct {
	flagFile string
	snapshot string
	getenv   func(string) string

	red  *diff.Redactor
	from string
}

// apply is part of a rules.Live Override.
func (r *redaction) apply(cfg *rules.Config) error {
	if r.flagFile != "" {
		cfg.Redaction.KeyFile = r.flagFile
	}
	if r.red == nil {
		red, from, err := shadow.LoadRedactor(cfg.Redaction.KeyFile, r.getenv("PARITY_REDACTION_KEY"), r.snapshot)
		if err != nil {
			return err
		}
		r.red, r.from = red, from
	}
	cfg.Redactor = r.red
	return nil
}

const redactionKeyUsage = "`file` holding the key of redaction markers, shared by replicas (env PARITY_REDACTION_KEY_FILE, or the key itself in PARITY_REDACTION_KEY; config redaction.key_file; default: " +
	shadow.RedactionKeyFile + " beside --snapshot, generated on first start)"
