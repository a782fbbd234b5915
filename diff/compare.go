package diff

// PLACEHOLDER: the diff package's real implementation replaces this file. Only the
// exported signatures below are the contract other packages build against.

import (
	"bytes"
	"strconv"
)

// Rules is a compiled, immutable set of comparison rules, safe for concurrent use.
type Rules struct{ opts []Option }

// Option is one comparison rule; see NewRules.
type Option interface{ apply(*Rules) error }

type optionFunc func(*Rules) error

func (f optionFunc) apply(r *Rules) error { return f(r) }

// NewRules validates and compiles options. Later options add to earlier ones.
func NewRules(opts ...Option) (*Rules, error) {
	r := &Rules{}
	for _, o := range opts {
		if err := o.apply(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Ignore silences paths: exact, with # for any index, or a whole subtree.
func Ignore(paths ...string) Option { return optionFunc(func(*Rules) error { return nil }) }

// Unordered compares the arrays at these paths as multisets.
func Unordered(paths ...string) Option { return optionFunc(func(*Rules) error { return nil }) }

// Tolerance makes numbers within t of each other equal.
func Tolerance(t float64) Option { return optionFunc(func(*Rules) error { return nil }) }

// Shape compares the values at these paths by type and keys only.
func Shape(paths ...string) Option { return optionFunc(func(*Rules) error { return nil }) }

// Result is the outcome of Compare.
type Result struct {
	Differences []Difference
}

// Equal reports whether no difference was found.
func (r Result) Equal() bool { return len(r.Differences) == 0 }

// Compare compares the primary's response with the candidate's under rules (nil =
// defaults).
func Compare(primary, candidate *Response, rules *Rules) Result {
	var res Result
	if primary.Status != candidate.Status {
		res.Differences = append(res.Differences, Difference{Path: "status", Pattern: "status", Kind: Changed,
			Primary: strconv.Itoa(primary.Status), Candidate: strconv.Itoa(candidate.Status)})
	}
	if !bytes.Equal(primary.Body, candidate.Body) {
		res.Differences = append(res.Differences, Difference{Path: "body", Pattern: "body", Kind: Changed})
	}
	return res
}
