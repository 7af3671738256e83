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
	// Correction is the multiple-comparison method applied to the family.
	Correction Correction `json:"correction"`
	// FamilySize is the number of p-values the correction was applied to.
	FamilySize int `json:"family_size"`
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
	return nil
}

func validateStats(kind Kind, s Stats, path string) error {
	if s.Units < 0 {
		return inputErr("must not be negative", path+".units")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"sum", s.Sum}, {"sum_sq", s.SumSq}} {
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
	default:
		// Cauchy–Schwarz: Σx² ≥ (Σx)²/n, up to rounding in the aggregation.
		if s.SumSq < s.Sum*s.Sum/n*(1-1e-9)-1e-9 {
			return inputErr("sum_sq is smaller than sum²/units", path+".sum_sq")
		}
	}
	return nil
}

func (a *analysis) run() *Report {
	r := &Report{
		Experiment: a.in.Experiment,
		Alpha:      a.alpha,
		Metrics:    []MetricReport{},
		Correction: a.correction(),
	}
	r.SRM = a.srm(&r.Warnings)
	for _, m := range a.in.Metrics {
		r.Metrics = append(r.Metrics, a.metric(m))
	}
	r.FamilySize = a.adjust(r)
	return r
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

func (a *analysis) metric(m MetricInput) MetricReport {
	mr := MetricReport{
		Metric:         m.Metric,
		Kind:           m.Kind,
		HigherIsBetter: m.HigherIsBetter,
		Variants:       []VariantReport{},
		Comparisons:    []Comparison{},
	}
	arms := a.arms(m)
	var control estimate
	for _, arm := range arms {
		e := estimateArm(m.Kind, arm.Stats)
		mr.Variants = append(mr.Variants, variantReport(arm.Variant, e, a.alpha))
		if arm.Variant == a.control {
			control = e
		}
	}
	for _, arm := range arms {
		if arm.Variant == a.control {
			continue
		}
		c := welch(control, estimateArm(m.Kind, arm.Stats), a.alpha)
		c.Variant, c.Control = arm.Variant, a.control
		mr.Comparisons = append(mr.Comparisons, c)
	}
	return mr
}

func ptr[T any](v T) *T { return &v }
