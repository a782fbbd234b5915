// Package buildinfo says which build of parity is running: its version, commit,
// build date and Go version. It is the one home of that answer for
// `parity version`, every report's footer and the parity_build_info metric.
//
// The values come from the module's build information (runtime/debug), which Go
// stamps from the version control system on `go build`; a release sets them
// explicitly with the linker:
//
//	go build -ldflags "-X github.com/parity-dev/parity/report/buildinfo.version=v1.4.0 \
//	  -X github.com/parity-dev/parity/report/buildinfo.commit=$(git rev-parse HEAD) \
//	  -X github.com/parity-dev/parity/report/buildinfo.date=$(date -u +%Y-%m-%dT%H:%M:%SZ)" ./cmd/parity
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Set with -ldflags "-X github.com/parity-dev/parity/report/buildinfo.NAME=VALUE";
// each one given wins over what the build information says.
var (
	version string
	commit  string
	date    string
)

// Info describes one build. Unknown fields are "unknown", never empty.
type Info struct {
	Version   string `json:"version"`    // module version or -X version; "devel" for a local build
	Commit    string `json:"commit"`     // VCS revision, with "-dirty" when the tree was modified
	Date      string `json:"date"`       // build or commit time, RFC 3339
	GoVersion string `json:"go_version"` // the Go toolchain that built it
}

// Get returns the running binary's build, read once.
var Get = sync.OnceValue(func() Info {
	bi, _ := debug.ReadBuildInfo()
	return FromBuildInfo(bi, version, commit, date)
})

// FromBuildInfo derives an Info from Go's build information and the linker
// overrides (empty = not given). bi may be nil (a binary built without module
// support).
func FromBuildInfo(bi *debug.BuildInfo, version, commit, date string) Info {
	i := Info{GoVersion: runtime.Version()}
	var modified bool
	if bi != nil {
		if bi.GoVersion != "" {
			i.GoVersion = bi.GoVersion
		}
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			i.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				i.Commit = s.Value
			case "vcs.time":
				i.Date = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if modified && i.Commit != "" {
		i.Commit += "-dirty"
	}
	for _, o := range []struct {
		dst  *string
		v    string
		zero string
	}{{&i.Version, version, "devel"}, {&i.Commit, commit, "unknown"}, {&i.Date, date, "unknown"}} {
		if o.v != "" {
			*o.dst = o.v
		}
		if *o.dst == "" {
			*o.dst = o.zero
		}
	}
	return i
}

// ShortCommit is the commit cut to 12 characters (keeping "-dirty").
func (i Info) ShortCommit() string {
	c, dirty := strings.CutSuffix(i.Commit, "-dirty")
	if len(c) > 12 {
		c = c[:12]
	}
	if dirty {
		c += "-dirty"
	}
	return c
}

// String is the one line every report's footer and `parity version` print:
// "parity v1.4.0 (commit 0123456789ab, built 2026-11-30T10:00:00Z, go1.26.8)".
func (i Info) String() string {
	return fmt.Sprintf("parity %s (commit %s, built %s, %s)", i.Version, i.ShortCommit(), i.Date, i.GoVersion)
}

// NewCollector returns the parity_build_info gauge: always 1, labelled with the
// build's version, commit, date and Go version, for
// `count by (version) (parity_build_info)` across a fleet.
func (i Info) NewCollector() prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "parity_build_info",
		Help: "The running parity build: always 1, labelled with version, commit, build date and Go version.",
		ConstLabels: prometheus.Labels{
			"version": i.Version, "commit": i.Commit, "date": i.Date, "goversion": i.GoVersion,
		},
	})
	g.Set(1)
	return g
}

// NewCollector is the running binary's parity_build_info gauge: Get().NewCollector().
func NewCollector() prometheus.Collector { return Get().NewCollector() }
