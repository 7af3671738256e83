package analysis

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limits of a factorial design. They keep the number of contrasts (and so
// the multiple-comparison family) small enough to be read by a person.
const (
	MaxFactors        = 4
	MaxFactorialCells = 36
)

// Factor is one factor of a factorial experiment. Its first level is the
// reference that every main effect and interaction is measured against.
type Factor struct {
	Key    string   `json:"key"`
	Levels []string `json:"levels"`
	// Numeric factors also get a slope per unit of Values, and can be the
	// cost side of an exchange rate.
	Numeric bool `json:"numeric,omitempty"`
	// Values are the numeric levels in the order of Levels; when empty for a
	// numeric factor they are parsed from Levels.
	Values []float64 `json:"values,omitempty"`
}

// FactorialCell is one arm of a full factorial: one level of every factor.
type FactorialCell struct {
	// Key is "factor=level,..." in the declared factor order, e.g.
	// "agent=human,wait_minutes=10".
	Key    string   `json:"key"`
	Levels []string `json:"levels"`
}

// CellEstimate is one cell's sufficient statistics for one metric.
type CellEstimate struct {
	Cell string  `json:"cell"`
	N    int64   `json:"n"`
	Mean float64 `json:"mean"`
	// Var is the per-unit variance: the sample variance (n−1) for mean
	// metrics, p(1−p) for binary ones (gbstats), as CellEstimateFromStats
	// computes it.
	Var float64 `json:"var"`
}

// FactorialInput is one metric of a factorial experiment.
type FactorialInput struct {
	Alpha   float64 // 0 means DefaultAlpha
	Factors []Factor
	// Cells may come in any order; a cell that is missing has no units.
	Cells []CellEstimate
}

// Effect is one linear contrast of the cell means. Every field but
// NullReason is null when undefined: Estimate when a cell it needs has no
// units, the others also when a cell has fewer than 2 units or every
// variance in the contrast is 0.
type Effect struct {
	Estimate *float64  `json:"estimate"`
	CI       *Interval `json:"ci"`
	SE       *float64  `json:"se"`
	DF       *float64  `json:"df"`
	PValue   *float64  `json:"p_value"`
	// PAdjusted is left null here; the caller's multiple-comparison family
	// fills it.
	PAdjusted  *float64 `json:"p_adjusted"`
	NullReason string   `json:"null_reason,omitempty"`
}

// MainEffect is Level against Reference, the factor's first level, with
// every cell weighted equally over the other factors' levels.
type MainEffect struct {
	Factor    string `json:"factor"`
	Level     string `json:"level"`
	Reference string `json:"reference"`
	Effect
}

// Interaction is the difference of differences of two factors' levels,
// (Levels[0] − ref₀ at Levels[1]) − (Levels[0] − ref₀ at ref₁), averaged
// with equal weights over any other factors.
type Interaction struct {
	Factors    [2]string `json:"factors"`
	Levels     [2]string `json:"levels"`
	References [2]string `json:"references"`
	Effect
}

// Slope is the least-squares slope, per unit of the factor's values, of a
// numeric factor's level means on its levels.
type Slope struct {
	Factor string `json:"factor"`
	Effect
}

// ExchangeRate is θ = a/(−b): how many units of the numeric factor Cost the
// main effect a of Level (against the reference of Factor) is worth, b
// being Cost's slope. θ > 0 when a > 0 and the cost lowers the metric.
type ExchangeRate struct {
	Factor   string   `json:"factor"`
	Level    string   `json:"level"`
	Cost     string   `json:"cost"`
	Estimate *float64 `json:"estimate"`
	// CI is Fieller's interval; null unless Bounded.
	CI      *Interval `json:"ci"`
	Bounded bool      `json:"bounded"`
	// NullReason says why CI (and perhaps Estimate) is null, e.g. that the
	// confidence set is unbounded because the slope is not clearly nonzero.
	NullReason string `json:"null_reason,omitempty"`
}

// FactorialReport is the analysis of one metric of a factorial experiment.
type FactorialReport struct {
	Alpha float64 `json:"alpha"`
	FactorialEffects
}

// FactorialEffects are the contrasts a factorial design adds to a metric's
// report, beside its per-cell comparisons.
type FactorialEffects struct {
	MainEffects   []MainEffect   `json:"main_effects"`
	Interactions  []Interaction  `json:"interactions"`
	Slopes        []Slope        `json:"slopes"`
	ExchangeRates []ExchangeRate `json:"exchange_rates"`
}

// Effects returns every contrast of r (main effects, interactions, slopes,
// in that order) so that the caller can set PAdjusted in place.
func (r *FactorialEffects) Effects() []*Effect {
	var out []*Effect
	for i := range r.MainEffects {
		out = append(out, &r.MainEffects[i].Effect)
	}
	for i := range r.Interactions {
		out = append(out, &r.Interactions[i].Effect)
	}
	for i := range r.Slopes {
		out = append(out, &r.Slopes[i].Effect)
	}
	return out
}

// FactorialContrast is one contrast of FactorialEffects named for a table
// row: Label against Reference, e.g. "agent=human" against "agent=bot", or
// "agent=human × wait_minutes=10" for an interaction.
type FactorialContrast struct {
	Type      string // "main_effect", "interaction" or "slope"
	Label     string
	Reference string
	*Effect
}

// Contrasts lists the main effects, interactions and slopes of r, in the
// order of Effects, named for tables (the CLI's text and CSV).
func (r *FactorialEffects) Contrasts() []FactorialContrast {
	var out []FactorialContrast
	for i := range r.MainEffects {
		m := &r.MainEffects[i]
		out = append(out, FactorialContrast{"main_effect", m.Factor + cellLevelSep + m.Level, m.Factor + cellLevelSep + m.Reference, &m.Effect})
	}
	for i := range r.Interactions {
		x := &r.Interactions[i]
		out = append(out, FactorialContrast{"interaction",
			x.Factors[0] + cellLevelSep + x.Levels[0] + " × " + x.Factors[1] + cellLevelSep + x.Levels[1],
			x.Factors[0] + cellLevelSep + x.References[0] + " × " + x.Factors[1] + cellLevelSep + x.References[1], &x.Effect})
	}
	for i := range r.Slopes {
		out = append(out, FactorialContrast{"slope", r.Slopes[i].Factor + " per unit", "", &r.Slopes[i].Effect})
	}
	return out
}

// Reasons a factorial contrast or exchange rate is null.
const (
	reasonEmptyCell    = "a cell has no units"
	reasonFewCellUnits = "fewer than 2 units in a cell"
	reasonZeroCellVar  = "every variance in the contrast is 0"
	reasonSlopeZero    = "the slope is 0"
	reasonFiellerRays  = "the slope is not clearly away from 0 at this level, so the confidence set is unbounded: every value outside an interval (two rays)"
	reasonFiellerLine  = "the slope is not clearly away from 0 at this level, so the confidence set is the whole line"
	reasonFiellerHalf  = "the slope is not clearly away from 0 at this level, so the confidence set is unbounded (a half-line)"
)

// Cell keys are "factor=level" pairs joined by commas, so neither may
// appear in a factor key or level.
const (
	cellKeySep          = ","
	cellLevelSep        = "="
	reasonBadFactorName = "must be non-empty and contain neither ',' nor '='"
)

// CellEstimateFromStats is a cell's estimate under the conventions of
// Analyze: p(1−p) for binary metrics, the sample variance for mean metrics,
// the delta-method variance for ratio metrics. A cell whose variance is
// undefined keeps its units, so that the contrasts using it say why.
func CellEstimateFromStats(cell string, kind Kind, s Stats) CellEstimate {
	e := estimateArm(kind, s)
	c := CellEstimate{Cell: cell, N: s.Units}
	if s.Units > 0 && finite(e.mean) && e.reason != reasonRange && e.reason != reasonDenZero {
		c.Mean, c.Var = e.mean, e.v
	} else {
		// Means that cannot be formed make the cell unusable, as if empty.
		c.N = 0
	}
	return c
}

// CellKey is the stable key of the cell with levels[i] of factors[i].
func CellKey(factors []Factor, levels []string) string {
	parts := make([]string, len(factors))
	for i, f := range factors {
		parts[i] = f.Key + cellLevelSep + levels[i]
	}
	return strings.Join(parts, cellKeySep)
}

// FactorialCells validates factors and lists the cells of the full
// factorial, the first factor varying slowest. The order is fixed: it is
// the order of the experiment's arms.
func FactorialCells(factors []Factor) ([]FactorialCell, error) {
	if _, err := validateFactors(factors); err != nil {
		return nil, err
	}
	return buildCells(factors), nil
}

func buildCells(factors []Factor) []FactorialCell {
	n := 1
	for _, f := range factors {
		n *= len(f.Levels)
	}
	out := make([]FactorialCell, n)
	idx := make([]int, len(factors))
	for c := range out {
		levels := make([]string, len(factors))
		for i, f := range factors {
			levels[i] = f.Levels[idx[i]]
		}
		out[c] = FactorialCell{Key: CellKey(factors, levels), Levels: levels}
		// Odometer with the last factor fastest.
		for i := len(idx) - 1; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(factors[i].Levels) {
				break
			}
			idx[i] = 0
		}
	}
	return out
}

// validateFactors checks the design and returns each numeric factor's
// values (nil for the others).
func validateFactors(factors []Factor) ([][]float64, error) {
	if len(factors) == 0 {
		return nil, inputErr("at least 1 factor is needed", "factors")
	}
	if len(factors) > MaxFactors {
		return nil, inputErr(fmt.Sprintf("at most %d factors", MaxFactors), "factors")
	}
	values := make([][]float64, len(factors))
	keys := map[string]bool{}
	cells := 1
	for i, f := range factors {
		path := fmt.Sprintf("factors[%d]", i)
		if !validName(f.Key) {
			return nil, inputErr(reasonBadFactorName, path+".key")
		}
		if keys[f.Key] {
			return nil, inputErr("duplicate factor "+f.Key, path+".key")
		}
		keys[f.Key] = true
		if len(f.Levels) < 2 {
			return nil, inputErr("at least 2 levels are needed", path+".levels")
		}
		seen := map[string]bool{}
		for j, l := range f.Levels {
			if !validName(l) {
				return nil, inputErr(reasonBadFactorName, fmt.Sprintf("%s.levels[%d]", path, j))
			}
			if seen[l] {
				return nil, inputErr("duplicate level "+l, fmt.Sprintf("%s.levels[%d]", path, j))
			}
			seen[l] = true
		}
		cells *= len(f.Levels)
		if cells > MaxFactorialCells {
			return nil, inputErr(fmt.Sprintf("at most %d cells", MaxFactorialCells), "factors")
		}
		if !f.Numeric {
			if len(f.Values) > 0 {
				return nil, inputErr("values are only for numeric factors", path+".values")
			}
			continue
		}
		v, err := numericValues(f, path)
		if err != nil {
			return nil, err
		}
		values[i] = v
	}
	return values, nil
}

func validName(s string) bool {
	return s != "" && !strings.ContainsAny(s, cellKeySep+cellLevelSep)
}

func numericValues(f Factor, path string) ([]float64, error) {
	v := f.Values
	if len(v) == 0 {
		v = make([]float64, len(f.Levels))
		for j, l := range f.Levels {
			x, err := strconv.ParseFloat(strings.TrimSpace(l), 64)
			if err != nil {
				return nil, inputErr("not a number; give values", fmt.Sprintf("%s.levels[%d]", path, j))
			}
			v[j] = x
		}
	}
	if len(v) != len(f.Levels) {
		return nil, inputErr("one value per level is needed", path+".values")
	}
	seen := map[float64]bool{}
	for j, x := range v {
		// Values that large would overflow the squared deviations of the
		// slope; no cost is measured in units like that.
		if !finite(x) || math.Abs(x) > 1e100 {
			return nil, inputErr("must be a finite number below 1e100 in magnitude", fmt.Sprintf("%s.values[%d]", path, j))
		}
		if seen[x] {
			return nil, inputErr("duplicate value", fmt.Sprintf("%s.values[%d]", path, j))
		}
		seen[x] = true
	}
	return v, nil
}

// factorial is one run of AnalyzeFactorial over validated input.
type factorial struct {
	alpha   float64
	factors []Factor
	values  [][]float64
	cells   []CellEstimate // in buildCells order; missing cells have N = 0
	levelOf [][]int        // levelOf[c][f] is cell c's level index of factor f
}

// AnalyzeFactorial computes the main effects, two-way interactions, slopes
// of numeric factors and exchange rates of one metric of a factorial
// experiment. Cells are independent arms; each contrast Σcᵢȳᵢ weights the
// cells of a level equally, whatever their sizes. It returns an
// *InputError for input that cannot be analysed; the report never holds
// NaN or ±Inf.
func AnalyzeFactorial(in FactorialInput) (*FactorialReport, error) {
	fa, err := newFactorial(in)
	if err != nil {
		return nil, err
	}
	return fa.run(), nil
}

func newFactorial(in FactorialInput) (*factorial, error) {
	alpha := in.Alpha
	if alpha == 0 {
		alpha = DefaultAlpha
	}
	if why := CheckAlpha(alpha); why != "" {
		return nil, inputErr(why, "alpha")
	}
	values, err := validateFactors(in.Factors)
	if err != nil {
		return nil, err
	}
	built := buildCells(in.Factors)
	fa := &factorial{alpha: alpha, factors: in.Factors, values: values,
		cells: make([]CellEstimate, len(built)), levelOf: make([][]int, len(built))}
	index := map[string]int{}
	for c, cell := range built {
		index[cell.Key] = c
		fa.cells[c] = CellEstimate{Cell: cell.Key}
		fa.levelOf[c] = make([]int, len(in.Factors))
		for f, l := range cell.Levels {
			for j, name := range in.Factors[f].Levels {
				if name == l {
					fa.levelOf[c][f] = j
				}
			}
		}
	}
	seen := map[string]bool{}
	for i, e := range in.Cells {
		path := fmt.Sprintf("cells[%d]", i)
		c, ok := index[e.Cell]
		if !ok {
			return nil, inputErr(fmt.Sprintf("unknown cell %q", e.Cell), path+".cell")
		}
		if seen[e.Cell] {
			return nil, inputErr(fmt.Sprintf("duplicate cell %q", e.Cell), path+".cell")
		}
		seen[e.Cell] = true
		if e.N < 0 {
			return nil, inputErr("must not be negative", path+".n")
		}
		if e.N == 0 {
			continue
		}
		if !finite(e.Mean) {
			return nil, inputErr("must be a finite number", path+".mean")
		}
		if !finite(e.Var) || e.Var < 0 {
			return nil, inputErr("must be a finite number ≥ 0", path+".var")
		}
		fa.cells[c] = e
	}
	return fa, nil
}

func (fa *factorial) run() *FactorialReport {
	r := &FactorialReport{Alpha: fa.alpha, FactorialEffects: FactorialEffects{MainEffects: []MainEffect{},
		Interactions: []Interaction{}, Slopes: []Slope{}, ExchangeRates: []ExchangeRate{}}}
	for f, fac := range fa.factors {
		for l := 1; l < len(fac.Levels); l++ {
			r.MainEffects = append(r.MainEffects, MainEffect{Factor: fac.Key, Level: fac.Levels[l],
				Reference: fac.Levels[0], Effect: fa.effect(fa.mainContrast(f, l))})
		}
	}
	for f := range fa.factors {
		for g := f + 1; g < len(fa.factors); g++ {
			ff, fg := fa.factors[f], fa.factors[g]
			for l := 1; l < len(ff.Levels); l++ {
				for m := 1; m < len(fg.Levels); m++ {
					r.Interactions = append(r.Interactions, Interaction{
						Factors:    [2]string{ff.Key, fg.Key},
						Levels:     [2]string{ff.Levels[l], fg.Levels[m]},
						References: [2]string{ff.Levels[0], fg.Levels[0]},
						Effect:     fa.effect(fa.interactionContrast(f, l, g, m)),
					})
				}
			}
		}
	}
	for g, fac := range fa.factors {
		if fac.Numeric {
			r.Slopes = append(r.Slopes, Slope{Factor: fac.Key, Effect: fa.effect(fa.slopeContrast(g))})
		}
	}
	for f, fac := range fa.factors {
		for l := 1; l < len(fac.Levels); l++ {
			for g, cost := range fa.factors {
				if g == f || !cost.Numeric {
					continue
				}
				x := fa.exchange(fa.mainContrast(f, l), fa.slopeContrast(g))
				x.Factor, x.Level, x.Cost = fac.Key, fac.Levels[l], cost.Key
				r.ExchangeRates = append(r.ExchangeRates, x)
			}
		}
	}
	return r
}

// mainContrast: level l of factor f minus its reference, each the plain
// average of its cells' means.
func (fa *factorial) mainContrast(f, l int) []float64 {
	w := float64(len(fa.factors[f].Levels)) / float64(len(fa.cells))
	c := make([]float64, len(fa.cells))
	for i, lv := range fa.levelOf {
		switch lv[f] {
		case l:
			c[i] = w
		case 0:
			c[i] = -w
		}
	}
	return c
}

// interactionContrast: (l − ref at m) − (l − ref at ref) for factors f and
// g, averaged over the other factors.
func (fa *factorial) interactionContrast(f, l, g, m int) []float64 {
	w := float64(len(fa.factors[f].Levels)*len(fa.factors[g].Levels)) / float64(len(fa.cells))
	c := make([]float64, len(fa.cells))
	for i, lv := range fa.levelOf {
		var sf, sg float64
		switch lv[f] {
		case l:
			sf = 1
		case 0:
			sf = -1
		}
		switch lv[g] {
		case m:
			sg = 1
		case 0:
			sg = -1
		}
		c[i] = w * sf * sg
	}
	return c
}

// slopeContrast: Σⱼ (xⱼ − x̄)Mⱼ / Σⱼ (xⱼ − x̄)², Mⱼ the mean of level j's
// cells, which is the least-squares slope of the level means.
func (fa *factorial) slopeContrast(g int) []float64 {
	x := fa.values[g]
	var mean, sxx float64
	for _, v := range x {
		mean += v
	}
	mean /= float64(len(x))
	for _, v := range x {
		sxx += (v - mean) * (v - mean)
	}
	w := float64(len(x)) / float64(len(fa.cells))
	c := make([]float64, len(fa.cells))
	for i, lv := range fa.levelOf {
		c[i] = w * (x[lv[g]] - mean) / sxx
	}
	return c
}

// contrastMoments are the moments of a contrast Σcᵢȳᵢ over independent cells.
type contrastMoments struct {
	est, v, df float64
	estOK, ok  bool
	reason     string
}

func (fa *factorial) contrast(c []float64) contrastMoments { return welchContrast(fa.cells, c) }

// welchContrast evaluates Σcᵢȳᵢ over independent cells, its variance
// Σcᵢ²sᵢ²/nᵢ and the Welch–Satterthwaite df. Cells with cᵢ = 0 do not take
// part, so an empty cell only nulls the contrasts that use it.
func welchContrast(cells []CellEstimate, c []float64) contrastMoments {
	var m contrastMoments
	for i, ci := range c {
		if ci == 0 {
			continue
		}
		switch n := cells[i].N; {
		case n == 0:
			m.reason = reasonEmptyCell
		case n == 1 && m.reason == "":
			m.reason = reasonFewCellUnits
		}
	}
	if m.reason == reasonEmptyCell {
		return m
	}
	terms := make([]float64, len(c))
	for i, ci := range c {
		if ci == 0 {
			continue
		}
		e := cells[i]
		m.est += ci * e.Mean
		terms[i] = ci * ci * e.Var / float64(e.N)
		m.v += terms[i]
	}
	m.estOK = finite(m.est)
	switch {
	case !m.estOK:
		m.reason = reasonRange
	case m.reason != "":
	case m.v == 0:
		m.reason = reasonZeroCellVar
	case !finite(m.v):
		m.reason = reasonRange
	}
	if m.reason != "" {
		return m
	}
	// (Σtᵢ)²/Σtᵢ²/(nᵢ−1) with tᵢ as shares of the variance, which cannot
	// overflow; a cell with variance 0 adds nothing.
	var den float64
	for i, t := range terms {
		if t == 0 {
			continue
		}
		s := t / m.v
		den += s * s / float64(cells[i].N-1)
	}
	m.df = 1 / den
	if !finite(m.df) {
		m.reason = reasonRange
		return m
	}
	m.ok = true
	return m
}

func (fa *factorial) effect(c []float64) Effect { return welchEffect(fa.contrast(c), fa.alpha) }

// welchEffect is the Effect of a contrast with moments m: its CI at 1−alpha
// and two-sided p-value with Student's t at the Welch–Satterthwaite df.
func welchEffect(m contrastMoments, alpha float64) Effect {
	var e Effect
	if m.estOK {
		e.Estimate = num(m.est)
	}
	if !m.ok {
		e.NullReason = m.reason
		return e
	}
	se := math.Sqrt(m.v)
	h := tQuantile(1-alpha/2, m.df) * se
	e.SE, e.DF = num(se), num(m.df)
	e.CI = interval(m.est-h, m.est+h)
	e.PValue = num(tTwoSided(m.est/se, m.df))
	return e
}

// exchange is θ = a/(−b) for contrasts a = Σcᵢȳᵢ and b = Σdᵢȳᵢ, with
// Fieller's interval: the θ for which a − θ(−b) is not significantly
// different from 0 at level α, its variance taking the covariance of a and
// b (the same cells) into account.
func (fa *factorial) exchange(c, d []float64) ExchangeRate {
	var x ExchangeRate
	ma, mb := fa.contrast(c), fa.contrast(d)
	switch {
	case !ma.estOK:
		x.NullReason = ma.reason
		return x
	case !mb.estOK:
		x.NullReason = mb.reason
		return x
	case mb.est == 0:
		x.NullReason = reasonSlopeZero
		return x
	}
	// With cost = −b: θ = a/cost.
	a, cost := ma.est, -mb.est
	theta := a / cost
	if !finite(theta) {
		x.NullReason = reasonRange
		return x
	}
	x.Estimate = num(theta)
	comb := make([]float64, len(c))
	for i := range c {
		comb[i] = c[i] + theta*d[i]
	}
	mc := fa.contrast(comb)
	switch {
	case ma.reason == reasonFewCellUnits || mb.reason == reasonFewCellUnits:
		// A cell with one unit has no variance even when the combined
		// contrast happens to weight it by 0.
		x.NullReason = reasonFewCellUnits
		return x
	case !mc.ok:
		x.NullReason = mc.reason
		return x
	}
	var vaa, vbb, vab float64
	for i := range c {
		if c[i] == 0 && d[i] == 0 {
			continue
		}
		e := fa.cells[i]
		w := e.Var / float64(e.N)
		vaa += c[i] * c[i] * w
		vbb += d[i] * d[i] * w
		vab -= c[i] * d[i] * w // cov(a, cost) = −cov(a, b)
	}
	t := tQuantile(1-fa.alpha/2, mc.df)
	t2 := t * t
	// (a − θ·cost)² ≤ t²(vaa − 2θ·vab + θ²·vbb) ⇔ Aθ² − 2Bθ + C ≤ 0.
	A := cost*cost - t2*vbb
	B := a*cost - t2*vab
	C := a*a - t2*vaa
	disc := B*B - A*C
	if !finite(A) || !finite(disc) {
		x.NullReason = reasonRange
		return x
	}
	if A <= 0 {
		switch {
		case A == 0:
			x.NullReason = reasonFiellerHalf
		case disc > 0:
			x.NullReason = reasonFiellerRays
		default:
			x.NullReason = reasonFiellerLine
		}
		return x
	}
	// disc > 0 because the quadratic is −t²·var < 0 at θ̂; the clamp only
	// absorbs rounding. The roots are formed without cancellation.
	q := B + math.Copysign(math.Sqrt(math.Max(0, disc)), B)
	lo, hi := q/A, C/q
	if q == 0 {
		lo, hi = 0, 0
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	x.CI = interval(lo, hi)
	x.Bounded = x.CI != nil
	if !x.Bounded {
		x.NullReason = reasonRange
	}
	return x
}
