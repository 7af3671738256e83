// Package analysis turns per-arm sufficient statistics into significance
// reports: effects, confidence intervals, p-values, sample-ratio checks and
// claim verdicts. It does no I/O; the server computes its input in SQL and
// the CLI computes it from a file.
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
}

// VariantUnits is the number of units seen in one variant.
type VariantUnits struct {
	Variant string
	Units   int64
}
