package assign

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

func TestAssignChecks(t *testing.T) {
	base := func() *Definition {
		return &Definition{
			Key: "checks", Salt: "checks-salt", Status: StatusRunning, Traffic: 1,
			Variants: []Variant{{Key: "treatment", Weight: 1}, {Key: "control", Weight: 1, Control: true}},
		}
	}
	with := func(change func(*Definition)) *Definition {
		d := base()
		change(d)
		return d
	}
	us := map[string]any{"country": "US"}
	tests := []struct {
		name  string
		def   *Definition
		attrs map[string]any
		want  Result
	}{
		{"nil definition", nil, nil, Result{Reason: ReasonInvalidDefinition}},
		{"no variants", with(func(d *Definition) { d.Variants = nil }), nil, Result{Reason: ReasonInvalidDefinition}},
		{"no control", with(func(d *Definition) { d.Variants[1].Control = false }), nil,
			Result{Variant: "treatment", Reason: ReasonInvalidDefinition}},
		{"two controls", with(func(d *Definition) { d.Variants[0].Control = true }), nil,
			Result{Variant: "treatment", Reason: ReasonInvalidDefinition}},
		{"zero weight", with(func(d *Definition) { d.Variants[1].Weight = 0 }), nil,
			Result{Variant: "treatment", Reason: ReasonInvalidDefinition}},
		{"negative weight", with(func(d *Definition) { d.Variants[0].Weight = -1 }), nil,
			Result{Variant: "treatment", Reason: ReasonInvalidDefinition}},
		{"NaN weight", with(func(d *Definition) { d.Variants[0].Weight = math.NaN() }), nil,
			Result{Variant: "treatment", Reason: ReasonInvalidDefinition}},
		{"infinite weight", with(func(d *Definition) { d.Variants[0].Weight = math.Inf(1) }), nil,
			Result{Variant: "treatment", Reason: ReasonInvalidDefinition}},
		{"weights overflow", with(func(d *Definition) { d.Variants[0].Weight, d.Variants[1].Weight = math.MaxFloat64, math.MaxFloat64 }), nil,
			Result{Variant: "treatment", Reason: ReasonInvalidDefinition}},
		{"zero traffic", with(func(d *Definition) { d.Traffic = 0 }), nil,
			Result{Variant: "treatment", Reason: ReasonInvalidDefinition}},
		{"traffic above 1", with(func(d *Definition) { d.Traffic = 1.5 }), nil,
			Result{Variant: "treatment", Reason: ReasonInvalidDefinition}},
		{"NaN traffic", with(func(d *Definition) { d.Traffic = math.NaN() }), nil,
			Result{Variant: "treatment", Reason: ReasonInvalidDefinition}},
		{"invalid before not running", with(func(d *Definition) { d.Status = StatusDraft; d.Variants[1].Control = false }), nil,
			Result{Variant: "treatment", Reason: ReasonInvalidDefinition}},
		{"draft", with(func(d *Definition) { d.Status = StatusDraft }), nil, Result{Variant: "control", Reason: ReasonNotRunning}},
		{"stopped", with(func(d *Definition) { d.Status = StatusStopped }), nil, Result{Variant: "control", Reason: ReasonNotRunning}},
		{"unknown status", with(func(d *Definition) { d.Status = "Running" }), nil, Result{Variant: "control", Reason: ReasonNotRunning}},
		{"not running before targeting", with(func(d *Definition) {
			d.Status = StatusStopped
			d.Targeting = []Condition{{Attribute: "country", Op: OpEq, Value: "DE"}}
		}), us, Result{Variant: "control", Reason: ReasonNotRunning}},
		{"not targeted", with(func(d *Definition) {
			d.Targeting = []Condition{{Attribute: "country", Op: OpEq, Value: "DE"}}
		}), us, Result{Variant: "control", Reason: ReasonNotTargeted}},
		{"targeting before traffic", with(func(d *Definition) {
			d.Traffic = math.SmallestNonzeroFloat64
			d.Targeting = []Condition{{Attribute: "country", Op: OpEq, Value: "DE"}}
		}), us, Result{Variant: "control", Reason: ReasonNotTargeted}},
		{"outside traffic", with(func(d *Definition) { d.Traffic = math.SmallestNonzeroFloat64 }), nil,
			Result{Variant: "control", Reason: ReasonOutsideTraffic}},
		{"single variant assigns", with(func(d *Definition) { d.Variants = d.Variants[1:] }), nil,
			Result{Variant: "control", InExperiment: true, Reason: ReasonAssigned}},
		{"all weight on one variant", with(func(d *Definition) { d.Variants[0].Weight = math.SmallestNonzeroFloat64 }), nil,
			Result{Variant: "control", InExperiment: true, Reason: ReasonAssigned}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Assign(tt.def, "customer-1", tt.attrs); got != tt.want {
				t.Errorf("Assign = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPickVariant(t *testing.T) {
	variants := []Variant{{Key: "a", Weight: 0.1}, {Key: "b", Weight: 0.2}, {Key: "c", Weight: 0.7}}
	total := 0.1 + 0.2 + 0.7
	tests := []struct {
		point float64
		want  int
	}{
		{0, 0},
		{math.Nextafter(0.1, 0), 0},
		{0.1, 1}, // a bound belongs to the next variant
		{0.3, 1}, // 0.1 + 0.2 is 0.30000000000000004 in float64
		{0.30000000000000004, 2},
		{math.Nextafter(1, 0), 2},
	}
	for _, tt := range tests {
		t.Run(strconv.FormatFloat(tt.point, 'g', -1, 64), func(t *testing.T) {
			if got := pickVariant(variants, total, tt.point); got != tt.want {
				t.Errorf("pickVariant(%v) = %d, want %d", tt.point, got, tt.want)
			}
		})
	}
}

// TestAssignPointsMatchPoint guards the fused hashing in Assign against the
// reference Point.
func TestAssignPointsMatchPoint(t *testing.T) {
	ids := append(sequentialIDs(1000), vectorUnitIDs...)
	ids = append(ids, "\xff\xfe not UTF-8")
	for _, salt := range []string{"", "s", "salt-ümlaut-客户"} {
		for _, id := range ids {
			traffic, variant := assignPoints(salt, id)
			if want := Point(salt, purposeTraffic, id); traffic != want {
				t.Fatalf("assignPoints(%q, %q) traffic = %v, Point = %v", salt, id, traffic, want)
			}
			if want := Point(salt, purposeVariant, id); variant != want {
				t.Fatalf("assignPoints(%q, %q) variant = %v, Point = %v", salt, id, variant, want)
			}
		}
	}
}

func TestPointRange(t *testing.T) {
	if got := toUnitInterval(math.MaxUint64); !(got < 1) {
		t.Errorf("toUnitInterval(MaxUint64) = %v, want < 1", got)
	}
	if got := toUnitInterval(0); got != 0 {
		t.Errorf("toUnitInterval(0) = %v, want 0", got)
	}
	for _, id := range sequentialIDs(10_000) {
		if p := Point("range", "variant", id); !(p >= 0 && p < 1) {
			t.Fatalf("Point(%q) = %v, want in [0, 1)", id, p)
		}
	}
}

func TestTrafficMonotonic(t *testing.T) {
	ids := sequentialIDs(20_000)
	at := func(traffic float64) *Definition { return running("monotonic", traffic, 20, 30, 50) }
	low, higher := at(0.3), []*Definition{at(0.5), at(1)}
	entered := 0
	for _, id := range ids {
		first := Assign(low, id, nil)
		if !first.InExperiment {
			continue
		}
		entered++
		for _, d := range higher {
			if got := Assign(d, id, nil); got != first {
				t.Fatalf("unit %q: %+v at traffic 0.3 but %+v at traffic %v", id, first, got, d.Traffic)
			}
		}
	}
	if entered == 0 {
		t.Fatal("no unit entered at traffic 0.3")
	}
}

func TestAssignDeterministicAcrossCopies(t *testing.T) {
	d := running("copies", 0.7, 1, 2, 3)
	copied := roundTripJSON(t, *d)
	for _, id := range sequentialIDs(1000) {
		if a, b := Assign(d, id, nil), Assign(&copied, id, nil); a != b {
			t.Fatalf("unit %q: %+v from the definition, %+v from its JSON round trip", id, a, b)
		}
	}
}

// benchDefinition is the SDK's common case: two variants, one targeting
// condition, a handful of request attributes.
func benchDefinition() (*Definition, map[string]any) {
	d := &Definition{
		Key: "checkout-redesign", Salt: "5f0c3a9e-checkout", Status: StatusRunning, Traffic: 1,
		Variants:  []Variant{{Key: "control", Weight: 0.5, Control: true}, {Key: "redesign", Weight: 0.5}},
		Targeting: []Condition{{Attribute: "country", Op: OpIn, Value: []any{"DE", "AT", "CH"}}},
	}
	attrs := map[string]any{"country": "DE", "plan": "pro", "age": 34.0, "beta": true}
	return d, attrs
}

func BenchmarkAssign(b *testing.B) {
	d, attrs := benchDefinition()
	b.ReportAllocs()
	for b.Loop() {
		Assign(d, "customer-1234567", attrs)
	}
}

func BenchmarkPoint(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Point("5f0c3a9e-checkout", purposeVariant, "customer-1234567")
	}
}

func TestAssignDoesNotAllocate(t *testing.T) {
	attrs := map[string]any{
		"country": "DE", "age": 34.0, "age32": float32(34), "int": 34, "int8": int8(34), "uint64": uint64(34),
		"big": uint64(math.MaxUint64), "number": json.Number("34"), "fraction": json.Number("33.5e0"),
		"beta": true,
	}
	conditions := [][]Condition{
		{{Attribute: "country", Op: OpIn, Value: []any{"DE", "AT"}}},
		{{Attribute: "country", Op: OpNotIn, Value: []any{"FR", 1.0, true}}},
		{{Attribute: "country", Op: OpNeq, Value: "FR"}},
		{{Attribute: "beta", Op: OpEq, Value: true}},
		{{Attribute: "age", Op: OpGte, Value: 18.0}, {Attribute: "age32", Op: OpLt, Value: 65}},
		{{Attribute: "int", Op: OpEq, Value: 34.0}, {Attribute: "int8", Op: OpLte, Value: uint8(34)}},
		{{Attribute: "uint64", Op: OpGt, Value: -1}, {Attribute: "big", Op: OpGt, Value: 1e19}},
		{{Attribute: "number", Op: OpEq, Value: 34}, {Attribute: "fraction", Op: OpLt, Value: json.Number("34")}},
		{{Attribute: "missing", Op: OpEq, Value: "x"}},
	}
	for i, conds := range conditions {
		d := running("allocs", 0.5, 1, 1, 1)
		d.Targeting = conds
		if !Matches(conds, attrs) && i != len(conditions)-1 {
			t.Errorf("conditions %d do not match; the test means to exercise the matching path", i)
		}
		allocs := testing.AllocsPerRun(100, func() {
			Assign(d, "customer-客户-1234567", attrs)
			Assign(d, "customer-7", attrs)
		})
		if allocs != 0 {
			t.Errorf("conditions %d: Assign allocates %v times per call, want 0", i, allocs)
		}
	}
}
