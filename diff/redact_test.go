package diff

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testRedactor is a deployment's Redactor in these tests.
var testRedactor = mustRedactor([]byte("diff-test-key-0123456789"))

func mustRedactor(key []byte) *Redactor {
	r, err := NewRedactor(key)
	if err != nil {
		panic(err)
	}
	return r
}

// TestRedactionMarkerIsKeyed: equal secrets give equal markers under one key (a
// deployment, or replicas sharing its key), and the markers of two keys differ;
// without a key, a marker carries no digest at all.
func TestRedactionMarkerIsKeyed(t *testing.T) {
	a, b := testRedactor.Mark("secret-1"), testRedactor.Mark("secret-2")
	replica := mustRedactor([]byte("diff-test-key-0123456789"))
	other := mustRedactor([]byte("another-deployment-key!!"))
	if a == b || a != testRedactor.Mark("secret-1") || a != replica.Mark("secret-1") {
		t.Errorf("equal values under one key must give equal markers, different ones different: %q %q %q", a, b, replica.Mark("secret-1"))
	}
	if other.Mark("secret-1") == a {
		t.Errorf("two deployments' keys give the same marker %q", a)
	}
	if !strings.HasPrefix(a, "[redacted:") || len(a) != len("[redacted:123456789abc]") || strings.Contains(a, "secret") {
		t.Errorf("Mark(%q) = %q, want [redacted:<12 hex>]", "secret-1", a)
	}
	var none *Redactor
	if got := none.Mark("secret-1"); got != "[redacted]" {
		t.Errorf("unkeyed Mark = %q, want [redacted]", got)
	}
	if _, err := NewRedactor([]byte("short")); err == nil {
		t.Error("NewRedactor took a 5-byte key")
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
		"Authorization": {"Bearer " + testRedactor.Mark("abc.def")},
		"Cookie":        {"sid=" + testRedactor.Mark("1") + "; theme=" + testRedactor.Mark("dark")},
		"Set-Cookie":    {"sid=" + testRedactor.Mark("2") + "; Path=/; HttpOnly"},
		"X-Api-Key":     {testRedactor.Mark("k")},
		"Content-Type":  {"application/json"},
	}
	got := testRedactor.Header(in)
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
		{"top level", `{"password":"hunter2","n":1}`, `{"password":"` + testRedactor.Mark("hunter2") + `","n":1}`},
		{"nested", `{"user":{"name":"a","apiKey":"k","meta":[{"token":12}]}}`,
			`{"user":{"name":"a","apiKey":"` + testRedactor.Mark("k") + `","meta":[{"token":"` + testRedactor.Mark("12") + `"}]}}`},
		{"array under a secret key", `{"apiKeys":["a","b"]}`, `{"apiKeys":["` + testRedactor.Mark("a") + `","` + testRedactor.Mark("b") + `"]}`},
		{"other objects decide by their own keys", `{"user":{"id":1,"token":"t"}}`, `{"user":{"id":1,"token":"` + testRedactor.Mark("t") + `"}}`},
		{"everything under a secret key, whatever its names", `{"session":{"id":1,"token":"t"}}`,
			`{"session":{"id":"` + testRedactor.Mark("1") + `","token":"` + testRedactor.Mark("t") + `"}}`},
		{"a value nested under a secret key", `{"password2":{"value":"hunter2"},"n":1}`, `{"password2":{"value":"` + testRedactor.Mark("hunter2") + `"},"n":1}`},
		{"short secret names", `{"credentials":{"pass":"p1"},"user":{"pass":"p2","jwt":"e.y.j","userPass":"p3","compass":"north"}}`,
			`{"credentials":{"pass":"` + testRedactor.Mark("p1") + `"},"user":{"pass":"` + testRedactor.Mark("p2") + `","jwt":"` + testRedactor.Mark("e.y.j") +
				`","userPass":"` + testRedactor.Mark("p3") + `","compass":"north"}}`},
		{"arrays of objects under a secret key", `{"apiKeys":[{"id":"a"},[1]]}`,
			`{"apiKeys":[{"id":"` + testRedactor.Mark("a") + `"},["` + testRedactor.Mark("1") + `"]]}`},
		{"escaped text is redacted by its value", `{"secret":"caf\u00e9"}`, `{"secret":"` + testRedactor.Mark("café") + `"}`},
		{"null and booleans are redacted too", `{"password":null,"token":false,"ok":true}`,
			`{"password":"` + testRedactor.Mark("null") + `","token":"` + testRedactor.Mark("false") + `","ok":true}`},
		{"not JSON is unchanged", `{"password":"x"`, `{"password":"x"`},
		{"deep", strings.Repeat(`{"a":`, 10000) + `{"token":"t"}` + strings.Repeat(`}`, 10000),
			strings.Repeat(`{"a":`, 10000) + `{"token":"` + testRedactor.Mark("t") + `"}` + strings.Repeat(`}`, 10000)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, string(testRedactor.JSON([]byte(tc.in)))); diff != "" {
				t.Errorf("RedactJSON (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRedactQuery(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"limit=10&offset=0", "limit=10&offset=0"},
		{"token=abc&limit=10", "token=" + testRedactor.Mark("abc") + "&limit=10"},
		{"access_token=a%20b", "access_token=" + testRedactor.Mark("a b")},
		{"api_key=1&password=2&secret=3&code=4&sig=5", "api_key=" + testRedactor.Mark("1") + "&password=" + testRedactor.Mark("2") + "&secret=" + testRedactor.Mark("3") + "&code=" + testRedactor.Mark("4") + "&sig=" + testRedactor.Mark("5")},
		{"flag&token", "flag&token"},
	}
	for _, tc := range tests {
		if got := testRedactor.Query(tc.in); got != tc.want {
			t.Errorf("testRedactor.Query(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSecretNamesOneList: the same names are secret in headers, JSON members,
// query, form and path parameters; code and state only as URL parameters.
func TestSecretNamesOneList(t *testing.T) {
	names := map[string]bool{
		"pass": true, "jwt": true, "userPass": true, "user_pass": true, "PASS2": true, "x-auth": true, "sig": true, "otp": true,
		"jsessionid": true, "JWTToken": true, "password2": true, "credentials": true,
		"compass": false, "passenger": false, "author": false, "signal": false, "title": false, "bypassed": false,
	}
	for name, want := range names {
		if got := IsSecretKey(name); got != want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", name, got, want)
		}
		if got := IsSecretParam(name); got != want {
			t.Errorf("IsSecretParam(%q) = %v, want %v", name, got, want)
		}
		if got := IsSecretHeader("X-" + name); got != want {
			t.Errorf("IsSecretHeader(%q) = %v, want %v", "X-"+name, got, want)
		}
	}
	for _, name := range []string{"code", "state"} {
		if IsSecretKey(name) || !IsSecretParam(name) {
			t.Errorf("%s: want secret as a URL parameter only", name)
		}
	}
}

func TestRedactTarget(t *testing.T) {
	m := testRedactor.Mark
	tests := []struct{ in, want string }{
		{"/app;jsessionid=ABC123/x", "/app;jsessionid=" + m("ABC123") + "/x"},
		{"/a;v=1;JSESSIONID=s%41/b?pass=p&limit=2", "/a;v=1;JSESSIONID=" + m("sA") + "/b?pass=" + m("p") + "&limit=2"},
		{"/cb?code=c&state=s#frag", "/cb?code=" + m("c") + "&state=" + m("s") + "#frag"},
		{"/plain/path", "/plain/path"},
	}
	for _, tc := range tests {
		if got := testRedactor.Target(tc.in); got != tc.want {
			t.Errorf("Target(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestMentionsSecretThroughEscapes(t *testing.T) {
	for text, want := range map[string]bool{
		`{"p\u0061ssword": "x"`:          true,
		`{"\u0070\u0061\u0073\u0073": 1`: true,
		`user=a&p%61ss=b`:                true,
		`pass the salt`:                  true,
		`{"title": "compass"`:            false,
		`\u00zz broken escape`:           false,
	} {
		if got := MentionsSecret([]byte(text)); got != want {
			t.Errorf("MentionsSecret(%q) = %v, want %v", text, got, want)
		}
	}
}
