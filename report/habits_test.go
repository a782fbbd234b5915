package report

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestHabitsCountedAndMerged: habits are counted per route, not as differences,
// summed by Merge and kept through a snapshot's round trip.
func TestHabitsCountedAndMerged(t *testing.T) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	obs := func(n int) []Observation {
		var out []Observation
		for range n {
			o := matched1("GET /api/docs/:id")
			o.Habits = []string{HabitCanonicalRedirect}
			out = append(out, o)
		}
		return out
	}
	m, err := Merge(snapshotOf(t, at, obs(2)), snapshotOf(t, at, obs(3)))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteSnapshot(&b, m); err != nil {
		t.Fatal(err)
	}
	back, err := ReadSnapshot(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	r := back.Route("GET /api/docs/:id")
	if d := cmp.Diff(map[string]int64{HabitCanonicalRedirect: 5}, r.Habits); d != "" || r.Matched != 5 {
		t.Errorf("habits (-want +got):\n%s; matched %d of 5", d, r.Matched)
	}
}
