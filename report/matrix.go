package report

import (
	"fmt"
	"io"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/parity-dev/parity/report/route"
)

// Matrix is a route parity matrix: which routes the candidate serves.
type Matrix struct {
	Routes []MatrixRoute
}

// MatrixRoute is one row of the matrix.
type MatrixRoute struct {
	Route     string // as written: "/api/mcp/*", "POST /api/chat"
	Method    string // "" = every method
	Path      string // the path it covers (and everything under it): "/api/mcp"
	Fastify   bool   // served by the candidate
	SvelteKit bool   // served by the primary
	Notes     string
}

// Covers reports whether the row covers path: the row's path itself or anything
// under it.
func (r *MatrixRoute) Covers(path string) bool { return PrefixMatch(r.Path, path) }

// ReadMatrix parses a route matrix from YAML; errors are one line naming name and
// the line at fault.
func ReadMatrix(name string, rd io.Reader) (*Matrix, error) {
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("%s: read route matrix: %w", name, err)
	}
	return ParseMatrix(name, data)
}

// ParseMatrix parses a route matrix from YAML; see ReadMatrix.
func ParseMatrix(name string, data []byte) (*Matrix, error) {
	root, err := parseYAML(name, data)
	if err != nil {
		return nil, err
	}
	m := &Matrix{}
	y := yamlReader{name: name}
	seen := false
	y.mapping(root, "route matrix", func(key string, k, v *yaml.Node) {
		if key != "routes" {
			y.failf(k, "unknown key %q in route matrix (want routes)", key)
			return
		}
		seen = true
		if v.Kind != yaml.SequenceNode {
			y.failf(v, "routes: want a list")
			return
		}
		for _, rn := range v.Content {
			r, ok := y.matrixRoute(rn)
			if !ok {
				return
			}
			m.Routes = append(m.Routes, r)
		}
	})
	if y.err == nil && !seen {
		y.failf(root, "route matrix has no routes")
	}
	if y.err != nil {
		return nil, y.err
	}
	return m, nil
}

func (y *yamlReader) matrixRoute(n *yaml.Node) (MatrixRoute, bool) {
	var r MatrixRoute
	var hasFastify bool
	y.mapping(n, "route", func(key string, k, v *yaml.Node) {
		switch key {
		case "route":
			r.Route = strings.TrimSpace(y.stringValue(v, key))
		case "fastify":
			hasFastify = true
			r.Fastify = y.bool(v, key)
		case "sveltekit":
			r.SvelteKit = y.bool(v, key)
		case "notes":
			r.Notes = strings.TrimSpace(y.stringValue(v, key))
		default:
			y.failf(k, "unknown key %q in route (want route, fastify, sveltekit, notes)", key)
		}
	})
	if y.err != nil {
		return r, false
	}
	if n.Kind != yaml.MappingNode {
		y.failf(n, "route: want a mapping")
		return r, false
	}
	if !hasFastify {
		y.failf(n, "route %q has no fastify key", r.Route)
		return r, false
	}
	p := r.Route
	if i := strings.IndexByte(p, ' '); i >= 0 {
		r.Method, p = strings.ToUpper(p[:i]), strings.TrimSpace(p[i+1:])
	}
	p = strings.TrimSuffix(p, "/*")
	p = strings.TrimSuffix(p, "/[...all]")
	if !strings.HasPrefix(p, "/") {
		y.failf(n, "route %q: want a path starting with /", r.Route)
		return r, false
	}
	r.Path = p
	return r, true
}

// Templates returns the matrix's routes as declared route templates, in order:
// each row's route itself ("/api/mcp/*" declares "/api/mcp"). name is the matrix's
// file, for the origins.
func (m *Matrix) Templates(name string) []route.Declared {
	var out []route.Declared
	for _, r := range m.Routes {
		if t, ok := route.FromPattern(r.Method, r.Path); ok {
			out = append(out, route.Declared{Template: t, Source: route.SourceMatrix, Origin: name + ": " + r.Route})
		}
	}
	return out
}
