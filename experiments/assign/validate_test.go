package assign

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"testing"
)

func validDefinition() *Definition {
	return &Definition{
		Key: "checkout", Salt: "checkout-salt", Status: StatusRunning, Traffic: 0.5,
		Variants: []Variant{{Key: "control", Weight: 50, Control: true}, {Key: "treatment", Weight: 50}},
		Targeting: []Condition{
			{"country", OpIn, []any{"DE", "AT"}},
			{"age", OpGte, 18.0},
			{"beta", OpEq, true},
			{"plan", OpNotIn, []any{"free", 0.0, false}},
		},
	}
}

func TestDefinitionValidate(t *testing.T) {
	with := func(change func(*Definition)) *Definition {
		d := validDefinition()
		change(d)
		return d
	}
	tests := []struct {
		name       string
		def        *Definition
		wantFields []string
	}{
		{"valid", validDefinition(), nil},
		{"valid without targeting", with(func(d *Definition) { d.Targeting = nil }), nil},
		{"valid draft at full traffic", with(func(d *Definition) { d.Status, d.Traffic = StatusDraft, 1 }), nil},
		{"nil", nil, []string{""}},
		{"empty key", with(func(d *Definition) { d.Key = "" }), []string{"key"}},
		{"unknown status", with(func(d *Definition) { d.Status = "paused" }), []string{"status"}},
		{"zero traffic", with(func(d *Definition) { d.Traffic = 0 }), []string{"traffic"}},
		{"traffic above 1", with(func(d *Definition) { d.Traffic = 1.01 }), []string{"traffic"}},
		{"NaN traffic", with(func(d *Definition) { d.Traffic = math.NaN() }), []string{"traffic"}},
		{"no variants", with(func(d *Definition) { d.Variants = nil }), []string{"variants"}},
		{"one variant", with(func(d *Definition) { d.Variants = d.Variants[:1] }), []string{"variants"}},
		{"more variants than a full factorial has cells", with(func(d *Definition) {
			for i := len(d.Variants); i <= MaxVariants; i++ {
				d.Variants = append(d.Variants, Variant{Key: fmt.Sprintf("v%d", i), Weight: 1})
			}
		}), []string{"variants"}},
		{"empty variant key", with(func(d *Definition) { d.Variants[1].Key = "" }), []string{"variants[1].key"}},
		{"duplicate variant key", with(func(d *Definition) { d.Variants[1].Key = "control" }), []string{"variants[1].key"}},
		{"bad weights", with(func(d *Definition) {
			d.Variants = append(d.Variants, Variant{Key: "c", Weight: math.Inf(1)}, Variant{Key: "d", Weight: -1}, Variant{Key: "e", Weight: math.NaN()})
			d.Variants[1].Weight = 0
		}), []string{"variants[1].weight", "variants[2].weight", "variants[3].weight", "variants[4].weight"}},
		{"weights overflow", with(func(d *Definition) { d.Variants[0].Weight, d.Variants[1].Weight = math.MaxFloat64, math.MaxFloat64 }),
			[]string{"variants"}},
		{"no control", with(func(d *Definition) { d.Variants[0].Control = false }), []string{"variants"}},
		{"two controls", with(func(d *Definition) { d.Variants[1].Control = true }), []string{"variants"}},
		{"bad conditions", with(func(d *Definition) {
			d.Targeting = append(d.Targeting,
				Condition{"", OpEq, "x"},
				Condition{"plan", "contains", "x"},
				Condition{"age", OpLt, "40"},
				Condition{"country", OpIn, []any{}},
				Condition{"country", OpNotIn, []any{"FR", nil, math.Inf(-1)}},
				Condition{"country", OpEq, nil},
			)
		}), []string{
			"targeting[4].attribute", "targeting[5].op", "targeting[6].value", "targeting[7].value",
			"targeting[8].value[1]", "targeting[8].value[2]", "targeting[9].value",
		}},
		{"every problem at once", &Definition{Traffic: 2, Variants: []Variant{{}}}, []string{
			"key", "status", "traffic", "variants", "variants[0].key", "variants[0].weight", "variants",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.def.Validate()
			var fields []string
			for _, e := range errs {
				fields = append(fields, e.Field)
				if e.Detail == "" {
					t.Errorf("%s has an empty detail", e.Field)
				}
			}
			if !slices.Equal(fields, tt.wantFields) {
				t.Errorf("Validate fields = %q, want %q (errors: %v)", fields, tt.wantFields, errs)
			}
			if tt.def != nil && len(errs) == 0 {
				if r := Assign(tt.def, "customer-1", nil); r.Reason == ReasonInvalidDefinition {
					t.Errorf("a valid definition got %+v", r)
				}
			}
		})
	}
}

func TestConditionValidate(t *testing.T) {
	tests := []struct {
		name       string
		cond       Condition
		wantFields []string
	}{
		{"eq string", Condition{"country", OpEq, "DE"}, nil},
		{"eq int", Condition{"age", OpEq, 3}, nil},
		{"neq bool", Condition{"beta", OpNeq, false}, nil},
		{"lt json.Number", Condition{"age", OpLt, json.Number("40")}, nil},
		{"in mixed scalars", Condition{"x", OpIn, []any{"a", 1.0, true, uint8(2)}}, nil},
		{"empty attribute and unknown op", Condition{"", "like", "x"}, []string{"attribute", "op"}},
		{"eq NaN", Condition{"age", OpEq, math.NaN()}, []string{"value"}},
		{"gt bool", Condition{"age", OpGt, true}, []string{"value"}},
		{"gte malformed json.Number", Condition{"age", OpGte, json.Number("1e")}, []string{"value"}},
		{"in string", Condition{"x", OpIn, "a"}, []string{"value"}},
		{"not_in []string", Condition{"x", OpNotIn, []string{"a"}}, []string{"value"}},
		{"in nested", Condition{"x", OpIn, []any{"a", map[string]any{}}}, []string{"value[1]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cond.Validate()
			if (err == nil) != (tt.wantFields == nil) {
				t.Fatalf("Validate = %v, want problems with %q", err, tt.wantFields)
			}
			var fields []string
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var fe FieldError
					if !errors.As(e, &fe) {
						t.Fatalf("%v is not a FieldError", e)
					}
					fields = append(fields, fe.Field)
				}
			}
			if !slices.Equal(fields, tt.wantFields) {
				t.Errorf("Validate fields = %q, want %q (%v)", fields, tt.wantFields, err)
			}
		})
	}
}

func TestFieldErrorError(t *testing.T) {
	tests := []struct {
		err  FieldError
		want string
	}{
		{FieldError{Field: "variants[2].weight", Detail: "must be a finite number greater than 0"}, "variants[2].weight: must be a finite number greater than 0"},
		{FieldError{Detail: "definition is missing"}, "definition is missing"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
