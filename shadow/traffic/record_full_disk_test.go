package traffic

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// fillingFile is a real file on a disk that can be made full: while full, a
// write stores its first half (as a disk does when it fills mid-write) and fails
// with ENOSPC.
type fillingFile struct {
	*os.File
	mu   sync.Mutex
	full bool
}

func (f *fillingFile) setFull(full bool) {
	f.mu.Lock()
	f.full = full
	f.mu.Unlock()
}

func (f *fillingFile) Write(p []byte) (int, error) {
	f.mu.Lock()
	full := f.full
	f.mu.Unlock()
	if !full {
		return f.File.Write(p)
	}
	n, _ := f.File.Write(p[:len(p)/2])
	return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
}

// waitUntil polls cond until it holds; the limit only turns a hang into a failure.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRecorderGoesOnAfterDiskFull: the disk holding a recording fills up, then
// has room again. The requests recorded while it was full are dropped and counted
// as write_error, the first drop is logged once, and every request after the disk
// has room is recorded again — in a file whose every line reads back whole.
func TestRecorderGoesOnAfterDiskFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "recorded.ndjson")
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	disk := &fillingFile{File: file}
	var logs bytes.Buffer
	rec := NewRecorder(disk)
	rec.Logger = zerolog.New(&logs)
	var mu sync.Mutex
	drops := map[string]int{}
	rec.OnDrop = func(r DropReason) { mu.Lock(); drops[r.String()]++; mu.Unlock() }

	record := func(prefix string, n int) {
		for i := range n {
			rec.Record(&http.Request{Method: "GET", RequestURI: fmt.Sprintf("/api/%s%d", prefix, i), Header: http.Header{}}, nil)
		}
	}
	record("before", 5)
	waitUntil(t, "5 lines written", func() bool { return rec.Written() == 5 })
	disk.setFull(true)
	record("full", 5)
	waitUntil(t, "5 lines dropped", func() bool { return rec.DroppedFor(DropWriteError) == 5 })
	disk.setFull(false)
	record("after", 5)
	if err := rec.Close(); err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Errorf("Close = %v, want the write error that lost lines", err)
	}

	if rec.Written() != 10 || rec.DroppedFor(DropWriteError) != 5 || rec.Dropped() != 5 {
		t.Errorf("written %d, dropped %d (write_error %d); want 10 written, 5 dropped on write errors",
			rec.Written(), rec.Dropped(), rec.DroppedFor(DropWriteError))
	}
	if drops["write_error"] != 5 || len(drops) != 1 {
		t.Errorf("OnDrop saw %v, want write_error 5", drops)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Open(path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for {
		req, err := tr.Next()
		if err != nil {
			break
		}
		urls = append(urls, req.URL)
	}
	want := []string{"/api/before0", "/api/before1", "/api/before2", "/api/before3", "/api/before4",
		"/api/after0", "/api/after1", "/api/after2", "/api/after3", "/api/after4"}
	if fmt.Sprint(urls) != fmt.Sprint(want) || tr.SkippedCount() != 0 {
		t.Errorf("recording reads back %v with %d bad lines (%v), want %v and none", urls, tr.SkippedCount(), tr.Skipped(), want)
	}
	if n := strings.Count(logs.String(), "recording dropped requests"); n != 1 {
		t.Errorf("%d log lines about drops, want 1 (rate-limited):\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "recording resumed") {
		t.Errorf("no line says recording resumed:\n%s", logs.String())
	}
}
