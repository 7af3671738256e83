package analysis

// Kind is how a metric's per-unit value is formed and its variance estimated.
type Kind string

const (
	// Binary metrics are 1 for a unit with any positive outcome, else 0; variance p(1−p).
	Binary Kind = "binary"
	// Mean metrics are the sum of a unit's outcome values; sample variance.
	Mean Kind = "mean"
	// Ratio metrics divide a numerator sum by a denominator sum (delta method).
	Ratio Kind = "ratio"
)

// Stats are the sufficient statistics of one arm (a variant, optionally
// within a segment) for one metric.
type Stats struct {
	Units int64   `json:"units"`
	Sum   float64 `json:"sum"`
	SumSq float64 `json:"sum_sq"`

	// CUPED: sums over units of the pre-exposure value X, of X², and of
	// value × X. Used when MetricInput.CUPED is set.
	PreSum   float64 `json:"pre_sum,omitempty"`
	PreSumSq float64 `json:"pre_sum_sq,omitempty"`
	PreCross float64 `json:"pre_cross,omitempty"`

	// Ratio metrics: Sum and SumSq are the numerator's; these are the sums
	// of the denominator D, of D², and of numerator × D.
	DenSum   float64 `json:"den_sum,omitempty"`
	DenSumSq float64 `json:"den_sum_sq,omitempty"`
	DenCross float64 `json:"den_cross,omitempty"`
}

// Arm is one variant's statistics for one metric.
type Arm struct {
	Variant string
	Stats   Stats
}

// Variant describes one arm of the experiment as configured.
type Variant struct {
	Key     string
	Weight  float64
	Control bool
}

// MetricInput is everything known about one metric.
type MetricInput struct {
	Metric         string
	Kind           Kind
	HigherIsBetter bool
	Arms           []Arm

	// CUPED adjusts the metric with the pre-exposure sums in Stats.
	CUPED bool
	// Prior is an optional proper Gaussian prior on the relative effect for
	// chance_to_win; nil means the improper (flat) prior.
	Prior *Prior
	// ImmatureUnits and UnitsWithoutValue were left out of the arms: their
	// window had not closed, or they had no outcome in it for an
	// aggregation that needs one. They are reported, not analysed.
	ImmatureUnits, UnitsWithoutValue int64
}

// Prior is a Gaussian prior N(Mean, Variance) on the relative effect.
type Prior struct {
	Mean     float64
	Variance float64
}

// Input is the whole input of one report.
type Input struct {
	Experiment string
	Alpha      float64 // 0 means 0.05
	Variants   []Variant
	Metrics    []MetricInput

	// Correction is the multiple-comparison method; "" means Holm.
	Correction Correction
	// Assigned, when given, are the units per variant for the SRM check
	// (distinct units exposed); otherwise the first metric's units are used.
	Assigned []VariantUnits

	// Sequential turns on always-valid confidence sequences; nil means a
	// fixed-horizon analysis.
	Sequential *Sequential
	// Claims are the stated preferences to test.
	Claims []Claim
	// SayDo holds each say_do claim's table of said × did, by claim id.
	SayDo map[string]SayDoCells
	// Questions are the survey questions say_do claims may name.
	Questions []QuestionDesign
	// Segments are breakdowns of the metrics by an exposure attribute.
	Segments []Segment
	// Factors, when set, make the experiment a full factorial whose
	// variants are exactly the cells (FactorialCells): every metric then
	// gains main effects, interactions, slopes and exchange rates.
	Factors []Factor
}

// Sequential configures always-valid inference.
type Sequential struct {
	// NStar is the total sample size (both arms of a comparison) at which
	// the confidence sequence is tightest; 0 means 5000.
	NStar float64
	// Prior holds the p-values already reported for this experiment; each
	// comparison's p-value is the running minimum over them and this one.
	Prior []PriorPValue
}

// PriorPValue is a p-value reported by an earlier snapshot.
type PriorPValue struct {
	Segment string // "attribute=value", or "" for the whole experiment
	Metric  string
	Variant string
	PValue  float64
}

// Segment is the metrics of the units whose exposure attribute Attribute
// had value Value.
type Segment struct {
	Attribute string
	Value     string
	Metrics   []MetricInput
}

// VariantUnits is the number of units seen in one variant.
type VariantUnits struct {
	Variant string
	Units   int64
}
