package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte("ok\n"))
	}))
	defer ok.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "draining", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"2xx is healthy", []string{ok.URL + "/healthz"}, exitOK, ""},
		{"404 is not", []string{ok.URL + "/nothing"}, exitDifferent, "404"},
		{"503 is not", []string{down.URL + "/healthz"}, exitDifferent, "503"},
		{"nothing listening is not", []string{closedURL + "/healthz"}, exitDifferent, "connection refused"},
		{"a bad URL is a usage error", []string{"ftp://x"}, exitUsage, `"ftp://x"`},
		{"two URLs are a usage error", []string{ok.URL, ok.URL}, exitUsage, "at most one URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runBinary(t, nil, append([]string{"healthcheck"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.err) {
				t.Errorf("healthcheck %v: code %d stderr %q, want %d and %q", tc.args, code, stderr, tc.code, tc.err)
			}
		})
	}
}
