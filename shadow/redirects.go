package shadow

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/parity-dev/parity/diff"
	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/report/route"
	"github.com/parity-dev/parity/shadow/rules"
)

// Canonicalising redirects.
//
// Frameworks canonicalise paths on their own: SvelteKit answers /x/ with 308 to /x
// before the app runs, Fastify with ignoreTrailingSlash answers /x/ directly. A client
// that follows redirects gets the same document from both. When one side answers a
// safe request with a redirect to the same origin, the same query and the same path
// up to a trailing slash (or the path's canonical form, route.Canonicalize), and the
// other side answers directly, the exchange follows that one hop on the redirecting
// backend — off the client's path, under the re-ask bounds, counted in
// parity_redirect_follows_total — and compares the final answers. The redirect itself
// is counted as the habit report.HabitCanonicalRedirect, not a difference. Any other
// redirect difference stays a difference; compare.follow_redirects: none turns this
// off.

// Results of following a redirect, the values of parity_redirect_follows_total's
// result label: those of a re-ask.
var followResults = []string{reaskAnswered, reaskDropped, reaskFailed}

// isRedirect reports whether status is a redirect that names its target in Location.
func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// canonicalRedirect reports whether one of the two answers is a canonicalising
// redirect the other side did not make, and returns which side made it and its
// target, resolved against the request that side answered.
func canonicalRedirect(method string, primary, candidate *diff.Response) (rules.Backend, *url.URL, bool) {
	if method == "" {
		method = http.MethodGet
	}
	pr, cr := isRedirect(primary.Status), isRedirect(candidate.Status)
	if !rules.SafeMethod(method) || pr == cr {
		return 0, nil, false
	}
	side, r, other := rules.Primary, primary, candidate
	if cr {
		side, r, other = rules.Candidate, candidate, primary
	}
	req := r.Request
	if req == nil || req.URL == nil {
		req = other.Request
	}
	if req == nil || req.URL == nil || len(r.Header.Values("Location")) != 1 {
		return 0, nil, false
	}
	ref, err := url.Parse(strings.TrimSpace(r.Header.Get("Location")))
	if err != nil {
		return 0, nil, false
	}
	base := req.URL
	target := base.ResolveReference(ref)
	if !diff.SameOrigin(target, base) || target.RawQuery != base.RawQuery || target.Fragment != "" {
		return 0, nil, false
	}
	tp, bp := target.EscapedPath(), base.EscapedPath()
	if tp == bp || route.ReadsAsAuth(tp) {
		return 0, nil, false
	}
	ct, tamb := route.Canonicalize(tp)
	cb, bamb := route.Canonicalize(bp)
	if tamb || bamb || route.IsAuth(ct) || strings.TrimSuffix(ct, "/") != strings.TrimSuffix(cb, "/") {
		return 0, nil, false
	}
	return side, target, true
}

// followCanonical follows a canonicalising redirect of x, if there is one: the
// redirecting side's answer becomes the final one. It reports whether it followed
// one, and false in ok when one was to be followed but could not be.
func (x *Exchange) followCanonical(o *report.Observation) (followed, ok bool) {
	if !x.Decision.FollowCanonical || x.Follow == nil {
		return false, true
	}
	side, target, found := canonicalRedirect(x.Method, x.Primary, x.Candidate)
	if !found {
		return false, true
	}
	final := x.Follow(side, target)
	if final == nil {
		return false, false
	}
	if side == rules.Primary {
		x.Primary, o.PrimaryStatus = final, final.Status
	} else {
		x.Candidate, o.CandidateStatus = final, final.Status
	}
	if !x.Decision.QuietRedirects {
		o.Habits = append(o.Habits, report.HabitCanonicalRedirect)
	}
	return true, true
}

// follower returns the Exchange hook that follows a canonicalising redirect of pr on
// the backend that answered it, and a release for what its answer holds. Like a
// re-ask it never waits for room under the re-ask limits, has its own deadline
// (MirrorTimeout), carries X-Parity-Shadow and is cancelled by Close.
func (p *Proxy) follower(pr *pair) (follow func(rules.Backend, *url.URL) *diff.Response, release func()) {
	var got fetched
	follow = func(b rules.Backend, target *url.URL) *diff.Response {
		got = p.reaskOnce(pr, p.Metrics.follow, func(ctx context.Context) fetched {
			base, transport := p.backend(b)
			req := pr.req.Clone(ctx)
			req.URL = outURL(base, &http.Request{RequestURI: target.EscapedPath(), URL: &url.URL{RawQuery: target.RawQuery}})
			if pr.req.GetBody != nil {
				req.Body, _ = pr.req.GetBody()
			}
			return fetch(transport, req, p.captureCap())
		})
		if got.resp == nil {
			return nil
		}
		got.resp.Request = &diff.Request{URL: target, Origin: pr.client.Origin}
		return got.resp
	}
	return follow, func() { got.release() }
}
