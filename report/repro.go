package report

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// Request is a request as kept to reproduce a difference: redacted like
// everything parity keeps. Secret headers are left out and named, for the
// engineer to fill in; secret query values are emptied and named; the body of
// a mirrored write is kept with its secret members redacted.
type Request struct {
	Method string `json:"method"`
	// Target is the origin-form request target, path and query, as sent;
	// the values of SecretParams are empty.
	Target string `json:"target"`
	// Header holds the headers sent again, canonical names sorted by the
	// renderer.
	Header map[string][]string `json:"header,omitempty"`
	// SecretHeaders names the secret headers the request carried (left out;
	// the reproducer asks for them), RemovedHeaders the other headers left out
	// (hop-by-hop, Host, Content-Length, parity's own).
	SecretHeaders  []string `json:"secret_headers,omitempty"`
	RemovedHeaders []string `json:"removed_headers,omitempty"`
	// SecretParams names the query parameters whose values were left out.
	SecretParams []string `json:"secret_params,omitempty"`
	// SecretBody names the placeholders, ${BODY_SECRET_1} and so on, that
	// stand in Body for its redacted secret values.
	SecretBody []string `json:"secret_body,omitempty"`
	Body       string   `json:"body,omitempty"`
	// Incomplete says why the request cannot be sent again exactly as it was
	// (a body cut, or left out because it may hold secrets); empty when it can.
	Incomplete string `json:"incomplete,omitempty"`
}

// Reproducer is what an engineer runs to see a difference group on their
// machine: the two requests, saved, and the comparison of the saved pair.
type Reproducer struct {
	Route, Path, Kind string
	RequestID         string
	Request           *Request
	// Primary and Candidate are curl commands against $PRIMARY and $CANDIDATE
	// that save each answer (primary.http, candidate.http).
	Primary, Candidate string
	// Diff is the parity diff line on the saved pair.
	Diff string
}

// Files the reproducer saves the two answers to.
const (
	ReproPrimaryFile   = "primary.http"
	ReproCandidateFile = "candidate.http"
)

// Repro returns the reproducer of group g of route, from the first of its
// examples that kept its request; false when none did.
func (g *DiffGroup) Repro(route string) (*Reproducer, bool) {
	for _, e := range g.Examples {
		if e.Request == nil {
			continue
		}
		return &Reproducer{
			Route: route, Path: g.Path, Kind: g.Kind, RequestID: e.RequestID, Request: e.Request,
			Primary:   e.Request.curl("PRIMARY", ReproPrimaryFile),
			Candidate: e.Request.curl("CANDIDATE", ReproCandidateFile),
			Diff:      "parity diff " + ReproPrimaryFile + " " + ReproCandidateFile,
		}, true
	}
	return nil, false
}

// Script is the reproducer as a shell script: a comment naming the group, what
// was left out and what to fill in, the two curl commands and the diff line.
func (rp *Reproducer) Script() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s · %s %s · request %s\n", rp.Route, rp.Path, rp.Kind, rp.RequestID)
	for _, n := range rp.Notes() {
		fmt.Fprintf(&b, "# %s\n", n)
	}
	b.WriteString(rp.Primary + "\n" + rp.Candidate + "\n" + rp.Diff + "\n")
	return b.String()
}

// Notes says, one line each, what the reproducer needs: the base URLs, the
// secrets to fill in, what was left out and why it may not be exact.
func (rp *Reproducer) Notes() []string {
	q := rp.Request
	notes := []string{"set PRIMARY and CANDIDATE to the two backends' base URLs"}
	if len(q.SecretHeaders) > 0 || len(q.SecretParams) > 0 || len(q.SecretBody) > 0 {
		var fill []string
		for _, h := range q.SecretHeaders {
			fill = append(fill, placeholderVar(h)+" ("+h+" header)")
		}
		for _, p := range q.SecretParams {
			fill = append(fill, paramVar(p)+" ("+p+" parameter)")
		}
		for _, v := range q.SecretBody {
			fill = append(fill, v+" (in the body)")
		}
		notes = append(notes, "secrets were redacted; fill in "+strings.Join(fill, ", "))
	}
	if len(q.RemovedHeaders) > 0 {
		notes = append(notes, "headers removed: "+strings.Join(q.RemovedHeaders, ", "))
	}
	if q.Incomplete != "" {
		notes = append(notes, "not exact: "+q.Incomplete)
	}
	return notes
}

// placeholderVar is the shell variable a secret header's value is read from.
func placeholderVar(name string) string { return envName(name) }

func paramVar(name string) string { return "PARAM_" + envName(name) }

func envName(s string) string {
	b := []byte(strings.ToUpper(s))
	for i, c := range b {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	return string(b)
}

// curl renders q as a curl command against the base URL in the shell variable
// base, saving the answer (status line, headers, body as received) to out.
// Values are single-quoted; secrets are ${VAR:?...} placeholders that stop
// the command with a message when left unset.
func (q *Request) curl(base, out string) string {
	var b strings.Builder
	b.WriteString("curl -sS -i -g --path-as-is")
	switch q.Method {
	case "", "GET":
	case "HEAD":
		b.WriteString(" -I")
	default:
		b.WriteString(" -X " + shellQuote(q.Method))
	}
	b.WriteString(` "$` + base + `"` + q.target())
	for _, n := range slices.Sorted(maps.Keys(q.Header)) {
		for _, v := range q.Header[n] {
			b.WriteString(" -H " + shellQuote(n+": "+v))
		}
	}
	for _, n := range q.SecretHeaders {
		fmt.Fprintf(&b, ` -H "%s: ${%s:?fill in the %s header}"`, n, placeholderVar(n), n)
	}
	if q.Body != "" {
		b.WriteString(" --data-binary " + q.body())
	}
	b.WriteString(" -o " + out)
	return b.String()
}

// target renders the request target for the shell: single-quoted, with each
// secret parameter's value a placeholder.
func (q *Request) target() string {
	path, query, ok := strings.Cut(q.Target, "?")
	if !ok || len(q.SecretParams) == 0 {
		return shellQuote(q.Target)
	}
	var b strings.Builder
	b.WriteString(shellQuote(path + "?"))
	for i, pair := range strings.Split(query, "&") {
		if i > 0 {
			b.WriteString(shellQuote("&"))
		}
		name, _, _ := strings.Cut(pair, "=")
		n, err := url.QueryUnescape(name)
		if err == nil && slices.Contains(q.SecretParams, n) {
			fmt.Fprintf(&b, `%s"${%s:?fill in the %s parameter}"`, shellQuote(name+"="), paramVar(n), n)
			continue
		}
		b.WriteString(shellQuote(pair))
	}
	return b.String()
}

// body renders the body for the shell: single-quoted, each secret a
// placeholder.
func (q *Request) body() string {
	s := shellQuote(q.Body)
	for _, v := range q.SecretBody {
		s = strings.ReplaceAll(s, "${"+v+"}", fmt.Sprintf(`'"${%s:?fill in the secret of the body}"'`, v))
	}
	return s
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// FindReproducers returns the reproducers of route's groups at path (of kind,
// or every kind when empty) in s.
func FindReproducers(s *Snapshot, route, path, kind string) ([]*Reproducer, error) {
	r := s.Route(route)
	if r == nil {
		return nil, fmt.Errorf("no route %q in the snapshot", route)
	}
	var out []*Reproducer
	found := false
	for i := range r.Differences {
		g := &r.Differences[i]
		if g.Path != path || (kind != "" && g.Kind != kind) {
			continue
		}
		found = true
		if rp, ok := g.Repro(route); ok {
			out = append(out, rp)
		}
	}
	switch {
	case !found:
		return nil, fmt.Errorf("route %q has no difference at %q", route, path)
	case len(out) == 0:
		return nil, fmt.Errorf("route %q: the difference at %q kept no request to reproduce (a snapshot older than reproducers?)", route, path)
	}
	return out, nil
}
