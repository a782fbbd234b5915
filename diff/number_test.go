package diff

import "testing"

func TestNumbersEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"1", "1", true},
		{"1", "1.0", true},
		{"1", "1e0", true},
		{"1", "10e-1", true},
		{"1", "0.1E+1", true},
		{"100", "1e2", true},
		{"0", "-0", true},
		{"0", "0.000e5", true},
		{"-1.5", "-15e-1", true},
		{"12345678901234567890", "12345678901234567891", false},
		{"12345678901234567890", "1.2345678901234567890e19", true},
		{"0.1", "0.10000000000000001", false},
		{"1", "-1", false},
		{"1", "2", false},
		{"1", "10", false},
		{"1e400", "10e399", true},
		{"1e-400", "0", false},
		{"1e99999999999999999999", "10e99999999999999999998", true},
		{"1e99999999999999999999", "1e99999999999999999998", false},
		{"1e-99999999999999999999", "0.1e-99999999999999999998", true},
	}
	for _, tc := range tests {
		if got := numbersEqual([]byte(tc.a), []byte(tc.b)); got != tc.want {
			t.Errorf("numbersEqual(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
		if got := numbersEqual([]byte(tc.b), []byte(tc.a)); got != tc.want {
			t.Errorf("numbersEqual(%s, %s) = %v, want %v", tc.b, tc.a, got, tc.want)
		}
	}
}

func TestWithinTolerance(t *testing.T) {
	tests := []struct {
		a, b string
		tol  float64
		want bool
	}{
		{"0.1", "0.1000000001", 1e-9, true},
		{"0.1", "0.1001", 1e-9, false},
		{"1e-400", "0", 1e-9, true},
		{"1e400", "1e400", 1, false}, // beyond float64: only exact values match
	}
	for _, tc := range tests {
		if got := withinTolerance([]byte(tc.a), []byte(tc.b), tc.tol); got != tc.want {
			t.Errorf("withinTolerance(%s, %s, %g) = %v, want %v", tc.a, tc.b, tc.tol, got, tc.want)
		}
	}
}
