package analysis

import (
	"errors"
	"fmt"
	"math"
)

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

// Analyze computes the report for in. It returns an *InputError only for a
// configuration that cannot be analysed at all (alpha, variants, correction,
// sequential settings). Whatever the data, it returns a report: a metric
// whose statistics are unusable, or a claim that does not fit the design,
// is reported as null with a reason and a warning, and the rest stands. The
// report never holds NaN or ±Inf.
func Analyze(in Input) (*Report, error) {
	a, err := newReportBuilder(in)
	if err != nil {
		return nil, err
	}
	return a.run(), nil
}

// reportBuilder computes one report from validated input.
type reportBuilder struct {
	segment string // "attribute=value" in a segment's sub-analysis, which has no claims and no segments
	in      Input
	alpha   float64
	control string
	weights map[string]float64 // normalised
	// unusable holds why a metric cannot be analysed, by segment and
	// metric (see unusableKey); its arms are dropped from the input.
	unusable map[string]string
	// badClaims holds why a claim cannot be tested, by its index.
	badClaims map[int]string
	// warnings found while validating the input, for the top-level report.
	warnings []string
	// factorials holds each analysable metric's factorial design, by
	// metric, when the input has factors.
	factorials map[string]*factorial
}

func unusableKey(segment, metric string) string { return segment + "\x00" + metric }

// CheckAlpha says what is wrong with a significance level, or "" when it
// is usable: the one rule for alpha, shared by the API and the CLI.
func CheckAlpha(alpha float64) string {
	if !(alpha > 0 && alpha < 0.5) {
		return "must be between 0 and 0.5, e.g. 0.05"
	}
	return ""
}

func newReportBuilder(in Input) (*reportBuilder, error) {
	a := &reportBuilder{in: in, alpha: in.Alpha, weights: map[string]float64{}, unusable: map[string]string{}, badClaims: map[int]string{}}
	if a.alpha == 0 {
		a.alpha = DefaultAlpha
	}
	if why := CheckAlpha(a.alpha); why != "" {
		return nil, inputErr(why, "alpha")
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
	if err := a.checkFactors(); err != nil {
		return nil, err
	}
	for k := range a.weights {
		a.weights[k] /= total
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

	// From here on, problems are the data's: they degrade the report.
	a.in.Metrics = a.usableMetrics("", in.Metrics, "metrics")
	a.in.Segments = make([]Segment, 0, len(in.Segments))
	for i, s := range in.Segments {
		if s.Attribute == "" || s.Value == "" {
			a.warnings = append(a.warnings, fmt.Sprintf("segments[%d] is left out: its attribute and value are required", i))
			continue
		}
		s.Metrics = a.usableMetrics(s.Attribute+"="+s.Value, s.Metrics, fmt.Sprintf("segments[%d].metrics", i))
		a.in.Segments = append(a.in.Segments, s)
	}
	design := a.in.Design()
	for i, c := range in.Claims {
		if problems := c.Validate(design); len(problems) > 0 {
			p := problems[0]
			a.badClaims[i] = fmt.Sprintf("%s %s", p.Field, p.Detail)
			a.warnings = append(a.warnings, fmt.Sprintf("claim %q cannot be tested: %s", c.ID, a.badClaims[i]))
		}
	}
	a.in.Assigned = nil
	for _, v := range in.Assigned {
		if _, ok := a.weights[v.Variant]; !ok || v.Units < 0 {
			a.warnings = append(a.warnings, fmt.Sprintf("the exposed units of %q (%d) are left out of the sample-ratio check: not a variant with a count ≥ 0", v.Variant, v.Units))
			continue
		}
		a.in.Assigned = append(a.in.Assigned, v)
	}
	return a, nil
}

// usableMetrics returns metrics with the arms of each unusable one dropped,
// recording why, so that every later step sees only valid statistics.
func (a *reportBuilder) usableMetrics(segment string, metrics []MetricInput, path string) []MetricInput {
	out := make([]MetricInput, len(metrics))
	for i, m := range metrics {
		out[i] = m
		err := a.validateMetric(m, fmt.Sprintf("%s[%d]", path, i))
		if err == nil {
			continue
		}
		var ie *InputError
		why := err.Error()
		if errors.As(err, &ie) {
			why = ie.Field + ": " + ie.Reason
		}
		out[i].Arms, out[i].Prior = nil, nil
		a.unusable[unusableKey(segment, m.Metric)] = why
		where := ""
		if segment != "" {
			where = " in segment " + segment
		}
		a.warnings = append(a.warnings, fmt.Sprintf("metric %q%s cannot be analysed: %s", m.Metric, where, why))
	}
	return out
}

// Design is what claims are checked against: the input's variants and its
// metrics with their kinds.
func (in Input) Design() Design {
	d := Design{Variants: in.Variants, Questions: in.Questions, Factors: in.Factors}
	for _, m := range in.Metrics {
		d.Metrics = append(d.Metrics, MetricDesign{Key: m.Metric, Kind: m.Kind})
	}
	return d
}

func (a *reportBuilder) validateMetric(m MetricInput, path string) error {
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

func (a *reportBuilder) run() *Report {
	r := &Report{
		Experiment:   a.in.Experiment,
		Alpha:        a.alpha,
		Metrics:      []MetricReport{},
		Correction:   a.correction(),
		Claims:       []ClaimResult{},
		Interactions: []InteractionCheck{},
	}
	if a.in.Sequential != nil {
		r.Sequential = &SequentialInfo{NStar: a.nStar(), Snapshots: len(a.in.Sequential.Prior)}
	}
	if a.segment == "" {
		r.Warnings = append(r.Warnings, a.warnings...)
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

func (a *reportBuilder) nStar() float64 {
	if a.in.Sequential == nil || a.in.Sequential.NStar == 0 {
		return DefaultNStar
	}
	return a.in.Sequential.NStar
}

// arms returns m's stats in the configured variant order, with a missing
// arm as zero units.
func (a *reportBuilder) arms(m MetricInput) []Arm {
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

func (a *reportBuilder) stats(m MetricInput, variant string) Stats {
	for _, arm := range m.Arms {
		if arm.Variant == variant {
			return arm.Stats
		}
	}
	return Stats{}
}

// metric reports m, whose priors for the running minimum are looked up
// under segment.
func (a *reportBuilder) metric(m MetricInput, segment string) (MetricReport, []diff) {
	mr := MetricReport{
		Metric:            m.Metric,
		Kind:              m.Kind,
		HigherIsBetter:    m.HigherIsBetter,
		Variants:          []VariantReport{},
		Comparisons:       []Comparison{},
		ImmatureUnits:     max(m.ImmatureUnits, 0),
		UnitsWithoutValue: max(m.UnitsWithoutValue, 0),
	}
	if why, ok := a.unusable[unusableKey(segment, m.Metric)]; ok {
		mr.NullReason = why
		return mr, nil
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
	if len(a.in.Factors) > 0 && segment == "" {
		mr.FactorialEffects = a.factorialEffects(m, arms)
	}
	return mr, diffs
}

// priorKey finds a comparison's earlier p-values.
type priorKey struct{ segment, metric, variant string }

// compare tests treatment stats ts against control stats cs on metric m.
func (a *reportBuilder) compare(m MetricInput, cs, ts Stats, key priorKey) (Comparison, diff) {
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
func (a *reportBuilder) power(c *Comparison, dd diff, alpha float64) {
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
