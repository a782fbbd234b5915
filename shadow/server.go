package shadow

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/parity-dev/parity/report"
)

// Defaults of the Server.
const (
	DefaultListen      = ":8080"
	DefaultAdminListen = "127.0.0.1:9090"
	// DefaultGrace is how long in-flight requests, and then pending
	// comparisons, may take on shutdown (each): it fits a runtime's stop
	// timeout, `docker stop` and Compose's 10 s, since a stop takes at most
	// twice the grace plus a second for the admin listener and the snapshot
	// write. `parity proxy --grace` defaults to it. Raise it together with
	// stop_grace_period / terminationGracePeriodSeconds / TimeoutStopSec.
	DefaultGrace            = 4 * time.Second
	DefaultSnapshotInterval = 30 * time.Second
	// DefaultMaxHeaderBytes bounds a request's head — its request line and header
	// fields — as nginx's large_client_header_buffers does (4 × 8 KiB, here 64
	// KiB in all): what a request may hold before a byte of it is forwarded.
	DefaultMaxHeaderBytes = 64 << 10
)

// Server is the lifecycle of `parity proxy`: the public listener (plain or TLS
// with HTTP/2), the admin listener, the periodic and final snapshot, and an orderly
// shutdown. Open binds and restores, Run serves until its context ends, then stops
// accepting, lets in-flight requests finish within Grace, waits for the pending
// comparisons, writes the snapshot and returns nil. Close releases what Open took
// when Run is not called.
type Server struct {
	// Addr is the public listen address (default DefaultListen); AdminAddr the
	// admin one (default DefaultAdminListen).
	Addr, AdminAddr string

	// Proxy serves the public listener and is closed, after the listener has
	// drained, so that its pending comparisons are observed before the snapshot.
	Proxy *Proxy

	// Aggregator is the Proxy's observer: restored from SnapshotFile on Open,
	// written to it every SnapshotInterval and on shutdown, and served live on the
	// admin listener. nil: no report, no snapshot.
	Aggregator *report.Aggregator

	// Admin is what the admin listener serves besides the defaults: Metrics
	// defaults to the Proxy's, Report and Snapshot to renderings of Aggregator;
	// readiness also requires Admin.Ready, when set.
	Admin Admin

	// RenderOptions shape the live HTML report.
	RenderOptions report.RenderOptions

	// SnapshotFile, when set, is where the aggregated state is kept across restarts.
	SnapshotFile     string
	SnapshotInterval time.Duration // default DefaultSnapshotInterval

	// TLSCertFile and TLSKeyFile, when both set, serve the public listener over TLS,
	// with HTTP/2 negotiated by ALPN.
	TLSCertFile, TLSKeyFile string

	// MaxHeaderBytes bounds the size of a request's head, request line and
	// header fields (0 = DefaultMaxHeaderBytes; net/http allows 4 KiB of slack);
	// a larger head is answered 431 by the server before the Proxy sees it.
	// The Proxy bounds the number of fields (Proxy.MaxHeaderCount).
	MaxHeaderBytes int

	// Grace bounds the wait for in-flight requests and then for pending
	// comparisons on shutdown (default DefaultGrace).
	Grace time.Duration

	// Background tasks run for the life of Run with its context (a config file
	// watch); Run waits for them on shutdown. An error is logged.
	Background []func(ctx context.Context) error

	// Logger receives lifecycle lines and the HTTP servers' own errors.
	Logger zerolog.Logger

	public, admin   *http.Server
	publicL, adminL net.Listener
	ready           atomic.Bool
	closeOnce       sync.Once  // Close, or the end of Run, released the listeners
	snapMu          sync.Mutex // serialises snapshot writes
}

// Open restores the snapshot, loads the TLS certificate and binds both listeners.
// Errors name the file or address at fault.
func (s *Server) Open() error {
	if s.Proxy == nil {
		return errors.New("server has no proxy")
	}
	if err := s.restore(); err != nil {
		return err
	}

	errLog := NetLog(s.Logger) // TLS handshake errors, bad requests: scrubbed, at debug
	s.public = &http.Server{
		Handler:           s.Proxy,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    s.maxHeaderBytes(),
		ErrorLog:          errLog,
	}
	if (s.TLSCertFile == "") != (s.TLSKeyFile == "") {
		return errors.New("TLS needs both a certificate and a key file")
	}
	if s.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.TLSCertFile, s.TLSKeyFile)
		if err != nil {
			return fmt.Errorf("load TLS certificate %s and key %s: %w", s.TLSCertFile, s.TLSKeyFile, err)
		}
		s.public.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	s.admin = &http.Server{
		Handler:           NewAdminHandler(s.adminConfig()),
		ReadHeaderTimeout: 10 * time.Second,
		MaxHeaderBytes:    s.maxHeaderBytes(),
		ErrorLog:          errLog,
	}

	var err error
	if s.publicL, err = net.Listen("tcp", s.addr()); err != nil {
		return fmt.Errorf("listen on %s: %w", s.addr(), err)
	}
	if s.adminL, err = net.Listen("tcp", s.adminAddr()); err != nil {
		s.publicL.Close()
		return fmt.Errorf("admin listen on %s: %w", s.adminAddr(), err)
	}
	return nil
}

// The Server's defaults, read where they are used; its fields are never written.
func (s *Server) addr() string         { return cmp.Or(s.Addr, DefaultListen) }
func (s *Server) adminAddr() string    { return cmp.Or(s.AdminAddr, DefaultAdminListen) }
func (s *Server) grace() time.Duration { return orDefault(s.Grace, DefaultGrace) }
func (s *Server) maxHeaderBytes() int  { return orDefault(s.MaxHeaderBytes, DefaultMaxHeaderBytes) }
func (s *Server) snapshotInterval() time.Duration {
	return orDefault(s.SnapshotInterval, DefaultSnapshotInterval)
}

// PublicAddress is the bound public address, after Open.
func (s *Server) PublicAddress() net.Addr { return s.publicL.Addr() }

// AdminAddress is the bound admin address, after Open.
func (s *Server) AdminAddress() net.Addr { return s.adminL.Addr() }

// restore adds the snapshot at SnapshotFile, when there is one, to the
// aggregator. A file that cannot be read is an error rather than a fresh start: the
// first periodic write would otherwise replace the counts it holds.
func (s *Server) restore() error {
	if s.SnapshotFile == "" || s.Aggregator == nil {
		return nil
	}
	snap, err := report.ReadSnapshotFile(s.SnapshotFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("restore snapshot %s: %w", s.SnapshotFile, err)
	}
	if err := s.Aggregator.Restore(snap); err != nil {
		return fmt.Errorf("restore snapshot %s: %w", s.SnapshotFile, err)
	}
	s.Logger.Info().Str("file", s.SnapshotFile).Int("routes", len(snap.Routes)).Msg("snapshot restored")
	return nil
}

func (s *Server) adminConfig() Admin {
	a := s.Admin
	if a.Metrics == nil {
		a.Metrics = s.Proxy.Metrics
	}
	if agg := s.Aggregator; agg != nil {
		if a.Report == nil {
			// The page judges on the histograms in memory; encoding them would be dead weight.
			a.Report = func(w io.Writer) error {
				snap, opts := agg.ForDisplay(s.RenderOptions)
				return report.RenderHTML(w, snap, opts)
			}
		}
		if a.Snapshot == nil {
			a.Snapshot = func(w io.Writer) error { return report.WriteSnapshot(w, agg.Snapshot()) }
			// The dashboard's summary is judged as its page is (RenderJSON applies
			// the acceptances); the full snapshot keeps raw counts.
			a.Summary = func(w io.Writer) error {
				snap, opts := agg.ForDisplay(s.RenderOptions)
				return report.RenderJSON(w, snap, opts)
			}
		}
	}
	extra := a.Ready
	a.Ready = func() bool { return s.ready.Load() && (extra == nil || extra()) }
	return a
}

// Run serves until ctx ends, then shuts down in order and returns nil; it returns
// an error only when a listener failed. Open must have succeeded.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	serveErr := make(chan error, 2)
	tlsOn := s.public.TLSConfig != nil // read before Serve sets up HTTP/2 on it
	var serving sync.WaitGroup
	serving.Go(func() {
		var err error
		if tlsOn {
			err = s.public.ServeTLS(s.publicL, "", "")
		} else {
			err = s.public.Serve(s.publicL)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			serveErr <- fmt.Errorf("serve %s: %w", s.addr(), err)
			cancel()
		}
	})
	serving.Go(func() {
		if err := s.admin.Serve(s.adminL); !errors.Is(err, http.ErrServerClosed) {
			serveErr <- fmt.Errorf("serve admin %s: %w", s.adminAddr(), err)
			cancel()
		}
	})
	var tasks sync.WaitGroup
	for _, task := range s.Background {
		tasks.Go(func() {
			if err := task(ctx); err != nil && ctx.Err() == nil {
				s.Logger.Error().Str("error", err.Error()).Msg("background task stopped")
			}
		})
	}
	if s.SnapshotFile != "" && s.Aggregator != nil {
		tasks.Go(func() { s.snapshotLoop(ctx) })
	}

	s.ready.Store(true)
	s.Logger.Info().Str("listen", s.publicL.Addr().String()).Str("admin", s.adminL.Addr().String()).
		Bool("tls", tlsOn).Msg("proxy serving")
	<-ctx.Done()

	// Shutdown: not ready, stop accepting and drain, finish the comparisons,
	// write the snapshot, then the admin listener.
	s.ready.Store(false)
	s.Logger.Info().Dur("grace", s.grace()).Msg("shutting down")
	graceCtx, graceCancel := context.WithTimeout(context.Background(), s.grace())
	defer graceCancel()
	if err := s.public.Shutdown(graceCtx); err != nil {
		s.Logger.Warn().Str("error", err.Error()).Msg("in-flight requests cut at the end of the grace period")
		s.public.Close()
	}
	// Comparisons get their own grace period: the requests' may be spent.
	closeCtx, closeCancel := context.WithTimeout(context.Background(), s.grace())
	defer closeCancel()
	if err := s.Proxy.Close(closeCtx); err != nil {
		s.Logger.Warn().Str("error", err.Error()).Msg("pending comparisons cancelled at the end of the grace period")
	}
	tasks.Wait()
	s.writeSnapshot()
	adminCtx, adminCancel := context.WithTimeout(context.Background(), time.Second)
	defer adminCancel()
	if err := s.admin.Shutdown(adminCtx); err != nil {
		s.admin.Close()
	}
	serving.Wait()
	s.closeOnce.Do(func() {}) // everything is released: a later Close has nothing to do
	close(serveErr)
	var errs []error
	for err := range serveErr {
		errs = append(errs, err)
	}
	s.Logger.Info().Msg("stopped")
	return errors.Join(errs...)
}

func (s *Server) snapshotLoop(ctx context.Context) {
	t := time.NewTicker(s.snapshotInterval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.writeSnapshot()
		}
	}
}

// writeSnapshot writes the aggregated state atomically; a failure is logged and the
// next interval tries again.
func (s *Server) writeSnapshot() {
	if s.SnapshotFile == "" || s.Aggregator == nil {
		return
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if err := report.WriteSnapshotFile(s.SnapshotFile, s.Aggregator.Snapshot()); err != nil {
		s.Logger.Error().Str("file", s.SnapshotFile).Str("error", err.Error()).Msg("snapshot not written")
	}
}

// Close releases the listeners when Run was not called (or to abort it).
func (s *Server) Close() error {
	var errs []error
	s.closeOnce.Do(func() {
		for _, srv := range []*http.Server{s.public, s.admin} {
			if srv != nil {
				srv.Close()
			}
		}
		for _, l := range []net.Listener{s.publicL, s.adminL} {
			if l != nil {
				if err := l.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
					errs = append(errs, err)
				}
			}
		}
		if s.Proxy != nil {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			s.Proxy.Close(ctx)
		}
	})
	return errors.Join(errs...)
}
