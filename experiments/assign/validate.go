package assign

import (
	"errors"
	"fmt"
	"math"
)

// Limits on the number of variants of one definition. The upper one is a
// full factorial's (36 cells); the API allows fewer variants in an
// experiment that is not factorial.
const (
	MinVariants = 2
	MaxVariants = 36
)

// FieldError is one problem with a definition. Field is a JSON path into the
// definition, such as "variants[2].weight" or "targeting[0].value".
type FieldError struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func (e FieldError) Error() string {
	if e.Field == "" {
		return e.Detail
	}
	return e.Field + ": " + e.Detail
}

// Validate returns every problem with d, or nil if there is none. A valid
// definition never gets ReasonInvalidDefinition from Assign.
func (d *Definition) Validate() []FieldError {
	if d == nil {
		return []FieldError{{Detail: "definition is missing"}}
	}
	var errs []FieldError
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Detail: fmt.Sprintf(format, args...)})
	}
	if d.Key == "" {
		add("key", "must not be empty")
	}
	switch d.Status {
	case StatusDraft, StatusRunning, StatusStopped:
	default:
		add("status", "must be one of %q, %q, %q", StatusDraft, StatusRunning, StatusStopped)
	}
	if !(d.Traffic > 0 && d.Traffic <= 1) {
		add("traffic", "must be greater than 0 and at most 1")
	}

	if n := len(d.Variants); n < MinVariants || n > MaxVariants {
		add("variants", "must have %d to %d variants, not %d", MinVariants, MaxVariants, n)
	}
	controls, total := 0, 0.0
	firstIndex := make(map[string]int, len(d.Variants))
	for i, v := range d.Variants {
		field := fmt.Sprintf("variants[%d]", i)
		if v.Key == "" {
			add(field+".key", "must not be empty")
		} else if j, seen := firstIndex[v.Key]; seen {
			add(field+".key", "duplicates variants[%d].key %q", j, v.Key)
		} else {
			firstIndex[v.Key] = i
		}
		if !(v.Weight > 0) || math.IsInf(v.Weight, 1) {
			add(field+".weight", "must be a finite number greater than 0")
		} else {
			total += v.Weight
		}
		if v.Control {
			controls++
		}
	}
	if math.IsInf(total, 1) {
		add("variants", "the sum of the weights must be finite")
	}
	if len(d.Variants) > 0 && controls != 1 {
		add("variants", "exactly one variant must be the control, not %d", controls)
	}

	for i, c := range d.Targeting {
		errs = append(errs, c.fieldErrors(fmt.Sprintf("targeting[%d].", i))...)
	}
	if l := d.Layer; l != nil {
		if l.Key == "" {
			add("layer.key", "must not be empty")
		}
		if !(l.Lo >= 0 && l.Lo < l.Hi && l.Hi <= 1) {
			add("layer.range", "must be [lo, hi) with 0 ≤ lo < hi ≤ 1")
		}
	}
	holdouts := map[string]bool{}
	for i, h := range d.Holdouts {
		field := fmt.Sprintf("holdouts[%d]", i)
		if h.Key == "" || holdouts[h.Key] {
			add(field+".key", "must be a key that is not empty and not repeated")
		}
		holdouts[h.Key] = true
		if !(h.Share > 0 && h.Share < 1) {
			add(field+".share", "must be greater than 0 and less than 1")
		}
	}
	return errs
}

// Validate returns nil if c is a valid condition. Otherwise it returns its
// problems as FieldError values joined with errors.Join, with fields
// relative to the condition ("attribute", "op", "value", "value[1]").
func (c Condition) Validate() error {
	fieldErrs := c.fieldErrors("")
	errs := make([]error, len(fieldErrs))
	for i, e := range fieldErrs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

func (c Condition) fieldErrors(prefix string) []FieldError {
	var errs []FieldError
	add := func(field, detail string) {
		errs = append(errs, FieldError{Field: prefix + field, Detail: detail})
	}
	if c.Attribute == "" {
		add("attribute", "must not be empty")
	}
	switch c.Op {
	case OpEq, OpNeq:
		if !isScalar(c.Value) {
			add("value", "must be a string, a boolean or a finite number")
		}
	case OpLt, OpLte, OpGt, OpGte:
		if n, ok := toNumber(c.Value); !ok || !n.isFinite() {
			add("value", "must be a finite number")
		}
	case OpIn, OpNotIn:
		list, ok := c.Value.([]any)
		if !ok || len(list) == 0 {
			add("value", "must be a non-empty array")
			break
		}
		for i, v := range list {
			if !isScalar(v) {
				add(fmt.Sprintf("value[%d]", i), "must be a string, a boolean or a finite number")
			}
		}
	default:
		add("op", fmt.Sprintf("must be one of eq, neq, in, not_in, lt, lte, gt, gte, not %q", c.Op))
	}
	return errs
}
