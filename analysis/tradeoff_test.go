package analysis_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/revealed-ab/revealed/analysis"
)

// factorialInput is a golden factorial case as Analyze receives it: the
// cells as variants (the first the control) and one metric "m" whose
// per-cell sums reproduce the case's n, mean and per-unit variance.
func factorialInput(t *testing.T, name string, alpha float64, factors []analysis.Factor, cells []analysis.CellEstimate) analysis.Input {
	t.Helper()
	keys, err := analysis.FactorialCells(factors)
	if err != nil {
		t.Fatal(err)
	}
	in := analysis.Input{Experiment: name, Alpha: alpha, Factors: factors, Correction: analysis.NoCorrection}
	for i, c := range keys {
		in.Variants = append(in.Variants, analysis.Variant{Key: c.Key, Weight: 1, Control: i == 0})
	}
	m := analysis.MetricInput{Metric: "m", Kind: analysis.Mean, HigherIsBetter: true}
	if name == "binary" {
		m.Kind = analysis.Binary
	}
	for _, c := range cells {
		n := float64(c.N)
		s := analysis.Stats{Units: c.N, Sum: n * c.Mean}
		if m.Kind == analysis.Mean {
			s.SumSq = (n-1)*c.Var + n*c.Mean*c.Mean
		}
		m.Arms = append(m.Arms, analysis.Arm{Variant: c.Cell, Stats: s})
	}
	in.Metrics = []analysis.MetricInput{m}
	return in
}

// TestTradeoffGolden runs every golden factorial case through Analyze: the
// metric's contrasts must match factorial.R as AnalyzeFactorial's do, and
// each tradeoff claim must carry R's exchange rate, its p-value of θ =
// stated cost and its off-diagonal contrast, with the verdict that the
// interval and the stated cost imply.
func TestTradeoffGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/golden_factorial.json")
	if err != nil {
		t.Fatal(err)
	}
	var g factorialGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	claims := 0
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			in := factorialInput(t, c.Name, c.Alpha, c.Factors, c.Cells)
			for i, tr := range c.Expect["tradeoffs"] {
				stated := tr["stated_cost"].(float64)
				in.Claims = append(in.Claims, analysis.Claim{
					ID: "trade-" + string(rune('a'+i)), Statement: "a level is worth the cost", Kind: analysis.ClaimTradeoff,
					Metric: "m", SurveyN: 100, Factor: tr["factor"].(string), Preferred: tr["preferred"].(string),
					Cost: tr["cost"].(string), StatedCost: &stated,
				})
			}
			r, err := analysis.Analyze(in)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			raw, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			metric := doc["metrics"].([]any)[0].(map[string]any)
			for _, list := range []string{"main_effects", "interactions", "slopes", "exchange_rates"} {
				got, _ := metric[list].([]any)
				if len(got) != len(c.Expect[list]) {
					t.Fatalf("%s: want %d, got %d", list, len(c.Expect[list]), len(got))
				}
				for i, w := range c.Expect[list] {
					for k, wv := range w {
						if k == "p_adjusted" { // the report's family fills it
							continue
						}
						if msg := compare(wv, got[i].(map[string]any)[k]); msg != "" {
							t.Errorf("%s[%d].%s: %s", list, i, k, msg)
						}
					}
				}
			}
			results := doc["claims"].([]any)
			for i, tr := range c.Expect["tradeoffs"] {
				claims++
				res := results[i].(map[string]any)
				rate := findRate(c.Expect["exchange_rates"], tr)
				for _, f := range []struct{ got, want string }{{"revealed", "estimate"}, {"revealed_ci", "ci"}} {
					if msg := compare(rate[f.want], res[f.got]); msg != "" {
						t.Errorf("claim %d %s: %s", i, f.got, msg)
					}
				}
				if msg := compare(tr["p_value"], res["p_value"]); msg != "" {
					t.Errorf("claim %d p_value: %s", i, msg)
				}
				if msg := compare(tr["off_diagonal"], res["off_diagonal"]); msg != "" {
					t.Errorf("claim %d off_diagonal: %s", i, msg)
				}
				want := analysis.Inconclusive
				if ci, ok := rate["ci"].([]any); ok {
					switch s := tr["stated_cost"].(float64); {
					case ci[0].(float64) > s:
						want = analysis.Holds
					case ci[1].(float64) < s:
						want = analysis.Contradicted
					}
				}
				if res["verdict"] != want {
					t.Errorf("claim %d verdict %v, want %s (%v)", i, res["verdict"], want, res["summary"])
				}
				if want == analysis.Inconclusive && res["p_value"] != nil && res["units_needed"] == nil {
					t.Errorf("claim %d: inconclusive with a p-value but no units_needed", i)
				}
				if s, _ := res["summary"].(string); !strings.Contains(s, tr["preferred"].(string)) {
					t.Errorf("claim %d summary %q does not name the preferred level", i, s)
				}
			}
		})
	}
	if claims < 10 {
		t.Fatalf("only %d tradeoff claims in the golden file", claims)
	}
}

func findRate(rates []map[string]any, tr map[string]any) map[string]any {
	for _, r := range rates {
		if r["factor"] == tr["factor"] && r["level"] == tr["preferred"] && r["cost"] == tr["cost"] {
			return r
		}
	}
	return nil
}
