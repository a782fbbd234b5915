package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

func TestFromBuildInfo(t *testing.T) {
	stamped := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v0.3.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-11-30T10:00:00Z"},
		{Key: "vcs.modified", Value: "false"},
	}}
	dirty := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "fedcba9876543210"},
		{Key: "vcs.modified", Value: "true"},
	}}
	tests := []struct {
		name                  string
		bi                    *debug.BuildInfo
		version, commit, date string
		want                  Info
	}{
		{"a VCS-stamped module build", stamped, "", "", "",
			Info{"v0.3.0", "0123456789abcdef0123456789abcdef01234567", "2026-11-30T10:00:00Z", "go1.26.8"}},
		{"ldflags win over the build information", stamped, "v1.4.0", "abc", "2026-12-01T00:00:00Z",
			Info{"v1.4.0", "abc", "2026-12-01T00:00:00Z", "go1.26.8"}},
		{"a local build of a modified tree", dirty, "", "", "",
			Info{"devel", "fedcba9876543210-dirty", "unknown", "go1.26.8"}},
		{"no build information at all", nil, "", "", "",
			Info{"devel", "unknown", "unknown", runtime.Version()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := FromBuildInfo(tc.bi, tc.version, tc.commit, tc.date)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("FromBuildInfo (-want +got):\n%s", d)
			}
		})
	}
}

func TestString(t *testing.T) {
	i := Info{"v1.4.0", "0123456789abcdef0123-dirty", "2026-11-30T10:00:00Z", "go1.26.8"}
	want := "parity v1.4.0 (commit 0123456789ab-dirty, built 2026-11-30T10:00:00Z, go1.26.8)"
	if got := i.String(); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

func TestCollector(t *testing.T) {
	i := Info{"v1.4.0", "0123456789abcdef", "2026-11-30T10:00:00Z", "go1.26.8"}
	reg := prometheus.NewRegistry()
	reg.MustRegister(i.NewCollector())
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || mfs[0].GetName() != "parity_build_info" || len(mfs[0].GetMetric()) != 1 {
		t.Fatalf("gathered %v, want one parity_build_info sample", mfs)
	}
	m := mfs[0].GetMetric()[0]
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	want := map[string]string{"version": "v1.4.0", "commit": "0123456789abcdef", "date": "2026-11-30T10:00:00Z", "goversion": "go1.26.8"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("labels (-want +got):\n%s", d)
	}
	if v := m.GetGauge().GetValue(); v != 1 {
		t.Errorf("value = %v, want 1", v)
	}
}

func TestGetNeverEmpty(t *testing.T) {
	i := Get()
	for name, v := range map[string]string{"version": i.Version, "commit": i.Commit, "date": i.Date, "go": i.GoVersion} {
		if v == "" {
			t.Errorf("Get().%s is empty: %+v", name, i)
		}
	}
}
