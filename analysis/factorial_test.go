package analysis_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/revealed-ab/revealed/analysis"
)

type factorialGolden struct {
	Generator string `json:"generator"`
	RVersion  string `json:"r_version"`
	Cases     []struct {
		Name    string                  `json:"name"`
		Alpha   float64                 `json:"alpha"`
		Factors []analysis.Factor       `json:"factors"`
		Cells   []analysis.CellEstimate `json:"cells"`
		Expect  map[string][]map[string]any
	} `json:"cases"`
}

// TestFactorialGolden compares with testdata/reference/factorial.R: point
// estimates from R's lm (contr.sum and cell-means fits), Welch-type
// variances, Welch–Satterthwaite df and Fieller's interval written out in R
// from simulated per-unit data.
func TestFactorialGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/golden_factorial.json")
	if err != nil {
		t.Fatal(err)
	}
	var g factorialGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) < 8 {
		t.Fatalf("only %d cases", len(g.Cases))
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			r, err := analysis.AnalyzeFactorial(analysis.FactorialInput{Alpha: c.Alpha, Factors: c.Factors, Cells: c.Cells})
			if err != nil {
				t.Fatal(err)
			}
			got := decodeFactorial(t, r)
			for _, list := range []string{"main_effects", "interactions", "slopes", "exchange_rates"} {
				want := c.Expect[list]
				gl, _ := got[list].([]any)
				if len(gl) != len(want) {
					t.Fatalf("%s: want %d, got %d", list, len(want), len(gl))
				}
				for i, w := range want {
					obj := gl[i].(map[string]any)
					for k, wv := range w {
						if msg := compare(wv, obj[k]); msg != "" {
							t.Errorf("%s[%d].%s: %s", list, i, k, msg)
						}
					}
					// A null interval always says why, and only then.
					reason, _ := obj["null_reason"].(string)
					if (obj["ci"] == nil) != (reason != "") {
						t.Errorf("%s[%d]: ci %v with null_reason %q", list, i, obj["ci"], reason)
					}
				}
			}
		})
	}
}

// decodeFactorial is r as generic JSON; it fails the test if r cannot be marshalled
// (encoding/json refuses NaN and ±Inf).
func decodeFactorial(t *testing.T, r *analysis.FactorialReport) map[string]any {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	return got
}

var (
	factorAgent = analysis.Factor{Key: "agent", Levels: []string{"bot", "human"}}
	factorWait  = analysis.Factor{Key: "wait_minutes", Levels: []string{"5", "10", "15"}, Numeric: true}
)

func TestFactorialCells(t *testing.T) {
	cells, err := analysis.FactorialCells([]analysis.Factor{factorAgent, factorWait})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range cells {
		keys = append(keys, c.Key)
	}
	want := []string{
		"agent=bot,wait_minutes=5", "agent=bot,wait_minutes=10", "agent=bot,wait_minutes=15",
		"agent=human,wait_minutes=5", "agent=human,wait_minutes=10", "agent=human,wait_minutes=15",
	}
	if !reflect.DeepEqual(keys, want) {
		t.Errorf("keys %q, want %q", keys, want)
	}
	if !reflect.DeepEqual(cells[4].Levels, []string{"human", "10"}) {
		t.Errorf("levels of %s: %q", cells[4].Key, cells[4].Levels)
	}
	if k := analysis.CellKey([]analysis.Factor{factorAgent, factorWait}, []string{"human", "10"}); k != want[4] {
		t.Errorf("CellKey = %q", k)
	}

	three := func(key string) analysis.Factor {
		return analysis.Factor{Key: key, Levels: []string{"a", "b", "c"}}
	}
	for _, tc := range []struct {
		name    string
		factors []analysis.Factor
		field   string
	}{
		{"none", nil, "factors"},
		{"five factors", []analysis.Factor{factorAgent, {Key: "b", Levels: []string{"x", "y"}}, {Key: "c", Levels: []string{"x", "y"}},
			{Key: "d", Levels: []string{"x", "y"}}, {Key: "e", Levels: []string{"x", "y"}}}, "factors"},
		{"37+ cells", []analysis.Factor{three("a"), three("b"), three("c"), factorAgent}, "factors"},
		{"one level", []analysis.Factor{{Key: "a", Levels: []string{"x"}}}, "factors[0].levels"},
		{"duplicate level", []analysis.Factor{{Key: "a", Levels: []string{"x", "x"}}}, "factors[0].levels[1]"},
		{"comma in level", []analysis.Factor{{Key: "a", Levels: []string{"x", "y,z"}}}, "factors[0].levels[1]"},
		{"equals in key", []analysis.Factor{{Key: "a=b", Levels: []string{"x", "y"}}}, "factors[0].key"},
		{"duplicate factor", []analysis.Factor{factorAgent, factorAgent}, "factors[1].key"},
		{"not a number", []analysis.Factor{{Key: "w", Levels: []string{"5", "ten"}, Numeric: true}}, "factors[0].levels[1]"},
		{"values length", []analysis.Factor{{Key: "w", Levels: []string{"a", "b"}, Numeric: true, Values: []float64{1}}}, "factors[0].values"},
		{"duplicate value", []analysis.Factor{{Key: "w", Levels: []string{"5", "5.0"}, Numeric: true}}, "factors[0].values[1]"},
		{"infinite value", []analysis.Factor{{Key: "w", Levels: []string{"a", "b"}, Numeric: true, Values: []float64{1, math.Inf(1)}}}, "factors[0].values[1]"},
		{"values on a categorical factor", []analysis.Factor{{Key: "w", Levels: []string{"a", "b"}, Values: []float64{1, 2}}}, "factors[0].values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := analysis.FactorialCells(tc.factors)
			var ie *analysis.InputError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Errorf("err = %v, want an InputError at %s", err, tc.field)
			}
		})
	}
	// 36 cells is allowed.
	if _, err := analysis.FactorialCells([]analysis.Factor{three("a"), three("b"), factorAgent, {Key: "d", Levels: []string{"x", "y"}}}); err != nil {
		t.Error(err)
	}
}

// factorialCellsOf gives every cell of factors n units, variance v and the mean
// mean(levels).
func factorialCellsOf(t *testing.T, factors []analysis.Factor, n int64, v float64, mean func(levels []string) float64) []analysis.CellEstimate {
	t.Helper()
	cells, err := analysis.FactorialCells(factors)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]analysis.CellEstimate, len(cells))
	for i, c := range cells {
		out[i] = analysis.CellEstimate{Cell: c.Key, N: n, Mean: mean(c.Levels), Var: v}
	}
	return out
}

func analyzeFactorial(t *testing.T, factors []analysis.Factor, cells []analysis.CellEstimate) *analysis.FactorialReport {
	t.Helper()
	r, err := analysis.AnalyzeFactorial(analysis.FactorialInput{Factors: factors, Cells: cells})
	if err != nil {
		t.Fatal(err)
	}
	decodeFactorial(t, r)
	return r
}

func approxFactorial(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got null, want %v", what, want)
		return
	}
	if math.Abs(*got-want) > 1e-12*math.Max(1, math.Abs(want)) {
		t.Errorf("%s: got %.17g, want %.17g", what, *got, want)
	}
}

// TestFactorialByHand checks a balanced 2×2 against formulas done on
// paper: with equal n and variance v, the main effect has se √(v/n) and df
// 4(n−1), the interaction se 2√(v/n).
func TestFactorialByHand(t *testing.T) {
	tone := analysis.Factor{Key: "tone", Levels: []string{"formal", "casual"}}
	means := map[string]float64{"bot,formal": 5, "bot,casual": 6, "human,formal": 7.5, "human,casual": 7}
	const n, v = 25, 4.0
	r := analyzeFactorial(t, []analysis.Factor{factorAgent, tone}, factorialCellsOf(t, []analysis.Factor{factorAgent, tone}, n, v,
		func(l []string) float64 { return means[strings.Join(l, ",")] }))
	agent := r.MainEffects[0]
	approxFactorial(t, "agent estimate", agent.Estimate, ((7.5+7)-(5+6))/2.0)
	approxFactorial(t, "agent se", agent.SE, math.Sqrt(v/n))
	approxFactorial(t, "agent df", agent.DF, 4*(n-1))
	inter := r.Interactions[0]
	approxFactorial(t, "interaction estimate", inter.Estimate, 7-7.5-6+5)
	approxFactorial(t, "interaction se", inter.SE, 2*math.Sqrt(v/n))
	if inter.Factors != [2]string{"agent", "tone"} || inter.Levels != [2]string{"human", "casual"} {
		t.Errorf("interaction labels %v %v", inter.Factors, inter.Levels)
	}
	if len(r.Slopes) != 0 || len(r.ExchangeRates) != 0 {
		t.Errorf("no numeric factor, yet %d slopes and %d exchange rates", len(r.Slopes), len(r.ExchangeRates))
	}
	if got := len(r.Effects()); got != 3 {
		t.Errorf("Effects: %d, want 3", got)
	}
	*r.Effects()[2] = analysis.Effect{PAdjusted: new(float64)}
	if r.Interactions[0].PAdjusted == nil {
		t.Error("Effects does not point into the report")
	}
}

// A cell with variance 0 adds nothing to the df: with one cell constant the
// df of a two-cell contrast is exactly the other cell's n − 1.
func TestFactorialOneZeroVariance(t *testing.T) {
	r := analyzeFactorial(t, []analysis.Factor{factorAgent}, []analysis.CellEstimate{
		{Cell: "agent=bot", N: 12, Mean: 3, Var: 0},
		{Cell: "agent=human", N: 15, Mean: 4, Var: 2},
	})
	approxFactorial(t, "df", r.MainEffects[0].DF, 14)
}

func TestFactorialEmptyAndSmallCells(t *testing.T) {
	factors := []analysis.Factor{factorAgent, factorWait}
	base := func() []analysis.CellEstimate {
		return factorialCellsOf(t, factors, 100, 4, func(l []string) float64 {
			h := 0.0
			if l[0] == "human" {
				h = 1
			}
			var w float64
			switch l[1] {
			case "10":
				w = -0.4
			case "15":
				w = -0.9
			}
			return 6 + h + w
		})
	}
	// The middle of three equally spaced levels has slope weight 0, so an
	// empty (here: missing) cell at wait 10 leaves the slope computable but
	// nulls what uses that cell.
	cells := base()
	cells = append(cells[:4], cells[5:]...) // drop agent=human,wait_minutes=10
	r := analyzeFactorial(t, factors, cells)
	if e := r.MainEffects[0]; e.Estimate != nil || e.SE != nil || e.NullReason != "a cell has no units" {
		t.Errorf("agent: %+v", e)
	}
	if e := r.MainEffects[1]; e.Estimate != nil || e.NullReason == "" {
		t.Errorf("wait 10: %+v", e)
	}
	if e := r.MainEffects[2]; e.SE == nil || e.NullReason != "" {
		t.Errorf("wait 15 uses no empty cell: %+v", e)
	}
	if e := r.Interactions[1]; e.CI == nil {
		t.Errorf("agent × wait 15 uses no empty cell: %+v", e)
	}
	if e := r.Slopes[0]; e.SE == nil {
		t.Errorf("slope: %+v", e)
	}
	if x := r.ExchangeRates[0]; x.Estimate != nil || x.CI != nil || x.Bounded || x.NullReason != "a cell has no units" {
		t.Errorf("exchange rate: %+v", x)
	}

	// One unit in a cell: the estimate exists, its uncertainty does not.
	cells = base()
	cells[0].N, cells[0].Var = 1, 0
	r = analyzeFactorial(t, factors, cells)
	if e := r.MainEffects[0]; e.Estimate == nil || e.SE != nil || e.CI != nil || e.PValue != nil ||
		e.NullReason != "fewer than 2 units in a cell" {
		t.Errorf("agent: %+v", e)
	}
	if e := r.MainEffects[1]; e.PValue != nil {
		t.Errorf("wait 10 vs 5 uses the cell: %+v", e)
	}
	if x := r.ExchangeRates[0]; x.Estimate == nil || x.CI != nil || x.NullReason != "fewer than 2 units in a cell" {
		t.Errorf("exchange rate: %+v", x)
	}
}

func TestFactorialZeroVariance(t *testing.T) {
	factors := []analysis.Factor{factorAgent, factorWait}
	r := analyzeFactorial(t, factors, factorialCellsOf(t, factors, 50, 0, func(l []string) float64 {
		if l[0] == "human" {
			return 1
		}
		return 0.5
	}))
	for _, e := range r.Effects() {
		if e.Estimate == nil || e.SE != nil || e.DF != nil || e.CI != nil || e.PValue != nil ||
			e.NullReason != "every variance in the contrast is 0" {
			t.Errorf("%+v", e)
		}
	}
	// The slope is exactly 0 here, so θ = a/0 has no value.
	if x := r.ExchangeRates[0]; x.Estimate != nil || x.Bounded || x.NullReason != "the slope is 0" {
		t.Errorf("exchange rate: %+v", x)
	}
}

// Fieller's set for a/(−b) is bounded only when b is clearly nonzero; with
// b not clearly nonzero it is two rays when a is clearly nonzero and the
// whole line when neither is.
func TestFactorialFiellerShapes(t *testing.T) {
	factors := []analysis.Factor{factorAgent, factorWait}
	wait := map[string]float64{"5": 0, "10": -1, "15": -2}
	mk := func(human, perStep float64) *analysis.FactorialReport {
		return analyzeFactorial(t, factors, factorialCellsOf(t, factors, 100, 100, func(l []string) float64 {
			m := wait[l[1]] * perStep
			if l[0] == "human" {
				m += human
			}
			return m
		}))
	}
	// Per cell var/n = 1, so se(a) = √(6/9) and se(b) = √(4·0.05²) = 0.1,
	// with cov(a, b) = 0; b = −perStep/5.
	for _, tc := range []struct {
		name           string
		human, perStep float64
		bounded        bool
		reason         string
	}{
		{"bounded", 5, 5, true, ""},
		{"two rays", 5, 0.5, false, "two rays"},
		{"whole line", 0.5, 0.5, false, "whole line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := mk(tc.human, tc.perStep).ExchangeRates[0]
			approxFactorial(t, "estimate", x.Estimate, tc.human/(tc.perStep/5))
			if x.Bounded != tc.bounded || (x.CI != nil) != tc.bounded || !strings.Contains(x.NullReason, tc.reason) {
				t.Fatalf("%+v", x)
			}
			if !tc.bounded {
				return
			}
			// The interval holds θ̂ and is skewed away from 0, as a ratio's is.
			lo, hi := x.CI[0], x.CI[1]
			if !(lo < *x.Estimate && *x.Estimate < hi) || !(hi-*x.Estimate > *x.Estimate-lo) {
				t.Errorf("CI %v around %v", *x.CI, *x.Estimate)
			}
		})
	}
}

// Means near the float64 limit give nulls with a reason, never NaN or a
// panic; decode fails on NaN or ±Inf.
func TestFactorialOverflow(t *testing.T) {
	factors := []analysis.Factor{factorAgent, factorWait}
	r := analyzeFactorial(t, factors, factorialCellsOf(t, factors, 10, 1e300, func(l []string) float64 {
		if l[0] == "human" {
			return 1.7e308
		}
		return -1.7e308
	}))
	if e := r.MainEffects[0]; e.Estimate != nil || e.NullReason != "values out of floating-point range" {
		t.Errorf("agent: %+v", e)
	}
	if e := r.Slopes[0]; e.Estimate == nil {
		t.Errorf("slope: %+v", e)
	}
}

func TestFactorialInputErrors(t *testing.T) {
	factors := []analysis.Factor{factorAgent, factorWait}
	ok := func() []analysis.CellEstimate {
		return factorialCellsOf(t, factors, 10, 1, func([]string) float64 { return 0 })
	}
	for _, tc := range []struct {
		name  string
		alpha float64
		edit  func(c []analysis.CellEstimate) []analysis.CellEstimate
		field string
	}{
		{"alpha", 0.5, nil, "alpha"},
		{"unknown cell", 0, func(c []analysis.CellEstimate) []analysis.CellEstimate {
			c[1].Cell = "agent=robot,wait_minutes=10"
			return c
		}, "cells[1].cell"},
		{"cell key order", 0, func(c []analysis.CellEstimate) []analysis.CellEstimate {
			c[0].Cell = "wait_minutes=5,agent=bot"
			return c
		}, "cells[0].cell"},
		{"duplicate cell", 0, func(c []analysis.CellEstimate) []analysis.CellEstimate { return append(c, c[2]) }, "cells[6].cell"},
		{"negative n", 0, func(c []analysis.CellEstimate) []analysis.CellEstimate { c[3].N = -1; return c }, "cells[3].n"},
		{"NaN mean", 0, func(c []analysis.CellEstimate) []analysis.CellEstimate { c[3].Mean = math.NaN(); return c }, "cells[3].mean"},
		{"negative variance", 0, func(c []analysis.CellEstimate) []analysis.CellEstimate { c[3].Var = -1; return c }, "cells[3].var"},
		{"bad factor", 0, nil, "factors[0].levels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := analysis.FactorialInput{Alpha: tc.alpha, Factors: factors, Cells: ok()}
			if tc.edit != nil {
				in.Cells = tc.edit(in.Cells)
			}
			if tc.name == "bad factor" {
				in.Factors = []analysis.Factor{{Key: "agent", Levels: []string{"bot"}}}
			}
			_, err := analysis.AnalyzeFactorial(in)
			var ie *analysis.InputError
			if !errors.As(err, &ie) || ie.Field != tc.field {
				t.Errorf("err = %v, want an InputError at %s", err, tc.field)
			}
		})
	}
}

func TestCellEstimateFromStats(t *testing.T) {
	b := analysis.CellEstimateFromStats("c", analysis.Binary, analysis.Stats{Units: 200, Sum: 50, SumSq: 50})
	if b.N != 200 || b.Mean != 0.25 || b.Var != 0.25*0.75 {
		t.Errorf("binary: %+v", b)
	}
	// 1, 2, 3, 6: mean 3, sample variance 14/3.
	m := analysis.CellEstimateFromStats("c", analysis.Mean, analysis.Stats{Units: 4, Sum: 12, SumSq: 50})
	if m.N != 4 || m.Mean != 3 || math.Abs(m.Var-14.0/3) > 1e-15 {
		t.Errorf("mean: %+v", m)
	}
	if e := analysis.CellEstimateFromStats("c", analysis.Ratio, analysis.Stats{Units: 4, Sum: 3}); e.N != 0 {
		t.Errorf("ratio with denominator 0 should be unusable: %+v", e)
	}
}
