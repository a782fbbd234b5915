package shadow

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestAdminActionsAreSameOriginOnly sends the autopilot's POSTs to a real
// admin listener as a command-line client and as browsers on other sites
// would: only requests no other site could have made reach the action.
func TestAdminActionsAreSameOriginOnly(t *testing.T) {
	var acted atomic.Int64
	rollout := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			acted.Add(1)
		}
		io.WriteString(w, `{"mode":"autopilot"}`)
	})
	admin := httptest.NewServer(NewAdminHandler(Admin{Rollout: rollout}))
	defer admin.Close()
	_, port, _ := net.SplitHostPort(admin.Listener.Addr().String())
	own := "127.0.0.1:" + port

	tests := []struct {
		name, method, host, contentType, origin, site string
		status                                        int
	}{
		{"the status, read by anyone who reaches the listener", "GET", own, "", "", "", 200},
		{"the command-line client", "POST", own, "application/json", "", "", 200},
		{"the dashboard on the listener itself", "POST", own, "application/json", "http://" + own, "same-origin", 200},
		{"a cross-site form post", "POST", own, "application/x-www-form-urlencoded", "https://evil.example", "cross-site", 415},
		{"a cross-site text/plain post", "POST", own, "text/plain", "", "cross-site", 415},
		{"a cross-origin fetch that declared JSON", "POST", own, "application/json", "https://evil.example", "", 403},
		{"a same-site but other-origin page", "POST", own, "application/json", "", "same-site", 403},
		{"a page that rebound its DNS name", "POST", "evil.example:" + port, "application/json", "http://evil.example:" + port, "same-origin", 421},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := acted.Load()
			path := "/parity/rollout"
			if tc.method == "POST" {
				path += "/pause"
			}
			req, _ := http.NewRequest(tc.method, admin.URL+path, strings.NewReader("{}"))
			req.Host = tc.host
			for k, v := range map[string]string{"Content-Type": tc.contentType, "Origin": tc.origin, "Sec-Fetch-Site": tc.site} {
				if v != "" {
					req.Header.Set(k, v)
				}
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.status)
			}
			if got := acted.Load() - before; tc.method == "POST" && (got == 1) != (tc.status == 200) {
				t.Errorf("action reached: %v", got == 1)
			}
		})
	}
}
