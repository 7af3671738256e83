package experiments

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/revealed-ab/revealed/analysis"
	"github.com/revealed-ab/revealed/experiments/assign"
)

// maxPlainVariants bounds an experiment that lists its variants; a
// factorial one has up to analysis.MaxFactorialCells cells.
const maxPlainVariants = 10

// Factor is one factor of a factorial experiment, e.g. agent (bot, human)
// or wait_minutes (5, 10, 15, numeric). Its first level is the reference.
type Factor struct {
	Key    string  `json:"key"`
	Levels []Level `json:"levels"`
	// Numeric factors take numbers as levels and get a slope per unit; they
	// can be the cost of an exchange rate or a tradeoff claim.
	Numeric bool `json:"numeric,omitempty"`
}

// Level is a factor's level: a string, or a number. Cell keys spell a
// number the shortest way that reads back the same ("10", "2.5").
type Level struct {
	Text   string
	Number *float64
	// invalid marks a JSON value that is neither, which build reports
	// with its field rather than failing the whole decode.
	invalid bool
}

// TextLevel and NumberLevel make levels in Go.
func TextLevel(s string) Level { return Level{Text: s} }

func NumberLevel(x float64) Level {
	return Level{Text: strconv.FormatFloat(x, 'g', -1, 64), Number: &x}
}

func (l Level) MarshalJSON() ([]byte, error) {
	if l.Number != nil {
		return json.Marshal(*l.Number)
	}
	return json.Marshal(l.Text)
}

func (l *Level) UnmarshalJSON(b []byte) error {
	*l = Level{}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		l.Text = s
		return nil
	}
	var x float64
	if err := json.Unmarshal(b, &x); err == nil && !bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*l = NumberLevel(x)
		return nil
	}
	l.invalid = true
	return nil
}

// value is the level as /assign and the SDK report it.
func (l Level) value() any {
	if l.Number != nil {
		return *l.Number
	}
	return l.Text
}

// AnalysisFactors are the factors as the analysis takes them.
func AnalysisFactors(factors []Factor) []analysis.Factor {
	out := make([]analysis.Factor, len(factors))
	for i, f := range factors {
		af := analysis.Factor{Key: f.Key, Numeric: f.Numeric}
		for _, l := range f.Levels {
			af.Levels = append(af.Levels, l.Text)
			if f.Numeric && l.Number != nil {
				af.Values = append(af.Values, *l.Number)
			}
		}
		out[i] = af
	}
	return out
}

// FactorialVariants checks factors and returns the experiment's variants:
// the cells of the full factorial, the first (every factor's first level)
// the control, each with its levels. given, when not empty, must list
// every cell once, to set its weight or name.
func FactorialVariants(factors []Factor, given []assign.Variant) ([]assign.Variant, []FieldError) {
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	for i, f := range factors {
		for j, l := range f.Levels {
			field := fmt.Sprintf("factors[%d].levels[%d]", i, j)
			switch {
			case l.invalid:
				add(field, "must be a string or a number")
			case f.Numeric && l.Number == nil:
				add(field, "a numeric factor's levels must be numbers, e.g. 5")
			case len(l.Text) > maxKeyLen:
				add(field, "must be at most %d bytes", maxKeyLen)
			}
		}
		if len(f.Key) > maxKeyLen {
			add(fmt.Sprintf("factors[%d].key", i), "must be at most %d bytes", maxKeyLen)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	cells, err := analysis.FactorialCells(AnalysisFactors(factors))
	if err != nil {
		var ie *analysis.InputError
		if errors.As(err, &ie) {
			return nil, []FieldError{{Field: ie.Field, Detail: ie.Reason}}
		}
		return nil, []FieldError{{Field: "factors", Detail: err.Error()}}
	}
	byKey := map[string]int{}
	for i, v := range given {
		field := fmt.Sprintf("variants[%d]", i)
		if _, dup := byKey[v.Key]; dup {
			add(field+".key", "duplicates another variant: %q", v.Key)
		}
		byKey[v.Key] = i
		if v.Control && i != 0 && v.Key != cells[0].Key {
			add(field+".control", "the control of a factorial experiment is its first cell, %q", cells[0].Key)
		}
		if !(v.Weight > 0) || math.IsInf(v.Weight, 0) {
			add(field+".weight", "must be a finite number greater than 0")
		}
	}
	out := make([]assign.Variant, len(cells))
	for c, cell := range cells {
		levels := map[string]any{}
		for f, factor := range factors {
			for _, l := range factor.Levels {
				if l.Text == cell.Levels[f] {
					levels[factor.Key] = l.value()
				}
			}
		}
		out[c] = assign.Variant{Key: cell.Key, Weight: 1, Control: c == 0, Factors: levels}
		if len(given) == 0 {
			continue
		}
		i, ok := byKey[cell.Key]
		if !ok {
			add("variants", "list every cell or none; %q is missing (cells are \"factor=level,...\" in the order of factors)", cell.Key)
			continue
		}
		out[c].Weight, out[c].Name = given[i].Weight, given[i].Name
		delete(byKey, cell.Key)
	}
	for key, i := range byKey {
		add(fmt.Sprintf("variants[%d].key", i), "%q is not a cell of the factors", key)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// sameFactors reports whether two experiments declare the same factors.
func sameFactors(a, b []Factor) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].Numeric != b[i].Numeric || len(a[i].Levels) != len(b[i].Levels) {
			return false
		}
		for j, l := range a[i].Levels {
			m := b[i].Levels[j]
			if l.Text != m.Text || (l.Number == nil) != (m.Number == nil) {
				return false
			}
		}
	}
	return true
}
