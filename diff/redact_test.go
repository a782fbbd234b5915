package diff

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRedact(t *testing.T) {
	a, b := Redact("secret-1"), Redact("secret-2")
	if a == b || a != Redact("secret-1") {
		t.Errorf("Redact: equal values must give equal markers, different ones different: %q %q", a, b)
	}
	if !strings.HasPrefix(a, "[redacted:") || len(a) != len("[redacted:12345678]") || strings.Contains(a, "secret") {
		t.Errorf("Redact(%q) = %q, want [redacted:<8 hex>]", "secret-1", a)
	}
}

func TestIsSecret(t *testing.T) {
	headers := map[string]bool{
		"Authorization": true, "proxy-authorization": true, "Cookie": true, "set-cookie": true,
		"X-Api-Key": true, "Api-Key": true, "X-Auth-Token": true, "X-Csrf-Token": true,
		"Content-Type": false, "X-Request-Id": false, "Www-Authenticate": false, "Vary": false,
	}
	for name, want := range headers {
		if got := IsSecretHeader(name); got != want {
			t.Errorf("IsSecretHeader(%q) = %v, want %v", name, got, want)
		}
	}
	keys := map[string]bool{
		"password": true, "newPassword": true, "PASSWD": true, "token": true, "accessToken": true, "refresh_token": true,
		"secret": true, "clientSecret": true, "apiKey": true, "api_key": true, "key": true, "sessionId": true,
		"credentials": true, "Authorization": true, "cookie": true,
		"title": false, "id": false, "name": false, "email": false, "messageCount": false,
	}
	for k, want := range keys {
		if got := IsSecretKey(k); got != want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", k, got, want)
		}
	}
}

func TestRedactHeader(t *testing.T) {
	in := http.Header{
		"Authorization": {"Bearer abc.def"},
		"Cookie":        {"sid=1; theme=dark"},
		"Set-Cookie":    {"sid=2; Path=/; HttpOnly"},
		"X-Api-Key":     {"k"},
		"Content-Type":  {"application/json"},
	}
	want := http.Header{
		"Authorization": {"Bearer " + Redact("abc.def")},
		"Cookie":        {"sid=" + Redact("1") + "; theme=" + Redact("dark")},
		"Set-Cookie":    {"sid=" + Redact("2") + "; Path=/; HttpOnly"},
		"X-Api-Key":     {Redact("k")},
		"Content-Type":  {"application/json"},
	}
	got := RedactHeader(in)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RedactHeader (-want +got):\n%s", diff)
	}
	if in.Get("Authorization") != "Bearer abc.def" {
		t.Error("RedactHeader changed its input")
	}
}

func TestRedactJSON(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"nothing secret", `{"a":1,"b":"x"}`, `{"a":1,"b":"x"}`},
		{"top level", `{"password":"hunter2","n":1}`, `{"password":"` + Redact("hunter2") + `","n":1}`},
		{"nested", `{"user":{"name":"a","apiKey":"k","meta":[{"token":12}]}}`,
			`{"user":{"name":"a","apiKey":"` + Redact("k") + `","meta":[{"token":"` + Redact("12") + `"}]}}`},
		{"array under a secret key", `{"apiKeys":["a","b"]}`, `{"apiKeys":["` + Redact("a") + `","` + Redact("b") + `"]}`},
		{"objects decide by their own keys", `{"session":{"id":1,"token":"t"}}`, `{"session":{"id":1,"token":"` + Redact("t") + `"}}`},
		{"escaped text is redacted by its value", `{"secret":"caf\u00e9"}`, `{"secret":"` + Redact("café") + `"}`},
		{"null and booleans stay", `{"password":null,"token":false}`, `{"password":null,"token":false}`},
		{"not JSON is unchanged", `{"password":"x"`, `{"password":"x"`},
		{"deep", strings.Repeat(`{"a":`, 10000) + `{"token":"t"}` + strings.Repeat(`}`, 10000),
			strings.Repeat(`{"a":`, 10000) + `{"token":"` + Redact("t") + `"}` + strings.Repeat(`}`, 10000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, string(RedactJSON([]byte(tc.in)))); diff != "" {
				t.Errorf("RedactJSON (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRedactQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"limit=10&offset=0", "limit=10&offset=0"},
		{"token=abc&limit=10", "token=" + Redact("abc") + "&limit=10"},
		{"access_token=a%20b", "access_token=" + Redact("a b")},
		{"api_key=1&password=2&secret=3&code=4&sig=5", "api_key=" + Redact("1") + "&password=" + Redact("2") + "&secret=" + Redact("3") + "&code=" + Redact("4") + "&sig=" + Redact("5")},
		{"flag&token", "flag&token"},
	}
	for _, tc := range tests {
		if got := RedactQuery(tc.in); got != tc.want {
			t.Errorf("RedactQuery(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
