package rollout

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/parity-dev/parity/report"
	"github.com/parity-dev/parity/shadow/rules"
)

// ConfigFile is the Applier of a fleet: it writes the cutover into the
// config file every replica reloads, and reads the master switch from it.
type ConfigFile struct {
	// Path is the config file.
	Path string
	// Getenv reads FASTIFY_ENABLED over the file, as the replicas do; nil =
	// the file alone.
	Getenv func(string) string
}

// Enabled reports cutover.enabled of the file (FASTIFY_ENABLED over it); a
// file that does not load reads as false: nothing may move on it.
func (f *ConfigFile) Enabled() bool {
	cfg, err := rules.LoadConfig(f.Path)
	if err != nil {
		return false
	}
	if cfg.ApplyEnv(f.Getenv) != nil {
		return false
	}
	return cfg.Cutover.Enabled
}

// Settings returns the file's rollout: section (the defaults when it does not load).
func (f *ConfigFile) Settings() rules.RolloutConfig {
	cfg, err := rules.LoadConfig(f.Path)
	if err != nil {
		return rules.RolloutConfig{}
	}
	return cfg.Rollout
}

// SetCutover writes c as the file's cutover.routes and cutover.weights,
// atomically (report.WriteFileAtomic: a replica reloads the whole new file at
// once). Every other line of the file stays as it was, byte for byte; the
// cutover: section is written anew with its other keys and comments. The
// result is validated before it is written: an invalid file is never left.
func (f *ConfigFile) SetCutover(c *rules.CutoverState) error {
	data, err := os.ReadFile(f.Path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	out, err := withCutover(data, c)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	if bytes.Equal(out, data) {
		return nil
	}
	cfg, err := rules.ParseConfig(f.Path, out)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return fmt.Errorf("the cutover would make the config invalid, not written: %w", err)
	}
	return report.WriteFileAtomic(f.Path, func(w io.Writer) error { _, err := w.Write(out); return err })
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
