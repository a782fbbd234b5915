package shadow

import (
	"bytes"
	"io"
	"sync"
)

// Defaults of the Proxy's caps.
const (
	DefaultMirrorBodyCap = 1 << 20 // request bodies buffered for the mirror
	DefaultCaptureCap    = 1 << 20 // response bodies kept for the comparison
)

// capture keeps the first limit bytes of a body as it streams past and counts the
// whole. Its buffer comes from a pool and goes back with release, once nothing
// reads it any more.
type capture struct {
	buf   *bytes.Buffer
	limit int64
	size  int64
}

var capturePool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// newCapture is an empty capture of up to limit bytes; size, when known (a
// Content-Length, else -1), makes room for the body at once.
func newCapture(limit, size int64) *capture {
	b := capturePool.Get().(*bytes.Buffer)
	b.Reset()
	c := &capture{buf: b, limit: limit}
	if size > 0 {
		c.reserve(int(min(size, limit)))
	}
	return c
}

// reserve makes room for n more bytes, doubling as bytes.Buffer does but never
// past the limit: a body at the cap holds one cap, not two.
func (c *capture) reserve(n int) {
	if c.buf.Available() >= n {
		return
	}
	want := c.buf.Len() + n
	if double := 2 * c.buf.Cap(); double > want {
		want = int(min(int64(double), max(c.limit, int64(want))))
	}
	// The outgrown buffer goes to the collector: back in the pool, it would be
	// the next one taken, and outgrown again.
	b := make([]byte, c.buf.Len(), want)
	copy(b, c.buf.Bytes())
	c.buf = bytes.NewBuffer(b)
}

// Write keeps what fits under the limit and never fails: a full capture must not
// stop the stream it copies.
func (c *capture) Write(p []byte) (int, error) {
	n := len(p)
	c.size += int64(n)
	if room := c.limit - int64(c.buf.Len()); room > 0 {
		if int64(len(p)) > room {
			p = p[:room]
		}
		c.reserve(len(p))
		c.buf.Write(p)
	}
	return n, nil
}

func (c *capture) truncated() bool { return c.size > int64(c.buf.Len()) }

func (c *capture) bytes() []byte { return c.buf.Bytes() }

// maxPooled is the largest capture buffer kept for reuse. Larger ones (up to
// the cap, a megabyte) are left to the collector: a pool holds as many buffers
// as were ever in use at once, and a hostile candidate's answers at the cap, 64
// mirrors at a time, kept hundreds of megabytes resident.
const maxPooled = 128 << 10

// release returns the buffer to the pool; c must not be used afterwards.
func (c *capture) release() {
	if c.buf == nil {
		return
	}
	if c.buf.Cap() <= maxPooled {
		capturePool.Put(c.buf)
	}
	c.buf = nil
}

// copyBufPool holds the buffers that response bodies are copied through.
var copyBufPool = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// readCapped reads r up to limit bytes. over reports that r holds more: then the
// bytes read so far (more than limit) are returned and the rest is still in r.
func readCapped(r io.Reader, limit, sizeHint int64) (b []byte, over bool, err error) {
	n := sizeHint
	if n < 0 || n > limit {
		n = 512
	}
	b = make([]byte, 0, n+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		m, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if int64(len(b)) > limit {
			return b, true, nil
		}
		if err == io.EOF {
			return b, false, nil
		}
		if err != nil {
			return b, false, err
		}
	}
}
