package assign

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite testdata/vectors.json from the tables in vectors_test.go")

const vectorsPath = "testdata/vectors.json"

// vectorFile is the schema of testdata/vectors.json, described for other
// languages in testdata/README.md.
type vectorFile struct {
	Version     string             `json:"version"`
	Points      []pointVector      `json:"points"`
	Assignments []assignmentVector `json:"assignments"`
}

type pointVector struct {
	Seed    string  `json:"seed"`
	Purpose string  `json:"purpose"`
	UnitID  string  `json:"unit_id"`
	Hash64  string  `json:"hash64"`
	Point   float64 `json:"point"`
}

type assignmentVector struct {
	Name         string         `json:"name"`
	Definition   Definition     `json:"definition"`
	UnitID       string         `json:"unit_id"`
	Attributes   map[string]any `json:"attributes"`
	Variant      string         `json:"variant"`
	InExperiment bool           `json:"in_experiment"`
	Reason       Reason         `json:"reason"`
	// Factors are the assigned variant's factor levels, for factorial
	// definitions only.
	Factors map[string]any `json:"factors,omitempty"`
	// Holdout names the holdout of a held-out unit.
	Holdout string `json:"holdout,omitempty"`
}

func TestVectors(t *testing.T) {
	if *update {
		writeVectors(t)
	}
	file := readVectors(t)
	if file.Version != Version {
		t.Fatalf("%s has version %q, the package implements %q", vectorsPath, file.Version, Version)
	}
	if len(file.Points) == 0 || len(file.Assignments) == 0 {
		t.Fatalf("%s has %d point and %d assignment cases; want some of each", vectorsPath, len(file.Points), len(file.Assignments))
	}
	t.Run("points", func(t *testing.T) {
		for _, c := range file.Points {
			t.Run(fmt.Sprintf("%q/%q/%q", c.Seed, c.Purpose, c.UnitID), func(t *testing.T) {
				t.Parallel()
				if got := fmt.Sprintf("%016x", hash64(c.Seed, c.Purpose, c.UnitID)); got != c.Hash64 {
					t.Errorf("hash64 = %s, want %s", got, c.Hash64)
				}
				if got := Point(c.Seed, c.Purpose, c.UnitID); got != c.Point {
					t.Errorf("Point = %v, want %v", got, c.Point)
				}
			})
		}
	})
	t.Run("assignments", func(t *testing.T) {
		for _, c := range file.Assignments {
			t.Run(c.Name, func(t *testing.T) {
				t.Parallel()
				want := Result{Variant: c.Variant, InExperiment: c.InExperiment, Reason: c.Reason, Holdout: c.Holdout}
				got := Assign(&c.Definition, c.UnitID, c.Attributes)
				if got != want {
					t.Errorf("Assign(%q) = %+v, want %+v", c.UnitID, got, want)
				}
				if factors := c.Definition.VariantFactors(got.Variant); !reflect.DeepEqual(factors, c.Factors) {
					t.Errorf("VariantFactors(%q) = %v, want %v", got.Variant, factors, c.Factors)
				}
			})
		}
	})
}

// TestVectorsCoverage guards the file against losing the cases that make it
// worth sharing with other clients.
func TestVectorsCoverage(t *testing.T) {
	file := readVectors(t)
	nonASCII, emptyUnit := false, false
	for _, c := range file.Points {
		nonASCII = nonASCII || utf8.RuneCountInString(c.UnitID) != len(c.UnitID)
		emptyUnit = emptyUnit || c.UnitID == ""
	}
	if !nonASCII || !emptyUnit {
		t.Errorf("points: non-ASCII unit id present = %v, empty unit id present = %v; want both", nonASCII, emptyUnit)
	}

	reasons := map[Reason]bool{}
	ops := map[Op]bool{}
	variantsSeen := map[string]map[string]bool{} // definition key -> variants assigned
	for _, c := range file.Assignments {
		reasons[c.Reason] = true
		for _, cond := range c.Definition.Targeting {
			ops[cond.Op] = true
		}
		if c.Reason == ReasonAssigned {
			if variantsSeen[c.Definition.Key] == nil {
				variantsSeen[c.Definition.Key] = map[string]bool{}
			}
			variantsSeen[c.Definition.Key][c.Variant] = true
		}
	}
	for _, r := range []Reason{ReasonAssigned, ReasonNotRunning, ReasonNotTargeted, ReasonOutsideTraffic, ReasonInvalidDefinition, ReasonHeldOut, ReasonOutsideLayer} {
		if !reasons[r] {
			t.Errorf("no assignment case has reason %q", r)
		}
	}
	for _, op := range []Op{OpEq, OpNeq, OpIn, OpNotIn, OpLt, OpLte, OpGt, OpGte} {
		if !ops[op] {
			t.Errorf("no assignment case uses op %q", op)
		}
	}
	for _, s := range vectorScenarios() {
		if !s.everyVariant {
			continue
		}
		for _, v := range s.definition.Variants {
			if !variantsSeen[s.definition.Key][v.Key] {
				t.Errorf("scenario %s: no unit is assigned variant %q", s.name, v.Key)
			}
		}
	}
}

func readVectors(t *testing.T) vectorFile {
	t.Helper()
	data, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatal(err)
	}
	var file vectorFile
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatalf("%s: %v", vectorsPath, err)
	}
	return file
}

func writeVectors(t *testing.T) {
	t.Helper()
	file := vectorFile{Version: Version}
	for _, p := range pointInputs() {
		p.Hash64 = fmt.Sprintf("%016x", hash64(p.Seed, p.Purpose, p.UnitID))
		p.Point = Point(p.Seed, p.Purpose, p.UnitID)
		file.Points = append(file.Points, p)
	}
	for _, s := range vectorScenarios() {
		for i, unit := range s.units {
			c := assignmentVector{
				Name:       fmt.Sprintf("%s/%d", s.name, i),
				Definition: s.definition,
				UnitID:     unit,
				Attributes: s.attributes,
			}
			if c.Attributes == nil {
				c.Attributes = map[string]any{}
			}
			// Assign what a client reading the file will see, after JSON has
			// turned every number into a float64.
			c = roundTripJSON(t, c)
			r := Assign(&c.Definition, c.UnitID, c.Attributes)
			if s.reason != "" && r.Reason != s.reason {
				t.Fatalf("%s: unit %q got reason %q; the scenario expects %q", c.Name, unit, r.Reason, s.reason)
			}
			c.Variant, c.InExperiment, c.Reason = r.Variant, r.InExperiment, r.Reason
			c.Factors = c.Definition.VariantFactors(r.Variant)
			c.Holdout = r.Holdout
			file.Assignments = append(file.Assignments, c)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(file); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(vectorsPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vectorsPath, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func roundTripJSON[T any](t *testing.T, v T) T {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out T
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// vectorUnitIDs are the ids the point cases hash. JSON cannot carry invalid
// UTF-8, so every id here is valid UTF-8.
var vectorUnitIDs = []string{
	"",
	"customer-1",
	"customer-2",
	"42",
	"user@example.com",
	"with space",
	"a\x00b",
	"müller",       // ü as one code point (NFC)
	"mu\u0308ller", // u + combining diaeresis (NFD): a different id
	"é",
	"e\u0301",
	"客户-42",
	"Ωmega",
	"😀",        // outside the BMP: a surrogate pair in UTF-16
	"👩\u200d💻", // emoji ZWJ sequence
	"🇩🇪",       // regional indicator pair
	strings.Repeat("long-id-", 16),
}

func pointInputs() []pointVector {
	var points []pointVector
	for _, unit := range vectorUnitIDs {
		for _, purpose := range []string{purposeTraffic, purposeVariant} {
			points = append(points, pointVector{Seed: "exp-checkout-2026", Purpose: purpose, UnitID: unit})
		}
	}
	return append(points,
		pointVector{Seed: "", Purpose: "", UnitID: ""},
		pointVector{Seed: "", Purpose: purposeVariant, UnitID: "customer-1"},
		pointVector{Seed: "s", Purpose: "custom-purpose", UnitID: "customer-1"},
		pointVector{Seed: "salt-ümlaut-客户", Purpose: purposeTraffic, UnitID: "customer-1"},
	)
}

type vectorScenario struct {
	name       string
	definition Definition
	attributes map[string]any
	units      []string
	// reason is what every unit must get; "" when it depends on the hash.
	reason Reason
	// everyVariant asks the coverage test for at least one unit per variant.
	everyVariant bool
}

func customers(from, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("customer-%d", from+i)
	}
	return ids
}

func vectorScenarios() []vectorScenario {
	twoWay := func(key string) Definition {
		return Definition{
			Key: key, Salt: key + "-salt", Status: StatusRunning, Traffic: 1,
			Variants: []Variant{{Key: "control", Weight: 0.5, Control: true}, {Key: "treatment", Weight: 0.5}},
		}
	}
	withStatus := func(d Definition, status string) Definition { d.Status = status; return d }
	withTraffic := func(d Definition, traffic float64) Definition { d.Traffic = traffic; return d }
	targeted := func(conds ...Condition) Definition {
		d := twoWay("targeted")
		d.Targeting = conds
		return d
	}
	attrs := map[string]any{
		"country": "DE", "plan": "pro", "age": 34.0, "beta": true, "visits": 0.0,
	}
	one := []string{"customer-1"}

	scenarios := []vectorScenario{
		{name: "equal-two-way", definition: twoWay("equal"), units: customers(0, 10), reason: ReasonAssigned, everyVariant: true},
		{name: "ten-ninety", definition: Definition{
			Key: "ten-ninety", Salt: "ten-ninety-salt", Status: StatusRunning, Traffic: 1,
			Variants: []Variant{{Key: "control", Weight: 10, Control: true}, {Key: "new-checkout", Weight: 90}},
		}, units: customers(0, 12), reason: ReasonAssigned, everyVariant: true},
		{name: "three-way-unequal", definition: Definition{
			Key: "three-way", Salt: "three-way-salt", Status: StatusRunning, Traffic: 1,
			Variants: []Variant{{Key: "a", Weight: 20}, {Key: "control", Weight: 30, Control: true}, {Key: "b", Weight: 50}},
		}, units: customers(0, 12), reason: ReasonAssigned, everyVariant: true},
		{name: "partial-traffic", definition: withTraffic(twoWay("partial"), 0.3), units: customers(0, 12)},
		{name: "non-ascii-units", definition: twoWay("non-ascii"), units: vectorUnitIDs, reason: ReasonAssigned},
		{name: "draft", definition: withStatus(twoWay("draft"), StatusDraft), units: customers(0, 2), reason: ReasonNotRunning},
		{name: "stopped", definition: withStatus(twoWay("stopped"), StatusStopped), units: customers(0, 2), reason: ReasonNotRunning},
		{name: "invalid-no-control", definition: Definition{
			Key: "no-control", Salt: "no-control-salt", Status: StatusRunning, Traffic: 1,
			Variants: []Variant{{Key: "a", Weight: 1}, {Key: "b", Weight: 1}},
		}, units: one, reason: ReasonInvalidDefinition},
	}

	targeting := []struct {
		name      string
		condition Condition
		matches   bool
	}{
		{"eq-string", Condition{"country", OpEq, "DE"}, true},
		{"eq-string-case-sensitive", Condition{"country", OpEq, "de"}, false},
		{"eq-number", Condition{"age", OpEq, 34.0}, true},
		{"eq-bool", Condition{"beta", OpEq, true}, true},
		{"eq-no-string-number-coercion", Condition{"age", OpEq, "34"}, false},
		{"eq-missing", Condition{"region", OpEq, "EU"}, false},
		{"neq-string", Condition{"plan", OpNeq, "free"}, true},
		{"neq-equal", Condition{"plan", OpNeq, "pro"}, false},
		{"neq-type-mismatch", Condition{"beta", OpNeq, "true"}, true},
		{"neq-missing", Condition{"region", OpNeq, "EU"}, false},
		{"in", Condition{"country", OpIn, []any{"FR", "DE"}}, true},
		{"in-absent", Condition{"country", OpIn, []any{"FR", "IT"}}, false},
		{"in-mixed-types", Condition{"age", OpIn, []any{"34", 34.0}}, true},
		{"in-missing", Condition{"region", OpIn, []any{"EU"}}, false},
		{"not-in", Condition{"country", OpNotIn, []any{"FR", "IT"}}, true},
		{"not-in-present", Condition{"country", OpNotIn, []any{"FR", "DE"}}, false},
		{"not-in-missing", Condition{"region", OpNotIn, []any{"EU"}}, false},
		{"lt", Condition{"age", OpLt, 35.0}, true},
		{"lt-boundary", Condition{"age", OpLt, 34.0}, false},
		{"lte-boundary", Condition{"age", OpLte, 34.0}, true},
		{"lte", Condition{"age", OpLte, 33.5}, false},
		{"gt", Condition{"age", OpGt, 18.0}, true},
		{"gt-boundary", Condition{"age", OpGt, 34.0}, false},
		{"gte-boundary", Condition{"age", OpGte, 34.0}, true},
		{"gte-zero", Condition{"visits", OpGte, 0.0}, true},
		{"gte", Condition{"age", OpGte, 34.5}, false},
		{"gt-string-attribute", Condition{"country", OpGt, 0.0}, false},
		{"lt-missing", Condition{"region", OpLt, 1.0}, false},
	}
	for _, tc := range targeting {
		reason := ReasonNotTargeted
		if tc.matches {
			reason = ReasonAssigned
		}
		scenarios = append(scenarios, vectorScenario{
			name: "targeting-" + tc.name, definition: targeted(tc.condition), attributes: attrs, units: one, reason: reason,
		})
	}
	scenarios = append(scenarios,
		vectorScenario{name: "targeting-all-hold", definition: targeted(
			Condition{"country", OpIn, []any{"DE", "AT"}}, Condition{"age", OpGte, 18.0}, Condition{"beta", OpEq, true},
		), attributes: attrs, units: one, reason: ReasonAssigned},
		vectorScenario{name: "targeting-one-fails", definition: targeted(
			Condition{"country", OpIn, []any{"DE", "AT"}}, Condition{"age", OpLt, 18.0},
		), attributes: attrs, units: one, reason: ReasonNotTargeted},
		vectorScenario{name: "targeting-no-attributes", definition: targeted(Condition{"country", OpNeq, "FR"}),
			units: one, reason: ReasonNotTargeted},
		vectorScenario{name: "targeting-before-status", definition: withStatus(targeted(Condition{"country", OpEq, "FR"}), StatusDraft),
			attributes: attrs, units: one, reason: ReasonNotRunning},
	)
	// Added with factorial experiments; the cases above are unchanged.
	scenarios = append(scenarios,
		vectorScenario{name: "factorial-agent-wait", definition: factorialDefinition(), units: customers(0, 24), reason: ReasonAssigned, everyVariant: true},
		vectorScenario{name: "factorial-not-running", definition: withStatus(factorialDefinition(), StatusStopped), units: customers(0, 2), reason: ReasonNotRunning},
	)
	// Added with layers and holdouts, after every earlier case: two
	// experiments splitting one layer, and a holdout of 20%.
	layered := func(key string, lo, hi float64) Definition {
		d := twoWay(key)
		d.Layer = &Layer{Key: "support-agent", Salt: "support-agent-salt", Lo: lo, Hi: hi}
		return d
	}
	held := twoWay("held")
	held.Holdouts = []Holdout{{Key: "global-5", Salt: "global-5-salt", Share: 0.2}}
	scenarios = append(scenarios,
		vectorScenario{name: "layer-lower-half", definition: layered("layer-a", 0, 0.5), units: customers(0, 16)},
		vectorScenario{name: "layer-upper-half", definition: layered("layer-b", 0.5, 1), units: customers(0, 16)},
		vectorScenario{name: "holdout-20", definition: held, units: customers(0, 20)},
	)
	return scenarios
}

// factorialDefinition is agent (bot, human) × wait_minutes (5, 10, 15), the
// cells as the API lists them: the first factor varying slowest, the first
// cell the control, unequal weights on two cells.
func factorialDefinition() Definition {
	d := Definition{Key: "human-vs-wait", Salt: "human-vs-wait-salt", Status: StatusRunning, Traffic: 1}
	for _, agent := range []string{"bot", "human"} {
		for _, wait := range []float64{5, 10, 15} {
			weight := 1.0
			if wait == 15 {
				weight = 0.5
			}
			d.Variants = append(d.Variants, Variant{
				Key:     fmt.Sprintf("agent=%s,wait_minutes=%g", agent, wait),
				Weight:  weight,
				Control: len(d.Variants) == 0,
				Factors: map[string]any{"agent": agent, "wait_minutes": wait},
			})
		}
	}
	return d
}
