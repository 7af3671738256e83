package assign

import (
	"encoding/json"
	"math"
	"testing"
)

func TestConditionMatches(t *testing.T) {
	attrs := map[string]any{
		"country": "DE", "age": 34.0, "beta": true, "null": nil, "list": []any{"DE"},
		"int": 34, "int8": int8(-5), "int64-big": int64(1<<53 + 1), "uint64-max": uint64(math.MaxUint64),
		"float32": float32(0.5), "uint": uint(7), "nan": math.NaN(), "inf": math.Inf(1),
		"number": json.Number("34"), "number-float": json.Number("-2.5e1"), "number-huge": json.Number("18446744073709551616"),
		"number-bad": json.Number("12abc"),
	}
	tests := []struct {
		name string
		cond Condition
		want bool
	}{
		{"eq string", Condition{"country", OpEq, "DE"}, true},
		{"eq string is case-sensitive", Condition{"country", OpEq, "de"}, false},
		{"eq no string to number", Condition{"age", OpEq, "34"}, false},
		{"eq no number to string", Condition{"country", OpEq, 0.0}, false},
		{"eq bool", Condition{"beta", OpEq, true}, true},
		{"eq bool is not a number", Condition{"beta", OpEq, 1.0}, false},
		{"eq int attribute, float value", Condition{"int", OpEq, 34.0}, true},
		{"eq float attribute, int value", Condition{"age", OpEq, 34}, true},
		{"eq json.Number attribute", Condition{"number", OpEq, 34.0}, true},
		{"eq json.Number exponent", Condition{"number-float", OpEq, -25}, true},
		{"eq float32", Condition{"float32", OpEq, 0.5}, true},
		{"eq int64 beyond 2^53 is exact", Condition{"int64-big", OpEq, float64(1 << 53)}, false},
		{"gt int64 beyond 2^53 is exact", Condition{"int64-big", OpGt, float64(1 << 53)}, true},
		{"eq uint64 max is not 2^64", Condition{"uint64-max", OpEq, 0x1p64}, false},
		{"lt uint64 max below 2^64", Condition{"uint64-max", OpLt, 0x1p64}, true},
		{"gt uint64 max above int64", Condition{"uint64-max", OpGt, int64(math.MaxInt64)}, true},
		{"eq json.Number beyond uint64", Condition{"number-huge", OpEq, 0x1p64}, true},
		{"lt negative int against uint", Condition{"int8", OpLt, uint(0)}, true},
		{"gt uint against negative", Condition{"uint", OpGt, -1}, true},
		{"eq malformed json.Number", Condition{"number-bad", OpEq, 12.0}, false},
		{"neq malformed json.Number", Condition{"number-bad", OpNeq, 12.0}, true},
		{"eq NaN attribute", Condition{"nan", OpEq, 0.0}, false},
		{"neq NaN attribute", Condition{"nan", OpNeq, 0.0}, true},
		{"lt NaN attribute", Condition{"nan", OpLt, 1.0}, false},
		{"gte NaN attribute", Condition{"nan", OpGte, 1.0}, false},
		{"gt infinite attribute", Condition{"inf", OpGt, math.MaxFloat64}, true},
		{"neq", Condition{"country", OpNeq, "FR"}, true},
		{"neq equal", Condition{"country", OpNeq, "DE"}, false},
		{"neq type mismatch", Condition{"age", OpNeq, "34"}, true},
		{"neq non-scalar attribute", Condition{"list", OpNeq, "DE"}, true},
		{"eq non-scalar attribute", Condition{"list", OpEq, "DE"}, false},
		{"in", Condition{"country", OpIn, []any{"FR", "DE"}}, true},
		{"in absent", Condition{"country", OpIn, []any{"FR"}}, false},
		{"in numbers", Condition{"int", OpIn, []any{1.0, 34.0}}, true},
		{"not_in", Condition{"country", OpNotIn, []any{"FR", "IT"}}, true},
		{"not_in present", Condition{"country", OpNotIn, []any{"FR", "DE"}}, false},
		{"lt", Condition{"age", OpLt, 35.0}, true},
		{"lt equal", Condition{"age", OpLt, 34.0}, false},
		{"lte equal", Condition{"age", OpLte, 34}, true},
		{"gt", Condition{"age", OpGt, 33.9}, true},
		{"gte equal", Condition{"age", OpGte, json.Number("34")}, true},
		{"gte above", Condition{"age", OpGte, 34.1}, false},
		{"lt string attribute", Condition{"country", OpLt, 100.0}, false},
		{"gt bool attribute", Condition{"beta", OpGt, 0.0}, false},
		// A missing or null attribute fails every op, neq and not_in included.
		{"missing eq", Condition{"region", OpEq, "EU"}, false},
		{"missing neq", Condition{"region", OpNeq, "EU"}, false},
		{"missing in", Condition{"region", OpIn, []any{"EU"}}, false},
		{"missing not_in", Condition{"region", OpNotIn, []any{"EU"}}, false},
		{"missing lt", Condition{"region", OpLt, 1.0}, false},
		{"null neq", Condition{"null", OpNeq, "EU"}, false},
		{"null not_in", Condition{"null", OpNotIn, []any{"EU"}}, false},
		// Conditions that fail Validate never match.
		{"invalid empty attribute", Condition{"", OpNeq, "x"}, false},
		{"invalid unknown op", Condition{"country", "contains", "D"}, false},
		{"invalid neq nil value", Condition{"country", OpNeq, nil}, false},
		{"invalid neq NaN value", Condition{"age", OpNeq, math.NaN()}, false},
		{"invalid neq list value", Condition{"country", OpNeq, []any{"FR"}}, false},
		{"invalid lt string value", Condition{"age", OpLt, "40"}, false},
		{"invalid lt infinite value", Condition{"age", OpLt, math.Inf(1)}, false},
		{"invalid in scalar value", Condition{"country", OpIn, "DE"}, false},
		{"invalid not_in empty list", Condition{"country", OpNotIn, []any{}}, false},
		{"invalid not_in non-scalar element", Condition{"country", OpNotIn, []any{"FR", []any{}}}, false},
		{"invalid in with nil element", Condition{"country", OpIn, []any{"DE", nil}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.cond.Matches(attrs); got != tt.want {
				t.Errorf("%+v.Matches = %v, want %v", tt.cond, got, tt.want)
			}
			if got := Matches([]Condition{tt.cond}, attrs); got != tt.want {
				t.Errorf("Matches([%+v]) = %v, want %v", tt.cond, got, tt.want)
			}
		})
	}
}

func TestMatchesList(t *testing.T) {
	attrs := map[string]any{"country": "DE", "age": 34.0}
	de := Condition{"country", OpEq, "DE"}
	adult := Condition{"age", OpGte, 18.0}
	child := Condition{"age", OpLt, 18.0}
	tests := []struct {
		name  string
		conds []Condition
		attrs map[string]any
		want  bool
	}{
		{"empty list matches", nil, attrs, true},
		{"empty list matches nil attributes", nil, nil, true},
		{"all hold", []Condition{de, adult}, attrs, true},
		{"one fails", []Condition{de, child}, attrs, false},
		{"nil attributes", []Condition{de}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Matches(tt.conds, tt.attrs); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseJSONNumber(t *testing.T) {
	tests := []struct {
		in   string
		want number
		ok   bool
	}{
		{"0", number{kind: kindInt}, true},
		{"-0", number{kind: kindInt}, true},
		{"42", number{kind: kindInt, i: 42}, true},
		{"-9223372036854775808", number{kind: kindInt, i: math.MinInt64}, true},
		{"9223372036854775808", number{kind: kindUint, u: 1 << 63}, true},
		{"18446744073709551615", number{kind: kindUint, u: math.MaxUint64}, true},
		{"18446744073709551616", number{kind: kindFloat, f: 0x1p64}, true},
		{"-9223372036854775809", number{kind: kindFloat, f: -0x1p63}, true},
		{"1.5", number{kind: kindFloat, f: 1.5}, true},
		{"1E3", number{kind: kindFloat, f: 1000}, true},
		{"1e-2", number{kind: kindFloat, f: 0.01}, true},
		{"1e999", number{kind: kindFloat, f: math.Inf(1)}, true},
		{"", number{}, false},
		{"-", number{}, false},
		{"01", number{}, false},
		{"1.", number{}, false},
		{".5", number{}, false},
		{"1e", number{}, false},
		{"+1", number{}, false},
		{"0x10", number{}, false},
		{"NaN", number{}, false},
		{"1 ", number{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseJSONNumber(tt.in)
			if ok != tt.ok || got != tt.want {
				t.Errorf("parseJSONNumber(%q) = %+v, %v; want %+v, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}
