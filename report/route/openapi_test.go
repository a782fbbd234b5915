package route

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseOpenAPI(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string // templates, in the document's order
		err       string
	}{
		{
			name: "JSON with parameters",
			doc: `{"openapi":"3.0.3","info":{"title":"portal","version":"1"},"paths":{
				"/api/v1/workflows":{"get":{}},
				"/api/v1/workflows/{id}":{"get":{},"delete":{}},
				"/api/v1/teams/{team}/boards/{board-id}":{"get":{}},
				"/api/v1/files/{name}.json":{"get":{}}}}`,
			want: []string{"/api/v1/workflows", "/api/v1/workflows/:id", "/api/v1/teams/:team/boards/:board_id", "/api/v1/files/:name"},
		},
		{
			name: "YAML below a server path",
			doc:  "openapi: 3.1.0\nservers:\n  - url: https://portal.example.com/api/v1/\npaths:\n  /customers/{customer}:\n    get: {}\n  /invoices/{invoice}:\n    get: {}\n",
			want: []string{"/api/v1/customers/:customer", "/api/v1/invoices/:invoice"},
		},
		{
			name: "relative server URL",
			doc:  `{"openapi":"3.0.0","servers":[{"url":"/api"}],"paths":{"/reports/{slug}":{}}}`,
			want: []string{"/api/reports/:slug"},
		},
		{name: "swagger 2", doc: `{"swagger":"2.0","paths":{}}`, err: "swagger 2.0 is not supported"},
		{name: "not OpenAPI", doc: `{"hello":"world"}`, err: "not an OpenAPI 3.x document"},
		{name: "no paths", doc: `{"openapi":"3.0.0"}`, err: "no paths"},
		{name: "broken JSON", doc: `{"openapi":"3.0.0","paths":{`, err: "openapi doc.json:"},
		{name: "path not canonical", doc: `{"openapi":"3.0.0","paths":{"/a/../b":{}}}`, err: "not canonical"},
		{name: "unclosed brace", doc: `{"openapi":"3.0.0","paths":{"/a/{b":{}}}`, err: "unclosed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ds, err := ParseOpenAPI("doc.json", []byte(tc.doc))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("err = %v, want one line containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range ds {
				got = append(got, d.Template.String())
				if d.Source != SourceOpenAPI || !strings.HasPrefix(d.Origin, "doc.json: /") {
					t.Errorf("declared %+v: want source openapi and origin doc.json: PATH", d)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("templates (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFromPattern(t *testing.T) {
	for _, tc := range []struct{ method, pattern, want string }{
		{"", "/api/mcp/*", "/api/mcp"},
		{"", "/api/auth/[...all]", "/api/auth"},
		{"", "/api/v1/", "/api/v1"},
		{"post", "/api/chat", "POST /api/chat"},
		{"", "/api/sessions/[id]", "/api/sessions/:id"},
		{"", "/teams/{team}", "/teams/:team"},
		{"", "/", "/"},
	} {
		got, ok := FromPattern(tc.method, tc.pattern)
		if !ok || got.String() != tc.want {
			t.Errorf("FromPattern(%q, %q) = %q, %v; want %q", tc.method, tc.pattern, got.String(), ok, tc.want)
		}
	}
	for _, bad := range []string{"api/x", "/api/%2F", "/a/../b"} {
		if _, ok := FromPattern("", bad); ok {
			t.Errorf("FromPattern(%q) accepted", bad)
		}
	}
}

func FuzzParseOpenAPI(f *testing.F) {
	f.Add([]byte(`{"openapi":"3.0.0","paths":{"/a/{b}":{}}}`))
	f.Add([]byte("openapi: 3.1.0\npaths:\n  /x: {}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := ParseOpenAPI("fuzz", data)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error of more than one line: %q", err)
			}
			return
		}
		for _, d := range ds {
			if !strings.HasPrefix(d.Template.Path, "/") {
				t.Errorf("template %q does not start with /", d.Template.Path)
			}
		}
	})
}
