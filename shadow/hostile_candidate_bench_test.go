package shadow

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// BenchmarkHostileCandidate measures what a client pays, through parity, for
// what the candidate sends: a healthy answer, a gzip bomb (16 MiB of zeros in
// 16 KiB), or a body that never ends. Four clients send b.N requests in all,
// mirrored; p50 and p99 of their latency are reported. Compare the modes side
// by side in one run: the hostile ones should cost the client no more than a
// few milliseconds over the healthy one.
func BenchmarkHostileCandidate(b *testing.B) {
	gz := func(p []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(p)
		zw.Close()
		return buf.Bytes()
	}
	healthy := gz([]byte(benchBody))
	bomb := gz(make([]byte, 16<<20))
	chunk := bytes.Repeat([]byte("x"), 32<<10)
	modes := []struct {
		name   string
		answer func(w http.ResponseWriter)
	}{
		{"healthy", func(w http.ResponseWriter) { w.Write(healthy) }},
		{"gzip-bomb", func(w http.ResponseWriter) { w.Write(bomb) }},
		{"endless", func(w http.ResponseWriter) {
			for {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			serve := func(answer func(w http.ResponseWriter)) *url.URL {
				s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("Content-Encoding", "gzip")
					answer(w)
				}))
				s.Config.ErrorLog = quietLog()
				s.Start()
				b.Cleanup(s.Close)
				u, _ := url.Parse(s.URL)
				return u
			}
			p := &Proxy{Primary: serve(func(w http.ResponseWriter) { w.Write(healthy) }), Candidate: serve(m.answer),
				Decide: decideFixed(rules.Primary, true), Observer: discardObserver{}}
			front := httptest.NewServer(p)
			b.Cleanup(func() {
				front.Close()
				p.Close(b.Context())
			})
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8, DisableCompression: true}}
			const clients = 4
			lat := make([][]time.Duration, clients)
			b.ReportAllocs()
			b.ResetTimer()
			var wg sync.WaitGroup
			for c := range clients {
				wg.Go(func() {
					for i := c; i < b.N; i += clients {
						start := time.Now()
						res, err := client.Get(front.URL + "/api/items")
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, res.Body)
						res.Body.Close()
						lat[c] = append(lat[c], time.Since(start))
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			all := slices.Concat(lat...)
			slices.Sort(all)
			if len(all) > 0 {
				b.ReportMetric(float64(all[len(all)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
			}
		})
	}
}

// discardObserver drops every observation.
type discardObserver struct{}

func (discardObserver) Observe(report.Observation) {}
