package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/report/route"
	"github.com/parity-dev/parity/shadow/rules"
)

const routesSynopsis = "[--config F] [--openapi FILE|URL] [--plan F] [--routes F] [--format table|json] [SNAPSHOT...]"

// declaredSources reads the rollout plan and the route matrix (the built-in ones
// for empty paths) and returns their templates, matrix first, and the plan.
func declaredSources(planPath, matrixPath string) ([]route.Declared, *report.Plan, error) {
	plan, err := loadPlanFile(planPath)
	if err != nil {
		return nil, nil, fmt.Errorf("--plan: %w", err)
	}
	matrix, err := loadMatrixFile(matrixPath)
	if err != nil {
		return nil, nil, fmt.Errorf("--routes: %w", err)
	}
	return append(matrix.Templates(orDefault(matrixPath, "routes.yaml")), plan.Templates(orDefault(planPath, "plan.yaml"))...), plan, nil
}

func orDefault(path, builtIn string) string {
	if path == "" {
		return "built-in " + builtIn
	}
	return path
}

// routeRow is one line of `parity routes`.
type routeRow struct {
	Template string `json:"template"`
	Source   string `json:"source"`
	Origin   string `json:"origin"`
	Requests int64  `json:"requests"`
	Routes   int    `json:"routes"`           // snapshot rows counted in Requests
	Pin      string `json:"config,omitempty"` // for learned templates: the routes: lines that pin it

	t      route.Template
	prefix bool // a learned position: counts the routes through it
}

// runRoutes lists the route templates in force — configuration, matrix, plan,
// OpenAPI, and those learned from traffic in the snapshots given — with where each
// came from and the traffic the snapshots hold for it. Exit 0, or 2 for bad input.
func runRoutes(ctx context.Context, c *cli, args []string) int {
	flags := c.newFlags("routes", routesSynopsis)
	configPath := flags.String("config", "", "configuration `file` (YAML): routes[].match and openapi:")
	openapi := flags.String("openapi", "", "OpenAPI 3.x document, `file or URL`, whose paths are route templates (overrides openapi:)")
	planPath := planFlag(flags)
	matrixPath := flags.String("routes", "", "route matrix `file` (default: the guide's Route Parity Matrix, built in)")
	format := flags.String("format", "table", "output `format`: table or json")
	pos, code, ok := c.parse(flags, args)
	if !ok {
		return code
	}
	if *format != "table" && *format != "json" {
		return c.usagef("routes: --format %q: want table or json", *format)
	}
	declared, _, err := declaredSources(*planPath, *matrixPath)
	if err != nil {
		return c.usagef("routes: %s", oneLineError(err))
	}
	live := &rules.Live{Path: *configPath, Getenv: c.getenv, Sources: rules.Sources{Declared: declared},
		Override: func(cfg *rules.Config) error { setOpenAPI(cfg, *openapi); return nil },
		OnWarn:   func(err error) { fmt.Fprintf(c.stderr, "parity: routes: warning: %s\n", oneLineError(err)) }}
	if err := live.Reload(); err != nil {
		return c.usagef("routes: %s", oneLineError(err))
	}
	cfg, router := live.Current()
	var snap *report.Snapshot
	if len(pos) > 0 {
		if snap, err = loadSnapshots(ctx, pos); err != nil {
			return c.usagef("routes: %s", oneLineError(err))
		}
	}
	rows := routeRows(cfg, *configPath, router.Keyer(), snap)
	if *format == "json" {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return c.fail(exitUsage, fmt.Errorf("routes: %w", err))
		}
		return exitOK
	}
	writeRouteRows(c.stdout, rows)
	return exitOK
}

func setOpenAPI(cfg *rules.Config, ref string) {
	if ref != "" {
		cfg.OpenAPI = ref
	}
}

// routeRows lists the templates in their order of precedence and gives each
// snapshot route to the first that fits it, as the keyer does; routes that no
// template fits follow, by their own key.
func routeRows(cfg *rules.Config, configPath string, k *route.Keyer, snap *report.Snapshot) []routeRow {
	var rows []routeRow
	for i, rc := range cfg.Routes {
		t, err := route.ParseTemplate(rc.Match)
		if err != nil {
			continue // the router accepted it: cannot happen
		}
		rows = append(rows, routeRow{Template: t.String(), Source: route.SourceConfig.String(),
			Origin: fmt.Sprintf("%s: routes[%d].match", orDefault(configPath, "configuration"), i), t: t})
	}
	for _, d := range k.Declared() {
		rows = append(rows, routeRow{Template: d.Template.String(), Source: d.Source.String(), Origin: d.Origin, t: d.Template})
	}
	if snap == nil {
		return rows
	}
	for _, l := range snap.Learned {
		t, err := route.ParseTemplate(l.Template)
		if err != nil {
			continue // validated when the snapshot was read
		}
		origin := "learned from traffic"
		if len(l.Keep) > 0 {
			origin += "; kept apart: " + strings.Join(l.Keep, ", ")
		}
		rows = append(rows, routeRow{Template: l.Template, Source: route.SourceLearned.String(), Origin: origin, Pin: l.Config, t: t, prefix: true})
	}
	var rest []routeRow
	for _, rs := range snap.Routes {
		method, path, _ := strings.Cut(rs.Route, " ")
		n := rs.Compared + rs.CandidateTransportErrors + rs.SkippedTotal()
		i := fittingRow(rows, method, path)
		if i < 0 {
			src := "path"
			switch {
			case rs.Route == report.OtherRoute:
				src = "overflow"
			case route.IsNonAPIKey(rs.Route):
				src = route.SourceNonAPI.String()
			case strings.Contains(path, "/:"):
				src = route.SourceGuessed.String()
			}
			rest = append(rest, routeRow{Template: rs.Route, Source: src, Origin: "snapshot", Requests: n, Routes: 1})
			continue
		}
		rows[i].Requests += n
		rows[i].Routes++
	}
	return append(rows, rest...)
}

// fittingRow returns the first row whose template fits a snapshot route's method
// and path (a learned position also the routes below it), or -1.
func fittingRow(rows []routeRow, method, path string) int {
	for i := range rows {
		r := &rows[i]
		if r.t.Match(method, path) {
			return i
		}
		if r.prefix {
			n := strings.Count(strings.TrimSuffix(r.t.Path, "/"), "/")
			segs := strings.Split(path, "/")
			if len(segs) > n+1 && r.t.Match(method, strings.Join(segs[:n+1], "/")) {
				return i
			}
		}
	}
	return -1
}

func writeRouteRows(w io.Writer, rows []routeRow) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "TEMPLATE\tSOURCE\tREQUESTS\tROUTES\tORIGIN")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", r.Template, r.Source, r.Requests, r.Routes, r.Origin)
	}
	tw.Flush()
	first := true
	for _, r := range rows {
		if r.Pin == "" {
			continue
		}
		if first {
			fmt.Fprintln(w, "\nTo pin the learned templates, add to the configuration (first match wins):\n  routes:")
			first = false
		}
		fmt.Fprint(w, indentLines(strings.TrimPrefix(r.Pin, "routes:\n"), "  "))
	}
}

func indentLines(s, indent string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			b.WriteString(indent + line)
		}
	}
	return b.String()
}
