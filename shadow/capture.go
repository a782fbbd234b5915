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

func newCapture(limit int64) *capture {
	b := capturePool.Get().(*bytes.Buffer)
	b.Reset()
	return &capture{buf: b, limit: limit}
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
		c.buf.Write(p)
	}
	return n, nil
}

func (c *capture) truncated() bool { return c.size > int64(c.buf.Len()) }

func (c *capture) bytes() []byte { return c.buf.Bytes() }

// release returns the buffer to the pool; c must not be used afterwards. Buffers
// that grew past maxPooled are left to the collector so the pool stays small.
func (c *capture) release() {
	const maxPooled = 4 << 20
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
