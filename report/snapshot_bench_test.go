package report

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkSnapshotIdle is a snapshot of 100 routes that saw no traffic since the
// last one — what the live dashboard's polling and the proxy's periodic writes
// mostly take. BenchmarkSnapshotBusy has one new observation per route in between.
func BenchmarkSnapshotIdle(b *testing.B) { benchmarkSnapshot(b, false, (*Aggregator).Snapshot) }
func BenchmarkSnapshotBusy(b *testing.B) { benchmarkSnapshot(b, true, (*Aggregator).Snapshot) }

// BenchmarkSnapshotSummaryBusy is BenchmarkSnapshotBusy without the encoded
// histograms: what the live dashboard polls.
func BenchmarkSnapshotSummaryBusy(b *testing.B) {
	benchmarkSnapshot(b, true, (*Aggregator).SnapshotSummary)
}

func benchmarkSnapshot(b *testing.B, busy bool, snapshot func(*Aggregator) *Snapshot) {
	a := NewAggregator(Limits{})
	observe := func(i int) {
		for r := 0; r < 100; r++ {
			a.Observe(Observation{
				Route: fmt.Sprintf("GET /api/r%d", r), Method: "GET",
				PrimaryStatus: 200, CandidateStatus: 200,
				PrimaryLatency:   time.Duration(1000+i%900) * time.Microsecond,
				CandidateLatency: time.Duration(1200+i%700) * time.Microsecond,
			})
		}
	}
	for i := 0; i < 200; i++ {
		observe(i)
	}
	a.Snapshot()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if busy {
			observe(i)
		}
		if s := snapshot(a); len(s.Routes) != 100 {
			b.Fatalf("%d routes", len(s.Routes))
		}
	}
}
