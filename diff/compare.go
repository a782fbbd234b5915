package diff

import (
	"slices"
	"strconv"
	"strings"
)

// Result is the outcome of Compare. It is bounded whatever the input: at most
// MaxDifferences differences and MaxResultBytes of them (see the options).
type Result struct {
	// Differences sorted by path (array indexes numerically), each path once per kind.
	Differences []Difference
	// Omitted counts differences found but not listed: listing them would have taken
	// the result over its bound. When nothing else is listed, Differences holds one
	// difference at "body" that says so, so that the result never reads as equal.
	Omitted int
	// Stopped is set when the comparison stopped looking at MaxDifferences
	// differences found: more may exist than Differences and Omitted count.
	Stopped bool
	// Truncated is set when the list is not complete: Omitted > 0 or Stopped.
	Truncated bool
	// Notes say what a default left uncompared on this pair and why (an HTML error
	// page against a JSON error, see defaults.go), sorted. They are not differences.
	Notes []string
}

// Equal reports whether no difference was found.
func (r Result) Equal() bool { return len(r.Differences) == 0 && r.Omitted == 0 && !r.Stopped }

// comparison is the state of one Compare call.
type comparison struct {
	r                  *Rules
	primary, candidate *Response
	p, q               side // the two bodies
	out                []Difference
	notes              []string

	errorPages bool // an HTML error page against a JSON error: see defaults.go
	transport  int8 // whether Content-Encoding is a transport detail: 0 unknown, 1 yes, -1 no
	truncated  bool
}

// Compare compares the primary's response with the candidate's under rules (nil =
// defaults): status, then headers, then bodies (decoded). It is pure and safe for
// concurrent use with a shared *Rules. A nil response compares as an empty one.
func Compare(primary, candidate *Response, rules *Rules) Result {
	if rules == nil {
		rules = defaultRules
	}
	if primary == nil {
		primary = &Response{}
	}
	if candidate == nil {
		candidate = &Response{}
	}
	c := comparison{r: rules, primary: primary, candidate: candidate,
		p: side{name: "primary", encodings: contentEncodings(primary.Header), raw: primary.Body},
		q: side{name: "candidate", encodings: contentEncodings(candidate.Header), raw: candidate.Body}}
	if primary.Status != candidate.Status && !rules.ignoreStatus {
		c.out = append(c.out, Difference{Path: "status", Pattern: "status", Kind: Changed,
			Primary: strconv.Itoa(primary.Status), Candidate: strconv.Itoa(candidate.Status),
			Security: statusSecurity(primary.Status, candidate.Status)})
	}
	note, errorPages := c.errorPagePair()
	if errorPages {
		c.errorPages = true
		c.notes = append(c.notes, note)
	}
	// Headers before the body: the JSON walk bounds its differences counting those
	// already found, and a header's are few and short where a body's may be many.
	if len(primary.Header) > 0 || len(candidate.Header) > 0 {
		c.headers()
	}
	if !errorPages {
		c.body(&c.p, &c.q)
	}
	return c.result()
}

// errorPagePair reports whether the two responses are one error in two renderings —
// the same status >= 400, an HTML page on one side and JSON on the other — and, if so,
// the note that says what was not compared.
func (c *comparison) errorPagePair() (string, bool) {
	status := c.primary.Status
	if c.r.strictPages || status < 400 || status != c.candidate.Status {
		return "", false
	}
	pm, qm := mediaType(c.primary.Header), mediaType(c.candidate.Header)
	if !(pm == "text/html" && isJSONMedia(qm)) && !(isJSONMedia(pm) && qm == "text/html") {
		return "", false
	}
	return "error page: both answered " + strconv.Itoa(status) + ", the primary as " + pm + ", the candidate as " + qm +
		"; body, Content-Type and Link not compared", true
}

// encodingIsTransport reports whether Content-Encoding and Vary: Accept-Encoding are
// transport details: both bodies could be decoded, so the decoded bodies were (or,
// for an error-page pair, could have been) compared on their own.
func (c *comparison) encodingIsTransport() bool {
	if c.transport == 0 {
		c.transport = -1
		if c.decodable(c.primary, &c.p) && c.decodable(c.candidate, &c.q) {
			c.transport = 1
		}
	}
	return c.transport > 0
}

// decodable reports whether r's body (side s) decodes within the cap. A body with
// content codings that was captured only in part cannot be decoded.
func (c *comparison) decodable(r *Response, s *side) bool {
	if len(s.encodings) == 0 {
		return true
	}
	if r.Truncated {
		return false
	}
	_, err := s.decode(c.decodeLimit(s))
	return err == nil
}

// result sorts, bounds and de-duplicates the differences. The JSON walk has bounded
// its own already and counted what it left out (see walker.compare); the bound is then
// applied in sorted order, status and headers first, as they are few, short and
// listed whatever the body holds.
func (c *comparison) result() Result {
	res := Result{Stopped: c.truncated}
	d := c.out[:0]
	for _, x := range c.out {
		if x.Kind == kindOmitted {
			n, _ := strconv.Atoi(x.Note)
			res.Omitted += n
			continue
		}
		d = append(d, x)
	}
	if len(d) > 1 {
		slices.SortStableFunc(d, func(x, y Difference) int {
			if n := comparePaths(x.Path, y.Path); n != 0 {
				return n
			}
			return strings.Compare(string(x.Kind), string(y.Kind))
		})
	}
	d = c.bound(d, &res.Omitted)
	if len(d) == 0 && res.Omitted > 0 {
		d = append(d, Difference{Path: "body", Pattern: "body", Kind: Changed,
			Note: strconv.Itoa(res.Omitted) + " differences left out: listing them would take the result over " +
				strconv.Itoa(c.r.maxResult) + " bytes"})
	}
	if len(d) > 1 {
		d = slices.CompactFunc(d, func(x, y Difference) bool { return x == y })
	}
	if len(d) > 0 {
		res.Differences = d
	}
	res.Truncated = res.Stopped || res.Omitted > 0
	if len(c.notes) > 0 {
		res.Notes = c.notes
		slices.Sort(res.Notes)
	}
	return res
}

// bound keeps of the sorted differences d those that fit MaxDifferences and
// MaxResultBytes — status and headers first, then the body's, each until one does
// not fit — and counts the others in omitted.
func (c *comparison) bound(d []Difference, omitted *int) []Difference {
	total := 0
	for i := range d {
		total += differenceSize(&d[i])
	}
	if len(d) <= c.r.maxDiffs && total <= c.r.maxResult {
		return d
	}
	keep := make([]bool, len(d))
	n, left := 0, c.r.maxResult
	for _, body := range []bool{false, true} {
		for i := range d {
			if strings.HasPrefix(d[i].Path, "body") != body {
				continue
			}
			size := differenceSize(&d[i])
			if n >= c.r.maxDiffs || size > left {
				left = 0
				continue
			}
			keep[i], n, left = true, n+1, left-size
		}
	}
	kept := d[:0]
	for i := range d {
		if keep[i] {
			kept = append(kept, d[i])
		} else {
			*omitted++
		}
	}
	return kept
}
