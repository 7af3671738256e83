package analysis

import (
	"fmt"
	"math"
	"strings"
)

// InteractionInput is one metric of experiment A over the units also in
// experiment B. The units exposed to both form a j × k table of cells (arm
// of A, arm of B).
type InteractionInput struct {
	Alpha float64 `json:"alpha"` // 0 means DefaultAlpha
	// Kind is Binary, Mean or Ratio; each cell's mean and per-unit
	// variance follow CellEstimateFromStats.
	Kind  Kind     `json:"kind"`
	ArmsA []string `json:"arms_a"` // A's arms in order, ArmsA[0] the control
	ArmsB []string `json:"arms_b"` // B's arms in order, ArmsB[0] the control
	// Cells are the metric's sufficient statistics per (arm of A, arm of
	// B), in any order; a missing cell has no units.
	Cells []InteractionCell `json:"cells"`
	// Assigned are the units exposed to both experiments per (arm of A,
	// arm of B), for the test that the two assignments are independent.
	// They may differ from the metric's units (units without a value).
	Assigned []AssignedCell `json:"assigned"`
}

// InteractionCell is the metric's statistics in one cell.
type InteractionCell struct {
	ArmA  string `json:"arm_a"`
	ArmB  string `json:"arm_b"`
	Stats Stats  `json:"stats"`
}

// AssignedCell is the number of units exposed to both experiments in one
// cell.
type AssignedCell struct {
	ArmA  string `json:"arm_a"`
	ArmB  string `json:"arm_b"`
	Units int64  `json:"units"`
}

// InteractionResult is whether the effect of A's arms depends on the arm
// of B, and whether assignment to A is independent of assignment to B.
// Every number is null when undefined, with a reason; never NaN or ±Inf.
type InteractionResult struct {
	// ArmA and ArmB name the reported contrast: the difference of
	// differences (ArmA − A's control at ArmB) − (ArmA − A's control at B's
	// control) with the smallest p-value, or the first contrast (ArmsA[1],
	// ArmsB[1]) when none has one.
	ArmA     string    `json:"arm_a"`
	ArmB     string    `json:"arm_b"`
	Estimate *float64  `json:"estimate"`
	CI       *Interval `json:"ci"` // at 1 − alpha, not adjusted
	SE       *float64  `json:"se"`
	DF       *float64  `json:"df"`
	// PValue is the contrast's two-sided Welch p-value multiplied by
	// Contrasts, capped at 1 (Bonferroni over the contrasts; exact for a
	// 2×2).
	PValue *float64 `json:"p_value"`
	// Contrasts is (j−1)(k−1), every contrast whether or not it could be
	// computed.
	Contrasts int `json:"contrasts"`
	// AssignmentPValue is Pearson's χ² test, without continuity
	// correction, that assignment to A is independent of assignment to B,
	// on the Assigned table without the arms that have no units; ChiSq and
	// ChiDF are its statistic and degrees of freedom (0 when null).
	AssignmentPValue *float64 `json:"assignment_p_value"`
	ChiSq            *float64 `json:"chi_sq"`
	ChiDF            int      `json:"chi_df"`
	// NullReason says why the contrast's p-value is null, and
	// AssignmentNullReason why the χ² test is.
	NullReason           string `json:"null_reason,omitempty"`
	AssignmentNullReason string `json:"assignment_null_reason,omitempty"`
}

// Reasons an interaction check is null.
const (
	reasonCellDenZero     = "a cell's denominator mean is 0"
	reasonNoAssigned      = "no assigned units were given"
	reasonNoneAssigned    = "no unit was exposed to both experiments"
	reasonOneArmAssignedA = "every unit exposed to both experiments is in one arm of A"
	reasonOneArmAssignedB = "every unit exposed to both experiments is in one arm of B"
)

// CheckInteraction tests whether the effect of experiment A's arms on one
// metric depends on the arm of experiment B, over the units exposed to
// both. Each contrast (aᵢ − a₀ at bₘ) − (aᵢ − a₀ at b₀) is a contrast of
// four independent cell means with variance Σsᵢ²/nᵢ over its cells (each
// cell its own variance) and the Welch–Satterthwaite df; the one with the
// smallest p-value is reported, its p-value Bonferroni-adjusted over the
// (j−1)(k−1) contrasts. The χ² test checks that the assignments are
// independent, which the contrasts take for granted.
//
// It returns an *InputError only for malformed input: a bad alpha or kind,
// fewer than 2 arms in either experiment, an empty or duplicate arm, a cell
// of an unknown arm or a duplicate cell, negative units, and statistics
// that Analyze would refuse. Data that cannot answer (an empty cell, n < 2,
// zero variances, every unit in one arm) give nulls with reasons.
func CheckInteraction(in InteractionInput) (*InteractionResult, error) {
	alpha := in.Alpha
	if alpha == 0 {
		alpha = DefaultAlpha
	}
	if why := CheckAlpha(alpha); why != "" {
		return nil, inputErr(why, "alpha")
	}
	switch in.Kind {
	case Binary, Mean, Ratio:
	default:
		return nil, inputErr(fmt.Sprintf("unknown kind %q", in.Kind), "kind")
	}
	indexA, err := interactionArms(in.ArmsA, "arms_a")
	if err != nil {
		return nil, err
	}
	indexB, err := interactionArms(in.ArmsB, "arms_b")
	if err != nil {
		return nil, err
	}
	j, k := len(in.ArmsA), len(in.ArmsB)
	cell := func(armA, armB, path string) (int, error) {
		a, ok := indexA[armA]
		if !ok {
			return 0, inputErr(fmt.Sprintf("unknown arm %q of experiment A", armA), path+".arm_a")
		}
		b, ok := indexB[armB]
		if !ok {
			return 0, inputErr(fmt.Sprintf("unknown arm %q of experiment B", armB), path+".arm_b")
		}
		return a*k + b, nil
	}

	// Cells in row-major order, (arm of A, arm of B) at a·k + b; why holds
	// the reason a cell with units cannot be used.
	cells := make([]CellEstimate, j*k)
	why := make([]string, j*k)
	seen := make([]bool, j*k)
	for i, c := range in.Cells {
		path := fmt.Sprintf("cells[%d]", i)
		x, err := cell(c.ArmA, c.ArmB, path)
		if err != nil {
			return nil, err
		}
		if seen[x] {
			return nil, inputErr(fmt.Sprintf("duplicate cell (%q, %q)", c.ArmA, c.ArmB), path)
		}
		seen[x] = true
		if err := validateStats(in.Kind, c.Stats, path+".stats"); err != nil {
			return nil, err
		}
		cells[x] = CellEstimateFromStats(c.ArmA+cellKeySep+c.ArmB, in.Kind, c.Stats)
		if c.Stats.Units > 0 && cells[x].N == 0 {
			why[x] = reasonRange
			if estimateArm(in.Kind, c.Stats).reason == reasonDenZero {
				why[x] = reasonCellDenZero
			}
		}
	}
	assigned := make([]float64, j*k)
	seen = make([]bool, j*k)
	for i, c := range in.Assigned {
		path := fmt.Sprintf("assigned[%d]", i)
		x, err := cell(c.ArmA, c.ArmB, path)
		if err != nil {
			return nil, err
		}
		if seen[x] {
			return nil, inputErr(fmt.Sprintf("duplicate cell (%q, %q)", c.ArmA, c.ArmB), path)
		}
		seen[x] = true
		if c.Units < 0 {
			return nil, inputErr("must not be negative", path+".units")
		}
		assigned[x] = float64(c.Units)
	}

	r := &InteractionResult{Contrasts: (j - 1) * (k - 1)}
	r.setContrast(in, cells, why, alpha)
	if len(in.Assigned) == 0 {
		r.AssignmentNullReason = reasonNoAssigned
	} else {
		r.setIndependence(assigned, j, k)
	}
	return r, nil
}

// interactionArms checks one experiment's arms and indexes them.
func interactionArms(arms []string, path string) (map[string]int, error) {
	if len(arms) < 2 {
		return nil, inputErr("at least 2 arms are needed", path)
	}
	index := make(map[string]int, len(arms))
	for i, a := range arms {
		p := fmt.Sprintf("%s[%d]", path, i)
		if a == "" {
			return nil, inputErr("must not be empty", p)
		}
		if _, dup := index[a]; dup {
			return nil, inputErr("duplicate arm "+a, p)
		}
		index[a] = i
	}
	return index, nil
}

// setContrast evaluates every difference of differences and reports the
// one with the smallest p-value (the first on ties, A's arms varying
// slowest), or the first contrast when none has a p-value.
func (r *InteractionResult) setContrast(in InteractionInput, cells []CellEstimate, why []string, alpha float64) {
	k := len(in.ArmsB)
	var best Effect
	bestA, bestB := -1, -1
	c := make([]float64, len(cells))
	for a := 1; a < len(in.ArmsA); a++ {
		for b := 1; b < k; b++ {
			clear(c)
			four := [4]int{a*k + b, 0, a * k, b} // (aᵢ, bₘ), (a₀, b₀), (aᵢ, b₀), (a₀, bₘ)
			c[four[0]], c[four[1]], c[four[2]], c[four[3]] = 1, 1, -1, -1
			m := welchContrast(cells, c)
			if m.reason == reasonEmptyCell {
				m.reason = emptyCellReason(cells, why, four)
			}
			e := welchEffect(m, alpha)
			if bestA < 0 || e.PValue != nil && (best.PValue == nil || *e.PValue < *best.PValue) {
				best, bestA, bestB = e, a, b
			}
		}
	}
	r.ArmA, r.ArmB = in.ArmsA[bestA], in.ArmsB[bestB]
	r.Estimate, r.CI, r.SE, r.DF, r.NullReason = best.Estimate, best.CI, best.SE, best.DF, best.NullReason
	if best.PValue != nil {
		r.PValue = num(math.Min(1, *best.PValue*float64(r.Contrasts)))
	}
}

// emptyCellReason says why a contrast with a cell of N = 0 is null: the
// cell has no units, or its units give no usable mean (why).
func emptyCellReason(cells []CellEstimate, why []string, four [4]int) string {
	for _, x := range four {
		if cells[x].N == 0 && why[x] == "" {
			return reasonEmptyCell
		}
	}
	for _, x := range four {
		if why[x] != "" {
			return why[x]
		}
	}
	return reasonEmptyCell
}

// setIndependence is Pearson's χ² test of independence on the j × k table
// of assigned units (row-major), R's chisq.test(table, correct = FALSE).
// Arms with no units are left out: their expected counts are 0 and they
// say nothing about independence (R gives NaN on them).
func (r *InteractionResult) setIndependence(assigned []float64, j, k int) {
	rows, cols := make([]float64, j), make([]float64, k)
	var total float64
	for a := 0; a < j; a++ {
		for b := 0; b < k; b++ {
			o := assigned[a*k+b]
			rows[a] += o
			cols[b] += o
			total += o
		}
	}
	nonEmpty := func(xs []float64) (n int) {
		for _, x := range xs {
			if x > 0 {
				n++
			}
		}
		return n
	}
	ra, cb := nonEmpty(rows), nonEmpty(cols)
	switch {
	case total == 0:
		r.AssignmentNullReason = reasonNoneAssigned
		return
	case ra < 2:
		r.AssignmentNullReason = reasonOneArmAssignedA
		return
	case cb < 2:
		r.AssignmentNullReason = reasonOneArmAssignedB
		return
	}
	var chi float64
	for a := 0; a < j; a++ {
		for b := 0; b < k; b++ {
			if rows[a] == 0 || cols[b] == 0 {
				continue
			}
			e := rows[a] / total * cols[b]
			d := assigned[a*k+b] - e
			chi += d * d / e
		}
	}
	df := (ra - 1) * (cb - 1)
	p := chiSqSurvival(chi, float64(df))
	if !finite(chi) || !finite(p) {
		r.AssignmentNullReason = reasonRange
		return
	}
	r.ChiSq, r.ChiDF, r.AssignmentPValue = num(chi), df, num(p)
}

// InteractionFlagLevel is the level at which a pair of experiments is
// flagged, after correcting over the pairs (Eppo's convention).
const InteractionFlagLevel = 0.01

// InteractionCheck is one entry of a report's interactions: another
// experiment that shares units with this one, on one of this one's
// metrics.
type InteractionCheck struct {
	Experiment string `json:"experiment"`
	Metric     string `json:"metric"`
	*InteractionResult
	// PAdjusted is PValue by Holm over the report's checks;
	// AssignmentPAdjusted the χ² p-value by Holm over the other
	// experiments (assignment does not depend on the metric).
	PAdjusted           *float64 `json:"p_adjusted"`
	AssignmentPAdjusted *float64 `json:"assignment_p_adjusted"`
	// Flagged when either adjusted p-value is below InteractionFlagLevel.
	Flagged bool   `json:"flagged"`
	Summary string `json:"summary"`
}

// FlagInteractions corrects the checks' p-values over the pairs, flags
// those below InteractionFlagLevel and writes each one's sentence, naming
// the other experiment.
func FlagInteractions(checks []InteractionCheck) {
	var ps []float64
	var idx []int
	byExperiment := map[string]float64{}
	var order []string
	for i, c := range checks {
		if c.PValue != nil {
			ps, idx = append(ps, *c.PValue), append(idx, i)
		}
		if _, seen := byExperiment[c.Experiment]; !seen && c.AssignmentPValue != nil {
			byExperiment[c.Experiment] = *c.AssignmentPValue
			order = append(order, c.Experiment)
		}
	}
	for j, p := range AdjustPValues(ps, Holm) {
		checks[idx[j]].PAdjusted = num(p)
	}
	raw := make([]float64, len(order))
	for i, e := range order {
		raw[i] = byExperiment[e]
	}
	adjusted := map[string]float64{}
	for i, p := range AdjustPValues(raw, Holm) {
		adjusted[order[i]] = p
	}
	for i := range checks {
		c := &checks[i]
		if p, ok := adjusted[c.Experiment]; ok {
			c.AssignmentPAdjusted = num(p)
		}
		interacts := c.PAdjusted != nil && *c.PAdjusted < InteractionFlagLevel
		dependent := c.AssignmentPAdjusted != nil && *c.AssignmentPAdjusted < InteractionFlagLevel
		c.Flagged = interacts || dependent
		c.Summary = interactionSummary(c, interacts, dependent)
	}
}

func interactionSummary(c *InteractionCheck, interacts, dependent bool) string {
	var parts []string
	if interacts {
		parts = append(parts, fmt.Sprintf("on %s, this experiment's effect depends on the arm of %q (difference of differences %s at %s × %s, %s after correction)",
			c.Metric, c.Experiment, FormatSigned(*c.Estimate), c.ArmA, c.ArmB, FormatP(*c.PAdjusted)))
	}
	if dependent {
		parts = append(parts, fmt.Sprintf("assignment to it is not independent of assignment to %q (χ² %s after correction): check their targeting and salts", c.Experiment, FormatP(*c.AssignmentPAdjusted)))
	}
	if len(parts) > 0 {
		return "Flagged: " + strings.Join(parts, "; ") + "."
	}
	switch {
	case c.PValue == nil:
		return fmt.Sprintf("The interaction with %q on %s cannot be tested yet (%s).", c.Experiment, c.Metric, c.NullReason)
	default:
		return fmt.Sprintf("No sign that running %q alongside changes the effect on %s (%s after correction).", c.Experiment, c.Metric, FormatP(*c.PAdjusted))
	}
}
