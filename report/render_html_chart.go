package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The charts' geometry, in SVG user units; dashboard.js draws with the same
// numbers when it redraws them live.
const (
	chartW, chartH         = 640, 150
	chartLeft, chartRight  = 48, 12
	chartTop, chartBottom  = 10, 22
	chartPlotW, chartPlotH = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
)

// chartWindows are the spans a chart may show, in minutes: the smallest that
// holds the series is used, so a fresh proxy's first minutes are not a sliver.
var chartWindows = []int64{15, 60, 180, SeriesMinutes}

// parityFloors are the bottoms the parity axis may take: the highest below both
// the threshold and the lowest minute.
var parityFloors = []float64{0.98, 0.95, 0.9, 0.8, 0.5, 0}

// chartView is one server-rendered chart: what the page shows without
// JavaScript, and before the first refresh.
type chartView struct {
	Empty     bool
	Path      string // parity line ("M x y L x y …", broken at minutes without comparisons)
	Dots      []chartDot
	Bars      []chartRect
	Threshold string // y of the parity threshold line, "" for none
	YLabels   []chartLabel
	XLabels   []chartLabel
}

type chartDot struct {
	X, Y string
	Low  bool // below the parity threshold
}

type chartRect struct{ X, Y, W, H, Title string }

type chartLabel struct {
	X, Y, Text string
	Anchor     string // SVG text-anchor
}

// chartsView is both charts over the same minutes, and a line about the last one.
type chartsView struct {
	Window  string // "last 60 min (UTC)"
	Parity  chartView
	Traffic chartView
	Last    string // the newest minute in words, "" with no traffic
}

// newCharts lays out the parity and traffic charts of s's series, ending at the
// minute of s.Updated (or the newest point, if later).
func newCharts(s *Snapshot, th Thresholds) chartsView {
	pts := s.Series
	var cv chartsView
	if len(pts) == 0 {
		cv.Window = "no traffic charted yet"
		cv.Parity, cv.Traffic = chartView{Empty: true}, chartView{Empty: true}
		return cv
	}
	first, latest := unixMinute(pts[0].Minute), unixMinute(pts[len(pts)-1].Minute)
	end := latest
	if !s.Updated.IsZero() {
		end = max(end, unixMinute(s.Updated))
	}
	window := chartWindows[len(chartWindows)-1]
	for _, w := range chartWindows {
		if end-first+1 <= w {
			window = w
			break
		}
	}
	start := end - window + 1
	cv.Window = fmt.Sprintf("last %s (UTC)", windowText(window))
	xLabels := []chartLabel{
		{X: num(chartLeft), Y: num(chartH - 6), Text: hhmm(start), Anchor: "start"},
		{X: num(chartLeft + chartPlotW/2), Y: num(chartH - 6), Text: hhmm(start + window/2), Anchor: "middle"},
		{X: num(chartW - chartRight), Y: num(chartH - 6), Text: hhmm(end), Anchor: "end"},
	}
	x := func(m int64) float64 { return chartLeft + (float64(m-start)+0.5)*chartPlotW/float64(window) }

	// Parity: a line through the minutes that compared something.
	lo := th.MinParity
	var top int64
	for _, p := range pts {
		if unixMinute(p.Minute) < start {
			continue
		}
		if p.Compared > 0 {
			lo = math.Min(lo, p.Parity())
		}
		top = max(top, p.Mirrored)
	}
	floor := 0.0
	for _, f := range parityFloors {
		if f < lo {
			floor = f
			break
		}
	}
	y := func(p float64) float64 { return chartTop + (1-(p-floor)/(1-floor))*chartPlotH }
	var path strings.Builder
	prev := int64(math.MinInt64)
	for _, p := range pts {
		m := unixMinute(p.Minute)
		if m < start || p.Compared == 0 {
			continue
		}
		cmd := "L"
		if m != prev+1 {
			cmd = "M"
		}
		if path.Len() > 0 {
			path.WriteByte(' ')
		}
		fmt.Fprintf(&path, "%s%s %s", cmd, num(x(m)), num(y(p.Parity())))
		prev = m
		cv.Parity.Dots = append(cv.Parity.Dots, chartDot{X: num(x(m)), Y: num(y(p.Parity())), Low: p.Parity() < th.MinParity})
	}
	cv.Parity.Path = path.String()
	cv.Parity.Empty = path.Len() == 0
	if th.MinParity > floor && th.MinParity < 1 {
		cv.Parity.Threshold = num(y(th.MinParity))
	}
	cv.Parity.YLabels = []chartLabel{
		{X: num(chartLeft - 6), Y: num(chartTop + 4), Text: "100%", Anchor: "end"},
		{X: num(chartLeft - 6), Y: num(chartTop + chartPlotH + 4), Text: fmtPercent(floor), Anchor: "end"},
	}
	cv.Parity.XLabels = xLabels

	// Traffic: a bar per minute, scaled to a round maximum.
	yMax := niceCeil(top)
	bw := math.Max(1, chartPlotW/float64(window)*0.7)
	for _, p := range pts {
		m := unixMinute(p.Minute)
		if m < start || p.Mirrored == 0 {
			continue
		}
		h := float64(p.Mirrored) / float64(yMax) * chartPlotH
		cv.Traffic.Bars = append(cv.Traffic.Bars, chartRect{X: num(x(m) - bw/2), Y: num(chartTop + chartPlotH - h), W: num(bw), H: num(h),
			Title: fmt.Sprintf("%s: %s mirrored", hhmm(m), fmtCount(p.Mirrored))})
	}
	cv.Traffic.Empty = len(cv.Traffic.Bars) == 0
	cv.Traffic.YLabels = []chartLabel{
		{X: num(chartLeft - 6), Y: num(chartTop + 4), Text: fmtCount(yMax), Anchor: "end"},
		{X: num(chartLeft - 6), Y: num(chartTop + chartPlotH + 4), Text: "0", Anchor: "end"},
	}
	cv.Traffic.XLabels = xLabels

	last := pts[len(pts)-1]
	cv.Last = fmt.Sprintf("%s: %s mirrored, %s compared", hhmm(unixMinute(last.Minute)), fmtCount(last.Mirrored), fmtCount(last.Compared))
	if last.Compared > 0 {
		cv.Last += ", parity " + fmtPercent(last.Parity())
	}
	return cv
}

// niceCeil is the least 1, 2 or 5 × 10^k at or above n (at least 1).
func niceCeil(n int64) int64 {
	for step := int64(1); ; step *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*step >= n {
				return m * step
			}
		}
		if step > math.MaxInt64/100 {
			return n
		}
	}
}

func windowText(minutes int64) string {
	if minutes%60 == 0 {
		return fmt.Sprintf("%d h", minutes/60)
	}
	return fmt.Sprintf("%d min", minutes)
}

func hhmm(m int64) string { return time.Unix(m*60, 0).UTC().Format("15:04") }

// num writes an SVG coordinate with one decimal.
func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
