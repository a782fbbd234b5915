package route

import "testing"

func TestLooksLikeID(t *testing.T) {
	tests := []struct {
		seg  string
		want bool
		why  string
	}{
		// identifiers
		{"42", true, "a number"},
		{"0", true, "zero"},
		{"3f2b8c1e-9a7d-4c3b-8e2f-1a2b3c4d5e6f", true, "UUID v4"},
		{"6ba7b810-9dad-11d1-80b4-00c04fd430c8", true, "UUID v1"},
		{"000003e8-2f3a-21ef-8a00-325096b39f47", true, "UUID v2"},
		{"a3bb189e-8bf9-3888-9912-ace4e6543002", true, "UUID v3"},
		{"886313e1-3b8a-5372-9b90-0c9aee199e5d", true, "UUID v5"},
		{"1ef21d2f-1207-6660-8c4f-419efbd44d48", true, "UUID v6"},
		{"01890a5d-ac96-774b-bcce-b302099a8057", true, "UUID v7"},
		{"00000000-0000-0000-0000-000000000000", true, "nil UUID"},
		{"3F2B8C1E-9A7D-4C3B-8E2F-1A2B3C4D5E6F", true, "upper-case UUID"},
		{"3f2b8c1e9a7d4c3b8e2f1a2b3c4d5e6f", true, "UUID without dashes"},
		{"01ARZ3NDEKTSV4RRFFQ69G5FAV", true, "ULID"},
		{"0ujtsYcgvSTl8PAuAdqWYSMnLOv", true, "KSUID"},
		{"507f1f77bcf86cd799439011", true, "Mongo ObjectId"},
		{"deadbeefcafebabe", true, "16 hex digits"},
		{"cus_NffrFeUfNV2Hib", true, "Stripe customer id"},
		{"pi_3MtwBwLkdIwHu7ix28a3tqPa", true, "Stripe payment intent"},
		{"inv-2026-0042", true, "invoice number with a prefix"},
		{"s-1", true, "short prefixed id"},
		{"usr_2x7Kq", true, "prefixed id with a digit"},
		{"acct_AbCdEfGhIj", true, "prefixed random token, no digit"},
		{"s12", true, "letters and digits"},
		{"a1b2c3", true, "hex-like mix"},
		{"AbCdEfGhIjKlMnOpQrStUvWx_9", true, "base64url token with a digit"},
		{"dGhpcy1pcy1hLXRva2VuLXZhbHVl", true, "base64url token of mixed case"},
		{"Zm9vYmFyYmF6cXV4X3Rva2Vu-_", true, "base64url with - and _"},
		{"ada@example.com", true, "e-mail address"},
		{"first.last+tag@mail.example.org", true, "e-mail with a tag"},
		{"2026-03-01", true, "ISO date"},
		{"2026-03-01T09:15:00Z", true, "ISO timestamp"},
		{"2026-03-01T09:15:00.000+02:00", true, "ISO timestamp with offset"},
		// names
		{"sessions", false, "a word"},
		{"export", false, "a word beside ids"},
		{"quarterly-report", false, "a slug"},
		{"quarterly-report-2026", false, "a slug with a year"},
		{"release-notes-and-changes", false, "a long slug"},
		{"openapi.json", false, "a file name"},
		{"v1", false, "API version"},
		{"V2", false, "API version, upper case"},
		{"v2beta1", false, "pre-release API version"},
		{"v1alpha", false, "alpha API version"},
		{"v10rc2", false, "release candidate version"},
		{"cafe", false, "short hex-looking word"},
		{"deadbeef", false, "eight hex letters"},
		{"me", false, "a short word"},
		{"[...all]", false, "a catch-all pattern"},
		{":id", false, "already a parameter"},
		{"", false, "empty"},
		{"wf-billing", false, "prefixed word, no digit"},
		{"auth@", false, "an @ without a domain"},
		{"2026-13", false, "not a full date"},
		{"getUserWorkflows", false, "camelCase word"},
	}
	if len(tests) < 40 {
		t.Fatalf("only %d shapes", len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.why, func(t *testing.T) {
			if got := LooksLikeID(tc.seg); got != tc.want {
				t.Errorf("LooksLikeID(%q) = %v, want %v (%s)", tc.seg, got, tc.want, tc.why)
			}
		})
	}
}

func FuzzLooksLikeID(f *testing.F) {
	for _, s := range []string{"42", "cus_NffrFeUfNV2Hib", "v2beta1", "a@b.c", "2026-01-01T"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if LooksLikeID(s) && (s == "" || s[0] == ':' || isVersion(s)) {
			t.Errorf("LooksLikeID(%q) is true for an empty, parameter or version segment", s)
		}
	})
}
