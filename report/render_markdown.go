package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

var verdictMark = map[Verdict]string{Pass: "✅ pass", Fail: "❌ fail", Inconclusive: "⏳ inconclusive"}

// mdVerdict is a route's verdict mark.
func mdVerdict(r *routeView) string {
	if r.NeverMirrored {
		return "🔒 " + neverMirroredLabel
	}
	return verdictMark[r.Verdict]
}

// RenderMarkdown writes a Markdown report for a CI job summary or a pull-request
// comment: the verdict line, step readiness (with a plan), the per-route table
// worst parity first, and the top differences with paste-able paths, examples
// and the config that would silence each.
func RenderMarkdown(w io.Writer, s *Snapshot, opts RenderOptions) error {
	v, err := newView(s, opts)
	if err != nil {
		return err
	}
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "# %s\n\n", mdText(v.Title))
	fmt.Fprintf(ew, "**Verdict: %s** — %s\n\n", verdictMark[v.Verdict], mdText(v.Headline))
	fmt.Fprintf(ew, "%s … %s · %d routes · %s compared · %s matched · %s candidate errors · %s\n\n",
		v.Started, v.Updated, len(v.Routes), fmtCount(v.Compared), fmtCount(v.Matched), fmtCount(v.CandidateErrors), v.skippedText())
	fmt.Fprintf(ew, "Thresholds: %s.\n\n", mdText(thresholdsLine(v.Thresholds)))

	if len(v.Steps) > 0 {
		fmt.Fprint(ew, "## Step readiness\n\n| Step | Name | Verdict | Routes | Why |\n| ---: | --- | --- | ---: | --- |\n")
		for _, st := range v.Steps {
			fmt.Fprintf(ew, "| %d | %s | %s | %d | %s |\n", st.Number, mdText(st.Name), verdictMark[st.Verdict], st.Routes, mdText(st.Reason))
		}
		fmt.Fprintln(ew)
	}

	fmt.Fprint(ew, "## Routes\n\n")
	if len(v.Routes) == 0 {
		fmt.Fprint(ew, "No route observed yet.\n\n")
	} else {
		fmt.Fprint(ew, "| Route | Verdict | Compared | Parity | Lower 95% | Candidate errors | 401/403 | Skipped | p50 primary / candidate | p99 primary / candidate | Top difference |\n")
		fmt.Fprint(ew, "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n")
		for i := range v.Routes {
			r := &v.Routes[i]
			top := ""
			if len(r.Top) > 0 {
				top = fmt.Sprintf("%s %s ×%d", mdCode(r.Top[0].Path), r.Top[0].Kind, r.Top[0].Count)
				if m := acceptedMark(&r.Top[0]); m != "" {
					top += " (" + m + ")"
				}
				if r.Top[0].Security != "" {
					top = "**security** " + top
				}
			}
			fmt.Fprintf(ew, "| %s | %s | %s | %s | %s | %s | %d | %s | %s / %s | %s / %s | %s |\n",
				mdCode(r.Route), mdVerdict(r), fmtCount(r.Compared), fmtParity(r.RouteStats), fmtLower(r.RouteStats),
				fmtErrors(r.RouteStats), r.CandidateAuthFailures, r.skippedCount(),
				fmtLatencyQ(r.Latency.Primary, 50), fmtLatencyQ(r.Latency.Candidate, 50),
				fmtLatency(r.Latency.Primary), fmtLatency(r.Latency.Candidate), top)
		}
		fmt.Fprintln(ew)
		if slices.ContainsFunc(v.Routes, func(r routeView) bool { return r.NeverMirrored }) {
			fmt.Fprintf(ew, "🔒 %s.\n\n", mdText(neverMirroredReason))
		}
	}

	var judged []*routeView
	for i := range v.Routes {
		if r := &v.Routes[i]; !r.NeverMirrored && (r.Verdict != Pass || len(r.Top) > 0 || r.budgetSampled()) {
			judged = append(judged, r)
		}
	}
	if len(judged) > 0 {
		fmt.Fprint(ew, "## Why, and the top differences\n\n")
	}
	for _, r := range judged {
		fmt.Fprintf(ew, "### %s — %s\n\n%s\n\n", mdCode(r.Route), mdVerdict(r), mdText(r.Reason))
		for _, d := range r.Top {
			fmt.Fprintf(ew, "- %s **%s** ×%d", mdCode(d.Path), d.Kind, d.Count)
			if d.Security != "" {
				fmt.Fprintf(ew, " — **security regression** (%s: %s)", mdCode(d.Security), mdText(SecurityReason(d.Security)))
			}
			if d.ExamplesDropped > 0 {
				fmt.Fprintf(ew, " (%d examples shown)", len(d.Examples))
			}
			fmt.Fprintf(ew, " — %s\n\n", mdText(seenLine(&d)))
			if d.Accepted != nil {
				mark := "✔️"
				if d.Accepted.Expired {
					mark = "⚠️"
				}
				fmt.Fprintf(ew, "  %s %s\n\n", mark, mdText(d.Accepted.Note))
			}
			if len(d.Examples) > 0 {
				fmt.Fprint(ew, "  | Request | Path | Primary | Candidate |\n  | --- | --- | --- | --- |\n")
				for _, e := range d.Examples {
					fmt.Fprintf(ew, "  | %s | %s | %s | %s |\n", mdCode(e.RequestID), mdCode(e.Path), mdValue(e.Primary), mdValue(e.Candidate))
				}
				fmt.Fprintln(ew)
			}
			if d.Reproducer != "" {
				fmt.Fprintf(ew, "  Reproduce it:\n\n%s\n", mdFence("sh", d.Reproducer, "  "))
			}
			fmt.Fprintf(ew, "  If this difference is expected, silence it in the config:\n\n%s\n", mdFence("yaml", silenceYAML(r.Route, d.Path), "  "))
		}
		if r.MoreDiffs > 0 {
			fmt.Fprintf(ew, "… and %d more difference paths.\n\n", r.MoreDiffs)
		}
	}
	writeNoiseMarkdown(ew, v)
	if lines, habits := habitLines(v); len(lines) > 0 {
		fmt.Fprintf(ew, "## %s\n\n", mdText(habitsHeading))
		for _, line := range lines {
			fmt.Fprintf(ew, "- %s\n", mdText(line))
		}
		fmt.Fprintln(ew)
		for _, h := range habits {
			fmt.Fprintf(ew, "Silence %s with %s.\n\n", mdCode(h), mdCode(habitSilence(h)))
		}
	}
	writeLearnedMarkdown(ew, s.Learned)
	if len(v.Cut) > 0 {
		fmt.Fprint(ew, "## Cut by memory caps\n\n")
		for _, c := range v.Cut {
			fmt.Fprintf(ew, "- %s\n", mdText(c))
		}
		fmt.Fprintln(ew)
	}
	fmt.Fprintf(ew, "<sub>%s</sub>\n", mdText(opts.footerLine()))
	return ew.err
}

// writeNoiseMarkdown writes the noise section: per route, each pattern with how
// often re-asks confirmed it, whether it is learned and the config line that
// keeps it out for good, then the route's whole config entry.
func writeNoiseMarkdown(ew *errWriter, v *view) {
	routes := noisyRoutes(v)
	if len(routes) == 0 {
		return
	}
	fmt.Fprintf(ew, "## %s\n\n", mdText(noiseHeading))
	fmt.Fprint(ew, "A path is learned once re-asks of a primary confirm it often enough (`noise:` in the config); "+
		"from then on it is left out without a re-ask.\n\n")
	for _, r := range routes {
		fmt.Fprintf(ew, "### %s — %s\n\n", mdCode(r.Route), mdText(fmtReasks(r.RouteStats)))
		if len(r.Noise) == 0 {
			continue
		}
		fmt.Fprint(ew, "| Path | Left out | Confirmed by re-asks | Learned | To make it permanent |\n| --- | ---: | ---: | --- | --- |\n")
		for _, n := range r.Noise {
			permanent := "-"
			if r.Route != OtherRoute {
				permanent = fmt.Sprintf("%s under %s", mdCode("ignore: ["+yamlScalar(n.Path)+"]"), mdCode("- match: "+yamlScalar(r.Route)))
			}
			fmt.Fprintf(ew, "| %s | %s | %s | %s | %s |\n", mdCode(n.Path), fmtCount(n.Count), fmtConfirmed(n), fmtLearned(n), permanent)
		}
		fmt.Fprintln(ew)
		if y := routeNoiseYAML(r.RouteStats); y != "" {
			fmt.Fprintf(ew, "%s\n", mdFence("yaml", y, ""))
		}
	}
}

func fmtLatencyQ(l Latency, q int) string {
	if l.Count == 0 {
		return "-"
	}
	switch q {
	case 50:
		return fmtMs(l.P50)
	case 90:
		return fmtMs(l.P90)
	}
	return fmtMs(l.P99)
}

// mdText escapes s for Markdown prose and table cells: HTML is neutralised as
// entities and Markdown punctuation is backslash-escaped.
func mdText(s string) string {
	var b strings.Builder
	for _, r := range oneLineControl(s) {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\\', '`', '*', '_', '[', ']', '|', '~':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// mdCode writes s as a code span safe in a table cell: the fence is longer than
// any backtick run inside, and "|" is escaped (GitHub reads \| as | even in code).
func mdCode(s string) string {
	s = strings.ReplaceAll(oneLineControl(s), "|", `\|`)
	if s == "" {
		return "` `"
	}
	run, longest := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || longest > 0 {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdValue is an example value as code, or an italic "absent".
func mdValue(s string) string {
	if s == "" {
		return "*absent*"
	}
	return mdCode(s)
}

// mdFence writes s as a fenced code block indented by indent, with a fence no
// line of s can close.
func mdFence(lang, s, indent string) string {
	longest := 0
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimLeft(line, " ")
		n := len(t) - len(strings.TrimLeft(t, "`"))
		longest = max(longest, n)
	}
	fence := strings.Repeat("`", max(3, longest+1))
	var b strings.Builder
	b.WriteString(indent + fence + lang + "\n")
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		b.WriteString(indent + line + "\n")
	}
	b.WriteString(indent + fence + "\n")
	return b.String()
}

// oneLineControl replaces line breaks and other control characters with spaces.
func oneLineControl(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// writeLearnedMarkdown lists the route templates learned from traffic, each with the
// configuration that pins it.
func writeLearnedMarkdown(ew *errWriter, learned []LearnedRoute) {
	if len(learned) == 0 {
		return
	}
	fmt.Fprint(ew, "## Route templates learned from traffic\n\n")
	for _, l := range learned {
		fmt.Fprintf(ew, "- %s", mdCode(l.Template))
		if len(l.Keep) > 0 {
			fmt.Fprintf(ew, " (kept apart: %s)", mdText(strings.Join(l.Keep, ", ")))
		}
		fmt.Fprintf(ew, "; pin it in the config:\n\n%s\n", mdFence("yaml", l.Config, "  "))
	}
}
