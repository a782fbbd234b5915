package report

import (
	"fmt"
	"math"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

// Latency histograms record microseconds from 1 µs to 10 minutes with two
// significant figures. They are sparse (memory grows with the buckets in use, a few
// kilobytes for a real latency distribution) and travel in snapshots in their
// compact V2 encoding, so merged quantiles are exact, not averages of averages.
const (
	histLowest  = 1
	histHighest = int64(10 * time.Minute / time.Microsecond)
	histDigits  = 2
)

// packedHist is the histogram type every route keeps per side.
type packedHist = hdrhistogram.PackedHistogram

func newHistogram() *packedHist {
	return hdrhistogram.NewPacked(histLowest, histHighest, histDigits)
}

// recordLatency records d, clamped into the histogram's range.
func recordLatency(h *hdrhistogram.PackedHistogram, d time.Duration) {
	us := d.Microseconds()
	if us < histLowest {
		us = histLowest
	}
	if us > histHighest {
		us = histHighest
	}
	_ = h.RecordValue(us) // in range by construction
}

// Latency is one side's latency distribution in a snapshot: quantiles in
// milliseconds for readers, and the encoded histogram for exact merges.
type Latency struct {
	Count int64   `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
	// HDR is the HdrHistogram V2 compressed encoding (base64) of the
	// distribution in microseconds; empty when Count is 0.
	HDR string `json:"hdr,omitempty"`
}

// latencyOf summarises h.
func latencyOf(h *hdrhistogram.PackedHistogram) (Latency, error) {
	if h == nil || h.TotalCount() == 0 {
		return Latency{}, nil
	}
	enc, err := h.Encode()
	if err != nil {
		return Latency{}, fmt.Errorf("encode latency histogram: %w", err)
	}
	l := quantiles(h)
	l.HDR = string(enc)
	return l, nil
}

// quantiles summarises a non-empty h without its encoding.
func quantiles(h *hdrhistogram.PackedHistogram) Latency {
	q := h.ValueAtPercentilesSlice([]float64{50, 90, 99})
	return Latency{
		Count: h.TotalCount(),
		P50:   usToMs(q[0]),
		P90:   usToMs(q[1]),
		P99:   usToMs(q[2]),
		Max:   usToMs(h.Max()),
	}
}

// cachedLatencyOf is latencyOf, re-encoding h only when its count moved since the
// summary in cache was made. Encoding compresses (the V2 format's zlib at best
// compression, about a megabyte of garbage each time), and snapshots are taken every
// few seconds by the live dashboard and periodically by the proxy, mostly of routes
// that saw no new traffic since.
func cachedLatencyOf(h *hdrhistogram.PackedHistogram, cache *Latency) (Latency, error) {
	if h != nil && cache.Count == h.TotalCount() && (cache.Count == 0 || cache.HDR != "") {
		return *cache, nil
	}
	l, err := latencyOf(h)
	if err == nil {
		*cache = l
	}
	return l, err
}

// histMode says whether a snapshot carries the encoded histograms.
type histMode bool

const (
	withHistograms    histMode = true
	withoutHistograms histMode = false
)

// quantilesOf is latencyOf without the encoding: from cache when h's count has
// not moved since it was made (its HDR left out), else computed afresh, leaving
// the cache to the next full snapshot.
func quantilesOf(h *hdrhistogram.PackedHistogram, cache *Latency) Latency {
	if h == nil || h.TotalCount() == 0 {
		return Latency{}
	}
	if cache.Count == h.TotalCount() {
		l := *cache
		l.HDR = ""
		return l
	}
	return quantiles(h)
}

// histogram decodes l's histogram; an empty Latency gives an empty histogram.
func (l Latency) histogram() (*hdrhistogram.PackedHistogram, error) {
	if l.HDR == "" {
		if l.Count != 0 {
			return nil, fmt.Errorf("latency has count %d but no histogram", l.Count)
		}
		return newHistogram(), nil
	}
	h, err := hdrhistogram.DecodePacked([]byte(l.HDR))
	if err != nil {
		return nil, fmt.Errorf("decode latency histogram: %w", err)
	}
	if h.LowestTrackableValue() != histLowest || h.HighestTrackableValue() < histHighest || h.SignificantFigures() != histDigits {
		return nil, fmt.Errorf("latency histogram has range %d..%d µs with %d digits, want %d..%d with %d",
			h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures(), histLowest, histHighest, histDigits)
	}
	if h.TotalCount() != l.Count {
		return nil, fmt.Errorf("latency count %d does not match its histogram's %d", l.Count, h.TotalCount())
	}
	return h, nil
}

// usToMs converts microseconds to milliseconds rounded to the microsecond.
func usToMs(us int64) float64 {
	return math.Round(float64(us)) / 1000
}
