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
}

// Equal reports whether no difference was found.
func (r Result) Equal() bool { return len(r.Differences) == 0 }

// comparison is the state of one Compare call.
type comparison struct {
	r                  *Rules
	primary, candidate *Response
	out                []Difference

	probe      bool // stop at the first body difference, record nothing
	noIgnore   bool // body ignore rules off: to learn whether the bodies match at all
	suppressed bool // an ignore rule hid a body difference
	bodyFound  bool // a body difference was found, recorded or not
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
	c := comparison{r: rules, primary: primary, candidate: candidate}
	if primary.Status != candidate.Status && !rules.ignoreStatus {
		c.out = append(c.out, Difference{Path: "status", Pattern: "status", Kind: Changed,
			Primary: strconv.Itoa(primary.Status), Candidate: strconv.Itoa(candidate.Status)})
	}
	p := side{name: "primary", encodings: contentEncodings(primary.Header), raw: primary.Body}
	q := side{name: "candidate", encodings: contentEncodings(candidate.Header), raw: candidate.Body}
	before := len(c.out)
	c.body(&p, &q)
	bodiesMatch := len(c.out) == before && !c.truncated
	if c.suppressed {
		// An ignore rule hid part of the body: whether the bodies match, for the
		// transport headers, is decided without ignore rules, so that ignoring a body
		// path never silences a header difference as well.
		again := comparison{r: rules, primary: primary, candidate: candidate, probe: true, noIgnore: true}
		again.body(&p, &q)
		bodiesMatch = !again.bodyFound
	}
	if len(primary.Header) > 0 || len(candidate.Header) > 0 {
		c.headers(bodiesMatch)
	}
	return c.result()
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
	if len(d) > c.r.maxDiffs {
		res.Differences, res.Truncated = d[:c.r.maxDiffs], true
	}
	return res
}
