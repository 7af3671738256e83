package assign

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"
)

// FuzzAssign builds definitions with arbitrary weights, traffic, variant
// count and control position (including ones Validate rejects) and arbitrary
// unit id bytes.
func FuzzAssign(f *testing.F) {
	f.Add("customer-1", uint8(1), 1.0, 0.5, 0.5, 0.0, uint8(2), uint8(0))
	f.Add("客户-42", uint8(1), 0.3, 10.0, 90.0, 0.0, uint8(2), uint8(1))
	f.Add("", uint8(1), 1e-300, 20.0, 30.0, 50.0, uint8(3), uint8(2))
	f.Add("\xff\x00", uint8(0), 0.5, 1.0, 1.0, 1.0, uint8(3), uint8(7))
	f.Add("x", uint8(1), math.NaN(), math.Inf(1), -1.0, 0.0, uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, unit string, status uint8, traffic, w0, w1, w2 float64, n, control uint8) {
		weights := []float64{w0, w1, w2}
		d := &Definition{
			Key: "fuzz", Salt: "fuzz-salt", Traffic: traffic,
			Status: []string{StatusDraft, StatusRunning, StatusStopped, "unknown"}[status%4],
		}
		for i := range int(n % 12) {
			d.Variants = append(d.Variants, Variant{
				Key: string(rune('a' + i)), Weight: weights[i%len(weights)], Control: i == int(control),
			})
		}

		r := Assign(d, unit, nil)
		if again := Assign(d, unit, nil); again != r {
			t.Fatalf("Assign is not deterministic: %+v then %+v", r, again)
		}
		if r.InExperiment != (r.Reason == ReasonAssigned) {
			t.Fatalf("InExperiment %v with reason %q", r.InExperiment, r.Reason)
		}
		if len(d.Variants) == 0 {
			if r.Variant != "" || r.Reason != ReasonInvalidDefinition {
				t.Fatalf("no variants: %+v", r)
			}
			return
		}
		if variantIndex(d, r.Variant) < 0 {
			t.Fatalf("variant %q is not one of the definition's", r.Variant)
		}
		switch r.Reason {
		case ReasonInvalidDefinition:
			if len(d.Validate()) == 0 {
				t.Fatalf("Validate accepts a definition Assign rejects: %+v", d)
			}
			if r.Variant != d.Variants[0].Key {
				t.Fatalf("invalid definition gave %q, want the first variant", r.Variant)
			}
		case ReasonAssigned:
			if d.Status != StatusRunning {
				t.Fatalf("assigned in status %q", d.Status)
			}
		case ReasonNotRunning, ReasonOutsideTraffic:
			if !d.Variants[variantIndex(d, r.Variant)].Control {
				t.Fatalf("reason %q with non-control variant %q", r.Reason, r.Variant)
			}
		default:
			t.Fatalf("unexpected reason %q", r.Reason)
		}

		traffic2, variant := assignPoints(d.Salt, unit)
		if traffic2 != Point(d.Salt, purposeTraffic, unit) || variant != Point(d.Salt, purposeVariant, unit) {
			t.Fatalf("assignPoints disagrees with Point for %q", unit)
		}
		if !(variant >= 0 && variant < 1) {
			t.Fatalf("Point = %v, outside [0, 1)", variant)
		}
	})
}

// FuzzConditions decodes arbitrary JSON as a condition list and attributes,
// the way the server and the SDK receive them.
func FuzzConditions(f *testing.F) {
	f.Add([]byte(`[{"attribute":"country","op":"in","value":["DE","AT"]}]`), []byte(`{"country":"DE"}`))
	f.Add([]byte(`[{"attribute":"age","op":"gte","value":18},{"attribute":"beta","op":"eq","value":true}]`), []byte(`{"age":34,"beta":true}`))
	f.Add([]byte(`[{"attribute":"plan","op":"not_in","value":[]}]`), []byte(`{"plan":null}`))
	f.Add([]byte(`[{"attribute":"n","op":"lt","value":1e308},{"attribute":"","op":"regex","value":{}}]`), []byte(`{"n":-9223372036854775809}`))
	f.Add([]byte(`[{"attribute":"x","op":"neq","value":null}]`), []byte(`{"x":[1,2]}`))
	f.Fuzz(func(t *testing.T, condsJSON, attrsJSON []byte) {
		var conds []Condition
		if json.Unmarshal(condsJSON, &conds) != nil {
			return
		}
		var attrs, attrsNumbers map[string]any
		if json.Unmarshal(attrsJSON, &attrs) != nil {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(attrsJSON))
		dec.UseNumber()
		if dec.Decode(&attrsNumbers) != nil {
			t.Fatalf("UseNumber decoding fails where plain decoding succeeded: %s", attrsJSON)
		}

		d := validDefinition()
		d.Targeting = conds
		definitionValid := len(d.Validate()) == 0
		allValid, all := true, true
		for _, c := range conds {
			err := c.Validate()
			allValid = allValid && err == nil
			m := c.Matches(attrs)
			all = all && m
			if err != nil && m {
				t.Fatalf("invalid condition %+v (%v) matches %v", c, err, attrs)
			}
			// A float64 and a json.Number decoded from the same text are the
			// same number unless float64 rounded a large integer.
			if err == nil && m != c.Matches(attrsNumbers) && !hasLargeNumbers(attrsJSON) {
				t.Fatalf("%+v matches %v but not %v", c, attrs, attrsNumbers)
			}
		}
		if definitionValid != allValid {
			t.Fatalf("Definition.Validate valid=%v but conditions valid=%v", definitionValid, allValid)
		}
		if Matches(conds, attrs) != all {
			t.Fatalf("Matches disagrees with the conditions one by one")
		}
	})
}

// hasLargeNumbers reports whether the JSON text may hold an integer that a
// float64 cannot represent exactly. Fractions and exponents are parsed by
// strconv.ParseFloat either way, so only long digit runs matter.
func hasLargeNumbers(data []byte) bool {
	digits := 0
	for _, b := range data {
		if b >= '0' && b <= '9' {
			digits++
			if digits > 15 {
				return true
			}
		} else {
			digits = 0
		}
	}
	return false
}
