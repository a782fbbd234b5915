package shadow

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// benchBody is a 4 KB JSON answer, the size of a typical API list page.
var benchBody = func() string {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < 4000; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"id":"0000000000","title":"a session title","active":true,"count":12345}`)
	}
	b.WriteString(`]}`)
	return b.String()
}()

func benchBackend(b *testing.B) *url.URL {
	b.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, benchBody)
	}))
	b.Cleanup(s.Close)
	u, _ := url.Parse(s.URL)
	return u
}

// countingObserver counts the observations that were real comparisons.
type countingObserver struct {
	agg      *report.Aggregator
	compared atomic.Int64
}

func (c *countingObserver) Observe(o report.Observation) {
	if o.Skipped == "" {
		c.compared.Add(1)
	}
	c.agg.Observe(o)
}

// benchThrough drives GETs through h from parallel clients over keep-alive
// connections.
func benchThrough(b *testing.B, h http.Handler) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	benchGet(b, srv.URL)
}

func benchGet(b *testing.B, base string) {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	target := base + "/api/sessions?limit=10"
	b.ReportAllocs()
	b.SetBytes(int64(len(benchBody)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := client.Get(target)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	b.StopTimer()
}

// BenchmarkProxy compares, in one run, the client-visible cost of a GET straight
// to the backend, through a bare httputil.ReverseProxy, through parity on a route
// it does not mirror, and through parity mirroring and comparing every GET
// (compared/op says how many of them were compared rather than dropped).
func BenchmarkProxy(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		u := benchBackend(b)
		benchGet(b, u.String())
	})
	b.Run("httputil", func(b *testing.B) {
		benchThrough(b, httputil.NewSingleHostReverseProxy(benchBackend(b)))
	})
	b.Run("parity-not-mirrored", func(b *testing.B) {
		p := &Proxy{Primary: benchBackend(b), Decide: decideFixed(rules.Primary, false)}
		benchThrough(b, p)
		p.Close(context.Background())
	})
	b.Run("parity-mirrored-compared", func(b *testing.B) {
		obs := &countingObserver{agg: report.NewAggregator(report.Limits{})}
		p := &Proxy{Primary: benchBackend(b), Candidate: benchBackend(b), Decide: decideFixed(rules.Primary, true), Observer: obs}
		benchThrough(b, p)
		p.Close(context.Background())
		b.ReportMetric(float64(obs.compared.Load())/float64(b.N), "compared/op")
	})
	b.Run("parity-hung-candidate", func(b *testing.B) {
		// The candidate accepts and never answers: mirrors fill the workers and the
		// queue and are dropped; the client's cost should stay that of the rows above.
		hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		defer hung.Close()
		cu, _ := url.Parse(hung.URL)
		m := NewMetrics(0)
		p := &Proxy{Primary: benchBackend(b), Candidate: cu, Decide: decideFixed(rules.Primary, true), Metrics: m,
			MirrorTimeout: time.Second}
		benchThrough(b, p)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		p.Close(ctx)
		dropped := 0.0
		if fams, err := m.Registry().Gather(); err == nil {
			for _, f := range fams {
				if f.GetName() == "parity_mirror_dropped_total" {
					for _, mt := range f.GetMetric() {
						dropped += mt.GetCounter().GetValue()
					}
				}
			}
		}
		b.ReportMetric(dropped/float64(b.N), "dropped/op")
	})
}
