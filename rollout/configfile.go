package rollout

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// ConfigFile is the Applier of a fleet: it writes the cutover into the
// config every replica reloads — a file, or a Kubernetes ConfigMap's key —
// and reads the master switch and the rollout: section from it.
//
// It reads the config when Load is called and answers Enabled, Settings,
// Judged and SetCutover from that read until the next Load (the first of them
// loads it when nothing was read yet); Attach has the controller load it once
// per evaluation and action. It is safe for concurrent use.
type ConfigFile struct {
	// Path is the config file; it names the config in errors with a Store too.
	Path string
	// Store reads and writes the config; nil = the file at Path, written
	// atomically (report.WriteFileAtomic: a replica reloads the whole new file
	// at once), never over a change made since it was read.
	Store Store
	// Getenv reads FASTIFY_ENABLED over the config, as the replicas do; nil =
	// the config alone.
	Getenv func(string) string

	mu   sync.Mutex
	file *fileStore // the Store when Store is nil
	last *loaded    // the last read, nil before the first
}

// loaded is one read of the config: its bytes and what they mean, or why it
// did not load.
type loaded struct {
	data    []byte // nil when the read failed
	cfg     *rules.Config
	err     error
	enabled bool // cutover.enabled, FASTIFY_ENABLED over it
}

// Store is where a fleet's config lives.
type Store interface {
	Read() ([]byte, error)
	// Write replaces what Read returned with data; it fails rather than
	// overwrite a change made since (a ConfigMap's resourceVersion, a file's
	// identity, size and modification time).
	Write(data []byte) error
}

// fileStore is a config file, and the file as last read or written.
type fileStore struct {
	path string
	mu   sync.Mutex
	seen os.FileInfo // nil before the first read
}

// Settle is how long a config file must have stayed unchanged before the
// fleet's controller reads it: a person's editor or a script writing it in
// place is never read half-way, which would read as switched off or, written
// back with the cutover, lose the rest of the file.
var Settle = 200 * time.Millisecond

func (f *fileStore) Read() ([]byte, error) {
	deadline := time.Now().Add(10 * Settle)
	for {
		before, err := os.Stat(f.path)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		if quiet := time.Since(before.ModTime()); quiet < Settle {
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("read config: %s keeps changing; read again at the next evaluation", f.path)
			}
			time.Sleep(min(Settle-quiet, Settle))
			continue
		}
		data, err := os.ReadFile(f.path)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		after, err := os.Stat(f.path)
		if err != nil {
			return nil, fmt.Errorf("read config: %w", err)
		}
		if sameFile(before, after) && int64(len(data)) == after.Size() {
			f.mu.Lock()
			f.seen = after
			f.mu.Unlock()
			return data, nil
		}
	}
}

// Write replaces the file read last, unless it changed since: a person's
// edit is read at the next evaluation, never overwritten.
func (f *fileStore) Write(data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		return fmt.Errorf("config %s written before it was read", f.path)
	}
	now, err := os.Stat(f.path)
	if err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	if !sameFile(f.seen, now) {
		return fmt.Errorf("config %s changed since it was read; not written, read again at the next evaluation", f.path)
	}
	if err := writeAtomic(f.path, data); err != nil {
		return err
	}
	if f.seen, err = os.Stat(f.path); err != nil {
		f.seen = nil
	}
	return nil
}

// sameFile reports whether a and b are the same file, unchanged: the same
// inode, size and modification time.
func sameFile(a, b os.FileInfo) bool {
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

func writeAtomic(path string, data []byte) error {
	return report.WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write(data); return err })
}

func (f *ConfigFile) store() Store {
	if f.Store != nil {
		return f.Store
	}
	if f.file == nil {
		f.file = &fileStore{path: f.Path}
	}
	return f.file
}

// Attach makes f the controller's config: its rollout: section, its
// acceptances, its master switch and where its cutover is written, the
// cutover put in force at every evaluation (others may write the config too),
// and the config read once at the start of every evaluation and action.
func (f *ConfigFile) Attach(c *Controller) {
	c.Settings, c.Judged, c.Applier, c.Reassert = f.Settings, f.Judged, f, true
	c.Reload = func() { f.Load() }
}

// Load reads and validates the config; Enabled, Settings, Judged and
// SetCutover answer from this read until the next.
func (f *ConfigFile) Load() (*rules.Config, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.read()
	return l.cfg, l.err
}

// read reads the config and keeps it as the last read. f.mu is held.
func (f *ConfigFile) read() *loaded {
	data, err := f.store().Read()
	if err != nil {
		f.last = &loaded{err: err}
		return f.last
	}
	cfg, err := rules.LoadConfigData(f.Path, data)
	f.last = &loaded{data: data, cfg: cfg, err: err, enabled: err == nil && f.enabled(data)}
	return f.last
}

// enabled reads the master switch of a valid config as the replicas do:
// FASTIFY_ENABLED over cutover.enabled. The environment is applied to a
// config of its own, so that what is written back is the file's.
func (f *ConfigFile) enabled(data []byte) bool {
	cfg, err := rules.ParseConfig(f.Path, data)
	if err != nil || cfg.ApplyEnv(f.Getenv) != nil {
		return false
	}
	return cfg.Cutover.Enabled
}

// current is the last read, read now when there was none.
func (f *ConfigFile) current() *loaded {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last == nil {
		return f.read()
	}
	return f.last
}

// Enabled reports cutover.enabled of the config (FASTIFY_ENABLED over it); a
// config that does not load reads as false: nothing may move on it.
func (f *ConfigFile) Enabled() bool {
	return f.current().enabled
}

// Settings returns the config's rollout: section (the defaults when it does
// not load).
func (f *ConfigFile) Settings() rules.RolloutConfig {
	l := f.current()
	if l.err != nil {
		return rules.RolloutConfig{}
	}
	return l.cfg.Rollout
}

// Judged applies the config's acceptances in force now to s, as `parity
// gate --config` does; s as it is when the config does not load.
func (f *ConfigFile) Judged(s *report.Snapshot) *report.Snapshot {
	l := f.current()
	if l.err != nil {
		return s
	}
	return report.RenderOptions{Accepted: func() []report.Acceptance { return l.cfg.Accept }}.Judged(s)
}

// SetCutover writes c as the config's cutover.routes and cutover.weights.
// Every other line stays as it was, byte for byte; the cutover: section is
// written anew with its other keys and comments. The result is validated
// before it is written: an invalid config is never left.
func (f *ConfigFile) SetCutover(c *rules.CutoverState) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last == nil {
		f.read()
	}
	data := f.last.data
	if data == nil {
		return f.last.err
	}
	out, err := withCutover(data, c)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	if bytes.Equal(out, data) {
		return nil
	}
	cfg, err := rules.LoadConfigData(f.Path, out)
	if err != nil {
		return fmt.Errorf("the cutover would make the config invalid, not written: %w", err)
	}
	if err := f.store().Write(out); err != nil {
		return err
	}
	f.last = &loaded{data: out, cfg: cfg, enabled: f.enabled(out)}
	return nil
}

// withCutover returns the config data with its cutover: section's routes and
// weights set to c.
func withCutover(data []byte, c *rules.CutoverState) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse: %v", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode, Tag: "!!map"}}}
	}
	root := doc.Content[0]
	start, end := -1, -1 // lines of the cutover section, 1-based, end exclusive
	var section *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "cutover" {
			section = root.Content[i+1]
			start = root.Content[i].Line
			if i+2 < len(root.Content) {
				end = root.Content[i+2].Line
				if hc := root.Content[i+2].HeadComment; hc != "" {
					end -= strings.Count(hc, "\n") + 1
				}
			}
		}
	}
	if section == nil || section.Kind != yaml.MappingNode {
		section = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	setKey(section, "routes", stringsNode(c.Routes))
	setKey(section, "weights", weightsNode(c.Weights))
	// Always written: with no routes and no weights, a file without rest
	// would send every /api/* path to the candidate.
	setKey(section, "rest", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(c.Rest)})
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "cutover"}, section}}); err != nil {
		return nil, err
	}
	enc.Close()
	lines := strings.SplitAfter(string(data), "\n")
	if start < 0 {
		text := string(data)
		if text != "" && !strings.HasSuffix(text, "\n") {
			text += "\n"
		}
		return []byte(text + buf.String()), nil
	}
	if end < 0 || end > len(lines)+1 {
		end = len(lines) + 1
	}
	// Blank lines before the next key stay with it.
	for end-1 > start && strings.TrimSpace(lines[end-2]) == "" {
		end--
	}
	var out strings.Builder
	for _, l := range lines[:start-1] {
		out.WriteString(l)
	}
	out.WriteString(buf.String())
	for _, l := range lines[end-1:] {
		out.WriteString(l)
	}
	return []byte(out.String()), nil
}

func setKey(m *yaml.Node, key string, v *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v.LineComment = m.Content[i+1].LineComment
			m.Content[i+1] = v
			return
		}
	}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
}

func stringsNode(ss []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
	for _, s := range ss {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s})
	}
	return n
}

func weightsNode(m map[string]int) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
	for _, k := range sortedKeys(m) {
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(m[k])})
	}
	return n
}
