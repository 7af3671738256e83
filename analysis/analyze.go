package analysis

import (
	"fmt"
	"math"
)

// DefaultAlpha is the significance level when Input.Alpha is 0.
const DefaultAlpha = 0.05

// Interval is a confidence interval [lo, hi]. A nil *Interval marshals to
// null, which is what the report uses where an interval is undefined.
type Interval [2]float64

// Report is the analysis of one experiment. Its JSON shape only grows:
// fields are added, never renamed or removed.
type Report struct {
	Experiment string         `json:"experiment"`
	Alpha      float64        `json:"alpha"`
	SRM        SRM            `json:"srm"`
	Metrics    []MetricReport `json:"metrics"`
	// Correction is the multiple-comparison method applied to the family:
	// every comparison with a p-value plus every claim's direction test.
	Correction Correction `json:"correction"`
	FamilySize int        `json:"family_size"`
	// PowerAlpha is the level at which MDEs and units needed are computed:
	// alpha/family_size under a correction (conservative), else alpha.
	PowerAlpha float64 `json:"power_alpha"`
	// Sequential is set when always-valid inference is on.
	Sequential *SequentialInfo `json:"sequential,omitempty"`
	Claims     []ClaimResult   `json:"claims"`
	// Segments are per-segment reports of the same shape; each is corrected
	// within itself and is exploratory.
	Segments      []SegmentReport `json:"segments,omitempty"`
	Heterogeneity []Heterogeneity `json:"heterogeneity,omitempty"`
	// Warnings are facts an analyst should see, e.g. metrics that disagree
	// on the number of units per variant.
	Warnings []string `json:"warnings,omitempty"`
}

// SRM status values.
const (
	SRMOK               = "ok"
	SRMMismatch         = "mismatch"
	SRMNotEnoughTraffic = "not_enough_traffic"
)

// SRMThreshold is the p-value below which a sample-ratio mismatch is flagged.
const SRMThreshold = 0.001

// SRM is the sample-ratio-mismatch check: a chi-square goodness-of-fit test
// of the units per variant against the configured weights.
type SRM struct {
	PValue float64 `json:"p_value"`
	// OK is false only for a mismatch; "not_enough_traffic" is OK but says so
	// in Status.
	OK       bool         `json:"ok"`
	Status   string       `json:"status"`
	ChiSq    float64      `json:"chi_sq"`
	DF       int          `json:"df"`
	Variants []SRMVariant `json:"variants"`
}

// SRMVariant is one variant's observed and expected units in the SRM check.
type SRMVariant struct {
	Variant  string  `json:"variant"`
	Weight   float64 `json:"weight"` // normalised
	Observed int64   `json:"observed"`
	Expected float64 `json:"expected"`
}

// MetricReport is the analysis of one metric.
type MetricReport struct {
	Metric         string          `json:"metric"`
	Kind           Kind            `json:"kind"`
	HigherIsBetter bool            `json:"higher_is_better"`
	Variants       []VariantReport `json:"variants"`
	Comparisons    []Comparison    `json:"comparisons"`
}

// VariantReport is one variant's estimate for one metric. Mean is 0 and CI
// null when the variant has no units.
type VariantReport struct {
	Variant string    `json:"variant"`
	Units   int64     `json:"units"`
	Mean    float64   `json:"mean"`
	CI      *Interval `json:"ci"`
	// SD is the per-unit standard deviation used in the tests (√(p(1−p))
	// for binary metrics); null when undefined (mean metric with n < 2).
	SD *float64 `json:"sd"`
}

// Comparison is a non-control variant against the control on one metric.
type Comparison struct {
	Variant   string    `json:"variant"`
	Control   string    `json:"control"`
	AbsEffect float64   `json:"abs_effect"`
	AbsCI     *Interval `json:"abs_ci"`
	// RelEffect is (μT − μC)/|μC|; null with RelNullReason when undefined.
	RelEffect     *float64  `json:"rel_effect"`
	RelCI         *Interval `json:"rel_ci"`
	RelNullReason string    `json:"rel_null_reason,omitempty"`
	// PValue is two-sided; null with PNullReason when the test is undefined.
	// Under sequential testing it is the running minimum over snapshots.
	PValue      *float64 `json:"p_value"`
	PNullReason string   `json:"p_null_reason,omitempty"`
	// PAdjusted is PValue after the report's multiple-comparison correction;
	// Significant is PAdjusted < alpha.
	PAdjusted   *float64 `json:"p_adjusted"`
	Significant bool     `json:"significant"`
	// SE is the standard error of AbsEffect and DF its Welch–Satterthwaite
	// degrees of freedom (null when infinite or undefined).
	SE *float64 `json:"se"`
	DF *float64 `json:"df"`
	// PValueSnapshot is this snapshot's own sequential p-value.
	PValueSnapshot *float64 `json:"p_value_snapshot,omitempty"`
	// ChanceToWin is the posterior probability that the variant is better
	// than the control (respecting higher_is_better); null when the
	// relative effect is.
	ChanceToWin *float64 `json:"chance_to_win"`
	// MDE is the absolute effect detectable with 80% power at the current
	// sample and MDERel the same relative to |μC|.
	MDE    *float64 `json:"mde"`
	MDERel *float64 `json:"mde_rel"`
	// UnitsNeeded is, for a comparison not yet significant, how many more
	// units (all arms compared, current allocation) give 80% power to
	// detect the observed effect; null when decided or the effect is 0.
	UnitsNeeded *int64     `json:"units_needed"`
	CUPED       *CUPEDInfo `json:"cuped,omitempty"`
}

// InputError is returned for input that cannot be analysed. Field is a path
// into Input, e.g. "metrics[1].arms[0].variant".
type InputError struct {
	Field  string
	Reason string
}

func (e *InputError) Error() string {
	return fmt.Sprintf("analysis: %s: %s", e.Field, e.Reason)
}

func inputErr(reason, field string) *InputError {
	return &InputError{Field: field, Reason: reason}
}

// Analyze computes the report for in. It returns an *InputError for input
// that cannot be analysed; the report itself never holds NaN or ±Inf.
func Analyze(in Input) (*Report, error) {
	a, err := newAnalysis(in)
	if err != nil {
		return nil, err
	}
	return a.run(), nil
}

// analysis is one run of Analyze over validated input.
type analysis struct {
	segment string // "attribute=value" in a segment's sub-analysis, which has no claims and no segments
	in      Input
	alpha   float64
	control string
	weights map[string]float64 // normalised
}

func newAnalysis(in Input) (*analysis, error) {
	a := &analysis{in: in, alpha: in.Alpha, weights: map[string]float64{}}
	if a.alpha == 0 {
		a.alpha = DefaultAlpha
	}
	if !(a.alpha > 0 && a.alpha < 0.5) {
		return nil, inputErr("must be in (0, 0.5)", "alpha")
	}
	if len(in.Variants) < 2 {
		return nil, inputErr("at least 2 variants are needed", "variants")
	}
	total := 0.0
	for i, v := range in.Variants {
		if v.Key == "" {
			return nil, inputErr("empty key", fmt.Sprintf("variants[%d].key", i))
		}
		if _, dup := a.weights[v.Key]; dup {
			return nil, inputErr("duplicate variant "+v.Key, fmt.Sprintf("variants[%d].key", i))
		}
		if !(v.Weight > 0) || math.IsInf(v.Weight, 0) {
			return nil, inputErr("must be a positive number", fmt.Sprintf("variants[%d].weight", i))
		}
		a.weights[v.Key] = v.Weight
		total += v.Weight
		if v.Control {
			if a.control != "" {
				return nil, inputErr("more than one control", fmt.Sprintf("variants[%d].control", i))
			}
			a.control = v.Key
		}
	}
	if a.control == "" {
		return nil, inputErr("no control variant", "variants")
	}
	for k := range a.weights {
		a.weights[k] /= total
	}
	for i, m := range in.Metrics {
		if err := a.validateMetric(m, fmt.Sprintf("metrics[%d]", i)); err != nil {
			return nil, err
		}
	}
	for i, s := range in.Segments {
		if s.Attribute == "" || s.Value == "" {
			return nil, inputErr("attribute and value are required", fmt.Sprintf("segments[%d]", i))
		}
		for j, m := range s.Metrics {
			if err := a.validateMetric(m, fmt.Sprintf("segments[%d].metrics[%d]", i, j)); err != nil {
				return nil, err
			}
		}
	}
	for i, c := range in.Claims {
		if err := a.validateClaim(c, fmt.Sprintf("claims[%d]", i)); err != nil {
			return nil, err
		}
	}
	switch in.Correction {
	case "", Holm, BH, NoCorrection:
	default:
		return nil, inputErr(fmt.Sprintf("unknown correction %q", in.Correction), "correction")
	}
	if sq := in.Sequential; sq != nil {
		if !(sq.NStar >= 0) || math.IsInf(sq.NStar, 0) {
			return nil, inputErr("must be a positive number", "sequential.n_star")
		}
		for i, p := range sq.Prior {
			if !(p.PValue >= 0 && p.PValue <= 1) {
				return nil, inputErr("must be in [0, 1]", fmt.Sprintf("sequential.prior[%d].p_value", i))
			}
		}
	}
	for _, v := range in.Assigned {
		if _, ok := a.weights[v.Variant]; !ok {
			return nil, inputErr(fmt.Sprintf("unknown variant %q", v.Variant), "assigned")
		}
		if v.Units < 0 {
			return nil, inputErr("must not be negative", "assigned")
		}
	}
	return a, nil
}

func (a *analysis) validateMetric(m MetricInput, path string) error {
	switch m.Kind {
	case Binary, Mean, Ratio:
	default:
		return inputErr(fmt.Sprintf("unknown kind %q", m.Kind), path+".kind")
	}
	seen := map[string]bool{}
	for j, arm := range m.Arms {
		p := fmt.Sprintf("%s.arms[%d]", path, j)
		if _, ok := a.weights[arm.Variant]; !ok {
			return inputErr(fmt.Sprintf("unknown variant %q", arm.Variant), p+".variant")
		}
		if seen[arm.Variant] {
			return inputErr(fmt.Sprintf("duplicate arm for variant %q", arm.Variant), p+".variant")
		}
		seen[arm.Variant] = true
		if err := validateStats(m.Kind, arm.Stats, p+".stats"); err != nil {
			return err
		}
	}
	if m.Prior != nil && !(m.Prior.Variance > 0) {
		return inputErr("must be positive", path+".prior.variance")
	}
	return nil
}

func validateStats(kind Kind, s Stats, path string) error {
	if s.Units < 0 {
		return inputErr("must not be negative", path+".units")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"sum", s.Sum}, {"sum_sq", s.SumSq}, {"pre_sum", s.PreSum}, {"pre_sum_sq", s.PreSumSq},
		{"pre_cross", s.PreCross}, {"den_sum", s.DenSum}, {"den_sum_sq", s.DenSumSq}, {"den_cross", s.DenCross}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return inputErr("must be a finite number", path+"."+f.name)
		}
	}
	n := float64(s.Units)
	if s.Units == 0 {
		return nil
	}
	switch kind {
	case Binary:
		if s.Sum < 0 || s.Sum > n {
			return inputErr("converted units must be in [0, units]", path+".sum")
		}
	case Ratio:
		if s.DenSumSq < s.DenSum*s.DenSum/n*(1-1e-9)-1e-9 {
			return inputErr("den_sum_sq is smaller than den_sum²/units", path+".den_sum_sq")
		}
	}
	// Cauchy–Schwarz: Σx² ≥ (Σx)²/n, up to rounding in the aggregation.
	if kind != Binary && s.SumSq < s.Sum*s.Sum/n*(1-1e-9)-1e-9 {
		return inputErr("sum_sq is smaller than sum²/units", path+".sum_sq")
	}
	return nil
}

func (a *analysis) run() *Report {
	r := &Report{
		Experiment: a.in.Experiment,
		Alpha:      a.alpha,
		Metrics:    []MetricReport{},
		Correction: a.correction(),
		Claims:     []ClaimResult{},
	}
	if a.in.Sequential != nil {
		r.Sequential = &SequentialInfo{NStar: a.nStar(), Snapshots: len(a.in.Sequential.Prior)}
	}
	r.SRM = a.srm(&r.Warnings)
	var diffs [][]diff
	for _, m := range a.in.Metrics {
		mr, ds := a.metric(m, a.segment)
		r.Metrics = append(r.Metrics, mr)
		diffs = append(diffs, ds)
	}
	claims := a.claims(r)
	r.FamilySize = a.adjust(r, claims)
	r.PowerAlpha = a.alpha
	if r.Correction != NoCorrection && r.FamilySize > 1 {
		r.PowerAlpha = a.alpha / float64(r.FamilySize)
	}
	for i := range r.Metrics {
		for j := range r.Metrics[i].Comparisons {
			a.power(&r.Metrics[i].Comparisons[j], diffs[i][j], r.PowerAlpha)
		}
	}
	for _, c := range claims {
		r.Claims = append(r.Claims, a.finishClaim(c, r))
	}
	if a.segment == "" {
		r.Segments, r.Heterogeneity = a.segments(r)
	}
	return r
}

func (a *analysis) nStar() float64 {
	if a.in.Sequential == nil || a.in.Sequential.NStar == 0 {
		return DefaultNStar
	}
	return a.in.Sequential.NStar
}

// arms returns m's stats in the configured variant order, with a missing
// arm as zero units.
func (a *analysis) arms(m MetricInput) []Arm {
	by := map[string]Stats{}
	for _, arm := range m.Arms {
		by[arm.Variant] = arm.Stats
	}
	out := make([]Arm, len(a.in.Variants))
	for i, v := range a.in.Variants {
		out[i] = Arm{Variant: v.Key, Stats: by[v.Key]}
	}
	return out
}

func (a *analysis) stats(m MetricInput, variant string) Stats {
	for _, arm := range m.Arms {
		if arm.Variant == variant {
			return arm.Stats
		}
	}
	return Stats{}
}

// metric reports m, whose priors for the running minimum are looked up
// under segment.
func (a *analysis) metric(m MetricInput, segment string) (MetricReport, []diff) {
	mr := MetricReport{
		Metric:         m.Metric,
		Kind:           m.Kind,
		HigherIsBetter: m.HigherIsBetter,
		Variants:       []VariantReport{},
		Comparisons:    []Comparison{},
	}
	var diffs []diff
	arms := a.arms(m)
	for _, arm := range arms {
		mr.Variants = append(mr.Variants, variantReport(arm.Variant, estimateArm(m.Kind, arm.Stats), a.alpha))
	}
	for _, arm := range arms {
		if arm.Variant == a.control {
			continue
		}
		c, d := a.compare(m, a.stats(m, a.control), arm.Stats, priorKey{segment, m.Metric, arm.Variant})
		c.Variant, c.Control = arm.Variant, a.control
		mr.Comparisons = append(mr.Comparisons, c)
		diffs = append(diffs, d)
	}
	return mr, diffs
}

// priorKey finds a comparison's earlier p-values.
type priorKey struct{ segment, metric, variant string }

// compare tests treatment stats ts against control stats cs on metric m.
func (a *analysis) compare(m MetricInput, cs, ts Stats, key priorKey) (Comparison, diff) {
	c, t := estimateArm(m.Kind, cs), estimateArm(m.Kind, ts)
	var dd diff
	if m.CUPED && m.Kind != Ratio {
		dd = cupedDiff(cs, ts, c, t)
	} else {
		dd = welchDiff(c, t)
	}
	out := Comparison{CUPED: dd.cuped}
	if finite(dd.d) {
		out.AbsEffect = dd.d
	}
	if !dd.ok {
		out.PNullReason, out.RelNullReason = dd.reason, dd.relReason
		return out, dd
	}
	out.SE = num(dd.se)
	if !math.IsInf(dd.df, 1) {
		out.DF = num(dd.df)
	}
	var hw, hwRel, p float64
	if a.in.Sequential != nil {
		hw = seqHalfWidth(dd.se, dd.n, a.alpha, a.nStar())
		hwRel = seqHalfWidth(dd.seRel, dd.n, a.alpha, a.nStar())
		p = seqPValue(dd.d, dd.se, dd.n, a.alpha, a.nStar())
		out.PValueSnapshot = num(p)
		for _, pp := range a.in.Sequential.Prior {
			if (priorKey{pp.Segment, pp.Metric, pp.Variant}) == key {
				p = math.Min(p, pp.PValue)
			}
		}
	} else {
		q := tQuantile(1-a.alpha/2, dd.df)
		hw, hwRel = q*dd.se, q*dd.seRel
		p = tTwoSided(dd.d/dd.se, dd.df)
	}
	out.PValue = num(p)
	out.AbsCI = interval(dd.d-hw, dd.d+hw)
	if !dd.relOK {
		out.RelNullReason = dd.relReason
		return out, dd
	}
	out.RelEffect = num(dd.rel)
	out.RelCI = interval(dd.rel-hwRel, dd.rel+hwRel)
	if dd.seRel > 0 {
		out.ChanceToWin = num(chanceToWin(dd.rel, dd.seRel, m.Prior, m.HigherIsBetter))
	}
	return out, dd
}

// power fills the MDE and, for an undecided comparison, the units needed.
func (a *analysis) power(c *Comparison, dd diff, alpha float64) {
	if !dd.ok {
		return
	}
	c.MDE = num(a.mde(dd.se, dd.n, alpha))
	if dd.mc != 0 {
		c.MDERel = num(*c.MDE / math.Abs(dd.mc))
	}
	if !c.Significant {
		if u, ok := a.unitsNeeded(dd.d, dd.se, dd.n, alpha); ok {
			c.UnitsNeeded = ptr(u)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// num is a nullable number: nil unless x is finite, so that the JSON never
// holds NaN or ±Inf.
func num(x float64) *float64 {
	if !finite(x) {
		return nil
	}
	return &x
}

// interval is [lo, hi], or nil unless both are finite.
func interval(lo, hi float64) *Interval {
	if !finite(lo) || !finite(hi) {
		return nil
	}
	return &Interval{lo, hi}
}
