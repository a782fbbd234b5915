package traffic

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/parity-dev/parity/diff"
)

// TestRecordingKeepsNoSecretByName: secrets named pass and jwt, values nested
// under a secret name, a ;jsessionid= path parameter, and a secret name spelt with
// JSON escapes in a body that does not parse — none reaches the recording; a body
// that should parse for redaction and does not is not recorded at all, and counted.
func TestRecordingKeepsNoSecretByName(t *testing.T) {
	canaries := []string{"cnry-pass-1a", "cnry-jwt-2b", "cnry-nested-3c", "cnry-cred-4d", "cnry-jsess-5e",
		"cnry-textesc-6f", "cnry-jsonesc-7a", "cnry-untyped-8b", "cnry-array-9c"}
	var out bytes.Buffer
	rec := NewRecorder(&out)
	rec.Redactor = testRedactor
	post := func(target, ctype, body string) {
		h := http.Header{}
		if ctype != "" {
			h.Set("Content-Type", ctype)
		}
		rec.Record(&http.Request{Method: "POST", RequestURI: target, Header: h}, []byte(body))
	}
	post("/api/login", "application/json",
		`{"user":"u","pass":"cnry-pass-1a","jwt":"cnry-jwt-2b","password2":{"value":"cnry-nested-3c"},"credentials":{"pass":"cnry-cred-4d"},"apiKeys":[{"v":["cnry-array-9c"]}]}`)
	rec.Record(&http.Request{Method: "GET", RequestURI: "/app;jsessionid=cnry-jsess-5e/home", Header: http.Header{}}, nil)
	post("/api/notes", "text/plain", `{"p\u0061ssword": "cnry-textesc-6f"`)
	post("/api/login", "application/json", `{"p\u0061ssword": "cnry-jsonesc-7a",`)
	post("/api/login", "", `{"p\u0061ssword": "cnry-untyped-8b"`)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range canaries {
		if bytes.Contains(out.Bytes(), []byte(c)) {
			t.Errorf("recording holds %s:\n%s", c, out.Bytes())
		}
	}
	if rec.Written() != 3 || rec.DroppedFor(DropUnparsableBody) != 2 {
		t.Errorf("written %d, dropped as unparsable_body %d; want 3 and 2", rec.Written(), rec.DroppedFor(DropUnparsableBody))
	}
	for _, want := range []string{
		`"pass":"` + testRedactor.Mark("cnry-pass-1a") + `"`,
		`"password2":{"value":"` + testRedactor.Mark("cnry-nested-3c") + `"}`,
		`"url":"/app;jsessionid=` + testRedactor.Mark("cnry-jsess-5e") + `/home"`,
		`"body_missing":"redacted"`,
	} {
		if !strings.Contains(strings.ReplaceAll(out.String(), `\"`, `"`), want) {
			t.Errorf("recording lacks %s:\n%s", want, out.Bytes())
		}
	}
}

// markerRE finds the marker of a recorded secret.
var markerRE = regexp.MustCompile(`\[redacted:([0-9a-f]+)\]`)

// TestRecordedPasswordResistsBruteForce: a 6-digit password in a recording. Trying
// all 10^6 values against its marker finds it with the deployment's key, and
// without it — as a bare SHA-256, the unkeyed marker of old — finds nothing;
// another deployment marks it differently, and a replica sharing the key marks it
// the same.
func TestRecordedPasswordResistsBruteForce(t *testing.T) {
	const password = "493817"
	record := func(red *diff.Redactor) string {
		var out bytes.Buffer
		rec := NewRecorder(&out)
		rec.Redactor = red
		rec.Record(&http.Request{Method: "POST", RequestURI: "/api/login", Header: http.Header{"Content-Type": {"application/json"}}},
			[]byte(`{"user":"ana","password":"`+password+`"}`))
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
		m := markerRE.FindStringSubmatch(out.String())
		if m == nil || strings.Contains(out.String(), password) {
			t.Fatalf("recording %q: want the password as a marker", out.String())
		}
		return m[0]
	}
	key := []byte("deployment-a-key-0123456789abcdef")
	marker := record(mustRedactor(t, key))
	other := mustRedactor(t, []byte("deployment-b-key-0123456789abcdef"))
	if record(other) == marker {
		t.Errorf("two deployments give the same marker %s", marker)
	}
	if replica := record(mustRedactor(t, key)); replica != marker {
		t.Errorf("a replica sharing the key marks %s, the first %s", replica, marker)
	}

	hexPart, _ := hex.DecodeString(markerRE.FindStringSubmatch(marker)[1])
	var found []string
	guess := []byte("000000")
	for i := range 1000000 {
		for j, n := 5, i; j >= 0; j, n = j-1, n/10 {
			guess[j] = byte('0' + n%10)
		}
		if sum := sha256.Sum256(guess); bytes.HasPrefix(sum[:], hexPart) {
			found = append(found, string(guess))
		}
	}
	if len(found) > 0 {
		t.Errorf("trying every 6-digit value against %s without the key found %v", marker, found)
	}
	// The same search with the key finds it, and only it: the search works. (Over
	// the thousand values around it; all 10^6 keyed tries take tens of seconds
	// under the race detector.)
	withKey := mustRedactor(t, key)
	found = nil
	for i := 493000; i < 494000; i++ {
		if guess := strconv.Itoa(i); withKey.Mark(guess) == marker {
			found = append(found, guess)
		}
	}
	if fmt.Sprint(found) != fmt.Sprint([]string{password}) {
		t.Errorf("with the key the search found %v, want [%s]", found, password)
	}
}

func mustRedactor(t *testing.T, key []byte) *diff.Redactor {
	t.Helper()
	r, err := diff.NewRedactor(key)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
