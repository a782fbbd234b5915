package shadow

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
)

// Observer receives one observation per request; report.Aggregator is one. It must be
// safe for concurrent use.
type Observer interface {
	Observe(report.Observation)
}

// Exchange is everything known about one request once both backends have answered
// (or failed): the proxy and the replay both build one and hand it to Observe.
type Exchange struct {
	Decision  Decision
	Method    string
	RequestID string
	Time      time.Time

	Primary          *diff.Response // nil when the primary failed
	PrimaryErr       error          // transport error or reset mid-body
	PrimaryLatency   time.Duration
	Candidate        *diff.Response // nil when the candidate failed
	CandidateErr     error
	CandidateLatency time.Duration
}

// Observation compares the two answers of x under its decision's rules and returns
// what the aggregator records. A primary that failed excludes the pair from parity
// (it is counted as skipped): there is nothing trustworthy to compare against.
func (x *Exchange) Observation() report.Observation {
	o := report.Observation{
		Time:      x.Time,
		Route:     x.Decision.Route,
		Method:    x.Method,
		RequestID: x.RequestID,
	}
	if x.PrimaryErr != nil || x.Primary == nil {
		o.Skipped = report.SkipPrimaryFailed
		return o
	}
	o.PrimaryStatus = x.Primary.Status
	o.PrimaryLatency = x.PrimaryLatency
	o.CandidateLatency = x.CandidateLatency
	if x.CandidateErr != nil || x.Candidate == nil {
		o.CandidateError = candidateError(x.CandidateErr)
		return o
	}
	o.CandidateStatus = x.Candidate.Status
	o.Differences = diff.Compare(x.Primary, x.Candidate, x.Decision.Rules).Differences
	return o
}

// candidateError describes a candidate failure without the request URL, whose query
// may carry secrets.
func candidateError(err error) string {
	switch {
	case err == nil:
		return "candidate failed"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
