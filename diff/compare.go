package diff

import (
	"slices"
	"strconv"
	"strings"
)

// Result is the outcome of Compare.
type Result struct {
	// Differences sorted by path (array indexes numerically), each path once per kind.
	Differences []Difference
	// Truncated is set when the comparison stopped at the rules' MaxDifferences: the
	// list is then not complete.
	Truncated bool
	// Notes say what a default left uncompared on this pair and why (an HTML error
	// page against a JSON error, see defaults.go), sorted. They are not differences.
	Notes []string
}

// Equal reports whether no difference was found.
func (r Result) Equal() bool { return len(r.Differences) == 0 }

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
// defaults): status, then bodies (decoded), then headers. It is pure and safe for
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
			Primary: strconv.Itoa(primary.Status), Candidate: strconv.Itoa(candidate.Status)})
	}
	if note, ok := c.errorPagePair(); ok {
		c.errorPages = true
		c.notes = append(c.notes, note)
	} else {
		c.body(&c.p, &c.q)
	}
	if len(primary.Header) > 0 || len(candidate.Header) > 0 {
		c.headers()
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

// result sorts, de-duplicates and bounds the differences.
func (c *comparison) result() Result {
	d := c.out
	if len(d) > 1 {
		slices.SortStableFunc(d, func(x, y Difference) int {
			if n := comparePaths(x.Path, y.Path); n != 0 {
				return n
			}
			return strings.Compare(string(x.Kind), string(y.Kind))
		})
		d = slices.CompactFunc(d, func(x, y Difference) bool { return x == y })
	}
	res := Result{Differences: d, Truncated: c.truncated}
	if len(c.notes) > 0 {
		res.Notes = c.notes
		slices.Sort(res.Notes)
	}
	if len(d) > c.r.maxDiffs {
		res.Differences, res.Truncated = d[:c.r.maxDiffs], true
	}
	return res
}
