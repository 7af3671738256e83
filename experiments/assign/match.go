package assign

import (
	"encoding/json"
	"math"
	"strconv"
)

// Op is a targeting comparison.
type Op string

const (
	OpEq    Op = "eq"
	OpNeq   Op = "neq"
	OpIn    Op = "in"
	OpNotIn Op = "not_in"
	OpLt    Op = "lt"
	OpLte   Op = "lte"
	OpGt    Op = "gt"
	OpGte   Op = "gte"
)

// Condition is one targeting rule on a request attribute. Value is a JSON
// scalar (string, float64, bool) for eq/neq, a number for lt/lte/gt/gte, and
// a non-empty array of scalars ([]any) for in/not_in. Any Go integer or float
// type and json.Number also count as numbers.
type Condition struct {
	Attribute string `json:"attribute"`
	Op        Op     `json:"op"`
	Value     any    `json:"value"`
}

// Matches reports whether attrs satisfy every condition; an empty list
// matches. See the package comment for the comparison rules.
func Matches(conds []Condition, attrs map[string]any) bool {
	for i := range conds {
		if !conds[i].Matches(attrs) {
			return false
		}
	}
	return true
}

// Matches reports whether attrs satisfy c.
func (c Condition) Matches(attrs map[string]any) bool {
	if c.Attribute == "" {
		return false
	}
	got, ok := attrs[c.Attribute]
	if !ok || got == nil {
		return false
	}
	switch c.Op {
	case OpEq:
		return isScalar(c.Value) && scalarsEqual(got, c.Value)
	case OpNeq:
		return isScalar(c.Value) && !scalarsEqual(got, c.Value)
	case OpIn, OpNotIn:
		list, ok := c.Value.([]any)
		if !ok || len(list) == 0 {
			return false
		}
		found := false
		for _, want := range list {
			if !isScalar(want) {
				return false
			}
			if !found && scalarsEqual(got, want) {
				found = true
			}
		}
		return found == (c.Op == OpIn)
	case OpLt, OpLte, OpGt, OpGte:
		want, ok := toNumber(c.Value)
		if !ok || !want.isFinite() {
			return false
		}
		have, ok := toNumber(got)
		if !ok {
			return false
		}
		order, ok := compareNumbers(have, want)
		if !ok {
			return false
		}
		switch c.Op {
		case OpLt:
			return order < 0
		case OpLte:
			return order <= 0
		case OpGt:
			return order > 0
		default:
			return order >= 0
		}
	}
	return false
}

// isScalar reports whether v is a valid condition operand for eq/neq and an
// element of an in/not_in list.
func isScalar(v any) bool {
	switch v.(type) {
	case string, bool:
		return true
	}
	n, ok := toNumber(v)
	return ok && n.isFinite()
}

func scalarsEqual(got, want any) bool {
	switch w := want.(type) {
	case string:
		g, ok := got.(string)
		return ok && g == w
	case bool:
		g, ok := got.(bool)
		return ok && g == w
	}
	w, ok := toNumber(want)
	if !ok {
		return false
	}
	g, ok := toNumber(got)
	if !ok {
		return false
	}
	order, ok := compareNumbers(g, w)
	return ok && order == 0
}

type numberKind uint8

const (
	kindInt numberKind = iota
	kindUint
	kindFloat
)

// number holds any Go numeric value without losing precision, so that
// int64 and uint64 values beyond 2^53 compare exactly.
type number struct {
	kind numberKind
	i    int64
	u    uint64
	f    float64
}

func (n number) isFinite() bool {
	return n.kind != kindFloat || !(math.IsNaN(n.f) || math.IsInf(n.f, 0))
}

func toNumber(v any) (number, bool) {
	switch x := v.(type) {
	case float64:
		return number{kind: kindFloat, f: x}, true
	case float32:
		return number{kind: kindFloat, f: float64(x)}, true
	case int:
		return number{kind: kindInt, i: int64(x)}, true
	case int8:
		return number{kind: kindInt, i: int64(x)}, true
	case int16:
		return number{kind: kindInt, i: int64(x)}, true
	case int32:
		return number{kind: kindInt, i: int64(x)}, true
	case int64:
		return number{kind: kindInt, i: x}, true
	case uint:
		return number{kind: kindUint, u: uint64(x)}, true
	case uint8:
		return number{kind: kindUint, u: uint64(x)}, true
	case uint16:
		return number{kind: kindUint, u: uint64(x)}, true
	case uint32:
		return number{kind: kindUint, u: uint64(x)}, true
	case uint64:
		return number{kind: kindUint, u: x}, true
	case uintptr:
		return number{kind: kindUint, u: uint64(x)}, true
	case json.Number:
		return parseJSONNumber(string(x))
	}
	return number{}, false
}

// parseJSONNumber parses s if it is a JSON number. Integers that fit in
// int64 or uint64 stay exact. The syntax is checked first because strconv
// allocates an error for malformed input.
func parseJSONNumber(s string) (number, bool) {
	isInteger, ok := jsonNumberSyntax(s)
	if !ok {
		return number{}, false
	}
	if isInteger {
		negative := s[0] == '-'
		digits := s
		if negative {
			digits = s[1:]
		}
		var u uint64
		overflow := false
		for i := 0; i < len(digits); i++ {
			d := uint64(digits[i] - '0')
			if u > (math.MaxUint64-d)/10 {
				overflow = true
				break
			}
			u = u*10 + d
		}
		switch {
		case overflow:
		case !negative && u <= math.MaxInt64:
			return number{kind: kindInt, i: int64(u)}, true
		case !negative:
			return number{kind: kindUint, u: u}, true
		case u <= 1<<63:
			return number{kind: kindInt, i: int64(-u)}, true
		}
	}
	f, _ := strconv.ParseFloat(s, 64) // well-formed, so the only error is ErrRange with f = ±Inf
	return number{kind: kindFloat, f: f}, true
}

// jsonNumberSyntax reports whether s is a JSON number (RFC 8259) and whether
// it is written as an integer (no fraction or exponent).
func jsonNumberSyntax(s string) (isInteger, ok bool) {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false, false
	}
	isInteger = true
	if i < len(s) && s[i] == '.' {
		isInteger = false
		i++
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false, false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		isInteger = false
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == start {
			return false, false
		}
	}
	return isInteger, i == len(s)
}

// compareNumbers returns -1, 0 or 1 as a is less than, equal to or greater
// than b, exactly; ok is false when either is NaN.
func compareNumbers(a, b number) (order int, ok bool) {
	if a.kind == kindFloat && math.IsNaN(a.f) || b.kind == kindFloat && math.IsNaN(b.f) {
		return 0, false
	}
	switch {
	case a.kind == kindFloat && b.kind == kindFloat:
		return compareFloats(a.f, b.f), true
	case a.kind == kindFloat:
		return compareFloatInteger(a.f, b), true
	case b.kind == kindFloat:
		return -compareFloatInteger(b.f, a), true
	case a.kind == kindInt && b.kind == kindInt:
		return compareOrdered(a.i, b.i), true
	case a.kind == kindUint && b.kind == kindUint:
		return compareOrdered(a.u, b.u), true
	case a.kind == kindInt: // b is uint
		if a.i < 0 {
			return -1, true
		}
		return compareOrdered(uint64(a.i), b.u), true
	default: // a is uint, b is int
		if b.i < 0 {
			return 1, true
		}
		return compareOrdered(a.u, uint64(b.i)), true
	}
}

func compareOrdered[T int64 | uint64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareFloats(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareFloatInteger compares a non-NaN float with an integer number
// without rounding the integer to a float.
func compareFloatInteger(f float64, n number) int {
	whole := math.Trunc(f)
	fraction := compareFloats(f, whole) // the sign of f's fractional part
	if n.kind == kindInt {
		switch {
		case f >= 0x1p63:
			return 1
		case f < -0x1p63:
			return -1
		}
		if order := compareOrdered(int64(whole), n.i); order != 0 {
			return order
		}
		return fraction
	}
	switch {
	case f >= 0x1p64:
		return 1
	case f < 0:
		return -1
	}
	if order := compareOrdered(uint64(whole), n.u); order != 0 {
		return order
	}
	return fraction
}
