package analysis_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/revealed-ab/revealed/analysis"
)

type interactionGolden struct {
	Generator string `json:"generator"`
	RVersion  string `json:"r_version"`
	Cases     []struct {
		Name        string                    `json:"name"`
		Input       analysis.InteractionInput `json:"input"`
		PerContrast []map[string]any          `json:"per_contrast"`
		Expect      map[string]any            `json:"expect"`
	} `json:"cases"`
}

// TestInteractionGolden compares with testdata/reference/interaction.R:
// point estimates from R's lm (the a:b coefficients of y ~ a * b), the
// Welch-type variance and df written out in R from simulated per-unit
// data, the Bonferroni rule over the contrasts, and chisq.test(correct =
// FALSE) on the assigned counts.
func TestInteractionGolden(t *testing.T) {
	b, err := os.ReadFile("testdata/golden_interaction.json")
	if err != nil {
		t.Fatal(err)
	}
	var g interactionGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if g.Generator != "interaction.R" || len(g.Cases) < 12 {
		t.Fatalf("generator %q with %d cases", g.Generator, len(g.Cases))
	}
	for _, c := range g.Cases {
		t.Run(c.Name, func(t *testing.T) {
			r, err := analysis.CheckInteraction(c.Input)
			if err != nil {
				t.Fatal(err)
			}
			got := decodeInteraction(t, r)
			keys := make([]string, 0, len(c.Expect))
			for k := range c.Expect {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if msg := compare(c.Expect[k], got[k]); msg != "" {
					t.Errorf("%s: %s", k, msg)
				}
			}
			checkInteractionReasons(t, got)

			// Each contrast, unadjusted, is the 2×2 of its four cells.
			if len(c.PerContrast) != r.Contrasts {
				t.Fatalf("%d contrasts in the reference, %d in the result", len(c.PerContrast), r.Contrasts)
			}
			for i, want := range c.PerContrast {
				sub := subTable(c.Input, want["arm_a"].(string), want["arm_b"].(string))
				rs, err := analysis.CheckInteraction(sub)
				if err != nil {
					t.Fatalf("per_contrast[%d]: %v", i, err)
				}
				gs := decodeInteraction(t, rs)
				for k, wv := range want {
					if msg := compare(wv, gs[k]); msg != "" {
						t.Errorf("per_contrast[%d].%s: %s", i, k, msg)
					}
				}
			}
		})
	}
}

// subTable is the 2×2 of in's controls with arms a of A and b of B.
func subTable(in analysis.InteractionInput, a, b string) analysis.InteractionInput {
	armsA, armsB := []string{in.ArmsA[0], a}, []string{in.ArmsB[0], b}
	out := analysis.InteractionInput{Alpha: in.Alpha, Kind: in.Kind, ArmsA: armsA, ArmsB: armsB}
	for _, c := range in.Cells {
		if slices.Contains(armsA, c.ArmA) && slices.Contains(armsB, c.ArmB) {
			out.Cells = append(out.Cells, c)
		}
	}
	for _, c := range in.Assigned {
		if slices.Contains(armsA, c.ArmA) && slices.Contains(armsB, c.ArmB) {
			out.Assigned = append(out.Assigned, c)
		}
	}
	return out
}

// decodeInteraction is r as generic JSON; it fails the test if r cannot be
// marshalled (encoding/json refuses NaN and ±Inf).
func decodeInteraction(t *testing.T, r *analysis.InteractionResult) map[string]any {
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

// checkInteractionReasons: a null p-value always says why, and only then;
// the same for the χ² test.
func checkInteractionReasons(t *testing.T, got map[string]any) {
	t.Helper()
	for _, f := range [][2]string{{"p_value", "null_reason"}, {"assignment_p_value", "assignment_null_reason"}} {
		reason, _ := got[f[1]].(string)
		if (got[f[0]] == nil) != (reason != "") {
			t.Errorf("%s %v with %s %q", f[0], got[f[0]], f[1], reason)
		}
	}
	if got["p_value"] != nil && (got["ci"] == nil || got["se"] == nil || got["df"] == nil || got["estimate"] == nil) {
		t.Errorf("p_value without estimate, ci, se or df: %v", got)
	}
	if got["assignment_p_value"] != nil && got["chi_sq"] == nil {
		t.Errorf("assignment_p_value without chi_sq: %v", got)
	}
}

// meanStats are the sums of n values with this mean and sample variance.
func meanStats(n int64, mean, variance float64) analysis.Stats {
	fn := float64(n)
	return analysis.Stats{Units: n, Sum: fn * mean, SumSq: (fn-1)*variance + fn*mean*mean}
}

func cellsOf(armsA, armsB []string, stats [][]analysis.Stats) []analysis.InteractionCell {
	var out []analysis.InteractionCell
	for a, row := range stats {
		for b, s := range row {
			out = append(out, analysis.InteractionCell{ArmA: armsA[a], ArmB: armsB[b], Stats: s})
		}
	}
	return out
}

func assignedOf(armsA, armsB []string, units [][]int64) []analysis.AssignedCell {
	var out []analysis.AssignedCell
	for a, row := range units {
		for b, u := range row {
			out = append(out, analysis.AssignedCell{ArmA: armsA[a], ArmB: armsB[b], Units: u})
		}
	}
	return out
}

func near(got *float64, want float64) bool {
	return got != nil && math.Abs(*got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

var (
	interA = []string{"control", "one_page"}
	interB = []string{"control", "discount"}
)

// TestInteractionByHand: cell means 1, 2 (A's control at B's control and
// discount) and 3, 6 (one_page), each n = 10 with variance 10, so the
// interaction is (6 − 2) − (3 − 1) = 2, var = 4·10/10 = 4, se = 2, df =
// 4²/(4·1²/9) = 36, t = 1; and the assigned table 30 20 / 20 30, whose
// expected counts are all 25: χ² = 4·5²/25 = 4 on 1 df.
func TestInteractionByHand(t *testing.T) {
	stats := [][]analysis.Stats{
		{meanStats(10, 1, 10), meanStats(10, 2, 10)},
		{meanStats(10, 3, 10), meanStats(10, 6, 10)},
	}
	units := [][]int64{{30, 20}, {20, 30}}
	in := analysis.InteractionInput{Kind: analysis.Mean, ArmsA: interA, ArmsB: interB,
		Cells: cellsOf(interA, interB, stats), Assigned: assignedOf(interA, interB, units)}
	// R: 2*pt(-1, 36), qt(0.975, 36).
	const p, q = 0.32398502626512726, 2.0280940009804507
	chiP := math.Erfc(2 / math.Sqrt2) // P(χ²₁ ≥ 4) = P(|Z| ≥ 2)

	check := func(t *testing.T, r *analysis.InteractionResult, armA, armB string, wantP float64, contrasts int) {
		t.Helper()
		if r.ArmA != armA || r.ArmB != armB || r.Contrasts != contrasts {
			t.Errorf("arms (%s, %s), %d contrasts; want (%s, %s), %d", r.ArmA, r.ArmB, r.Contrasts, armA, armB, contrasts)
		}
		if !near(r.Estimate, 2) || !near(r.SE, 2) || !near(r.DF, 36) || !near(r.PValue, wantP) {
			t.Errorf("estimate %v se %v df %v p %v; want 2, 2, 36, %v", deref(r.Estimate), deref(r.SE), deref(r.DF), deref(r.PValue), wantP)
		}
		if r.CI == nil || !near(&r.CI[0], 2-2*q) || !near(&r.CI[1], 2+2*q) {
			t.Errorf("ci %v, want [%v, %v]", r.CI, 2-2*q, 2+2*q)
		}
		if !near(r.ChiSq, 4) || r.ChiDF != 1 || !near(r.AssignmentPValue, chiP) {
			t.Errorf("χ² %v on %d df, p %v; want 4 on 1, %v", deref(r.ChiSq), r.ChiDF, deref(r.AssignmentPValue), chiP)
		}
		if r.NullReason != "" || r.AssignmentNullReason != "" {
			t.Errorf("reasons %q, %q", r.NullReason, r.AssignmentNullReason)
		}
	}

	t.Run("2x2", func(t *testing.T) {
		r, err := analysis.CheckInteraction(in)
		if err != nil {
			t.Fatal(err)
		}
		check(t, r, "one_page", "discount", p, 1)
	})

	// The interaction is symmetric: with the experiments' roles swapped
	// the contrast is (6 − 3) − (2 − 1), the same 2.
	t.Run("swapped", func(t *testing.T) {
		sw := analysis.InteractionInput{Kind: analysis.Mean, ArmsA: interB, ArmsB: interA}
		for _, c := range in.Cells {
			sw.Cells = append(sw.Cells, analysis.InteractionCell{ArmA: c.ArmB, ArmB: c.ArmA, Stats: c.Stats})
		}
		for _, c := range in.Assigned {
			sw.Assigned = append(sw.Assigned, analysis.AssignedCell{ArmA: c.ArmB, ArmB: c.ArmA, Units: c.Units})
		}
		r, err := analysis.CheckInteraction(sw)
		if err != nil {
			t.Fatal(err)
		}
		check(t, r, "discount", "one_page", p, 1)
	})

	// A third arm of B whose cells copy the discount's: two equal
	// contrasts, the first reported, p doubled (Bonferroni). The assigned
	// table gains an empty column, which the χ² test leaves out.
	t.Run("2x3 Bonferroni", func(t *testing.T) {
		armsB := []string{"control", "discount", "bundle"}
		in3 := analysis.InteractionInput{Kind: analysis.Mean, ArmsA: interA, ArmsB: armsB,
			Cells: cellsOf(interA, armsB, [][]analysis.Stats{
				append(stats[0], stats[0][1]), append(stats[1], stats[1][1]),
			}),
			Assigned: assignedOf(interA, armsB, [][]int64{{30, 20, 0}, {20, 30, 0}})}
		r, err := analysis.CheckInteraction(in3)
		if err != nil {
			t.Fatal(err)
		}
		check(t, r, "one_page", "discount", 2*p, 2)
	})

	// α = 0.1 narrows the interval: t at 0.95 instead of 0.975.
	t.Run("alpha", func(t *testing.T) {
		in10 := in
		in10.Alpha = 0.1
		r, err := analysis.CheckInteraction(in10)
		if err != nil {
			t.Fatal(err)
		}
		const q90 = 1.6882977141168156 // R: qt(0.95, 36)
		if r.CI == nil || !near(&r.CI[1], 2+2*q90) {
			t.Errorf("ci %v, want upper %v", r.CI, 2+2*q90)
		}
	})
}

func deref(x *float64) any {
	if x == nil {
		return nil
	}
	return *x
}

func TestInteractionInputErrors(t *testing.T) {
	good := func() analysis.InteractionInput {
		return analysis.InteractionInput{Kind: analysis.Mean, ArmsA: interA, ArmsB: interB,
			Cells: cellsOf(interA, interB, [][]analysis.Stats{
				{meanStats(10, 1, 1), meanStats(10, 1, 1)}, {meanStats(10, 1, 1), meanStats(10, 1, 1)},
			}),
			Assigned: assignedOf(interA, interB, [][]int64{{10, 10}, {10, 10}})}
	}
	if _, err := analysis.CheckInteraction(good()); err != nil {
		t.Fatalf("good input: %v", err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(in *analysis.InteractionInput)
		field string
	}{
		{"alpha too large", func(in *analysis.InteractionInput) { in.Alpha = 0.5 }, "alpha"},
		{"alpha negative", func(in *analysis.InteractionInput) { in.Alpha = -0.05 }, "alpha"},
		{"alpha NaN", func(in *analysis.InteractionInput) { in.Alpha = math.NaN() }, "alpha"},
		{"no kind", func(in *analysis.InteractionInput) { in.Kind = "" }, "kind"},
		{"unknown kind", func(in *analysis.InteractionInput) { in.Kind = "median" }, "kind"},
		{"one arm of A", func(in *analysis.InteractionInput) { in.ArmsA = in.ArmsA[:1] }, "arms_a"},
		{"no arms of B", func(in *analysis.InteractionInput) { in.ArmsB = nil }, "arms_b"},
		{"duplicate arm", func(in *analysis.InteractionInput) { in.ArmsA = []string{"control", "control"} }, "arms_a[1]"},
		{"empty arm", func(in *analysis.InteractionInput) { in.ArmsB = []string{"", "discount"} }, "arms_b[0]"},
		{"unknown arm of A in a cell", func(in *analysis.InteractionInput) { in.Cells[2].ArmA = "express" }, "cells[2].arm_a"},
		{"unknown arm of B in a cell", func(in *analysis.InteractionInput) { in.Cells[0].ArmB = "bundle" }, "cells[0].arm_b"},
		{"duplicate cell", func(in *analysis.InteractionInput) { in.Cells[1].ArmB = "control" }, "cells[1]"},
		{"negative units", func(in *analysis.InteractionInput) { in.Cells[3].Stats.Units = -1 }, "cells[3].stats.units"},
		{"non-finite sum", func(in *analysis.InteractionInput) { in.Cells[0].Stats.Sum = math.Inf(1) }, "cells[0].stats.sum"},
		{"sum_sq below sum²/n", func(in *analysis.InteractionInput) { in.Cells[0].Stats.SumSq = 1 }, "cells[0].stats.sum_sq"},
		{"binary sum above units", func(in *analysis.InteractionInput) {
			in.Kind = analysis.Binary
			in.Cells[0].Stats = analysis.Stats{Units: 10, Sum: 11, SumSq: 11}
		}, "cells[0].stats.sum"},
		{"unknown arm in assigned", func(in *analysis.InteractionInput) { in.Assigned[1].ArmB = "bundle" }, "assigned[1].arm_b"},
		{"duplicate assigned cell", func(in *analysis.InteractionInput) { in.Assigned[3].ArmA = "control" }, "assigned[3]"},
		{"negative assigned units", func(in *analysis.InteractionInput) { in.Assigned[0].Units = -5 }, "assigned[0].units"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := good()
			tc.edit(&in)
			r, err := analysis.CheckInteraction(in)
			var ie *analysis.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("want *InputError, got %v (result %+v)", err, r)
			}
			if ie.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", ie.Field, tc.field, err)
			}
		})
	}
}

// TestInteractionEdgeCases: data that cannot answer gives nulls with
// reasons, and the result always marshals to JSON (no NaN or ±Inf).
func TestInteractionEdgeCases(t *testing.T) {
	s := func(n int64, mean, variance float64) analysis.Stats { return meanStats(n, mean, variance) }
	full := [][]int64{{100, 100}, {100, 100}}
	for _, tc := range []struct {
		name       string
		kind       analysis.Kind
		stats      [][]analysis.Stats
		assigned   [][]int64
		estimate   bool   // the estimate is non-null
		reason     string // in null_reason; "" means the p-value is non-null
		assignment string // in assignment_null_reason; "" means the χ² test ran
	}{
		{"nothing at all", analysis.Mean, nil, nil, false, "a cell has no units", "no assigned units were given"},
		{"an empty cell", analysis.Mean, [][]analysis.Stats{{s(10, 1, 1), s(10, 1, 1)}, {s(10, 1, 1), {}}},
			full, false, "a cell has no units", ""},
		{"one unit in a cell", analysis.Mean, [][]analysis.Stats{{s(10, 1, 1), s(10, 1, 1)}, {s(10, 1, 1), {Units: 1, Sum: 4, SumSq: 16}}},
			full, true, "fewer than 2 units in a cell", ""},
		{"constant values", analysis.Mean, [][]analysis.Stats{{s(10, 1, 0), s(10, 2, 0)}, {s(10, 3, 0), s(10, 5, 0)}},
			full, true, "every variance in the contrast is 0", ""},
		{"binary, nobody converted", analysis.Binary,
			[][]analysis.Stats{{{Units: 50}, {Units: 50}}, {{Units: 50}, {Units: 50}}},
			full, true, "every variance in the contrast is 0", ""},
		{"binary, one cell at 100%", analysis.Binary,
			[][]analysis.Stats{{{Units: 50, Sum: 5, SumSq: 5}, {Units: 50, Sum: 7, SumSq: 7}}, {{Units: 50, Sum: 6, SumSq: 6}, {Units: 50, Sum: 50, SumSq: 50}}},
			full, true, "", ""},
		{"ratio, denominator 0", analysis.Ratio,
			[][]analysis.Stats{{ratioStats(20, 40, 20), ratioStats(20, 40, 20)}, {ratioStats(20, 40, 20), {Units: 20, Sum: 3, SumSq: 9}}},
			full, false, "a cell's denominator mean is 0", ""},
		{"ratio beyond float64", analysis.Ratio,
			[][]analysis.Stats{{ratioStats(20, 40, 20), ratioStats(20, 40, 20)}, {ratioStats(20, 40, 20),
				{Units: 1, Sum: 1e150, SumSq: 1e300, DenSum: 1e-200, DenSumSq: 0, DenCross: 1e-50}}},
			full, false, "values out of floating-point range", ""},
		{"assigned all zero", analysis.Mean, [][]analysis.Stats{{s(10, 1, 1), s(10, 1, 1)}, {s(10, 1, 1), s(10, 2, 1)}},
			[][]int64{{0, 0}, {0, 0}}, true, "", "no unit was exposed to both experiments"},
		{"all in one arm of A", analysis.Mean, [][]analysis.Stats{{s(10, 1, 1), s(10, 1, 1)}, {s(10, 1, 1), s(10, 2, 1)}},
			[][]int64{{40, 60}, {0, 0}}, true, "", "in one arm of A"},
		{"all in one arm of B", analysis.Mean, [][]analysis.Stats{{s(10, 1, 1), {}}, {s(10, 1, 1), {}}},
			[][]int64{{40, 0}, {60, 0}}, false, "a cell has no units", "in one arm of B"},
		{"huge counts", analysis.Mean, [][]analysis.Stats{{s(10, 1, 1), s(10, 1, 1)}, {s(10, 1, 1), s(10, 2, 1)}},
			[][]int64{{math.MaxInt64, math.MaxInt64}, {math.MaxInt64, 1}}, true, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := analysis.InteractionInput{Kind: tc.kind, ArmsA: interA, ArmsB: interB, Cells: cellsOf(interA, interB, tc.stats)}
			if tc.assigned != nil {
				in.Assigned = assignedOf(interA, interB, tc.assigned)
			}
			r, err := analysis.CheckInteraction(in)
			if err != nil {
				t.Fatal(err)
			}
			got := decodeInteraction(t, r)
			checkInteractionReasons(t, got)
			if (r.Estimate != nil) != tc.estimate {
				t.Errorf("estimate %v, want non-null %v", deref(r.Estimate), tc.estimate)
			}
			if tc.reason == "" && r.PValue == nil || !strings.Contains(r.NullReason, tc.reason) {
				t.Errorf("p %v, null_reason %q; want reason %q", deref(r.PValue), r.NullReason, tc.reason)
			}
			if tc.assignment == "" && r.AssignmentPValue == nil || !strings.Contains(r.AssignmentNullReason, tc.assignment) {
				t.Errorf("assignment p %v, reason %q; want reason %q", deref(r.AssignmentPValue), r.AssignmentNullReason, tc.assignment)
			}
			if r.AssignmentPValue == nil && (r.ChiSq != nil || r.ChiDF != 0) {
				t.Errorf("χ² %v on %d df without a p-value", deref(r.ChiSq), r.ChiDF)
			}
			if r.ArmA != "one_page" || r.ArmB != "discount" || r.Contrasts != 1 {
				t.Errorf("arms (%q, %q), %d contrasts", r.ArmA, r.ArmB, r.Contrasts)
			}
		})
	}
}

// ratioStats are n units, each with numerator m/n and denominator d/n
// plus a little spread, so that the variances are positive.
func ratioStats(n int64, m, d float64) analysis.Stats {
	fn := float64(n)
	mu, du := m/fn, d/fn
	// Half the units 0.5 above the mean, half 0.5 below, in both.
	return analysis.Stats{Units: n, Sum: m, SumSq: fn * (mu*mu + 0.25), DenSum: d,
		DenSumSq: fn * (du*du + 0.25), DenCross: fn * (mu*du + 0.1)}
}
