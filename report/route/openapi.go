package route

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParseOpenAPI reads the route templates of an OpenAPI 3.x document, JSON or YAML:
// each key of "paths", below the path of the first server's URL when it has one
// ("servers: [{url: /api/v1}]"), with every "{param}" segment a parameter
// (":param"). Only "openapi" and the keys of "servers" and "paths" are read; the rest
// of the document is not validated. name is the document's file or URL for the
// origins and for errors, which are one line.
func ParseOpenAPI(name string, data []byte) ([]Declared, error) {
	var doc struct {
		OpenAPI string `yaml:"openapi"`
		Swagger string `yaml:"swagger"`
		Servers []struct {
			URL string `yaml:"url"`
		} `yaml:"servers"`
		Paths yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("openapi %s: %s", name, oneLine(err.Error()))
	}
	switch {
	case doc.Swagger != "":
		return nil, fmt.Errorf("openapi %s: swagger %s is not supported (want OpenAPI 3.x)", name, doc.Swagger)
	case !strings.HasPrefix(doc.OpenAPI, "3."):
		return nil, fmt.Errorf("openapi %s: not an OpenAPI 3.x document (openapi: %q)", name, doc.OpenAPI)
	case doc.Paths.Kind != yaml.MappingNode:
		return nil, fmt.Errorf("openapi %s: no paths", name)
	}
	base := ""
	if len(doc.Servers) > 0 {
		if u, err := url.Parse(doc.Servers[0].URL); err == nil && !strings.Contains(u.Path, "{") {
			base = strings.TrimSuffix(u.Path, "/")
		}
	}
	var out []Declared
	for i := 0; i+1 < len(doc.Paths.Content); i += 2 {
		raw := doc.Paths.Content[i].Value
		t, err := openAPITemplate(base + raw)
		if err != nil {
			return nil, fmt.Errorf("openapi %s: line %d: %v", name, doc.Paths.Content[i].Line, err)
		}
		out = append(out, Declared{Template: t, Source: SourceOpenAPI, Origin: name + ": " + raw})
	}
	return out, nil
}

// openAPITemplate turns an OpenAPI path ("/teams/{team}/boards/{board_id}") into a
// template; a segment holding a "{param}" anywhere is a parameter as a whole.
func openAPITemplate(p string) (Template, error) {
	var t Template
	if !strings.HasPrefix(p, "/") {
		return t, fmt.Errorf("path %q does not start with /", p)
	}
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, seg := range segs {
		open := strings.IndexByte(seg, '{')
		if open < 0 {
			continue
		}
		end := strings.IndexByte(seg[open:], '}')
		if end < 0 {
			return t, fmt.Errorf("path %q: unclosed {", p)
		}
		segs[i] = ":" + paramIdent(seg[open+1:open+end])
	}
	path := "/" + strings.Join(slices.DeleteFunc(segs, func(s string) bool { return s == "" }), "/")
	if canon, amb := Canonicalize(path); amb || canon != path {
		return t, fmt.Errorf("path %q is not canonical", p)
	}
	t.setPath(path)
	return t, nil
}

// paramIdent makes an OpenAPI parameter name a template parameter name: bytes other
// than letters, digits and "_" become "_", and a leading digit gets a "_".
func paramIdent(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' {
		b = append([]byte{'_'}, b...)
	}
	return string(b)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
