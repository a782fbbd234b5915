package main

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"
)

// TestAdminHostsPrecedence: the names the admin listener answers to come from
// --admin-host over PARITY_ADMIN_HOSTS over admin.hosts in the file.
func TestAdminHostsPrecedence(t *testing.T) {
	cfgFile := filepath.Join(t.TempDir(), "parity.yaml")
	os.WriteFile(cfgFile, []byte("admin:\n  hosts: [file.internal]\n"), 0o600)
	tests := []struct {
		name  string
		flags proxyFlags
		env   map[string]string
		want  []string
	}{
		{"none", proxyFlags{}, nil, nil},
		{"file", proxyFlags{config: cfgFile}, nil, []string{"file.internal"}},
		{"environment over file", proxyFlags{config: cfgFile}, map[string]string{"PARITY_ADMIN_HOSTS": "a.internal, b.internal:9090"},
			[]string{"a.internal", "b.internal:9090"}},
		{"flags over environment", proxyFlags{config: cfgFile, adminHosts: stringList{"flag.internal"}},
			map[string]string{"PARITY_ADMIN_HOSTS": "a.internal"}, []string{"flag.internal"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &cli{stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string { return tc.env[k] }}
			srv, _, err := tc.flags.server(c, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, srv.Admin.Hosts); d != "" {
				t.Errorf("admin hosts (-want +got):\n%s", d)
			}
		})
	}
}
