package report

import (
	"errors"
	"io"
)

// RenderOptions shape every renderer's output.
type RenderOptions struct {
	// Title heads the report; default "parity report".
	Title string
	// Plan, when set, adds step readiness and judges routes by its thresholds;
	// without it routes are judged by DefaultThresholds.
	Plan *Plan
	// Color enables ANSI colours in the terminal table (only when writing to a
	// terminal).
	Color bool
	// TopDifferences is how many difference groups each route shows; default 5.
	TopDifferences int
}

var errRendererPending = errors.New("renderer not available yet")

// RenderJSON writes the snapshot JSON.
func RenderJSON(w io.Writer, s *Snapshot, _ RenderOptions) error { return WriteSnapshot(w, s) }

// RenderTable writes a terminal table, worst parity first.
func RenderTable(w io.Writer, s *Snapshot, opts RenderOptions) error { return errRendererPending }

// RenderMarkdown writes a Markdown report for a CI job summary or a pull request.
func RenderMarkdown(w io.Writer, s *Snapshot, opts RenderOptions) error { return errRendererPending }

// RenderJUnit writes JUnit XML, one testcase per route.
func RenderJUnit(w io.Writer, s *Snapshot, opts RenderOptions) error { return errRendererPending }

// RenderHTML writes one self-contained HTML page.
func RenderHTML(w io.Writer, s *Snapshot, opts RenderOptions) error { return errRendererPending }
