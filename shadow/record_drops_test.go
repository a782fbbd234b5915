package shadow

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/parity-dev/parity/shadow/traffic"
)

// TestRecordDropsCountedInMetrics: requests a recording could not write show in
// /metrics by reason, every reason present from the start.
func TestRecordDropsCountedInMetrics(t *testing.T) {
	m := NewMetrics(0)
	for _, r := range traffic.DropReasons() {
		if v := metricValue(t, m, "parity_record_dropped_total", map[string]string{"reason": r.String()}); v != 0 {
			t.Errorf("%s at start = %v, want 0", r, v)
		}
	}
	// A file that refuses every write, as a full disk does.
	f, err := os.Create(filepath.Join(t.TempDir(), "recorded.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	rec := traffic.NewRecorder(f)
	rec.OnDrop = m.RecordDropped
	for range 3 {
		rec.Record(&http.Request{Method: "GET", RequestURI: "/api/x", Header: http.Header{}}, nil)
	}
	rec.Close()
	rec.Record(&http.Request{Method: "GET", RequestURI: "/api/x", Header: http.Header{}}, nil)
	if v := metricValue(t, m, "parity_record_dropped_total", map[string]string{"reason": "write_error"}); v != 3 {
		t.Errorf("write_error = %v, want 3", v)
	}
	if v := metricValue(t, m, "parity_record_dropped_total", map[string]string{"reason": "closed"}); v != 1 {
		t.Errorf("closed = %v, want 1", v)
	}
}
