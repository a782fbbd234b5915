package report

import "testing"

// The comparison's interval is the gate's: the parity bounds RouteEvidence
// reports, at the plan's confidence; a group counted more often than there were
// requests (one per array element) is held at the whole share, never an
// interval of negative failures.
func TestSequenceIntervalIsTheGates(t *testing.T) {
	th := DefaultThresholds
	interval := SequenceInterval(th)
	for _, c := range []struct{ matched, compared int64 }{{95, 100}, {1000, 1000}, {0, 40}, {612, 700}} {
		ev := RouteEvidence(&RouteStats{Route: "GET /x", Compared: c.compared, Matched: c.matched}, th)
		lo, hi := interval(c.matched, c.compared)
		if lo != ev.Parity.Lower || hi != ev.Parity.Upper {
			t.Errorf("%d of %d: interval [%v, %v], the gate's [%v, %v]", c.matched, c.compared, lo, hi, ev.Parity.Lower, ev.Parity.Upper)
		}
	}
	lo, hi := interval(300, 60)
	if wlo, whi := interval(60, 60); lo != wlo || hi != whi || hi != 1 {
		t.Errorf("count over the requests: [%v, %v], want the whole share's [%v, %v]", lo, hi, wlo, whi)
	}
	if lo, hi := interval(0, 0); lo != 0 || hi != 1 {
		t.Errorf("no requests: [%v, %v], want [0, 1]", lo, hi)
	}
}
