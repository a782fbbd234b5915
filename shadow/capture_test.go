package shadow

import (
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestCapture(t *testing.T) {
	tests := []struct {
		name      string
		limit     int64
		writes    []string
		want      string
		size      int64
		truncated bool
	}{
		{"under the cap", 10, []string{"abc", "def"}, "abcdef", 6, false},
		{"exactly the cap", 6, []string{"abc", "def"}, "abcdef", 6, false},
		{"over the cap in one write", 4, []string{"abcdef"}, "abcd", 6, true},
		{"over the cap across writes", 4, []string{"abc", "def", "ghi"}, "abcd", 9, true},
		{"nothing", 4, nil, "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCapture(tc.limit, -1)
			defer c.release()
			for _, w := range tc.writes {
				if n, err := c.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write(%q) = %d, %v: a capture must never stop the stream", w, n, err)
				}
			}
			if got := string(c.bytes()); got != tc.want || c.size != tc.size || c.truncated() != tc.truncated {
				t.Errorf("got %q size %d truncated %v, want %q %d %v", got, c.size, c.truncated(), tc.want, tc.size, tc.truncated)
			}
		})
	}
}

// A capture never holds more than its limit, however its body comes: known in
// size (room made at once, no regrowing) or in chunks of unknown total.
func TestCaptureHoldsOneCap(t *testing.T) {
	const limit = 1 << 20
	chunk := make([]byte, 32<<10)
	for _, size := range []int64{-1, 10 << 20, limit / 2} {
		c := newCapture(limit, size)
		if size > 0 && c.buf.Cap() < int(min(size, limit)) {
			t.Errorf("size %d: room for %d bytes, want %d at once", size, c.buf.Cap(), min(size, limit))
		}
		for range 64 {
			c.Write(chunk)
		}
		if c.buf.Len() != limit || c.buf.Cap() > limit {
			t.Errorf("size %d: holds %d bytes in %d, want %d in at most as much", size, c.buf.Len(), c.buf.Cap(), limit)
		}
		c.release()
	}
}

// A released capture's buffer serves the next capture of its size, whether
// the size is known or comes in chunks: only the capture itself is allocated.
func TestCaptureReusesBuffers(t *testing.T) {
	p := make([]byte, 64<<10)
	for _, size := range []int64{-1, 64 << 10} {
		n := testing.AllocsPerRun(100, func() {
			c := newCapture(1<<20, size)
			c.Write(p)
			c.release()
		})
		if n >= 2 { // 1, and a collection emptying the pool may add a little
			t.Errorf("size %d: %v allocations a capture, want its own only", size, n)
		}
	}
}

func TestReadCapped(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		limit   int64
		hint    int64
		over    bool
		oneByte bool // the reader returns one byte per Read
	}{
		{"empty", "", 8, 0, false, false},
		{"under", "abc", 8, 3, false, false},
		{"exactly", "abcdefgh", 8, 8, false, false},
		{"one over", "abcdefghi", 8, 9, true, false},
		{"far over, unknown length", strings.Repeat("x", 100), 8, -1, true, true},
		{"wrong hint", "abcdefghij", 8, 2, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(tc.body)
			if tc.oneByte {
				r = iotest.OneByteReader(r)
			}
			b, over, err := readCapped(r, tc.limit, tc.hint)
			if err != nil {
				t.Fatal(err)
			}
			if over != tc.over {
				t.Errorf("over = %v, want %v", over, tc.over)
			}
			rest, _ := io.ReadAll(r)
			if got := string(b) + string(rest); got != tc.body {
				t.Errorf("read %q then %q: the body must stay whole", b, rest)
			}
			if !over && string(b) != tc.body {
				t.Errorf("read %q, want all of %q", b, tc.body)
			}
		})
	}
	if _, _, err := readCapped(iotest.ErrReader(io.ErrUnexpectedEOF), 8, -1); err == nil {
		t.Error("a failing body gave no error")
	}
}
