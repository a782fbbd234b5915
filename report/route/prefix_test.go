package route

import "testing"

func TestUnder(t *testing.T) {
	tests := []struct {
		path, prefix string
		want, fold   bool
	}{
		{"/api/health", "/api/health", true, true},
		{"/api/health/x", "/api/health", true, true},
		{"/api/healthz", "/api/health", false, false},
		{"/api/health", "/api/health/", false, false},
		{"/api/health/", "/api/health/", true, true},
		{"/api/healthz", "/api/", true, true},
		{"/API/Health", "/api/health", false, true},
		{"/api", "/api/health", false, false},
		{"/x", "", true, true},
		{"", "/api", false, false},
	}
	for _, tc := range tests {
		if got := Under(tc.path, tc.prefix); got != tc.want {
			t.Errorf("Under(%q, %q) = %v, want %v", tc.path, tc.prefix, got, tc.want)
		}
		if got := UnderFold(tc.path, tc.prefix); got != tc.fold {
			t.Errorf("UnderFold(%q, %q) = %v, want %v", tc.path, tc.prefix, got, tc.fold)
		}
	}
}

// TestAuthScanner holds the two readings of the one auth scanner side by side: on a
// canonical path the segment must end after "auth"; on a raw path anything that
// does not continue the name counts.
func TestAuthScanner(t *testing.T) {
	tests := []struct {
		s             string
		isAuth, reads bool
	}{
		{"/api/auth", true, true},
		{"/api/auth/", true, true},
		{"/API/Auth/x", true, true},
		{"/api/auth/..;/x", true, true},
		{"/API//Auth;v=1", false, true},
		{"/api\\auth", true, true},
		{"/%61pi/%61uth/x", true, true},
		{"/api/auth%2Fx", false, true},
		{"/api/auth.", false, false},
		{"/api/authors", false, false},
		{"/api/aut", false, false},
		{"/api/sessions", false, false},
		{"/api/x/../auth", false, false}, // resolved by Canonicalize first
		{"", false, false},
	}
	for _, tc := range tests {
		if got := IsAuth(tc.s); got != tc.isAuth {
			t.Errorf("IsAuth(%q) = %v, want %v", tc.s, got, tc.isAuth)
		}
		if got := ReadsAsAuth(tc.s); got != tc.reads {
			t.Errorf("ReadsAsAuth(%q) = %v, want %v", tc.s, got, tc.reads)
		}
	}
}

func TestCoversAuth(t *testing.T) {
	for prefix, want := range map[string]bool{
		"/api/auth": true, "/API/AUTH": true, "/api/auth/": true, "/api/auth/callback": true,
		"/api": true, "/api/": true, "/": true, "/Api/": true,
		"/api/authors": false, "/api/v1": false, "/api/au": false, "/static/": false,
	} {
		if got := CoversAuth(prefix); got != want {
			t.Errorf("CoversAuth(%q) = %v, want %v", prefix, got, want)
		}
	}
}
