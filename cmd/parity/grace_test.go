package main

import (
	"regexp"
	"testing"

	"github.com/parity-dev/parity/shadow"
)

// `parity proxy --grace` defaults to the Server's own default: one value,
// the one the Compose, container and systemd recipes are held to.
func TestGraceDefaultIsTheServers(t *testing.T) {
	stdout, stderr, code := runInProcess(t, nil, "proxy", "-h")
	m := regexp.MustCompile(`(?m)^\s+-grace duration\n.*\(default ([^)]+)\)`).FindStringSubmatch(stdout + stderr)
	if code != exitOK || m == nil {
		t.Fatalf("proxy -h: code %d, no --grace default in:\n%s%s", code, stdout, stderr)
	}
	if m[1] != shadow.DefaultGrace.String() {
		t.Errorf("--grace defaults to %s, shadow.DefaultGrace is %s", m[1], shadow.DefaultGrace)
	}
}
