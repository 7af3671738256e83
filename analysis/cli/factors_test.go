package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
)

const agentWaitFactors = `{"factors": [
  {"key": "agent", "levels": ["bot", "human"]},
  {"key": "wait_minutes", "levels": [5, 10, 15], "numeric": true}
]}`

// goldenFactorialCase returns one case of ../testdata/golden_factorial.json
// (made by factorial.R) as a summary CSV and its expected contrasts.
func goldenFactorialCase(t *testing.T, name string) (csv string, expect map[string][]map[string]any) {
	t.Helper()
	b, err := os.ReadFile("../testdata/golden_factorial.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []struct {
			Name  string `json:"name"`
			Cells []struct {
				Cell string  `json:"cell"`
				N    int64   `json:"n"`
				Mean float64 `json:"mean"`
				Var  float64 `json:"var"`
			} `json:"cells"`
			Expect map[string][]map[string]any `json:"expect"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	for _, c := range g.Cases {
		if c.Name != name {
			continue
		}
		var sb strings.Builder
		sb.WriteString("metric,variant,kind,units,sum,sum_sq\n")
		for _, cell := range c.Cells {
			n := float64(cell.N)
			fmt.Fprintf(&sb, "csat,%q,mean,%d,%.17g,%.17g\n", cell.Cell, cell.N, n*cell.Mean, (n-1)*cell.Var+n*cell.Mean*cell.Mean)
		}
		return sb.String(), c.Expect
	}
	t.Fatalf("no golden case %q", name)
	return "", nil
}

// TestFactorsFlag: a summary export whose variants are cell keys, read with
// --factors, reports R's main effects and exchange rate and tests a
// tradeoff claim; the text output names them.
func TestFactorsFlag(t *testing.T) {
	data, expect := goldenFactorialCase(t, "2x3_numeric_wait")
	file := writeFile(t, "cells.csv", data)
	factors := writeFile(t, "factors.json", agentWaitFactors)
	claims := writeFile(t, "claims.json", `[{"id":"human-5","kind":"tradeoff","metric":"csat","factor":"agent",
		"preferred":"human","cost":"wait_minutes","stated_cost":5,"survey_n":2128,
		"statement":"74% would wait 10 minutes for a human rather than 5 for a chatbot"}]`)
	code, out, errOut := runCLI(t, "", "--format", "json", "--factors", factors, "--claims", claims, file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var r struct {
		Metrics []struct {
			Metric        string           `json:"metric"`
			MainEffects   []map[string]any `json:"main_effects"`
			ExchangeRates []map[string]any `json:"exchange_rates"`
		} `json:"metrics"`
		Claims []map[string]any `json:"claims"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Metrics) != 1 || len(r.Metrics[0].MainEffects) != len(expect["main_effects"]) {
		t.Fatalf("metrics: %s", out)
	}
	near := func(what string, got, want any) {
		g, ok1 := got.(float64)
		w, ok2 := want.(float64)
		if !ok1 || !ok2 || math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	for i, want := range expect["main_effects"] {
		near(fmt.Sprintf("main_effects[%d].estimate", i), r.Metrics[0].MainEffects[i]["estimate"], want["estimate"])
		near(fmt.Sprintf("main_effects[%d].p_value", i), r.Metrics[0].MainEffects[i]["p_value"], want["p_value"])
	}
	rate := expect["exchange_rates"][0]
	near("exchange rate", r.Metrics[0].ExchangeRates[0]["estimate"], rate["estimate"])
	if len(r.Claims) != 1 || r.Claims[0]["kind"] != "tradeoff" || r.Claims[0]["exchange_rate"] == nil {
		t.Fatalf("claims: %v", r.Claims)
	}
	near("claim revealed", r.Claims[0]["revealed"], rate["estimate"])

	code, out, errOut = runCLI(t, "", "--factors", factors, file)
	if code != 0 {
		t.Fatalf("text: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"factorial contrasts", "agent=human", "wait_minutes per unit", "exchange rate: agent=human is worth"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runCLI(t, "", "--format", "csv", "--factors", factors, file)
	if code != 0 || !strings.Contains(out, "main_effect,,csat,mean,agent=human,agent=bot") || !strings.Contains(out, "exchange_rate,") {
		t.Errorf("csv: exit %d:\n%s", code, out)
	}
}

// TestFactorsFlagEmptyCell: a cell without rows is an empty cell, not an
// error; the contrasts that need it are null with a reason.
func TestFactorsFlagEmptyCell(t *testing.T) {
	data, _ := goldenFactorialCase(t, "2x3_numeric_wait")
	var kept []string
	for line := range strings.Lines(data) {
		if !strings.Contains(line, "agent=human,wait_minutes=15") {
			kept = append(kept, line)
		}
	}
	file := writeFile(t, "cells.csv", strings.Join(kept, ""))
	code, out, errOut := runCLI(t, "", "--format", "json", "--factors", writeFile(t, "f.json", agentWaitFactors), file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, `"null_reason":"a cell has no units"`) {
		t.Errorf("no contrast is null for the empty cell:\n%s", out)
	}
}

func TestFactorsFlagErrors(t *testing.T) {
	data, _ := goldenFactorialCase(t, "2x3_numeric_wait")
	tests := []struct {
		name, factors, data, want string
	}{
		{"not JSON", `{"factors": [`, data, "f.json:1: unexpected end of JSON"},
		{"no factors", `{"variants": []}`, data, `f.json:1: column "factors": missing or empty`},
		{"text level of a numeric factor", `{"factors": [{"key": "agent", "levels": ["bot", "human"]},
  {"key": "wait_minutes", "levels": [5, "ten"], "numeric": true}]}`, data,
			`f.json:2: column "factors[1].levels[1]": a numeric factor's levels must be numbers`},
		{"one level", `{"factors": [{"key": "agent", "levels": ["bot"]}]}`, data, `column "factors[0].levels": at least 2 levels`},
		{"variant not a cell", agentWaitFactors, data + "csat,control,mean,10,5,5\n", `variant "control" is not a cell of`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, "", "--factors", writeFile(t, "f.json", tc.factors), writeFile(t, "data.csv", tc.data))
			if code != 2 || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tc.want)
			}
		})
	}
}
