package diff

import (
	"bytes"
	"math"
	"math/big"
	"strconv"
)

// Numbers are compared by the exact decimal value of their text, never through
// float64 alone: 1 ≡ 1.0 ≡ 1e0 ≡ 10e-1, -0 ≡ 0, and 12345678901234567890 differs from
// 12345678901234567891. Only a tolerance rule goes through float64.

// decimal is a JSON number's text split into its parts, without allocation: the
// value is sign × 0.D × 10^point, where D is the significant digits of intPart and
// frac with leading and trailing zeros removed.
type decimal struct {
	neg        bool
	intPart    []byte // digits before the point
	frac       []byte // digits after the point
	exp        []byte // exponent digits, sign included, or nil
	lead, trim int    // leading zeros of intPart+frac, trailing zeros of intPart+frac
	n          int    // len(intPart)+len(frac)
}

func parseDecimal(s []byte) decimal {
	var d decimal
	if len(s) > 0 && s[0] == '-' {
		d.neg = true
		s = s[1:]
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	d.intPart = s[:i]
	s = s[i:]
	if len(s) > 0 && s[0] == '.' {
		s = s[1:]
		i = 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		d.frac = s[:i]
		s = s[i:]
	}
	if len(s) > 0 && (s[0] == 'e' || s[0] == 'E') {
		d.exp = s[1:]
	}
	d.n = len(d.intPart) + len(d.frac)
	for d.lead < d.n && d.digit(d.lead) == '0' {
		d.lead++
	}
	for d.trim < d.n-d.lead && d.digit(d.n-1-d.trim) == '0' {
		d.trim++
	}
	return d
}

func (d *decimal) digit(i int) byte {
	if i < len(d.intPart) {
		return d.intPart[i]
	}
	return d.frac[i-len(d.intPart)]
}

func (d *decimal) zero() bool { return d.lead == d.n }

// sig is the number of significant digits.
func (d *decimal) sig() int { return d.n - d.lead - d.trim }

// smallExp is the exponent when it fits comfortably in an int64.
func (d *decimal) smallExp() (int64, bool) {
	if d.exp == nil {
		return 0, true
	}
	e := d.exp
	neg := false
	if len(e) > 0 && (e[0] == '+' || e[0] == '-') {
		neg = e[0] == '-'
		e = e[1:]
	}
	for len(e) > 1 && e[0] == '0' {
		e = e[1:]
	}
	if len(e) > 15 {
		return 0, false
	}
	v, err := strconv.ParseInt(string(e), 10, 64)
	if err != nil {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// point is the decimal exponent of 0.D: len(intPart) - lead + exp.
func (d *decimal) point() (int64, *big.Int) {
	base := int64(len(d.intPart) - d.lead)
	if e, ok := d.smallExp(); ok {
		return base + e, nil
	}
	e, _ := new(big.Int).SetString(string(bytes.TrimPrefix(d.exp, []byte("+"))), 10)
	return 0, e.Add(e, big.NewInt(base))
}

// numbersEqual compares two JSON number texts by exact decimal value.
func numbersEqual(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	da, db := parseDecimal(a), parseDecimal(b)
	if da.zero() || db.zero() {
		return da.zero() && db.zero()
	}
	if da.neg != db.neg || da.sig() != db.sig() {
		return false
	}
	for i := 0; i < da.sig(); i++ {
		if da.digit(da.lead+i) != db.digit(db.lead+i) {
			return false
		}
	}
	pa, ba := da.point()
	pb, bb := db.point()
	if ba == nil && bb == nil {
		return pa == pb
	}
	if ba == nil {
		ba = big.NewInt(pa)
	}
	if bb == nil {
		bb = big.NewInt(pb)
	}
	return ba.Cmp(bb) == 0
}

// withinTolerance reports whether two numbers are within tol of each other. Numbers
// that do not fit a float64 (±Inf after parsing) are only equal by exact value.
func withinTolerance(a, b []byte, tol float64) bool {
	// A range error still yields ±Inf (overflow) or ±0 (underflow); the text is
	// known to be a valid number.
	fa, _ := strconv.ParseFloat(string(a), 64)
	fb, _ := strconv.ParseFloat(string(b), 64)
	if math.IsInf(fa, 0) || math.IsInf(fb, 0) {
		return false
	}
	return math.Abs(fa-fb) <= tol
}
