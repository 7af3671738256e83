package analysis

import (
	"fmt"
	"math"
	"slices"
)

// Tradeoff is what a tradeoff claim adds to a claim's result: the exchange
// rate its verdict reads and the off-diagonal cells the survey asked about.
type Tradeoff struct {
	Factor     string  `json:"factor"`
	Preferred  string  `json:"preferred"`
	Reference  string  `json:"reference"`
	Cost       string  `json:"cost"`
	StatedCost float64 `json:"stated_cost"`
	// ExchangeRate is θ with Fieller's interval at the claim's level,
	// unadjusted: the verdict compares it with StatedCost.
	ExchangeRate ExchangeRate `json:"exchange_rate"`
	// OffDiagonal is the literal survey question: Preferred at the
	// reference cost plus StatedCost against the reference at the
	// reference cost (human at 10 minutes against bot at 5); null when
	// no level of Cost lies StatedCost above its first.
	OffDiagonal *OffDiagonal `json:"off_diagonal"`
}

// OffDiagonal is the difference of two cells (averaged over any other
// factors): Cells[0] − Cells[1], with a Welch interval at the claim's level.
type OffDiagonal struct {
	Cells [2]string `json:"cells"`
	Effect
}

// checkFactors makes sure that a factorial input's variants are exactly
// the cells of its factors: a design that is not is a configuration error.
func (a *reportBuilder) checkFactors() error {
	if len(a.in.Factors) == 0 {
		return nil
	}
	cells, err := FactorialCells(a.in.Factors)
	if err != nil {
		return err
	}
	if len(cells) != len(a.in.Variants) {
		return inputErr(fmt.Sprintf("a factorial's variants are its %d cells, not %d variants", len(cells), len(a.in.Variants)), "variants")
	}
	for _, c := range cells {
		if _, ok := a.weights[c.Key]; !ok {
			return inputErr(fmt.Sprintf("cell %q is not a variant", c.Key), "variants")
		}
	}
	return nil
}

// factorialEffects computes m's factorial contrasts from its arms and keeps
// the design for tradeoff claims.
func (a *reportBuilder) factorialEffects(m MetricInput, arms []Arm) *FactorialEffects {
	in := FactorialInput{Alpha: a.alpha, Factors: a.in.Factors}
	for _, arm := range arms {
		in.Cells = append(in.Cells, CellEstimateFromStats(arm.Variant, m.Kind, arm.Stats))
	}
	fa, err := newFactorial(in)
	if err != nil {
		// checkFactors and validateStats have ruled this out.
		a.warnings = append(a.warnings, fmt.Sprintf("metric %q: the factorial contrasts cannot be computed: %v", m.Metric, err))
		return nil
	}
	if a.factorials == nil {
		a.factorials = map[string]*factorial{}
	}
	a.factorials[m.Metric] = fa
	return &fa.run().FactorialEffects
}

// validateTradeoff adds the problems of a tradeoff claim in design d.
func (c *Claim) validateTradeoff(d Design, add func(field, format string, args ...any)) {
	if len(d.Factors) == 0 {
		add("kind", "a tradeoff claim needs a factorial experiment (one with factors)")
		return
	}
	f, known := d.factor(c.Factor)
	switch {
	case c.Factor == "":
		add("factor", "is required: the factor whose level the survey prefers, e.g. \"agent\"")
	case !known:
		add("factor", "names no factor of the experiment: %q", c.Factor)
	}
	switch {
	case c.Preferred == "":
		add("preferred", "is required: the level of the factor the survey prefers, e.g. \"human\"")
	case known && !slices.Contains(f.Levels, c.Preferred):
		add("preferred", "is not a level of %q", c.Factor)
	case known && c.Preferred == f.Levels[0]:
		add("preferred", "must not be %q, the factor's first level, which it is compared with", f.Levels[0])
	}
	cost, knownCost := d.factor(c.Cost)
	switch {
	case c.Cost == "":
		add("cost", "is required: the numeric factor the preference is paid in, e.g. \"wait_minutes\"")
	case !knownCost:
		add("cost", "names no factor of the experiment: %q", c.Cost)
	case !cost.Numeric:
		add("cost", "must be a numeric factor; %q is not", c.Cost)
	case c.Cost == c.Factor:
		add("cost", "must be another factor than factor")
	}
	for _, f := range []struct{ field, value string }{{"segment", c.Segment}, {"variant", c.Variant}, {"other", c.Other}} {
		if f.value != "" {
			add(f.field, "a tradeoff claim compares the preferred level with its factor's first level over every cell; it takes no %s", f.field)
		}
	}
}

// tradeoffClaim tests whether Preferred is worth more than StatedCost of
// Cost. Its p-value tests θ = StatedCost, i.e. the contrast a + s·b = 0;
// the verdict reads Fieller's interval (decideTradeoff).
func (a *reportBuilder) tradeoffClaim(w *claimWork) {
	c := w.in
	fa := a.factorials[c.Metric]
	w.summary = a.tradeoffSummary
	w.decide = a.decideTradeoff
	w.res.Stated = num(*c.StatedCost)
	if fa == nil {
		w.res.Reason = "the metric has no factorial contrasts"
		return
	}
	f, l := fa.level(c.Factor, c.Preferred)
	g, _ := fa.level(c.Cost, "")
	s := *c.StatedCost
	main, slope := fa.mainContrast(f, l), fa.slopeContrast(g)
	t := &Tradeoff{Factor: c.Factor, Preferred: c.Preferred, Reference: fa.factors[f].Levels[0], Cost: c.Cost,
		StatedCost: s, ExchangeRate: fa.exchange(main, slope)}
	t.ExchangeRate.Factor, t.ExchangeRate.Level, t.ExchangeRate.Cost = c.Factor, c.Preferred, c.Cost
	t.OffDiagonal = fa.offDiagonal(f, l, g, s)
	w.res.Tradeoff = t
	w.res.Revealed, w.res.RevealedCI = t.ExchangeRate.Estimate, t.ExchangeRate.CI
	for i := range fa.cells {
		if main[i] != 0 || slope[i] != 0 {
			w.res.Units += fa.cells[i].N
		}
	}
	if t.ExchangeRate.Estimate == nil {
		w.res.Reason = t.ExchangeRate.NullReason
	}
	comb := make([]float64, len(main))
	for i := range main {
		comb[i] = main[i] + s*slope[i]
	}
	m := fa.contrast(comb)
	if !m.ok {
		if w.res.Reason == "" {
			w.res.Reason = m.reason
		}
		return
	}
	se := math.Sqrt(m.v)
	w.res.PValue = num(tTwoSided(m.est/se, m.df))
	n := float64(w.res.Units)
	w.need = func(alpha float64) (int64, bool) { return a.unitsNeeded(m.est, se, n, alpha) }
}

// decideTradeoff: holds when Fieller's interval lies above the stated cost,
// contradicted when below, else inconclusive with the units that would give
// the test of θ = stated cost 80% power.
func (a *reportBuilder) decideTradeoff(w *claimWork, powerAlpha float64) {
	if ci := w.res.RevealedCI; ci != nil && w.res.Stated != nil {
		switch s := *w.res.Stated; {
		case ci[0] > s:
			w.res.Verdict = Holds
			return
		case ci[1] < s:
			w.res.Verdict = Contradicted
			return
		}
	}
	if w.need != nil {
		if u, ok := w.need(powerAlpha); ok {
			w.res.UnitsNeeded = ptr(u)
		}
	}
}

func (a *reportBuilder) tradeoffSummary(w *claimWork) string {
	c, t := w.in, w.res.Tradeoff
	stated := FormatNumber(*c.StatedCost)
	if t == nil || t.ExchangeRate.Estimate == nil {
		return fmt.Sprintf("What %s is worth in %s cannot be estimated yet (%s).", c.Preferred, c.Cost, w.res.Reason)
	}
	worth := fmt.Sprintf("In what customers do, %s (against %s) is worth %s %s on %s",
		c.Preferred, t.Reference, FormatNumber(*t.ExchangeRate.Estimate), c.Cost, c.Metric)
	need := ""
	if w.res.UnitsNeeded != nil {
		need = fmt.Sprintf("; about %s more units would decide it", FormatCount(*w.res.UnitsNeeded))
	}
	ci := t.ExchangeRate.CI
	if ci == nil {
		return fmt.Sprintf("%s, but the interval is not bounded: %s. Whether it is worth the stated %s is not decided%s.",
			worth, t.ExchangeRate.NullReason, stated, need)
	}
	worth += fmt.Sprintf(" (%s CI %s to %s)", a.level(), FormatNumber(ci[0]), FormatNumber(ci[1]))
	switch w.res.Verdict {
	case Holds:
		return fmt.Sprintf("%s: more than the stated %s, so the trade-off holds.", worth, stated)
	case Contradicted:
		return fmt.Sprintf("%s: less than the stated %s, so customers do not trade that much for it.", worth, stated)
	}
	return fmt.Sprintf("%s: the interval includes the stated %s, so it is not decided%s.", worth, stated, need)
}

// level returns the index of factor key and of its level name (-1 when
// name is not a level).
func (fa *factorial) level(key, name string) (f, l int) {
	f = slices.IndexFunc(fa.factors, func(x Factor) bool { return x.Key == key })
	return f, slices.Index(fa.factors[f].Levels, name)
}

// offDiagonal is level l of factor f at cost level "first + stated" of
// factor g against the reference of f at g's first level, each averaged
// over the other factors; nil when g has no such level.
func (fa *factorial) offDiagonal(f, l, g int, stated float64) *OffDiagonal {
	x := fa.values[g]
	target := x[0] + stated
	m := slices.IndexFunc(x, func(v float64) bool { return math.Abs(v-target) <= 1e-9*math.Max(1, math.Abs(target)) })
	if m < 0 {
		return nil
	}
	w := float64(len(fa.factors[f].Levels)*len(x)) / float64(len(fa.cells))
	c := make([]float64, len(fa.cells))
	for i, lv := range fa.levelOf {
		switch {
		case lv[f] == l && lv[g] == m:
			c[i] = w
		case lv[f] == 0 && lv[g] == 0:
			c[i] = -w
		}
	}
	// Named as cell keys are, in the declared factor order.
	name := func(lf, lg int) string {
		ff, fg := fa.factors[f], fa.factors[g]
		if g < f {
			return CellKey([]Factor{fg, ff}, []string{fg.Levels[lg], ff.Levels[lf]})
		}
		return CellKey([]Factor{ff, fg}, []string{ff.Levels[lf], fg.Levels[lg]})
	}
	return &OffDiagonal{Cells: [2]string{name(l, m), name(0, 0)}, Effect: fa.effect(c)}
}
