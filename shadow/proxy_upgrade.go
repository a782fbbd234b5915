package shadow

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"strings"
)

// switchProtocols relays an upgraded connection (WebSocket) between the client and
// the serving backend, as httputil does: both directions copied until one ends.
// Upgrades are never mirrored. A refused switch leaves its answer to exit.
func (p *Proxy) switchProtocols(rw http.ResponseWriter, out *http.Request, res *http.Response, st *serveState) {
	reqType, resType := upgradeType(out.Header), upgradeType(res.Header)
	if !asciiPrint(resType) || !offered(reqType, resType) {
		res.Body.Close()
		st.status, st.err = http.StatusBadGateway, fmt.Errorf("backend switched to protocol %q when %q was asked for", resType, reqType)
		st.answer = "Backend protocol switch refused"
		return
	}
	backConn, ok := res.Body.(io.ReadWriteCloser)
	if !ok {
		res.Body.Close()
		st.status, st.err = http.StatusBadGateway, errors.New("101 response with a body that cannot be written")
		st.answer = "Backend protocol switch refused"
		return
	}
	conn, brw, err := http.NewResponseController(rw).Hijack()
	if err != nil {
		backConn.Close()
		st.status, st.err = http.StatusBadGateway, fmt.Errorf("hijack client connection: %w", err)
		st.answer = "Protocol switch not supported"
		return
	}
	defer conn.Close()

	// A cancelled request (server shutdown, client gone) closes the backend side.
	stop := make(chan struct{})
	go func() {
		select {
		case <-out.Context().Done():
		case <-stop:
		}
		backConn.Close()
	}()
	defer close(stop)

	h := rw.Header()
	for k, vv := range res.Header {
		h[k] = vv
	}
	res.Header = h
	res.Body = nil
	if err := res.Write(brw); err != nil {
		st.err = fmt.Errorf("write 101 response: %w", err)
		return
	}
	if err := brw.Flush(); err != nil {
		st.err = fmt.Errorf("flush 101 response: %w", err)
		return
	}
	// Bytes the client sent right after its request may sit in brw's reader.
	if n := brw.Reader.Buffered(); n > 0 {
		b, _ := brw.Peek(n)
		if _, err := backConn.Write(b); err != nil {
			return
		}
	}
	errc := make(chan error, 2)
	go relay(conn, backConn, errc)
	go relay(backConn, conn, errc)
	if err := <-errc; err == nil {
		<-errc
	}
}

// relay copies src to dst and then half-closes dst when it can.
func relay(dst io.Writer, src io.Reader, errc chan<- error) {
	if _, err := io.Copy(dst, src); err != nil {
		errc <- err
		return
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		errc <- cw.CloseWrite()
		return
	}
	errc <- errors.New("relay done")
}

// offered reports whether proto, the protocol a backend switched to, is one of
// the comma-separated list the request offered.
func offered(list, proto string) bool {
	if proto == "" {
		return false
	}
	for p := range strings.SplitSeq(list, ",") {
		if equalFoldASCII(textproto.TrimString(p), proto) {
			return true
		}
	}
	return false
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
