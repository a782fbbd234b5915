package shadow

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// The back-off's bookkeeping: five hostile answers in a row hold a route back;
// it is then probed once per wait, the wait doubling with every hostile probe
// up to backoffMax; answers sent before the back-off began do not double it;
// an answer that says nothing changes nothing, a normal one ends it; other
// routes and other mirror targets are not held back.
func TestHostileBackoffBookkeeping(t *testing.T) {
	var now time.Duration
	b := hostileBackoff{clock: func() time.Duration { return now }}
	const route = "GET /api/x"
	admit := func(wantOK, wantProbe bool) {
		t.Helper()
		if ok, probe := b.admit(route, rules.Candidate); ok != wantOK || probe != wantProbe {
			t.Fatalf("at %v: admitted %v (probe %v), want %v (probe %v)", now, ok, probe, wantOK, wantProbe)
		}
	}
	for i := range backoffStrikes {
		admit(true, false)
		if began := b.answered(route, rules.Candidate, answerHostile, false); began != (i == backoffStrikes-1) {
			t.Fatalf("hostile answer %d began the back-off: %v", i+1, began)
		}
	}
	admit(false, false)
	if ok, _ := b.admit("GET /api/other", rules.Candidate); !ok {
		t.Error("another route is held back")
	}
	if ok, _ := b.admit(route, rules.Primary); !ok {
		t.Error("the same route's mirrors to the other backend are held back")
	}
	// A hostile answer of a mirror sent before the back-off began.
	b.answered(route, rules.Candidate, answerHostile, false)
	wait := backoffFirst
	for range 8 {
		now += wait - time.Millisecond
		admit(false, false)
		now += time.Millisecond
		admit(true, true)
		admit(false, false) // one probe per wait
		b.answered(route, rules.Candidate, answerUnknown, true)
		admit(false, false)
		now += wait
		admit(true, true) // the probe said nothing: the next one a wait later
		b.answered(route, rules.Candidate, answerHostile, true)
		wait = min(2*wait, backoffMax)
	}
	if wait != backoffMax {
		t.Fatalf("wait %v after 8 hostile probes, want the cap %v", wait, backoffMax)
	}
	if n := b.backingOff(); n != 1 {
		t.Errorf("%d routes backing off, want 1", n)
	}
	now += wait
	admit(true, true)
	b.answered(route, rules.Candidate, answerNormal, true)
	for range backoffStrikes + 1 {
		admit(true, false)
	}
	if n := b.backingOff(); n != 0 {
		t.Errorf("%d routes backing off after a normal answer, want 0", n)
	}
	// Strikes count in a row: a normal answer in between starts them again.
	for range backoffStrikes - 1 {
		b.answered(route, rules.Candidate, answerHostile, false)
	}
	b.answered(route, rules.Candidate, answerNormal, false)
	b.answered(route, rules.Candidate, answerHostile, false)
	admit(true, false)
}

// switchingCandidate is a candidate on loopback that answers as its mode says,
// which the test changes, and counts the requests it was sent.
type switchingCandidate struct {
	*backend
	mode atomic.Value // string
}

const (
	hostileCap    = 64 << 10 // the proxies' capture cap in these tests
	healthyAnswer = `{"ok":true}`
)

func newSwitchingCandidate(t *testing.T) *switchingCandidate {
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zw.Write(make([]byte, 16<<20)) // 16 MiB of zeros in ~16 KiB
	zw.Close()
	huge := `"` + strings.Repeat("x", 4*hostileCap) + `"`
	c := &switchingCandidate{}
	c.mode.Store("healthy")
	c.backend = newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch c.mode.Load().(string) {
		case "gzip-bomb":
			w.Header().Set("Content-Encoding", "gzip")
			w.Write(bomb.Bytes())
		case "huge-json":
			io.WriteString(w, huge)
		case "endless":
			chunk := bytes.Repeat([]byte("x"), 32<<10)
			for {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		case "trickle":
			// Under the cap, but never ending: a byte now and then until the
			// mirror gives up at its deadline.
			rc := http.NewResponseController(w)
			for {
				if _, err := io.WriteString(w, " "); err != nil || rc.Flush() != nil {
					return
				}
				select {
				case <-r.Context().Done():
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
		default:
			io.WriteString(w, healthyAnswer)
		}
	})
	c.Config.ErrorLog = quietLog()
	return c
}

// A candidate whose answers on a route keep being hostile — a gzip bomb, a
// JSON document over the capture cap, a body that never ends, one that
// trickles past the mirror's deadline — is held back after five of them: the
// route's requests are served but no longer mirrored, except one probe per
// wait (on the back-off's clock, which the test moves), and each request not
// mirrored is counted as skipped hostile_backoff on its route, in the report
// and in /metrics. Once the candidate answers normally again, the first probe
// ends the back-off and every request is mirrored again (shown for all but the
// trickling candidate, whose every answer takes the mirror's deadline).
// Counted by the requests the candidate receives.
func TestHostileBackoffProbesAndRecovers(t *testing.T) {
	for _, kind := range []string{"gzip-bomb", "huge-json", "endless", "trickle"} {
		t.Run(kind, func(t *testing.T) {
			primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, healthyAnswer)
			})
			candidate := newSwitchingCandidate(t)
			candidate.mode.Store(kind)
			var now atomic.Int64
			agg := report.NewAggregator(report.Limits{})
			obs := newObserver()
			m := NewMetrics(0)
			timeout := time.Minute
			if kind == "trickle" {
				// Each trickling answer takes the whole deadline; the serving
				// side must still finish within it on a busy machine.
				timeout = 2 * time.Second
			}
			h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t),
				Decide: decideFixed(rules.Primary, true), Observer: teeObserver{agg, obs}, Metrics: m,
				CaptureCap: hostileCap, MirrorTimeout: timeout, CompareBudget: 1,
				backoffNow: func() time.Duration { return time.Duration(now.Load()) }})

			skips := 0
			request := func(want report.SkipReason) {
				t.Helper()
				if res, body := h.get(t, "/api/items"); res.StatusCode != http.StatusOK || body != healthyAnswer {
					t.Fatalf("client got %d %q, want the primary's answer", res.StatusCode, body)
				}
				o := obs.next(t)
				settled(t, m)
				if o.Skipped != want {
					t.Fatalf("after %d requests to the candidate: observation skipped %q, want %q", candidate.count(), o.Skipped, want)
				}
				if want == report.SkipHostileBackoff {
					skips++
				} else if o.CandidateError == "" && len(o.Differences) == 0 && kind != "healthy" && candidate.mode.Load() != "healthy" {
					t.Fatalf("a %s answer observed without a difference or an error: %+v", kind, o)
				}
			}
			asked := func(want int) {
				t.Helper()
				if n := candidate.count(); n != want {
					t.Fatalf("the candidate was asked %d times, want %d", n, want)
				}
			}

			for range backoffStrikes {
				request("")
			}
			asked(backoffStrikes)
			for range 3 {
				request(report.SkipHostileBackoff)
			}
			asked(backoffStrikes) // held back
			if kind == "trickle" {
				// Probing and recovering are the same for every kind; a
				// trickling candidate is only slower to show it.
				return
			}

			now.Add(int64(backoffFirst))
			request("") // a probe
			asked(backoffStrikes + 1)
			request(report.SkipHostileBackoff)
			now.Add(int64(backoffFirst))
			request(report.SkipHostileBackoff) // the wait doubled: not yet
			asked(backoffStrikes + 1)
			now.Add(int64(backoffFirst))
			request("") // the second probe
			asked(backoffStrikes + 2)
			request(report.SkipHostileBackoff)

			candidate.mode.Store("healthy")
			request(report.SkipHostileBackoff) // not probed yet: still held back
			asked(backoffStrikes + 2)
			now.Add(int64(4 * backoffFirst))
			request("") // the probe finds it healthy
			for range 3 {
				request("")
			}
			asked(backoffStrikes + 2 + 4)

			s := agg.Snapshot()
			if len(s.Routes) != 1 {
				t.Fatalf("%d routes in the snapshot, want 1", len(s.Routes))
			}
			if got := s.Routes[0].Skipped[string(report.SkipHostileBackoff)]; got != int64(skips) {
				t.Errorf("snapshot: %d skipped hostile_backoff, want %d", got, skips)
			}
			if got := metricValue(t, m, "parity_mirror_dropped_total", map[string]string{"reason": "hostile_backoff"}); got != float64(skips) {
				t.Errorf("parity_mirror_dropped_total{reason=hostile_backoff} = %v, want %d", got, skips)
			}
		})
	}
}

// Hostile answers on one route hold back that route only: another route of
// the same candidate, answering normally, is mirrored every time. And answers
// that fail (a candidate that resets every connection) are no reason to hold
// a route back: every request is still mirrored and its error observed.
func TestHostileBackoffIsPerRouteAndNotForFailures(t *testing.T) {
	primary := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, healthyAnswer)
	})
	big := `"` + strings.Repeat("x", 4*hostileCap) + `"`
	candidate := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/huge":
			io.WriteString(w, big)
		case "/api/reset":
			panic(http.ErrAbortHandler)
		default:
			io.WriteString(w, healthyAnswer)
		}
	})
	candidate.Config.ErrorLog = quietLog()
	obs := newObserver()
	m := NewMetrics(0)
	var now atomic.Int64
	decide := func(r *http.Request) rules.Decision {
		return rules.Decision{Path: r.URL.Path, Route: "GET " + r.URL.Path, Serve: rules.Primary, Mirror: true}
	}
	h := newHarness(t, &Proxy{Primary: primary.url(t), Candidate: candidate.url(t), Decide: decide,
		Observer: obs, Metrics: m, CaptureCap: hostileCap, CompareBudget: 1,
		backoffNow: func() time.Duration { return time.Duration(now.Load()) }})
	count := map[string]int{}
	for range 2 * backoffStrikes {
		for _, path := range []string{"/api/huge", "/api/items", "/api/reset"} {
			h.get(t, path)
			o := obs.next(t)
			settled(t, m)
			if o.Skipped == report.SkipHostileBackoff {
				count[path]++
			}
			if path == "/api/reset" && o.CandidateError == "" {
				t.Fatalf("a reset observed as %+v, want its error", o)
			}
		}
	}
	want := map[string]int{"/api/huge": backoffStrikes}
	if count["/api/huge"] != want["/api/huge"] || count["/api/items"] != 0 || count["/api/reset"] != 0 {
		t.Errorf("skipped hostile_backoff by path %v, want %v", count, want)
	}
	asked := map[string]int{}
	candidate.mu.Lock()
	for _, r := range candidate.reqs {
		asked[r.RequestURI]++
	}
	candidate.mu.Unlock()
	// (A reset GET may be sent twice: the transport retries it once on a new
	// connection.)
	if asked["/api/huge"] != backoffStrikes || asked["/api/items"] != 2*backoffStrikes || asked["/api/reset"] < 2*backoffStrikes {
		t.Errorf("the candidate was asked %v, want /api/huge %d times, /api/items %d, /api/reset at least %d",
			asked, backoffStrikes, 2*backoffStrikes, 2*backoffStrikes)
	}
}
