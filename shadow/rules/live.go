package rules

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parity-dev/parity/report/route"
)

// DefaultDebounce is how long a config file written in place must stay quiet before
// it is loaded, where the kernel does not report its writer closing it (not Linux).
const DefaultDebounce = 100 * time.Millisecond

// Live is the current configuration and its Router, swapped atomically on reload so
// that every request reads one consistent pair without a lock. Reload and Watch load
// the file, apply the environment and Override, validate everything and only then
// swap: an invalid or half-written file is rejected and the old configuration keeps
// serving.
//
// The zero Live has no configuration; call Reload (or Store) once before serving.
type Live struct {
	// Path is the config file; "" means none (defaults, environment and Override).
	Path string
	// Getenv reads the environment on every load; nil = no environment overrides.
	Getenv func(string) string
	// Override is applied after the environment on every load (command-line flags);
	// nil = none. An error rejects the load.
	Override func(*Config) error
	// OnReload is called after a new configuration was swapped in; nil = nothing.
	OnReload func(*Config)
	// OnReject is called when a load failed and the old configuration stays; nil =
	// nothing. The error is one line naming the file and line.
	OnReject func(error)
	// Debounce is how long the file must stay quiet after an in-place write before
	// it is loaded, where its writer closing it is not reported; 0 = DefaultDebounce.
	Debounce time.Duration
	// Sources are the declared templates (matrix, plan) and the Learner every Router
	// keys by; a nil Learner is made once and kept across reloads. The
	// configuration's OpenAPI document is read on every load, after Declared.
	Sources Sources
	// OnWarn is called with a one-line error when something the configuration names
	// could not be read but serving goes on: an OpenAPI document that is missing,
	// unreachable or broken (the templates last read from it stay, if any); nil =
	// nothing.
	OnWarn func(error)

	cur atomic.Pointer[liveState]

	mu      sync.Mutex // serialises loads
	lastSum [sha256.Size]byte
	haveSum bool // lastSum is the content of the last load attempt

	watching func() // tests: called once the watches are in place

	openAPIRef string           // the document openAPI was last read from
	openAPI    []route.Declared // its templates

	// cutover is a controller's cutover over the file's (SetCutover), nil = none;
	// written with l.mu held, read without it. Never changed in place.
	cutover atomic.Pointer[CutoverState]
	// What the configuration in force was built from, to rebuild it when the
	// cutover changes: the file's content, or the Config given to Store.
	lastData []byte
	stored   *Config
}

// CutoverState is what a controller running in the process (the rollout's
// autopilot) says the candidate serves, in place of the file's cutover.routes,
// cutover.weights and cutover.rest: Routes entirely, as cutover.routes — empty
// means none here, never every /api/* —; Weights, prefix to percent, as
// cutover.weights; and Rest, the percent of every other /api/* path, as
// cutover.rest (a plan's step with no routes; 0 = none). It goes through the
// same validation as the file's. The master switch stays the file's
// cutover.enabled (FASTIFY_ENABLED), and FASTIFY_PROXY_ROUTES still wins over
// Routes.
type CutoverState struct {
	Routes  []string
	Weights map[string]int
	Rest    int
}

// applyTo puts the state in place of c's routes, weights and rest, on copies.
func (s *CutoverState) applyTo(c *CutoverConfig) {
	rest := s.Rest
	c.Routes = slices.Clone(s.Routes)
	c.Weights = maps.Clone(s.Weights)
	c.Rest = &rest
}

// Cutover returns a copy of the cutover set by SetCutover, nil when the file's is
// followed. It may be called from OnReload.
func (l *Live) Cutover() *CutoverState {
	c := l.cutover.Load()
	if c == nil {
		return nil
	}
	return c.clone()
}

func (s *CutoverState) clone() *CutoverState {
	return &CutoverState{Routes: slices.Clone(s.Routes), Weights: maps.Clone(s.Weights), Rest: s.Rest}
}

type liveState struct {
	cfg *Config
	rt  *Router
}

// Current returns the configuration and Router in force, (nil, nil) before the first
// successful load. Both are immutable.
func (l *Live) Current() (*Config, *Router) {
	s := l.cur.Load()
	if s == nil {
		return nil, nil
	}
	return s.cfg, s.rt
}

// Router returns the Router in force, nil before the first successful load.
func (l *Live) Router() *Router {
	_, rt := l.Current()
	return rt
}

// Enabled reports the master switch of the configuration in force —
// cutover.enabled, or FASTIFY_ENABLED over it —, false before the first load. While
// it is false nothing goes to the candidate, whatever SetCutover said: a controller
// reading false should stop.
func (l *Live) Enabled() bool {
	cfg, _ := l.Current()
	return cfg != nil && cfg.Cutover.Enabled
}

// SetCutover sets (c non-nil) or clears (nil) a controller's cutover: while set,
// it replaces the routes and weights of every configuration loaded, the file's
// and Store's, before the environment and Override are applied (so
// FASTIFY_ENABLED and FASTIFY_PROXY_ROUTES keep winning). The configuration in
// force is rebuilt with it at once, from the same file content (the OpenAPI
// document is not read again), and OnReload is called. An invalid state — a
// prefix covering /api/auth, a percent over 100 — is refused with the error and
// changes nothing. c is copied. SetCutover must not be called from OnReload or
// OnReject.
func (l *Live) SetCutover(c *CutoverState) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c != nil {
		c = c.clone()
		var alone Config // the state on its own, so that its errors name only it
		c.applyTo(&alone.Cutover)
		if err := alone.Validate(); err != nil {
			return fmt.Errorf("set cutover: %w", err)
		}
	}
	if l.cur.Load() == nil {
		l.cutover.Store(c) // applied by the first load
		return nil
	}
	var (
		cfg *Config
		rt  *Router
		err error
	)
	if l.stored != nil {
		cfg = withCutover(l.stored, c)
		rt, err = l.router(cfg, false)
	} else {
		cfg, rt, err = l.build(l.lastData, c, false)
	}
	if err != nil {
		return fmt.Errorf("set cutover: %w", err)
	}
	l.cutover.Store(c)
	l.swap(cfg, rt)
	return nil
}

// withCutover is cfg with the controller's cutover s in place, a copy when s is
// not nil.
func withCutover(cfg *Config, s *CutoverState) *Config {
	if s == nil {
		return cfg
	}
	c := *cfg
	s.applyTo(&c.Cutover)
	return &c
}

// Reload loads the file, applies the environment and Override, validates and swaps.
// On failure the old configuration stays, OnReject is called and the error returned;
// on success OnReload is called.
//
// Once a configuration is in force, an empty file is rejected too: it is most
// likely a writer between truncating and writing, and loading it would put the
// defaults in force. A file holding only a comment loads the defaults.
func (l *Live) Reload() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	data, err := l.read()
	if err != nil {
		return l.reject(err)
	}
	if l.Path != "" && l.cur.Load() != nil && len(bytes.TrimSpace(data)) == 0 {
		return l.reject(fmt.Errorf("%s: the config file is empty, most likely being written; the configuration in force stays", l.Path))
	}
	return l.load(data)
}

// Store validates cfg (the environment and Override are not applied; a cutover
// set by SetCutover is, on a copy), builds its Router and swaps it in, calling
// OnReload. An invalid cfg is rejected as by Reload.
func (l *Live) Store(cfg *Config) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	in := withCutover(cfg, l.cutover.Load())
	rt, err := l.router(in, true)
	if err != nil {
		return l.reject(err)
	}
	l.stored, l.lastData = cfg, nil
	l.swap(in, rt)
	return nil
}

// router builds cfg's Router over the Sources and the configuration's OpenAPI
// document, read again when readDoc is set, else as last read. l.mu is held.
func (l *Live) router(cfg *Config, readDoc bool) (*Router, error) {
	if l.Sources.Learner == nil {
		l.Sources.Learner = &route.Learner{}
	}
	src := l.Sources
	doc := l.openAPI
	if readDoc {
		doc = l.readOpenAPI(cfg.OpenAPI)
	}
	src.Declared = append(slices.Clip(src.Declared), doc...)
	return NewRouterFrom(cfg, src)
}

// readOpenAPI returns the templates of the OpenAPI document ref. A document that
// cannot be read is reported to OnWarn, and the templates last read from the same
// ref stay. l.mu is held.
func (l *Live) readOpenAPI(ref string) []route.Declared {
	if ref == "" {
		l.openAPIRef, l.openAPI = "", nil
		return nil
	}
	ds, err := LoadOpenAPI(context.Background(), ref)
	if err != nil {
		if ref != l.openAPIRef {
			l.openAPIRef, l.openAPI = ref, nil
		}
		if l.OnWarn != nil {
			if len(l.openAPI) > 0 {
				err = fmt.Errorf("%w; the %d templates read from it before stay", err, len(l.openAPI))
			} else {
				err = fmt.Errorf("%w; serving without its templates", err)
			}
			l.OnWarn(err)
		}
		return l.openAPI
	}
	l.openAPIRef, l.openAPI = ref, ds
	return ds
}

// errChanging is a config file that kept changing while it was read.
var errChanging = errors.New("the config file changed while it was read")

// read returns the file's content as of one moment: a read that a writer
// overlapped (the file's size or modification time moved, or what was read is
// not its size) is retried, so that the start of one version and the end of
// another are never taken for a configuration.
func (l *Live) read() ([]byte, error) {
	l.haveSum = false
	if l.Path == "" {
		return nil, nil
	}
	for attempt := 0; ; attempt++ {
		data, stable, err := readConfigOnce(l.Path)
		if err != nil {
			return nil, err
		}
		if !stable {
			if attempt < 10 {
				continue
			}
			return nil, fmt.Errorf("%s: %w", l.Path, errChanging)
		}
		l.lastSum, l.haveSum = sha256.Sum256(data), true
		return data, nil
	}
}

func readConfigOnce(path string) (data []byte, stable bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	before, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("read config %s: %w", path, err)
	}
	data, err = io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, false, fmt.Errorf("read config %s: %w", path, err)
	}
	if len(data) > maxConfigSize {
		return nil, false, fmt.Errorf("%s: config is larger than %d bytes", path, maxConfigSize)
	}
	after, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("read config %s: %w", path, err)
	}
	stable = before.Size() == after.Size() && before.ModTime().Equal(after.ModTime()) && int64(len(data)) == after.Size()
	return data, stable, nil
}

// load builds the configuration of data (the file's content) and swaps it in.
// l.mu is held.
func (l *Live) load(data []byte) error {
	cfg, rt, err := l.build(data, l.cutover.Load(), true)
	if err != nil {
		return l.reject(err)
	}
	l.stored, l.lastData = nil, data
	l.swap(cfg, rt)
	return nil
}

// build parses data, puts the controller's cutover cut in place (nil = none),
// applies the environment and Override, and builds the Router, reading the
// OpenAPI document again when readDoc is set. l.mu is held.
func (l *Live) build(data []byte, cut *CutoverState, readDoc bool) (*Config, *Router, error) {
	cfg := &Config{}
	if l.Path != "" {
		var err error
		if cfg, err = ParseConfig(l.Path, data); err != nil {
			return nil, nil, err
		}
	}
	if cut != nil {
		cut.applyTo(&cfg.Cutover)
	}
	if err := cfg.ApplyEnv(l.Getenv); err != nil {
		return nil, nil, err
	}
	if l.Override != nil {
		if err := l.Override(cfg); err != nil {
			return nil, nil, err
		}
	}
	rt, err := l.router(cfg, readDoc)
	if err != nil {
		return nil, nil, err
	}
	return cfg, rt, nil
}

func (l *Live) swap(cfg *Config, rt *Router) {
	l.cur.Store(&liveState{cfg: cfg, rt: rt})
	if l.OnReload != nil {
		l.OnReload(cfg)
	}
}

func (l *Live) reject(err error) error {
	if l.OnReject != nil {
		l.OnReject(err)
	}
	return err
}

// reloadIfChanged loads the file when its content differs from the last attempt, so
// that unrelated events in the directory neither reload nor reject twice.
func (l *Live) reloadIfChanged() {
	l.mu.Lock()
	defer l.mu.Unlock()
	prev, had := l.lastSum, l.haveSum
	data, err := l.read()
	if errors.Is(err, errChanging) {
		return // still being written: its next event comes
	}
	if err != nil {
		l.reject(err)
		return
	}
	if len(bytes.TrimSpace(data)) == 0 {
		// Most likely a writer truncated the file and has not written yet: wait
		// for its next event rather than fall back to the defaults.
		l.haveSum = false
		return
	}
	if had && prev == l.lastSum {
		return
	}
	l.load(data)
}

// Watch reloads on every signal received from sig (SIGHUP; nil = none) and whenever
// the config file changes — edited in place, replaced by rename, or swapped through a
// symlink as Kubernetes ConfigMaps are. It watches the file and each directory entry
// on its way (the symlinks it goes through, re-resolved after each change), not
// their neighbours: a log file written beside the config changes nothing. A rename
// or a swap is loaded at once; a file written in place is loaded once its writer
// has closed it (on Linux; elsewhere after Debounce of quiet), however long the
// writer pauses in between. A file whose content did not change is not reloaded,
// one that does not parse is rejected, and an empty file (a writer between
// truncating and writing) is waited out, not loaded. Watch returns nil when ctx is
// cancelled, leaving no goroutine behind.
func (l *Live) Watch(ctx context.Context, sig <-chan os.Signal) error {
	if l.Path == "" {
		l.waitSignals(ctx, sig)
		return nil
	}
	abs, err := filepath.Abs(l.Path)
	if err != nil {
		return fmt.Errorf("watch config %s: %w", l.Path, err)
	}
	w, err := newFileWatch(abs)
	if err != nil {
		return fmt.Errorf("watch config %s: %w", l.Path, err)
	}
	defer w.Close()
	if l.watching != nil {
		l.watching()
	}
	l.reloadIfChanged() // it may have changed before the watches were in place

	debounce := l.Debounce
	if debounce <= 0 {
		debounce = DefaultDebounce
	}
	timer := time.NewTimer(debounce)
	timer.Stop()
	defer timer.Stop()
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-sig:
			if !ok {
				sig = nil
				continue
			}
			l.Reload()
			w.rewatch()
		case c, ok := <-w.Changes():
			if !ok {
				return nil
			}
			switch {
			case c == changeWriting && w.closeReported():
				w.rewatch() // a new file: its close is what to wait for
			case c == changeWriting:
				timer.Reset(debounce)
				fire = timer.C
			default:
				l.reloadIfChanged()
				w.rewatch()
			}
		case err, ok := <-w.Errors():
			if !ok {
				return nil
			}
			l.reject(fmt.Errorf("watch config %s: %w", l.Path, err))
		case <-fire:
			fire = nil
			l.reloadIfChanged()
			w.rewatch()
		}
	}
}

func (l *Live) waitSignals(ctx context.Context, sig <-chan os.Signal) {
	if l.watching != nil {
		l.watching()
	}
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-sig:
			if !ok {
				<-ctx.Done()
				return
			}
			l.Reload()
		}
	}
}
